"""The communication-plan builder of SPEC section 6: from each commune's gaps to planned items.

How a draft is made (``plan_draft``):

1. The gaps at ``as_of`` per commune and scheme come from ``monitoring.selectors.unit_gaps``.
2. Each positive gap is split over a fixed *portfolio* of (channel, target group, lead,
   coordinating organisations, share) chosen by scheme (``PORTFOLIO``): compulsory SI and
   unemployment insurance through enterprise dialogues and conferences with employees and
   employers; voluntary SI through small groups and conferences for the self-employed, farmers
   and household business owners; health insurance door to door and in small groups for
   households, and at schools for pupils and students. Each share is rounded up, so the parts
   add up to at least the gap.
3. Each part needs ``⌈part / rate⌉`` sessions, where ``rate`` is the channel's registrations
   per activity from the funnel history (``outreach.funnel.conversion_rates``), or the default
   of DOMAIN.md where there is no history. The sessions are spread over the months after
   ``as_of``'s month up to December, October to December weighing twice as much as the other
   months (largest remainder, ties to the peak); where rounding down per month leaves the part
   short, a session is added in a peak month. ``expected_registrations`` is
   ``⌊sessions × rate⌋`` and ``cost`` the channel's cost × sessions.
5. Parts that fall on the same commune, month, channel and group are merged into one item
   (one lead, never two overlapping items): the merged item takes the largest number of
   sessions of its parts, so that each scheme it lists keeps its own need covered.
6. ``warnings`` name the commune and scheme whose gap needs more than ``WEEKLY_CAPACITY``
   sessions a week; with no month left in the year (``as_of`` in December) no item can be
   planned and every positive gap is a warning.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from ansinh.core import codes
from ansinh.geography.models import Unit
from ansinh.monitoring.selectors import data_as_of, unit_gaps
from ansinh.outreach.funnel import conversion_rates

PEAK_MONTHS = frozenset({10, 11, 12})
PEAK_WEIGHT = 2
WEEKLY_CAPACITY = 20  # sessions a week one commune can plausibly run for one scheme

# typical people reached by one session of a channel (planning assumption)
REACH_PER_SESSION: dict[str, int] = {
    "conference": 80,
    "enterprise_dialogue": 50,
    "small_group": 5,
    "door_to_door": 3,
    "launch_ceremony": 300,
    "mobile_loudspeaker": 500,
    "booth": 200,
    "livestream": 300,
    "loudspeaker": 1000,
    "article": 2000,
    "social_media": 2000,
    "print": 500,
    "vssid_guidance": 5,
}


@dataclass(frozen=True)
class Stream:
    channel: str
    group: str
    lead_org: str
    coordinating_orgs: tuple[str, ...]
    share: Fraction


PORTFOLIO: dict[str, tuple[Stream, ...]] = {
    "si_compulsory": (
        Stream(
            "enterprise_dialogue",
            "employer",
            "si_office",
            ("labour_confederation", "tax_office"),
            Fraction(1, 2),
        ),
        Stream("conference", "employee", "labour_confederation", ("si_office",), Fraction(1, 2)),
    ),
    "ui": (
        Stream(
            "enterprise_dialogue",
            "employee",
            "labour_confederation",
            ("si_office",),
            Fraction(3, 5),
        ),
        Stream("conference", "employee", "labour_confederation", ("si_office",), Fraction(2, 5)),
    ),
    "si_voluntary": (
        Stream(
            "small_group",
            "freelancer",
            "womens_union",
            ("si_office", "collection_agent"),
            Fraction(2, 5),
        ),
        Stream(
            "conference",
            "farmer",
            "farmers_association",
            ("si_office", "commune_committee"),
            Fraction(3, 10),
        ),
        Stream(
            "small_group",
            "business_owner",
            "fatherland_front",
            ("si_office", "tax_office"),
            Fraction(3, 10),
        ),
    ),
    "hi": (
        Stream(
            "door_to_door",
            "household",
            "commune_committee",
            ("health_station", "collection_agent"),
            Fraction(3, 10),
        ),
        Stream(
            "small_group",
            "household",
            "womens_union",
            ("health_station", "collection_agent"),
            Fraction(2, 5),
        ),
        Stream("conference", "student", "school", ("youth_union", "si_office"), Fraction(3, 10)),
    ),
}


class PlanError(ValueError):
    """A request the plan builder or the plan services refuse, in the user's words;
    ``status`` is the HTTP status a page answers with (403 for a locked plan)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Item:
    unit: str
    month: str
    channel: str
    group: str
    lead_org: str
    schemes: list[str] = field(default_factory=list)
    coordinating_orgs: list[str] = field(default_factory=list)
    sessions: int = 0


def plan_months(*, year: int, as_of: dt.date) -> list[int]:
    """The months that may be planned: after ``as_of``'s month and inside ``year``."""
    if as_of.year > year:
        return []
    first = as_of.month + 1 if as_of.year == year else 1
    return list(range(first, 13))


