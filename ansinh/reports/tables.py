"""The report's sections as plain tables (typed cells), shared by the text, XLSX and PDF
renderers so that the three formats always show the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ansinh.core.formats import fmt_date, fmt_dec, fmt_int, fmt_pct
from ansinh.reports.progress import (
    SCHEMES,
    ProgressReport,
    analysis_paragraphs,
    group_label,
    next_month_tasks,
    scheme_label,
)

# column kinds: "text", "int" (a count), "signed" (a change), "pct" (percent, 2 decimals),
# "num" (a plain number, not a person count)
Cell = int | Decimal | str | None


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    kinds: list[str]
    rows: list[list[Cell]]
    note: str = ""
    paragraphs: list[str] = field(default_factory=list)


def fmt_cell(value: Cell, kind: str, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "pct":
        return fmt_pct(value, lang=lang)
    if kind == "chance":
        return fmt_pct(value, places=0, lang=lang)
    if kind == "signed":
        return ("+" if value > 0 else "") + fmt_int(value, lang=lang)
    if kind in {"int", "num"}:
        return fmt_int(value, lang=lang)
    if kind == "dec":
        return fmt_dec(value, lang=lang)
    return str(value)


def _count(report: ProgressReport, value: int | None) -> Cell:
    return report.count(value)


def _chance(p: Any) -> Cell:
    """A probability (0–1) as a percent with no decimals, as a pct cell."""
    if p is None or isinstance(p, str):
        return None
    return Decimal(round(float(p) * 100))


def report_title(report: ProgressReport, lang: str | None = None) -> str:
    return _("Kết quả phát triển người tham gia BHXH, BHYT đến ngày %(date)s") % {
        "date": fmt_date(report.as_of, lang=lang)
    }


def build_tables(report: ProgressReport, lang: str) -> list[Table]:
    """Every section in order (call inside ``translation.override(lang)``)."""
    out: list[Table] = []
    rows: list[list[Cell]] = []
    for s in report.schemes:
        hidden = isinstance(report.count(s.participants), str)
        rows.append(
            [
                scheme_label(s.code),
                s.target,
                _count(report, s.participants),
                None if hidden else s.attainment_pct,
                _count(report, s.change_month),
                _count(report, s.change_year),
                None if hidden else s.gap,
                None if hidden else s.required_per_month,
            ]
        )
    out.append(
        Table(
            key="headline",
            title=_("Kết quả thực hiện kế hoạch năm %(year)s") % {"year": report.year},
            header=[
                _("Chỉ tiêu"),
                _("Kế hoạch năm"),
                _("Số người tham gia"),
                _("% kế hoạch"),
                _("So tháng trước"),
                _("So cùng kỳ"),
                _("Còn thiếu"),
                _("Cần/tháng"),
            ],
            kinds=["text", "num", "int", "pct", "signed", "signed", "num", "num"],
            rows=rows,
            note=_("Cuối tháng trước: %(m)s; cùng kỳ năm trước: %(y)s.")
            % {
                "m": fmt_date(report.prev_month_end, lang=lang),
                "y": fmt_date(report.last_year_date, lang=lang),
            },
        )
    )
    cov = report.coverage
    if cov is not None:
        out.append(
            Table(
                key="coverage",
                title=_("Bao phủ bảo hiểm y tế"),
                header=[
                    _("Dân số"),
                    _("Người tham gia BHYT"),
                    _("Tỷ lệ bao phủ"),
                    pgettext("coverage target", "Chỉ tiêu"),
                    _("Còn thiếu (điểm %)"),
                    _("Cần thêm (người)"),
                ],
                kinds=["num", "int", "pct", "pct", "pct", "num"],
                rows=[
                    [
                        cov.population,
                        _count(report, cov.participants),
                        cov.coverage_pct,
                        cov.target_pct,
                        cov.gap_pct if cov.gap_pct is None or cov.gap_pct > 0 else Decimal(0),
                        cov.persons_needed,
                    ]
                ],
            )
        )
    if report.ranking:
        out.append(
            Table(
                key="ranking",
                title=_("Xếp hạng đơn vị trực thuộc theo tỷ lệ hoàn thành kế hoạch"),
                header=[
                    _("Hạng"),
                    _("Mã"),
                    _("Đơn vị"),
                    *[scheme_label(s) for s in SCHEMES],
                    _("Bao phủ BHYT"),
                    _("Bình quân"),
                ],
                kinds=["int", "text", "text", "pct", "pct", "pct", "pct", "pct", "pct"],
                rows=[_ranking_row(report, i, r) for i, r in enumerate(report.ranking, start=1)],
                note=_("Tỷ lệ (%) so với kế hoạch năm; bình quân các chỉ tiêu có giao kế hoạch."),
            )
        )
    out.append(
        Table(
            key="behind",
            title=_("Các xã, phường còn thiếu nhiều nhất so với kế hoạch"),
            header=[
                _("Mã"),
                _("Xã, phường"),
                _("Chỉ tiêu"),
                _("Kế hoạch năm"),
                _("Số người tham gia"),
                _("% kế hoạch"),
                _("Còn thiếu"),
                _("Cần/tháng"),
            ],
            kinds=["text", "text", "text", "num", "int", "pct", "num", "num"],
            rows=[_behind_row(report, b) for b in report.behind],
            note="" if report.behind else _("Không có xã, phường nào còn thiếu so với kế hoạch."),
        )
    )
    if report.forecast:
        out.append(
            Table(
                key="forecast",
                title=_("Dự báo cuối năm %(y)s") % {"y": report.year},
                header=[
                    _("Chỉ tiêu"),
                    _("Người tham gia"),
                    _("Kế hoạch"),
                    _("Dự báo 31/12"),
                    _("Thấp"),
                    _("Cao"),
                    _("Khả năng đạt kế hoạch"),
                ],
                kinds=["text", "int", "int", "int", "int", "int", "chance"],
                rows=[
                    [
                        scheme_label(f["code"]),
                        _count(report, f["participants"]),
                        f["target"],
                        _count(report, f["forecast"]),
                        _count(report, f["low"]),
                        _count(report, f["high"]),
                        _chance(f["p_meet_target"]),
                    ]
                    for f in report.forecast
                ],
                note=_(
                    "Dự báo theo mùa vụ các năm trước (cao điểm tháng 10–12); thấp–cao là khoảng"
                    " dự báo 80 %: 8 trên 10 lần số cuối năm rơi vào khoảng này."
                ),
            )
        )
    out.append(
        Table(
            key="early_warning",
            title=_("Cảnh báo sớm: xã, phường dưới 50 % khả năng đạt kế hoạch"),
            header=[
                _("Mã"),
                _("Xã, phường"),
                _("Chỉ tiêu"),
                _("Kế hoạch"),
                _("Dự báo 31/12"),
                _("Khả năng đạt"),
                _("Còn thiếu theo dự báo"),
                _("Cần thêm mỗi tháng"),
            ],
            kinds=["text", "text", "text", "int", "int", "chance", "int", "num"],
            rows=[
                [
                    r["unit"],
                    r["name"],
                    scheme_label(r["code"]),
                    r["target"],
                    _count(report, r["forecast"]) if isinstance(r["forecast"], int) else None,
                    _chance(r["p_meet_target"]),
                    r["shortfall"],
                    r["per_month"],
                ]
                for r in report.at_risk
            ],
            note=(
                _(
                    "Cần thêm mỗi tháng: số người phải vận động thêm mỗi tháng, ngoài số dự báo"
                    " sẽ tự đến, để đạt kế hoạch."
                )
                if report.at_risk
                else _("Mọi xã, phường đều có từ 50 % khả năng đạt kế hoạch trở lên.")
            ),
        )
    )
    if report.groups:
        out.append(
            Table(
                key="groups",
                title=_("Nhóm đối tượng (so với cùng kỳ năm trước)"),
                header=[
                    _("Nhóm đối tượng"),
                    *[scheme_label(s) for s in SCHEMES],
                    *[_("± %(s)s") % {"s": scheme_label(s)} for s in SCHEMES],
                    _("Bao phủ BHYT"),
                ],
                kinds=["text", *["int"] * 4, *["signed"] * 4, "pct"],
                rows=[
                    [
                        group_label(g.group),
                        *[_count(report, g.participants[s]) for s in SCHEMES],
                        *[_count(report, g.change_year[s]) for s in SCHEMES],
                        g.coverage_pct,
                    ]
                    for g in report.groups
                ],
                note=_(
                    "Xếp từ nhóm giảm nhiều nhất (nhóm cần tập trung) đến nhóm tăng nhiều nhất."
                ),
            )
        )
    out.append(
        Table(
            key="pace",
            title=_("Tiến độ cần đạt trong các tháng còn lại"),
            header=[_("Tháng"), _("Cao điểm"), *[scheme_label(s) for s in SCHEMES]],
            kinds=["text", "text", "num", "num", "num", "num"],
            rows=[
                [
                    f"{p.month.month:02d}/{p.month.year}",
                    _("có") if p.peak else "",
                    *[p.required[s] for s in SCHEMES],
                ]
                for p in report.pace
            ],
            note=(
                _(
                    "Số người cần phát triển thêm mỗi tháng để hoàn thành kế hoạch năm; các tháng "
                    "cao điểm (10–12) được giao gấp 1,5 lần các tháng khác."
                )
                if report.pace
                else _("Không còn tháng nào trong năm.")
            ),
        )
    )
    trend_dates = [d for d, _n in report.trend.get(SCHEMES[0], [])]
    out.append(
        Table(
            key="trend",
            title=_("Diễn biến số người tham gia cuối mỗi tháng"),
            header=[_("Cuối tháng"), *[scheme_label(s) for s in SCHEMES]],
            kinds=["text", "int", "int", "int", "int"],
            rows=[
                [
                    d.strftime("%m/%Y"),
                    *[_count(report, dict(report.trend.get(s, [])).get(d, 0)) for s in SCHEMES],
                ]
                for d in trend_dates
            ],
        )
    )
    out.append(
        Table(
            key="analysis",
            title=_("Đánh giá"),
            header=[],
            kinds=[],
            rows=[],
            paragraphs=analysis_paragraphs(report, lang),
        )
    )
    out.append(
        Table(
            key="tasks",
            title=_("Nhiệm vụ trọng tâm tháng tới"),
            header=[],
            kinds=[],
            rows=[],
            paragraphs=next_month_tasks(report, lang),
        )
    )
    return out


def plain(value: Any) -> Any:
    """A cell as a machine value (XLSX): Decimal → float, the rest unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _behind_row(report: ProgressReport, b: Any) -> list[Any]:
    """A commune behind its target; for a viewer, the figures computed from a hidden count
    are withheld with it (as in ``_ranking_row``)."""
    hidden = isinstance(report.count(b.participants), str)
    return [
        b.code,
        b.name,
        scheme_label(b.scheme),
        b.target,
        _count(report, b.participants),
        *([None] * 3 if hidden else [b.attainment_pct, b.gap, b.required_per_month]),
    ]


def _ranking_row(report: ProgressReport, rank: int, r: Any) -> list[Any]:
    """A ranking row; for a viewer, a percentage computed from a hidden count is withheld
    (SPEC section 4: the figure would give the count away), and so is the average over it."""
    hidden = {s for s in SCHEMES if isinstance(report.count(r.participants[s]), str)}
    return [
        rank,
        r.code,
        r.name,
        *[None if s in hidden else r.attainment[s] for s in SCHEMES],
        None if "hi" in hidden else r.coverage_pct,
        None if hidden else r.score,
    ]
