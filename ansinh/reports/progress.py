"""The monthly progress report (GitHub issue 4; DOMAIN.md section 7).

Every figure comes from the KPI engine (``ansinh.monitoring.selectors``): the headline is
``kpi_figures`` at the as-of date, at the last month-end and at the same date a year earlier;
the ranking is ``kpi_figures(by="unit")``, the groups ``kpi_figures(by="group")``, the
communes behind ``unit_gaps`` and the trend ``participants_series``. This module only
arranges them (a few calls per report, never a loop over people) and writes the generated
analysis and the tasks for the next month. Renderers: ``render_text``, ``render_xlsx``,
``render_pdf``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.http import Http404
from django.utils.translation import gettext as _

from ansinh.accounts.access import (
    HIDDEN,
    SYSTEM,
    Actor,
    small,
    suppresses_small_counts,
    unit_visible,
)
from ansinh.core import codes
from ansinh.core.documents import short_name
from ansinh.core.formats import fmt_date, fmt_int, fmt_pct, round_half_up
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors
from ansinh.monitoring.figures import scheme_indicator
from ansinh.monitoring.forecast import at_risk, forecast_figures
from ansinh.monitoring.selectors import kpi_figures as _kpi
from ansinh.monitoring.selectors import participants_series, unit_gaps
from ansinh.targets.pacing import PEAK_MONTHS
from ansinh.targets.selectors import target_tree

SCHEMES: tuple[str, ...] = codes.SCHEME_CODES
PEAK_WEIGHT = Decimal("1.5")
TOP_BEHIND = 10
TOP_AT_RISK = 15
TREND_MONTHS = 12


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _int(value: Any) -> int | None:
    return None if value is None else int(Decimal(str(value)))


@dataclass
class SchemeLine:
    code: str
    target: int | None
    participants: int
    attainment_pct: Decimal | None
    gap: int | None
    required_per_month: int | None
    prev_month: int
    last_year: int

    @property
    def change_month(self) -> int:
        return self.participants - self.prev_month

    @property
    def change_year(self) -> int:
        return self.participants - self.last_year


@dataclass
class Coverage:
    participants: int
    population: int
    coverage_pct: Decimal | None
    target_pct: Decimal | None
    prev_pct: Decimal | None = None

    @property
    def gap_pct(self) -> Decimal | None:
        if self.target_pct is None or self.coverage_pct is None:
            return None
        return self.target_pct - self.coverage_pct

    @property
    def persons_needed(self) -> int | None:
        """Further HI participants needed to reach the coverage target (0 when reached)."""
        if self.target_pct is None:
            return None
        needed = round_half_up(self.target_pct * self.population / 100, 0)
        return max(int(needed) - self.participants, 0)


@dataclass
class RankRow:
    code: str
    name: str
    attainment: dict[str, Decimal | None]
    participants: dict[str, int]
    coverage_pct: Decimal | None

    @property
    def score(self) -> Decimal | None:
        """Mean attainment over the schemes with a target (2 decimals, half-up)."""
        values = [v for v in self.attainment.values() if v is not None]
        if not values:
            return None
        return round_half_up(sum(values, Decimal(0)) / len(values))


@dataclass
class BehindRow:
    code: str
    name: str
    scheme: str
    target: int | None
    participants: int
    gap: int
    attainment_pct: Decimal | None
    required_per_month: int | None


@dataclass
class GroupRow:
    group: str
    participants: dict[str, int]
    last_year: dict[str, int]
    coverage_pct: Decimal | None

    @property
    def change_year(self) -> dict[str, int]:
        return {s: self.participants[s] - self.last_year.get(s, 0) for s in self.participants}

    @property
    def total_change(self) -> int:
        return sum(self.change_year.values())


@dataclass
class PaceMonth:
    month: dt.date
    peak: bool
    required: dict[str, int]


@dataclass
class ProgressReport:
    unit: Unit
    as_of: dt.date
    prev_month_end: dt.date
    last_year_date: dt.date
    schemes: list[SchemeLine]
    coverage: Coverage | None
    ranking: list[RankRow]
    behind: list[BehindRow]
    groups: list[GroupRow]
    pace: list[PaceMonth]
    trend: dict[str, list[tuple[dt.date, int]]]
    province_name: str
    suppress: bool = False
    kpi: dict[str, Any] = field(default_factory=dict)
    # the year-end forecast per scheme (SPEC section 11) and the early warning: communes whose
    # chance of reaching a target is below 50 %, least likely first
    forecast: list[dict[str, Any]] = field(default_factory=list)
    at_risk: list[dict[str, Any]] = field(default_factory=list)

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def months_left(self) -> int:
        return 12 - self.as_of.month

    @property
    def scheme_by_code(self) -> dict[str, SchemeLine]:
        return {s.code: s for s in self.schemes}

    def count(self, value: int | None) -> int | str | None:
        """A person count as the reader may see it: ``<5`` for viewers (SPEC section 4)."""
        if value is None or not self.suppress:
            return value
        return HIDDEN if small(int(value)) else value


def scheme_label(code: str) -> str:
    return codes.indicator_label(code)


def group_label(code: str) -> str:
    return codes.label(codes.GROUPS, code) if code else _("Toàn bộ dân số")


def _indicators(fig: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in fig.get("indicators", [])}


def _last_month_end(day: dt.date) -> dt.date:
    return day.replace(day=1) - dt.timedelta(days=1)


def spread_gap(gap: int, months: list[int]) -> list[int]:
    """Share a gap over the months left, peak months (Oct–Dec) weighing 1.5 times the others;
    largest remainders so the parts add up to the gap exactly."""
    if gap <= 0 or not months:
        return [0] * len(months)
    weights = [PEAK_WEIGHT if m in PEAK_MONTHS else Decimal(1) for m in months]
    total = sum(weights, Decimal(0))
    raw = [Decimal(gap) * w / total for w in weights]
    parts = [int(r) for r in raw]
    rest = gap - sum(parts)
    order = sorted(range(len(months)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def _province_name(unit: Unit) -> str:
    chain = unit_ancestors(unit=unit)
    return short_name((chain[0] if chain else unit).name)


def build_progress(*, unit: Unit, as_of: dt.date, actor: Actor) -> ProgressReport:
    """Assemble the report for ``unit`` at ``as_of`` from the KPI engine. A unit outside the
    actor's scope is a 404 like a missing one; the engine is then asked for the raw figures and
    small counts are suppressed when shown (``ProgressReport.count``), so the report can still
    compute changes and gaps."""
    if unit_visible(actor=actor, code=unit.code) is None:
        raise Http404

    def kpi_figures(**kwargs: Any) -> dict[str, Any]:
        # scope checked above; the raw figures, suppressed at display (``count``)
        kwargs["actor"] = SYSTEM
        return _kpi(**kwargs)

    prev_end = _last_month_end(as_of)
    last_year = as_of - relativedelta(years=1)

    now = kpi_figures(unit=unit, as_of=as_of, actor=actor)
    prev = _indicators(kpi_figures(unit=unit, as_of=prev_end, actor=actor))
    year_ago = _indicators(kpi_figures(unit=unit, as_of=last_year, actor=actor))
    cur = _indicators(now)

    schemes: list[SchemeLine] = []
    for code in SCHEMES:
        ind = cur.get(code, {})
        schemes.append(
            SchemeLine(
                code=code,
                target=_int(ind.get("target")),
                participants=int(ind.get("participants") or 0),
                attainment_pct=_dec(ind.get("attainment_pct")),
                gap=_int(ind.get("gap")),
                required_per_month=_int(ind.get("required_per_month")),
                prev_month=int(prev.get(code, {}).get("participants") or 0),
                last_year=int(year_ago.get(code, {}).get("participants") or 0),
            )
        )

    coverage = None
    hic = cur.get("hi_coverage")
    if hic and hic.get("population"):
        coverage = Coverage(
            participants=int(hic.get("participants") or 0),
            population=int(hic["population"]),
            coverage_pct=_dec(hic.get("coverage_pct")),
            target_pct=_dec(hic.get("target_pct")),
            prev_pct=_dec(prev.get("hi_coverage", {}).get("coverage_pct")),
        )

    # ranking of the units directly below (offices under the province, communes under an office)
    ranking: list[RankRow] = []
    by_unit = kpi_figures(unit=unit, as_of=as_of, by="unit", actor=actor).get("rows", [])
    names = dict(
        Unit.objects.filter(code__in=[r["unit"] for r in by_unit]).values_list("code", "name")
    )
    for row in by_unit:
        inds = _indicators(row)
        ranking.append(
            RankRow(
                code=row["unit"],
                name=names.get(row["unit"], row["unit"]),
                attainment={s: _dec(inds.get(s, {}).get("attainment_pct")) for s in SCHEMES},
                participants={s: int(inds.get(s, {}).get("participants") or 0) for s in SCHEMES},
                coverage_pct=_dec(inds.get("hi_coverage", {}).get("coverage_pct")),
            )
        )
    ranking.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code))

    # the communes furthest behind: the largest positive gaps (commune, scheme)
    gaps = unit_gaps(unit=unit, as_of=as_of)
    pairs = [
        (int(g), code, scheme)
        for code, by_scheme in gaps.items()
        for scheme, g in by_scheme.items()
        if g is not None and int(g) > 0
    ]
    pairs.sort(key=lambda p: (-p[0], p[1], SCHEMES.index(p[2]) if p[2] in SCHEMES else 9))
    pairs = pairs[:TOP_BEHIND]
    # a commune's participants = target − gap; its indicator through the engine's own figure
    # functions (no further pass over the facts)
    tree = target_tree(unit=unit, year=as_of.year) if pairs else {}
    names_b = dict(Unit.objects.filter(code__in={p[1] for p in pairs}).values_list("code", "name"))
    behind: list[BehindRow] = []
    for gap, code, scheme in pairs:
        target = tree.get(code, {}).get(scheme)
        item = scheme_indicator(scheme, int(target or 0) - gap, target, as_of)
        behind.append(
            BehindRow(
                code=code,
                name=names_b.get(code, code),
                scheme=scheme,
                target=_int(item["target"]),
                participants=int(item["participants"]),
                gap=gap,
                attainment_pct=_dec(item["attainment_pct"]),
                required_per_month=_int(item["required_per_month"]),
            )
        )

    # target groups: participants now and a year ago
    g_now = kpi_figures(unit=unit, as_of=as_of, by="group", actor=actor).get("rows", [])
    g_ago = {
        r.get("group", ""): _indicators(r)
        for r in kpi_figures(unit=unit, as_of=last_year, by="group", actor=actor).get("rows", [])
    }
    groups: list[GroupRow] = []
    for row in g_now:
        inds = _indicators(row)
        gcode = row.get("group", "")
        parts = {s: int(inds.get(s, {}).get("participants") or 0) for s in SCHEMES}
        before = {s: int(g_ago.get(gcode, {}).get(s, {}).get("participants") or 0) for s in SCHEMES}
        if not any(parts.values()) and not any(before.values()):
            continue
        groups.append(
            GroupRow(
                group=gcode,
                participants=parts,
                last_year=before,
                coverage_pct=_dec(inds.get("hi_coverage", {}).get("coverage_pct")),
            )
        )
    groups.sort(key=lambda g: (g.total_change, g.group))

    # pace for the months left, the peak months weighted more heavily
    months = list(range(as_of.month + 1, 13))
    spreads = {s.code: spread_gap(s.gap or 0, months) for s in schemes}
    pace = [
        PaceMonth(
            month=dt.date(as_of.year, m, 1),
            peak=m in PEAK_MONTHS,
            required={s: spreads[s][i] for s in SCHEMES},
        )
        for i, m in enumerate(months)
    ]

    # month-ends up to the last one (materialised), then the as-of figure already computed
    by_code = {s.code: s for s in schemes}
    trend = {
        s: [
            *(
                (d, int(n))
                for d, n in participants_series(
                    unit=unit, scheme=s, months=TREND_MONTHS - 1, as_of=prev_end
                )
            ),
            (as_of, by_code[s].participants),
        ]
        for s in SCHEMES
    }

    fc = forecast_figures(unit=unit, year=as_of.year, as_of=as_of, actor=SYSTEM)
    risk = at_risk(unit=unit, year=as_of.year, as_of=as_of, actor=SYSTEM)

    return ProgressReport(
        unit=unit,
        as_of=as_of,
        prev_month_end=prev_end,
        last_year_date=last_year,
        schemes=schemes,
        coverage=coverage,
        ranking=ranking,
        behind=behind,
        groups=groups,
        pace=pace,
        trend=trend,
        province_name=_province_name(unit),
        suppress=suppresses_small_counts(actor),
        kpi=now,
        forecast=fc["indicators"],
        at_risk=risk[:TOP_AT_RISK],
    )


# ---------------------------------------------------------------- generated text


def _n(report: ProgressReport, value: int | None, lang: str) -> str:
    shown = report.count(value)
    return shown if isinstance(shown, str) else fmt_int(shown, lang=lang)


def recent_pace(report: ProgressReport, scheme: str, months: int = 3) -> int | None:
    """Average monthly change over the last ``months`` month-ends of the trend (whole persons)."""
    series = report.trend.get(scheme) or []
    if len(series) <= months:
        return None
    change = series[-1][1] - series[-1 - months][1]
    return int(round_half_up(Decimal(change) / months, 0))


def analysis_paragraphs(report: ProgressReport, lang: str) -> list[str]:
    """A short analysis written from the figures (call inside ``translation.override``)."""
    out: list[str] = []
    lines = []
    for s in report.schemes:
        if s.target:
            lines.append(
                _("%(scheme)s đạt %(n)s người, bằng %(pct)s kế hoạch năm (%(target)s)")
                % {
                    "scheme": scheme_label(s.code),
                    "n": _n(report, s.participants, lang),
                    "pct": fmt_pct(s.attainment_pct, lang=lang),
                    "target": fmt_int(s.target, lang=lang),
                }
            )
        else:
            lines.append(
                _("%(scheme)s có %(n)s người tham gia (chưa giao chỉ tiêu)")
                % {"scheme": scheme_label(s.code), "n": _n(report, s.participants, lang)}
            )
    out.append(
        _("Đến ngày %(date)s, toàn %(unit)s: %(lines)s.")
        % {
            "date": fmt_date(report.as_of, lang=lang),
            "unit": report.unit.name,
            "lines": "; ".join(lines),
        }
    )
    ahead = [s for s in report.schemes if s.gap is not None and s.gap <= 0]
    behind = [s for s in report.schemes if s.gap is not None and s.gap > 0]
    if ahead:
        out.append(
            _("Đã hoàn thành và vượt kế hoạch năm: %(list)s.")
            % {
                "list": ", ".join(
                    f"{scheme_label(s.code)} ({fmt_pct(s.attainment_pct, lang=lang)})"
                    for s in ahead
                )
            }
        )
    for s in behind:
        pace = recent_pace(report, s.code)
        text = _(
            "%(scheme)s còn thiếu %(gap)s người so với kế hoạch; trong %(months)s tháng còn lại "
            "cần bình quân %(req)s người/tháng"
        ) % {
            "scheme": scheme_label(s.code),
            "gap": fmt_int(s.gap, lang=lang),
            "months": report.months_left,
            "req": fmt_int(s.required_per_month, lang=lang),
        }
        if pace is not None:
            text += _(", trong khi 3 tháng gần đây tăng bình quân %(pace)s người/tháng") % {
                "pace": fmt_int(pace, lang=lang)
            }
            if s.required_per_month is not None and pace < s.required_per_month:
                text += _(" — chưa đủ tốc độ để hoàn thành kế hoạch")
        out.append(text + ".")
    changes = [
        _("%(scheme)s %(m)s người so với cuối tháng trước, %(y)s người so với cùng kỳ năm trước")
        % {
            "scheme": scheme_label(s.code),
            "m": _signed(report, s.change_month, lang),
            "y": _signed(report, s.change_year, lang),
        }
        for s in report.schemes
    ]
    out.append(_("Biến động: %(list)s.") % {"list": "; ".join(changes)})
    cov = report.coverage
    if cov is not None:
        text = _("Tỷ lệ bao phủ BHYT đạt %(pct)s dân số (%(n)s/%(pop)s người)") % {
            "pct": fmt_pct(cov.coverage_pct, lang=lang),
            "n": _n(report, cov.participants, lang),
            "pop": fmt_int(cov.population, lang=lang),
        }
        if cov.target_pct is not None:
            if (cov.gap_pct or 0) > 0:
                text += _("; chỉ tiêu %(target)s, cần thêm khoảng %(need)s người tham gia") % {
                    "target": fmt_pct(cov.target_pct, lang=lang),
                    "need": fmt_int(cov.persons_needed, lang=lang),
                }
            else:
                text += _("; đã đạt chỉ tiêu %(target)s") % {
                    "target": fmt_pct(cov.target_pct, lang=lang)
                }
        out.append(text + ".")
    if report.ranking:
        best, worst = report.ranking[0], report.ranking[-1]
        if best.score is not None and worst.score is not None and best.code != worst.code:
            out.append(
                _(
                    "Đơn vị có tỷ lệ hoàn thành bình quân cao nhất là %(best)s (%(bp)s), "
                    "thấp nhất là %(worst)s (%(wp)s)."
                )
                % {
                    "best": best.name,
                    "bp": fmt_pct(best.score, lang=lang),
                    "worst": worst.name,
                    "wp": fmt_pct(worst.score, lang=lang),
                }
            )
    return out


def _signed(report: ProgressReport, value: int, lang: str) -> str:
    shown = report.count(value)
    if isinstance(shown, str):
        return shown
    return ("+" if value > 0 else "") + fmt_int(value, lang=lang)


def next_month_tasks(report: ProgressReport, lang: str) -> list[str]:
    """Tasks for the next month drawn from the gaps (call inside ``translation.override``)."""
    tasks: list[str] = []
    next_month = (report.as_of.replace(day=1) + relativedelta(months=1)).month
    behind = [s for s in report.schemes if s.gap is not None and s.gap > 0]
    if report.pace and behind:
        first = report.pace[0]
        parts = ", ".join(
            f"{scheme_label(s.code)} {fmt_int(first.required[s.code], lang=lang)}" for s in behind
        )
        tasks.append(
            _("Phấn đấu phát triển mới trong tháng %(month)s: %(parts)s người.")
            % {"month": f"{first.month.month:02d}/{first.month.year}", "parts": parts}
        )
    if next_month in PEAK_MONTHS and report.months_left > 0:
        tasks.append(
            _(
                "Tổ chức cao điểm tuyên truyền, vận động tháng %(m)s: lễ ra quân, hội nghị đối "
                "thoại, tư vấn nhóm nhỏ và tận nhà tại các xã, phường còn thiếu nhiều."
            )
            % {"m": next_month}
        )
    if report.behind:
        names = []
        for b in report.behind:
            if b.name not in names:
                names.append(b.name)
        tasks.append(
            _("Tập trung hỗ trợ các xã, phường có khoảng cách lớn nhất: %(list)s.")
            % {"list": ", ".join(names[:5])}
        )
    declining = [g for g in report.groups if g.total_change < 0]
    if declining:
        tasks.append(
            _(
                "Rà soát, vận động tham gia trở lại với nhóm đối tượng giảm so với cùng kỳ: %(list)s."
            )
            % {"list": ", ".join(group_label(g.group) for g in declining[:3])}
        )
    codes_behind = {s.code for s in behind}
    if "si_voluntary" in codes_behind:
        tasks.append(
            _(
                "Phối hợp Hội Nông dân, Hội Liên hiệp Phụ nữ, Đoàn Thanh niên vận động lao động "
                "tự do, nông dân tham gia BHXH tự nguyện."
            )
        )
    if "hi" in codes_behind or (report.coverage and (report.coverage.gap_pct or 0) > 0):
        tasks.append(
            _(
                "Đôn đốc gia hạn thẻ BHYT hộ gia đình sắp hết hạn và người đã ngừng tham gia "
                "trong 90 ngày; phối hợp trường học về BHYT học sinh, sinh viên."
            )
        )
    if {"si_compulsory", "ui"} & codes_behind:
        tasks.append(
            _(
                "Phối hợp cơ quan thuế rà soát doanh nghiệp chưa đăng ký, đóng đủ BHXH, BHTN "
                "cho người lao động; đôn đốc thu nợ chậm đóng."
            )
        )
    tasks.append(
        _("Cập nhật số liệu người tham gia, hoạt động truyền thông trước ngày 05 tháng sau.")
    )
    return tasks