def latest_data_year() -> int:
    """The year of the latest data (else this year): the year a new plan is for by default."""
    return (data_as_of() or dt.date.today()).year


def default_as_of(year: int) -> dt.date:
    """The latest date with data (else today), brought inside ``year``."""
    day = data_as_of() or dt.date.today()
    return min(max(day, dt.date(year, 1, 1)), dt.date(year, 12, 31))


def _rate_fraction(value: float) -> Fraction:
    return Fraction(Decimal(str(value)).quantize(Decimal("0.0001")))


def channel_rates(*, unit: Unit, until: dt.date) -> dict[str, Fraction]:
    """Registrations per activity for every channel: history where it exists, else default."""
    rates = {c: _rate_fraction(v[1]) for c, v in codes.CHANNELS.items()}
    history = _conversion_rates(unit=unit, until=until)
    for channel, value in history.items():
        if channel in rates and value is not None and float(value) > 0:
            rates[channel] = _rate_fraction(float(value))
    return rates


def _conversion_rates(*, unit: Unit, until: dt.date) -> dict[str, float]:
    return dict(conversion_rates(unit=unit, until=until))


def _unit_gaps(*, unit: Unit, as_of: dt.date) -> dict[str, dict[str, int | None]]:
    return unit_gaps(unit=unit, as_of=as_of)


def _spread(need: int, months: list[int]) -> dict[int, int]:
    """Split ``need`` over ``months`` (peak months weigh ``PEAK_WEIGHT``), largest remainder;
    ties go to peak months, then to later months."""
    weights = {m: (PEAK_WEIGHT if m in PEAK_MONTHS else 1) for m in months}
    total = sum(weights.values())
    quotas = {m: Fraction(need * w, total) for m, w in weights.items()}
    alloc = {m: math.floor(q) for m, q in quotas.items()}
    left = need - sum(alloc.values())
    order = sorted(months, key=lambda m: (quotas[m] - alloc[m], weights[m], m), reverse=True)
    for m in order[:left]:
        alloc[m] += 1
    return alloc


def spread_sessions(need: int, rate: Fraction, months: list[int]) -> dict[int, int]:
    """Sessions per month so that their registrations add up to at least ``need``: the
    sessions ``need`` calls for, spread by weight; a session more where the rounding down of
    each month leaves it short, in the peak months first (so a peak month never has fewer
    sessions than another month)."""
    alloc = _spread(sessions_for(need, rate), months)
    weights = {m: (PEAK_WEIGHT if m in PEAK_MONTHS else 1) for m in months}
    while sum(math.floor(n * rate) for n in alloc.values()) < need:
        m = min(months, key=lambda k: (-weights[k], alloc[k], -k))
        alloc[m] += 1
    return alloc


def sessions_for(need: int, rate: Fraction) -> int:
    """Sessions so that ⌊sessions × rate⌋ ≥ need (at least one)."""
    if need <= 0:
        return 0
    n = max(1, math.ceil(Fraction(need) / rate))
    while math.floor(n * rate) < need:  # add a session if short
        n += 1
    return n


def item_figures(*, channel: str, sessions: int, rate: Fraction) -> dict[str, int]:
    """planned_reach, expected_registrations and cost of ``sessions`` of ``channel``."""
    expected = math.floor(sessions * rate)
    reach = max(sessions * REACH_PER_SESSION.get(channel, 10), expected)
    cost = sessions * int(codes.CHANNELS[channel][2]) if channel in codes.CHANNELS else 0
    return {"planned_reach": reach, "expected_registrations": expected, "cost": cost}


def _weeks(*, year: int, months: list[int]) -> Fraction:
    days = sum(calendar.monthrange(year, m)[1] for m in months)
    return Fraction(days, 7)


def warning_text(w: dict[str, Any]) -> str:
    """The plain (machine) text of a structured warning, as in SPEC section 6."""
    if w.get("kind") == "no_month":
        return f"{w['unit']} {w['scheme']}: gap {w['gap']} but no month left in {w['year']}"
    return f"{w['unit']} {w['scheme']}: needs {w['per_week']} sessions a week"


def warning_label(w: dict[str, Any]) -> str:
    """The same warning in the user's language, for pages and documents."""
    if w.get("kind") == "no_month":
        return _(
            "%(unit)s %(scheme)s: còn thiếu %(gap)s người nhưng năm %(year)s không còn tháng nào"
            " để lập kế hoạch"
        ) % {
            "unit": w["unit"],
            "scheme": codes.label(codes.SCHEMES, w["scheme"]),
            "gap": w["gap"],
            "year": w["year"],
        }
    return _("%(unit)s %(scheme)s: cần %(n)s buổi mỗi tuần, vượt khả năng thực hiện") % {
        "unit": w["unit"],
        "scheme": codes.label(codes.SCHEMES, w["scheme"]),
        "n": w["per_week"],
    }


