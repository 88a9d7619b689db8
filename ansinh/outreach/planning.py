"""The communication-plan builder of SPEC section 6: from each commune's gaps to planned items.

How a draft is made (``plan_compute``), commune by commune, deterministically:

1. **Gaps.** The gaps at ``as_of`` per commune and scheme against ``year``'s targets
   (``monitoring.selectors.unit_gaps``). Only positive gaps are planned for. Where the
   year-end forecast (SPEC section 11, ``monitoring.forecast``) falls further short of the
   target than the gap at ``as_of`` (a commune losing participants: cards lapsing, the
   January drop), the need is that forecast shortfall, what will not come in by itself; it is
   never less than the gap at ``as_of``, which the draft always covers.
2. **Months.** The months after ``as_of``'s month inside ``year`` (all twelve when ``as_of`` is
   in an earlier year, none when it is in December or later). October to December weigh
   ``PEAK_WEIGHT`` (2) times a regular month, in the sessions planned and in what a commune
   can run (the peak campaign mobilises more people).
3. **Yield.** Registrations per session of each channel come from the commune's office's own
   funnel history (SPEC section 7: conversions per activity whose attendees can be followed,
   ``funnel.channel_history``) where it has at least ``MIN_HISTORY`` such activities of the
   channel, else from the defaults of DOMAIN.md.
4. **Channels.** Each scheme's need is split over a *portfolio* of streams (channel, target
   group, one lead organisation, coordinating organisations, share) chosen per scheme and
   kind of commune (``portfolio``): compulsory SI and unemployment insurance through
   dialogues with employers and conferences with employees (one registration covers both
   schemes, so their items are shared); voluntary SI through conferences, small groups and
   collection agents' home visits for the self-employed and business owners in wards, for
   farmers in rural communes; health insurance through schools, home visits and small groups
   with households, booths at the peak-season fairs and the commune loudspeakers. Where the
   gap of the commune's schemes with a gap adds up to at least ``LAUNCH_MIN``, the peak
   campaign opens with one launch ceremony in the commune's first peak month.
5. **Capacity.** What a commune can run a month (``CAPACITY``: sessions per 10,000 residents,
   with a floor; doubled in the peak months) is shared by every stream of a channel. A stream
   takes its share of the need up to the capacity left; what does not fit goes to the streams
   of the scheme that still have room, cheapest registration first; what is still left is
   planned anyway (the draft covers every gap), spread over the streams by share, and the
   commune and scheme get a warning with the sessions a week that would need.
6. **Sessions.** A stream needs ``⌈need / rate⌉`` sessions (one more where rounding down falls
   short), spread over the months by weight (largest remainder, ties to the peak);
   ``expected_registrations`` = ``⌊sessions × rate⌋``, ``cost`` = channel cost × sessions.
   Streams of two schemes that meet on the same commune, month, channel and group make one
   item with one lead and the larger number of sessions (so each scheme keeps its need).
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
from ansinh.core.formats import fmt_int
from ansinh.geography.models import Unit
from ansinh.monitoring.forecast import forecast_shortfalls
from ansinh.monitoring.selectors import data_as_of, population_tree, unit_gaps
from ansinh.outreach.funnel import conversion_rates
from ansinh.outreach.items import PlannedItem
from ansinh.targets.pacing import PEAK_MONTHS

PEAK_WEIGHT = 2
MIN_HISTORY = 5  # observable activities of a channel before its history replaces the default
LAUNCH_MIN = 100  # positive gaps of a commune that justify a launch ceremony
# what does not fit the capacity by at most this share of the gap is no warning (a campaign
# stretches); beyond it the gap is beyond reach and the draft says so
STRETCH = Fraction(1, 10)
DEFAULT_POPULATION = 10_000  # a commune whose population is not loaded

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

# sessions a commune can run in a regular month: (per 10,000 residents, at least). Planning
# assumptions: a conference a month per 10,000 residents; one small group a month per village
# or residential group (about 1,000 residents); home visits by the collection agents (about one
# agent per 2,000 residents, 30 visits a month); a fair booth a month per 100,000 residents;
# the commune loudspeakers twice a week; two dialogues at enterprises a month per 10,000
# residents (an industrial park or market street), at least two.
CAPACITY: dict[str, tuple[Fraction, int]] = {
    "conference": (Fraction(1), 1),
    "enterprise_dialogue": (Fraction(2), 2),
    "small_group": (Fraction(10), 4),
    "door_to_door": (Fraction(150), 60),
    "booth": (Fraction(1, 10), 0),
    "loudspeaker": (Fraction(0), 8),
}


@dataclass(frozen=True)
class Stream:
    channel: str
    group: str
    lead_org: str
    coordinating_orgs: tuple[str, ...]
    share: Fraction
    peak_only: bool = False  # fairs and festivals: the peak season only

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.group)


_EMPLOYMENT = (
    Stream(
        "enterprise_dialogue",
        "employer",
        "si_office",
        ("labour_confederation", "tax_office"),
        Fraction(3, 5),
    ),
    Stream("conference", "employee", "labour_confederation", ("si_office",), Fraction(2, 5)),
)
_HEALTH = (
    Stream("conference", "student", "school", ("youth_union", "si_office"), Fraction(1, 5)),
    Stream(
        "door_to_door",
        "household",
        "collection_agent",
        ("health_station", "commune_committee"),
        Fraction(7, 20),
    ),
    Stream(
        "small_group",
        "household",
        "womens_union",
        ("health_station", "collection_agent"),
        Fraction(1, 4),
    ),
    Stream(
        "booth",
        "household",
        "si_office",
        ("collection_agent", "health_station"),
        Fraction(1, 10),
        peak_only=True,
    ),
    Stream("loudspeaker", "household", "commune_committee", ("health_station",), Fraction(1, 10)),
)
PORTFOLIO: dict[tuple[str, str], tuple[Stream, ...]] = {
    ("si_compulsory", "urban"): _EMPLOYMENT,
    ("si_compulsory", "rural"): _EMPLOYMENT,
    ("ui", "urban"): _EMPLOYMENT,
    ("ui", "rural"): _EMPLOYMENT,
    ("hi", "urban"): _HEALTH,
    ("hi", "rural"): _HEALTH,
    ("si_voluntary", "urban"): (
        Stream(
            "conference",
            "freelancer",
            "si_office",
            ("womens_union", "collection_agent"),
            Fraction(2, 5),
        ),
        Stream(
            "small_group",
            "freelancer",
            "womens_union",
            ("si_office", "collection_agent"),
            Fraction(1, 4),
        ),
        Stream(
            "small_group",
            "business_owner",
            "fatherland_front",
            ("si_office", "tax_office"),
            Fraction(1, 5),
        ),
        Stream(
            "door_to_door", "freelancer", "collection_agent", ("womens_union",), Fraction(3, 20)
        ),
    ),
    ("si_voluntary", "rural"): (
        Stream(
            "conference",
            "farmer",
            "farmers_association",
            ("si_office", "collection_agent"),
            Fraction(2, 5),
        ),
        Stream(
            "small_group",
            "farmer",
            "farmers_association",
            ("womens_union", "collection_agent"),
            Fraction(1, 4),
        ),
        Stream(
            "small_group",
            "freelancer",
            "womens_union",
            ("si_office", "collection_agent"),
            Fraction(1, 5),
        ),
        Stream(
            "door_to_door", "farmer", "collection_agent", ("farmers_association",), Fraction(3, 20)
        ),
    ),
}
LAUNCH_ORGS = ("si_office", "fatherland_front", "womens_union", "youth_union")


def area_of(name: str) -> str:
    """``urban`` for a ward or special zone (``Phường …``, ``Đặc khu …``), else ``rural``."""
    return "urban" if name.startswith(("Phường", "Đặc khu")) else "rural"


def portfolio(scheme: str, area: str) -> tuple[Stream, ...]:
    return PORTFOLIO[(scheme, area)]


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


def month_weight(month: int) -> int:
    return PEAK_WEIGHT if month in PEAK_MONTHS else 1


def latest_data_year() -> int:
    """The year of the latest data (else this year): the year a new plan is for by default."""
    return (data_as_of() or dt.date.today()).year


def default_as_of(year: int) -> dt.date:
    """The latest date with data (else today), brought inside ``year``."""
    day = data_as_of() or dt.date.today()
    return min(max(day, dt.date(year, 1, 1)), dt.date(year, 12, 31))


def _rate_fraction(value: float) -> Fraction:
    return Fraction(Decimal(str(value)).quantize(Decimal("0.0001")))


def default_rates() -> dict[str, Fraction]:
    """Registrations per activity of every channel: the defaults of DOMAIN.md."""
    return {c: _rate_fraction(v[1]) for c, v in codes.CHANNELS.items()}


def channel_rates(*, unit: Unit, until: dt.date) -> dict[str, Fraction]:
    """Registrations per activity for every channel in ``unit``'s office: its own history
    (``MIN_HISTORY`` observable activities or more, before ``until``) where it exists, else the
    default."""
    rates = default_rates()
    office = office_of(unit)
    history = _conversion_rates(unit=office, until=until)
    for channel, value in history.items():
        if channel in rates:
            rates[channel] = _rate_fraction(float(value))
    return rates


def office_of(unit: Unit) -> Unit:
    """The grassroots office a unit belongs to (itself when it is one); a unit under no office
    (a province, or a commune hanging straight under it) answers itself."""
    if unit.level == Unit.Level.OFFICE:
        return unit
    codes_up = [c for c in unit.path.split("/") if c]
    office = (
        Unit.objects.filter(code__in=codes_up, level=Unit.Level.OFFICE).order_by("-depth").first()
    )
    return office or unit


def _conversion_rates(*, unit: Unit, until: dt.date) -> dict[str, float]:
    return dict(conversion_rates(unit=unit, until=until, min_activities=MIN_HISTORY))


def _unit_gaps(*, unit: Unit, as_of: dt.date, year: int) -> dict[str, dict[str, int | None]]:
    return unit_gaps(unit=unit, as_of=as_of, year=year)


def _spread(need: int, months: list[int]) -> dict[int, int]:
    """Split ``need`` over ``months`` (peak months weigh ``PEAK_WEIGHT``), largest remainder;
    ties go to peak months, then to later months."""
    weights = {m: month_weight(m) for m in months}
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
    while sum(math.floor(n * rate) for n in alloc.values()) < need:
        m = min(months, key=lambda k: (-month_weight(k), alloc[k], -k))
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


def monthly_capacity(channel: str, population: int) -> int:
    """Sessions of ``channel`` a commune of ``population`` can run in a regular month."""
    per_10k, floor = CAPACITY.get(channel, (Fraction(0), 1))
    return max(floor, math.floor(per_10k * population / 10_000))


def warning_text(w: dict[str, Any]) -> str:
    """The plain (machine) text of a structured warning, as in SPEC section 6."""
    if w.get("kind") == "no_month":
        return f"{w['unit']} {w['scheme']}: gap {w['gap']} but no month left in {w['year']}"
    return f"{w['unit']} {w['scheme']}: needs {w['per_week']} sessions a week"


def warning_label(w: dict[str, Any], *, names: dict[str, str] | None = None) -> str:
    """The same warning in plain words in the user's language, for pages and documents: the
    commune by its name, the scheme by its name, and what is missing."""
    code = w["unit"]
    name = (names or {}).get(code) or _unit_name(code)
    where = f"{name} ({code})" if name and name != code else code
    scheme = codes.label(codes.SCHEMES, w["scheme"])
    if w.get("kind") == "no_month":
        return _(
            "%(unit)s, %(scheme)s: còn thiếu %(gap)s người nhưng năm %(year)s không còn tháng"
            " nào để tổ chức hoạt động; cần điều chỉnh chỉ tiêu hoặc chuyển sang năm sau."
        ) % {"unit": where, "scheme": scheme, "gap": fmt_int(w["gap"]), "year": w["year"]}
    text = _(
        "%(unit)s, %(scheme)s: muốn bù đủ số còn thiếu phải tổ chức khoảng %(n)s buổi mỗi tuần,"
        " quá sức của xã."
    ) % {"unit": where, "scheme": scheme, "n": fmt_int(w["per_week"])}
    if w.get("beyond"):
        text += " " + _(
            "Khoảng %(n)s người không thể vận động bằng các hoạt động thông thường: cần thêm"
            " lực lượng (đại lý thu, cộng tác viên), phối hợp với các ngành hoặc điều chỉnh"
            " chỉ tiêu."
        ) % {"n": fmt_int(w["beyond"])}
    return text


def _unit_name(code: str) -> str:
    return Unit.objects.filter(code=code).values_list("name", flat=True).first() or ""


@dataclass
class _Commune:
    """The plan of one commune while it is drafted."""

    code: str
    area: str
    months: list[int]
    rates: dict[str, Fraction]
    population: int
    year: int
    items: dict[tuple[str, str, str], _Item] = field(default_factory=dict)  # (month, ch, grp)
    used: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # channel → sessions

    def months_for(self, stream: Stream) -> list[int]:
        if stream.peak_only:
            return [m for m in self.months if m in PEAK_MONTHS]
        return self.months

    def capacity(self, stream: Stream) -> int:
        """Sessions of the stream's channel the commune can run in the stream's months."""
        months = self.months_for(stream)
        return monthly_capacity(stream.channel, self.population) * sum(
            month_weight(m) for m in months
        )

    def room(self, stream: Stream) -> int:
        """Sessions of the stream's channel still free in its months."""
        return max(0, self.capacity(stream) - self.used[stream.channel])

    def existing(self, stream: Stream) -> int:
        """Sessions already planned for the stream (by another scheme sharing its items)."""
        return sum(it.sessions for (m, ch, g), it in self.items.items() if (ch, g) == stream.key)

    def reachable(self, stream: Stream) -> int:
        """Registrations the stream can still bring within capacity."""
        rate = self.rates[stream.channel]
        if rate <= 0 or not self.months_for(stream):
            return 0
        return math.floor((self.room(stream) + self.existing(stream)) * rate)

    def place(self, stream: Stream, scheme: str, need: int) -> int:
        """Plan ``need`` registrations of ``scheme`` through ``stream``; the sessions the
        stream now holds for this scheme."""
        rate = self.rates[stream.channel]
        months = self.months_for(stream)
        total = 0
        for m, n in spread_sessions(need, rate, months).items():
            if n == 0:
                continue
            total += n
            month = f"{self.year:04d}-{m:02d}"
            key = (month, stream.channel, stream.group)
            item = self.items.get(key)
            if item is None:
                item = self.items[key] = _Item(
                    unit=self.code,
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
            grow = max(0, n - item.sessions)
            self.used[stream.channel] += grow
            item.sessions += grow
        return total


def _plan_scheme(c: _Commune, scheme: str, need: int) -> tuple[int, int]:
    """Place ``need`` registrations of ``scheme`` in commune ``c``: (sessions planned, the
    registrations that did not fit the commune's capacity)."""
    streams = [s for s in portfolio(scheme, c.area) if c.months_for(s)]
    total_share = sum((s.share for s in streams), Fraction(0))
    parts = {s: math.ceil(need * s.share / total_share) for s in streams}
    got: dict[Stream, int] = {}
    # a. each stream its share, within capacity (capacity is shared, so take in turn)
    for s in streams:
        got[s] = min(parts[s], c.reachable(s))
        _reserve(c, s, got[s])
    short = need - sum(got.values())
    # b. what did not fit goes where there is room, cheapest registration first
    if short > 0:
        for s in sorted(streams, key=lambda s: _cost_per_registration(s, c.rates)):
            _release(c, s, got[s])
            extra = min(short, max(0, c.reachable(s) - got[s]))
            got[s] += extra
            _reserve(c, s, got[s])
            short -= extra
    beyond = max(0, short)
    # c. beyond capacity: planned anyway, by share, on the streams that convert at all
    if short > 0:
        live = [s for s in streams if c.rates[s.channel] > 0 and c.capacity(s) > 0]
        if not live:  # history says nothing converts here: fall back on the defaults
            defaults = default_rates()
            live = [s for s in streams if c.capacity(s) > 0] or streams
            for s in live:
                c.rates[s.channel] = defaults[s.channel]
        live_share = sum((s.share for s in live), Fraction(0))
        for s in live:
            add = math.ceil(short * s.share / live_share)
            got[s] = got.get(s, 0) + add
    for s in streams:
        _release(c, s, got[s])
    sessions = 0
    for s in streams:
        if got[s] > 0:
            sessions += c.place(s, scheme, got[s])
    return sessions, beyond


def _cost_per_registration(s: Stream, rates: dict[str, Fraction]) -> Fraction:
    rate = rates[s.channel]
    cost = Fraction(int(codes.CHANNELS[s.channel][2]))
    return cost / rate if rate > 0 else Fraction(10**12)


def _reserve(c: _Commune, s: Stream, registrations: int) -> None:
    """Hold the capacity ``registrations`` of the stream will take (beyond its existing
    sessions) while the other streams are considered."""
    c.used[s.channel] += _extra_sessions(c, s, registrations)


def _release(c: _Commune, s: Stream, registrations: int) -> None:
    c.used[s.channel] -= _extra_sessions(c, s, registrations)


def _extra_sessions(c: _Commune, s: Stream, registrations: int) -> int:
    rate = c.rates[s.channel]
    if registrations <= 0 or rate <= 0:
        return 0
    return max(0, sessions_for(registrations, rate) - c.existing(s))


def _launch(c: _Commune, gaps: dict[str, int]) -> dict[str, int]:
    """One launch ceremony in the commune's first peak month when its gaps are large enough;
    the registrations it is expected to bring per scheme."""
    peak = [m for m in c.months if m in PEAK_MONTHS]
    rate = c.rates["launch_ceremony"]
    positive = {s: g for s, g in gaps.items() if g > 0}
    if not peak or rate <= 0 or sum(positive.values()) < LAUNCH_MIN:
        return {}
    main = max(sorted(positive), key=lambda s: positive[s])
    group = portfolio(main, c.area)[0].group if main != "hi" else "household"
    month = f"{c.year:04d}-{peak[0]:02d}"
    c.items[(month, "launch_ceremony", group)] = _Item(
        unit=c.code,
        month=month,
        channel="launch_ceremony",
        group=group,
        lead_org="commune_committee",
        schemes=[s for s in codes.SCHEME_CODES if s in positive],
        coordinating_orgs=list(LAUNCH_ORGS),
        sessions=1,
    )
    expected = math.floor(rate)
    return {s: expected for s in positive}


def plan_compute(
    *, unit: Unit, year: int, as_of: dt.date
) -> tuple[list[PlannedItem], list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, by_unit, structured warnings) of the draft; see the module docstring."""
    months = plan_months(year=year, as_of=as_of)
    gaps = _unit_gaps(unit=unit, as_of=as_of, year=year)
    weeks = _weeks(year=year, months=months) if months else Fraction(0)
    units = {
        u.code: u
        for u in Unit.objects.filter(code__in=list(gaps)).only(
            "code", "name", "level", "path", "depth"
        )
    }
    population = population_tree(unit=unit, year=year)
    if not any(population.get(code) for code in gaps):
        population = population_tree(unit=unit, year=as_of.year)
    rates_by_office: dict[str, dict[str, Fraction]] = {}
    shortfalls = forecast_shortfalls(unit=unit, year=year, as_of=as_of) if months else {}

    items: list[PlannedItem] = []
    warnings: list[dict[str, Any]] = []
    for commune in sorted(gaps):
        short = shortfalls.get(commune, {})
        positive = {
            s: max(g, short.get(s, 0)) for s, g in gaps[commune].items() if g is not None and g > 0
        }
        if not positive:
            continue
        if not months:
            warnings += [
                {"kind": "no_month", "unit": commune, "scheme": s, "gap": g, "year": year}
                for s, g in sorted(positive.items(), key=lambda kv: codes.SCHEME_CODES.index(kv[0]))
            ]
            continue
        u = units[commune]
        office = office_of(u)
        if office.code not in rates_by_office:
            rates_by_office[office.code] = channel_rates(unit=office, until=as_of)
        c = _Commune(
            code=commune,
            area=area_of(u.name),
            months=months,
            rates=dict(rates_by_office[office.code]),
            population=population.get(commune) or DEFAULT_POPULATION,
            year=year,
        )
        launched = _launch(c, positive)
        for scheme in codes.SCHEME_CODES:
            if scheme not in positive:
                continue
            need = positive[scheme] - launched.get(scheme, 0)
            if need <= 0:
                continue
            sessions, beyond = _plan_scheme(c, scheme, need)
            if beyond > positive[scheme] * STRETCH:
                warnings.append(
                    {
                        "kind": "capacity",
                        "unit": commune,
                        "scheme": scheme,
                        "per_week": math.ceil(sessions / weeks),
                        "beyond": beyond,
                    }
                )
        for key in sorted(c.items):
            it = c.items[key]
            figures = item_figures(
                channel=it.channel, sessions=it.sessions, rate=c.rates[it.channel]
            )
            items.append(
                PlannedItem(
                    unit=it.unit,
                    month=it.month,
                    channel=it.channel,
                    group=it.group,
                    schemes=[s for s in codes.SCHEME_CODES if s in it.schemes],
                    lead_org=it.lead_org,
                    coordinating_orgs=list(it.coordinating_orgs),
                    sessions=it.sessions,
                    planned_reach=figures["planned_reach"],
                    expected_registrations=figures["expected_registrations"],
                    cost=figures["cost"],
                )
            )
    items.sort(key=lambda i: (i.unit, i.month, i.channel, i.group))
    return items, by_unit_rows(gaps=gaps, items=items), warnings


def by_unit_rows(
    *, gaps: dict[str, dict[str, int | None]], items: list[PlannedItem]
) -> list[dict[str, Any]]:
    """One row per commune: its gaps (schemes with a target) and the expected registrations of
    the items listing each scheme."""
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for it in items:
        for s in it.schemes:
            expected[it.unit][s] += int(it.expected_registrations)
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


def draft_dict(
    *,
    unit: Unit,
    year: int,
    as_of: dt.date,
    items: list[PlannedItem],
    by_unit: list[dict[str, Any]],
    warnings: list[dict[str, Any]],
) -> dict[str, Any]:
    """The JSON object of SPEC section 6 from what ``plan_compute`` returned."""
    return {
        "year": year,
        "as_of": as_of.isoformat(),
        "unit": unit.code,
        "items": [it.as_json() for it in items],
        "by_unit": by_unit,
        "warnings": [warning_text(w) for w in warnings],
    }