def plan_compute(
    *, unit: Unit, year: int, as_of: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, by_unit, structured warnings) of the draft; see the module docstring."""
    if as_of.year != year:
        raise PlanError(
            _("Ngày số liệu %(as_of)s không thuộc năm kế hoạch %(year)s")
            % {"as_of": as_of.isoformat(), "year": year}
        )
    months = plan_months(year=year, as_of=as_of)
    gaps = _unit_gaps(unit=unit, as_of=as_of)
    rates = channel_rates(unit=unit, until=as_of)
    weeks = _weeks(year=year, months=months) if months else Fraction(0)

    merged: dict[tuple[str, str, str, str], _Item] = {}
    warnings: list[dict[str, Any]] = []
    for commune in sorted(gaps):
        for scheme in codes.SCHEME_CODES:
            gap = gaps[commune].get(scheme)
            if gap is None or gap <= 0:
                continue
            if not months:
                warnings.append(
                    {
                        "kind": "no_month",
                        "unit": commune,
                        "scheme": scheme,
                        "gap": gap,
                        "year": year,
                    }
                )
                continue
            total_sessions = 0
            for stream in PORTFOLIO[scheme]:
                part = math.ceil(gap * stream.share)
                for m, n in spread_sessions(part, rates[stream.channel], months).items():
                    if n == 0:
                        continue
                    total_sessions += n
                    month = f"{year:04d}-{m:02d}"
                    key = (commune, month, stream.channel, stream.group)
                    item = merged.get(key)
                    if item is None:
                        item = merged[key] = _Item(
                            unit=commune,
                            month=month,
                            channel=stream.channel,
                            group=stream.group,
                            lead_org=stream.lead_org,
                        )
                    if scheme not in item.schemes:
                        item.schemes.append(scheme)
                    for org in stream.coordinating_orgs:
                        if org != item.lead_org and org not in item.coordinating_orgs:
                            item.coordinating_orgs.append(org)
                    item.sessions = max(item.sessions, n)
            per_week = math.ceil(total_sessions / weeks) if weeks else 0
            if per_week > WEEKLY_CAPACITY:
                warnings.append(
                    {"kind": "capacity", "unit": commune, "scheme": scheme, "per_week": per_week}
                )

    items: list[dict[str, Any]] = []
    for key in sorted(merged):
        it = merged[key]
        items.append(
            {
                "unit": it.unit,
                "month": it.month,
                "channel": it.channel,
                "group": it.group,
                "schemes": [s for s in codes.SCHEME_CODES if s in it.schemes],
                "lead_org": it.lead_org,
                "coordinating_orgs": list(it.coordinating_orgs),
                "sessions": it.sessions,
                **item_figures(channel=it.channel, sessions=it.sessions, rate=rates[it.channel]),
            }
        )
    return items, by_unit_rows(gaps=gaps, items=items), warnings


def by_unit_rows(
    *, gaps: dict[str, dict[str, int | None]], items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per commune: its gaps (schemes with a target) and the expected registrations of
    the items listing each scheme."""
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for it in items:
        for s in it["schemes"]:
            expected[it["unit"]][s] += int(it["expected_registrations"])
    rows = []
    for commune in sorted(gaps):
        g = {s: v for s, v in gaps[commune].items() if v is not None}
        rows.append(
            {
                "unit": commune,
                "gaps": g,
                "expected": {s: expected[commune].get(s, 0) for s in g},
            }
        )
    return rows


def plan_draft(*, unit: Unit, year: int, as_of: dt.date, actor: Any = None) -> dict[str, Any]:
    """The draft plan as the JSON object of SPEC section 6. Raises ``PlanError`` when
    ``as_of`` is not in ``year`` or the unit is outside the actor's scope."""
    if actor is not None:
        from ansinh.accounts.selectors import unit_visible

        if unit_visible(actor=actor, code=unit.code) is None:
            raise PlanError(_("Không có đơn vị mã “%(code)s”") % {"code": unit.code})
    items, by_unit, warnings = plan_compute(unit=unit, year=year, as_of=as_of)
    return draft_dict(
        unit=unit, year=year, as_of=as_of, items=items, by_unit=by_unit, warnings=warnings
    )


def draft_dict(
    *,
    unit: Unit,
    year: int,
    as_of: dt.date,
    items: list[dict[str, Any]],
    by_unit: list[dict[str, Any]],
    warnings: list[dict[str, Any]],
) -> dict[str, Any]:
    """The JSON object of SPEC section 6 from what ``plan_compute`` returned."""
    return {
        "year": year,
        "as_of": as_of.isoformat(),
        "unit": unit.code,
        "items": items,
        "by_unit": by_unit,
        "warnings": [warning_text(w) for w in warnings],
    }
