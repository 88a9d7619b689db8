"""The demo data set: Khánh Hòa as the article of 19 Oct 2025 saw it (DOMAIN.md section 1).

``write_demo(out)`` writes the nine files of SPEC section 2 into ``out``. By construction, on
2025-09-30 the province has exactly 269,801 / 29,500 / 258,953 / 1,762,678 participants
(compulsory SI / voluntary SI / UI / HI) against targets of 214,950 / 57,820 / 217,880 /
1,813,455 and a population of 1,889,000 (HI coverage 93.31 %):

- every commune's figure on 2025-09-30 is an exact share of the province total (largest
  remainder over weights by kind of commune: city wards heavy in compulsory SI, rural communes
  in voluntary SI, mountain communes high in state-supported HI);
- most communes carry monthly ``counts`` (one row per target group; the groups add up to the
  commune's figure) for every month-end from January 2022 to November 2025: yearly growth, a
  year-end peak every year (voluntary SI and household HI are sold in the October–December
  campaign and partly lapse in January), noise; the forecast (SPEC section 11) learns from it;
- the pilot communes of the Khánh Sơn office carry person-level ``participations`` instead
  (no counts there), built so that exactly the commune's share is covered on 2025-09-30;
  attendees of their activities start spells 1–90 days later (funnel conversions), HI cards
  expire in December 2025 or lapsed in October–November (worklists), households share an id;
- ~1,600 employers with monthly contributions for 2024-01 … 2025-10 (32 % of the insured
  salary × employees), some paying late, partly, or after the as-of date;
- ~1,900 activities in 2025 across channels, lead organisations and groups, with attendees;
- last year's history as the agency has it (SPEC section 9): the counts and population of
  dates before 1 July 2025 and the spells that ended before it are keyed by the *former*
  communes (each commune's figure split between the former communes whose main successor it
  is; ``FORMER_OF``), and count back in today's communes once ``units official --legacy`` is
  loaded, which the demo does before its facts — so every figure is the same as if keyed by
  today's communes.

Everything is drawn from ``random.Random(seed)``: the same seed writes the same files.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ansinh.demo.common import (
    SCHEMES,
    Writer,
    allocate,
    full_name,
    month_end,
    month_ends,
    phone,
    rand_date,
)
from ansinh.demo.units import PROVINCE_CODE, DemoUnit, units
from ansinh.geography.models import REORGANISED_ON
from ansinh.geography.official import official_province

AS_OF = dt.date(2025, 9, 30)
DATA_END = dt.date(2025, 11, 30)
YEAR = 2025
POPULATION = {2025: 1_889_000, 2024: 1_872_300}
PARTICIPANTS = {"si_compulsory": 269_801, "si_voluntary": 29_500, "ui": 258_953, "hi": 1_762_678}
TARGETS = {"si_compulsory": 214_950, "si_voluntary": 57_820, "ui": 217_880, "hi": 1_813_455}
HI_COVERAGE_TARGET = "95.0"
PILOT_COMMUNES = ("22714", "22720", "22732")  # the communes of the Khánh Sơn office
EMPLOYERS = 1_630
MONTHS = month_ends((2022, 1), (2025, 11))
K_AS_OF = MONTHS.index(AS_OF)
# spells of the pilot communes start no earlier than this: the snapshot materialises every
# month-end from the first date with data, so a long history would slow the demo load down
HISTORY_FROM = dt.date(2022, 1, 1)  # with the counts' first month: one history, no ramp

# share of the population in each scheme on 2025-09-30, by kind of commune (before scaling)
RATES: dict[str, dict[str, float]] = {
    "urban": {"si_compulsory": 0.27, "si_voluntary": 0.012, "hi": 0.945},
    "ward": {"si_compulsory": 0.19, "si_voluntary": 0.014, "hi": 0.935},
    "rural": {"si_compulsory": 0.075, "si_voluntary": 0.019, "hi": 0.925},
    "mountain": {"si_compulsory": 0.03, "si_voluntary": 0.011, "hi": 0.962},
    "island": {"si_compulsory": 0.40, "si_voluntary": 0.005, "hi": 0.985},
}
# yearly growth, per scheme
GROWTH = {"si_compulsory": 0.07, "si_voluntary": 0.30, "ui": 0.065, "hi": 0.025}
# the year's shape: participants at each month-end (January … December) relative to the
# September of the same year's trend; the year-end campaign lifts October–December (voluntary
# SI most: nationally 68 % of plan at the end of November 2025, past it in December) and part
# of it lapses in January
SEASON = {
    "si_compulsory": (0.992, 0.988, 0.993, 0.995, 0.997, 0.998, 0.999, 1.0, 1.0, 1.004, 1.01, 1.02),
    "si_voluntary": (0.96, 0.96, 0.965, 0.97, 0.975, 0.98, 0.985, 0.99, 1.0, 1.06, 1.13, 1.26),
    "ui": (0.992, 0.988, 0.993, 0.995, 0.997, 0.998, 0.999, 1.0, 1.0, 1.004, 1.01, 1.02),
    "hi": (0.992, 0.993, 0.994, 0.995, 0.996, 0.997, 0.998, 0.999, 1.0, 1.008, 1.016, 1.03),
}
NOISE = {"si_compulsory": 0.002, "si_voluntary": 0.006, "ui": 0.002, "hi": 0.0015}
# target groups of each scheme's counts, with base shares by kind of commune
GROUP_SHARES: dict[str, dict[str, dict[str, float]]] = {
    "si_compulsory": {"*": {"employee": 0.92, "other": 0.08}},
    "ui": {"*": {"employee": 0.95, "other": 0.05}},
    "si_voluntary": {
        "urban": {"freelancer": 0.5, "business_owner": 0.3, "farmer": 0.05, "other": 0.15},
        "ward": {"freelancer": 0.45, "business_owner": 0.25, "farmer": 0.15, "other": 0.15},
        "*": {"freelancer": 0.3, "business_owner": 0.1, "farmer": 0.5, "other": 0.1},
    },
    "hi": {
        "urban": {
            "employee": 0.3,
            "state_supported": 0.25,
            "student": 0.15,
            "household": 0.26,
            "other": 0.04,
        },
        "ward": {
            "employee": 0.22,
            "state_supported": 0.3,
            "student": 0.15,
            "household": 0.29,
            "other": 0.04,
        },
        "mountain": {
            "employee": 0.04,
            "state_supported": 0.7,
            "student": 0.1,
            "household": 0.14,
            "other": 0.02,
        },
        "*": {
            "employee": 0.09,
            "state_supported": 0.38,
            "student": 0.15,
            "household": 0.34,
            "other": 0.04,
        },
    },
}


class ChannelPlan(NamedTuple):
    weight: int
    leads: tuple[str, ...]
    reach: tuple[int, int]
    attendees: tuple[int, int]  # named attendees per activity
    conv: float  # share of the attendees who start a spell within 90 days (pilot communes)


CHANNEL_PLAN: dict[str, ChannelPlan] = {
    "conference": ChannelPlan(10, ("si_office", "commune_committee", "fatherland_front"),
                              (60, 200), (15, 35), 0.12),
    "enterprise_dialogue": ChannelPlan(6, ("si_office", "labour_confederation"),
                                       (30, 120), (10, 25), 0.15),
    "small_group": ChannelPlan(22, ("womens_union", "farmers_association", "youth_union",
                                    "veterans_association", "commune_committee"),
                               (3, 5), (3, 5), 0.35),
    "door_to_door": ChannelPlan(18, ("collection_agent", "womens_union", "farmers_association"),
                                (1, 3), (1, 3), 0.3),
    "launch_ceremony": ChannelPlan(2, ("si_province", "commune_committee"),
                                   (150, 400), (15, 30), 0.06),
    "mobile_loudspeaker": ChannelPlan(6, ("commune_committee", "si_office"),
                                      (500, 3000), (0, 0), 0.0),
    "booth": ChannelPlan(3, ("si_office", "collection_agent"), (200, 800), (8, 20), 0.08),
    "livestream": ChannelPlan(3, ("si_province", "media"), (300, 2000), (0, 0), 0.0),
    "loudspeaker": ChannelPlan(8, ("commune_committee",), (1000, 5000), (0, 0), 0.0),
    "article": ChannelPlan(5, ("media", "si_province"), (2000, 20000), (0, 0), 0.0),
    "social_media": ChannelPlan(6, ("si_office", "youth_union"), (1000, 15000), (0, 0), 0.0),
    "print": ChannelPlan(4, ("commune_committee", "si_office"), (500, 3000), (0, 0), 0.0),
    "vssid_guidance": ChannelPlan(7, ("si_office", "youth_union", "collection_agent"),
                                  (10, 40), (6, 15), 0.05),
}  # fmt: skip
CHANNEL_COST = {
    "conference": 5_000_000,
    "enterprise_dialogue": 3_000_000,
    "small_group": 300_000,
    "door_to_door": 50_000,
    "launch_ceremony": 15_000_000,
    "mobile_loudspeaker": 2_000_000,
    "booth": 8_000_000,
    "livestream": 3_000_000,
    "loudspeaker": 200_000,
    "article": 1_500_000,
    "social_media": 1_000_000,
    "print": 2_000_000,
    "vssid_guidance": 200_000,
}
CHANNEL_REG = {
    "conference": 20,
    "enterprise_dialogue": 15,
    "small_group": 1.5,
    "door_to_door": 0.4,
    "launch_ceremony": 10,
    "mobile_loudspeaker": 3,
    "booth": 8,
    "livestream": 6,
    "loudspeaker": 1,
    "article": 2,
    "social_media": 2,
    "print": 0.5,
    "vssid_guidance": 0.5,
}
ACTIVITY_GROUPS = {
    "urban": ["employee", "freelancer", "business_owner", "student", "household"],
    "ward": ["employee", "freelancer", "business_owner", "household", "student"],
    "rural": ["farmer", "household", "freelancer", "student", "business_owner"],
    "mountain": ["farmer", "household", "state_supported", "student"],
    "island": ["other", "employee"],
}
COORD_ORGS = [
    "si_office",
    "commune_committee",
    "fatherland_front",
    "womens_union",
    "farmers_association",
    "youth_union",
    "veterans_association",
    "health_station",
    "school",
    "collection_agent",
]
MONTH_WEIGHTS = [4, 3, 6, 6, 7, 7, 7, 8, 9, 14, 14]  # Jan … Nov 2025: the push at the end
SECTORS = [
    ("Chế biến thủy sản", 3),
    ("Du lịch, khách sạn, nhà hàng", 5),
    ("Xây dựng", 4),
    ("Thương mại, dịch vụ", 6),
    ("Dệt may, da giày", 2),
    ("Vận tải, kho bãi", 2),
    ("Nông nghiệp, nuôi trồng", 2),
    ("Sản xuất điện, năng lượng tái tạo", 1),
    ("Giáo dục, y tế tư nhân", 2),
    ("Cơ quan, đơn vị sự nghiệp", 2),
]
NAME_WORDS = [
    "Hải Âu",
    "Biển Xanh",
    "Trầm Hương",
    "Yến Sào",
    "Vĩnh Phát",
    "Hưng Thịnh",
    "Phú Quý",
    "Sao Mai",
    "Bình Minh",
    "Tân Tiến",
    "Hòa Bình",
    "An Khang",
    "Thành Công",
    "Đại Dương",
    "Ánh Dương",
    "Nho Xanh",
    "Tháp Chàm",
    "Long Phú",
    "Thiên Ân",
    "Phước Lộc",
]
FORMS = ["Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Doanh nghiệp tư nhân", "HTX"]


@dataclass
class Commune:
    unit: DemoUnit
    index: int
    pop: dict[int, int] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)  # participants on AS_OF
    target: dict[str, int] = field(default_factory=dict)
    series: dict[str, list[int]] = field(default_factory=dict)  # per month of MONTHS
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    employers: list[tuple[str, int]] = field(default_factory=list)  # (code, employees)

    @property
    def code(self) -> str:
        return self.unit.code

    @property
    def pilot(self) -> bool:
        return self.unit.code in PILOT_COMMUNES


def _shares(scheme: str, kind: str, rng: random.Random) -> dict[str, float]:
    table = GROUP_SHARES[scheme]
    base = table.get(kind, table["*"])
    raw = {g: s * rng.uniform(0.8, 1.2) for g, s in base.items()}
    total = sum(raw.values())
    return {g: v / total for g, v in raw.items()}


def build_communes(rng: random.Random) -> list[Commune]:
    """Population, figures on AS_OF, targets and the monthly series of every commune."""
    all_units = units()
    communes = [Commune(u, i) for i, u in enumerate(x for x in all_units if x.level == "commune")]
    pops = allocate(POPULATION[2025], [c.unit.weight for c in communes], minimum=1)
    for c, p in zip(communes, pops, strict=True):
        c.pop[2025] = p
    # 2024: a little lower, adding up to the 2024 total
    pops24 = allocate(
        POPULATION[2024], [c.pop[2025] * rng.uniform(0.985, 0.997) for c in communes], minimum=1
    )
    for c, p in zip(communes, pops24, strict=True):
        c.pop[2024] = p

    weights: dict[str, list[float]] = {s: [] for s in SCHEMES}
    for c in communes:
        rates = RATES[c.unit.kind]
        comp = c.pop[2025] * rates["si_compulsory"] * rng.uniform(0.75, 1.25)
        weights["si_compulsory"].append(comp)
        weights["ui"].append(comp * rng.uniform(0.9, 0.99))
        weights["si_voluntary"].append(c.pop[2025] * rates["si_voluntary"] * rng.uniform(0.7, 1.3))
        hi_rate = min(0.99, rates["hi"] + rng.uniform(-0.02, 0.02))
        weights["hi"].append(c.pop[2025] * hi_rate)
    for scheme in SCHEMES:
        finals = allocate(PARTICIPANTS[scheme], weights[scheme], minimum=1)
        for c, f in zip(communes, finals, strict=True):
            c.final[scheme] = f
    for c in communes:  # never more HI participants than residents
        if c.final["hi"] > c.pop[2025]:
            raise RuntimeError(f"demo: HI above population in {c.code}")

    # targets: each commune's attainment varies around the province's; some far behind
    for scheme in SCHEMES:
        ratio = PARTICIPANTS[scheme] / TARGETS[scheme]
        sigma = 0.03 if scheme == "hi" else 0.15
        tw = []
        for c in communes:
            att = ratio * math.exp(rng.gauss(0, sigma))
            roll = rng.random()
            if roll < 0.1:
                att *= 0.97 if scheme == "hi" else 0.7  # far behind
            elif roll > 0.9:
                att *= 1.02 if scheme == "hi" else 1.25  # well ahead
            w = c.final[scheme] / att
            if scheme == "hi":
                w = min(w, c.pop[2025] * 0.995)
            tw.append(w)
        targets = allocate(TARGETS[scheme], tw, minimum=1)
        for c, t in zip(communes, targets, strict=True):
            c.target[scheme] = t

    # monthly series: exactly the final figure on AS_OF; yearly growth, the year's shape
    # (SEASON, each commune's peak a little stronger or weaker) and noise around it
    for c in communes:
        for scheme in SCHEMES:
            growth = GROWTH[scheme] * rng.uniform(0.4, 1.6)
            amplitude = rng.uniform(0.6, 1.4)
            series = []
            for k, d in enumerate(MONTHS):
                if k == K_AS_OF:
                    series.append(c.final[scheme])
                    continue
                g = (1 + growth) ** ((k - K_AS_OF) / 12)
                g *= 1 + (SEASON[scheme][d.month - 1] - 1) * amplitude
                g *= 1 + rng.gauss(0, NOISE[scheme])
                v = max(0, round(c.final[scheme] * g))
                if scheme == "hi":
                    v = min(v, c.pop.get(d.year, c.pop[2024]))
                series.append(v)
            c.series[scheme] = series
            c.shares[scheme] = _shares(scheme, c.unit.kind, rng)
    return communes


# ---------------------------------------------------------------------------------------
# writers


@functools.cache
def former_of() -> dict[str, list[str]]:
    """Today's commune -> the codes of the former communes whose main successor it is (the
    default shares of ``units official --legacy``: the whole to the main successor)."""
    official = official_province(PROVINCE_CODE, legacy=True)
    assert official is not None
    out: dict[str, list[str]] = {}
    for legacy, succ in sorted(official.successors.items()):
        main = next(code for code, is_main in succ if is_main)
        out.setdefault(main, []).append(legacy)
    return out


def _former_split(former: dict[str, list[str]], code: str, value: int) -> list[tuple[str, int]]:
    """``value`` of today's commune ``code`` split evenly between its former communes."""
    codes = former[code]
    return list(zip(codes, allocate(value, [1.0] * len(codes)), strict=True))


def _write_units(w: Writer) -> None:
    for u in units():
        w.row(u.code, u.name, u.level, u.parent_code, "", "")


def _sum_by_parent(communes: list[Commune], value: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in communes:
        out[c.unit.parent_code] = out.get(c.unit.parent_code, 0) + value[c.code]
    out[PROVINCE_CODE] = sum(value[c.code] for c in communes)
    return out


def _write_population(w: Writer, communes: list[Commune]) -> None:
    former = former_of()
    for year in (2024, 2025):
        per = {c.code: c.pop[year] for c in communes}
        for code, value in _sum_by_parent(communes, per).items():
            if year < REORGANISED_ON.year and code == PROVINCE_CODE:
                continue  # 56 was the former province then: its figure is that of its offices
            w.row(year, code, value, "")
        for c in communes:
            if year < REORGANISED_ON.year:  # read on 31 December: the former communes
                for code, value in _former_split(former, c.code, c.pop[year]):
                    w.row(year, code, value, "")
            else:
                w.row(year, c.code, c.pop[year], "")


def _write_targets(w: Writer, communes: list[Commune]) -> None:
    for scheme in SCHEMES:
        per = {c.code: c.target[scheme] for c in communes}
        for code, value in _sum_by_parent(communes, per).items():
            w.row(YEAR, code, scheme, value)
        for c in communes:
            w.row(YEAR, c.code, scheme, c.target[scheme])
    w.row(YEAR, PROVINCE_CODE, "hi_coverage", HI_COVERAGE_TARGET)
    for c in communes:
        w.row(YEAR, c.code, "hi_coverage", HI_COVERAGE_TARGET)


def _write_counts(w: Writer, communes: list[Commune]) -> None:
    former = former_of()
    for c in communes:
        if c.pilot:
            continue
        for scheme in SCHEMES:
            groups = list(c.shares[scheme])
            weights = [c.shares[scheme][g] for g in groups]
            for d, total in zip(MONTHS, c.series[scheme], strict=True):
                parts = allocate(total, weights)
                for g, n in zip(groups, parts, strict=True):
                    if d < REORGANISED_ON:  # keyed by the former communes
                        for code, m in _former_split(former, c.code, n):
                            w.row(d.isoformat(), code, scheme, m, g)
                    else:
                        w.row(d.isoformat(), c.code, scheme, n, g)


def _build_employers(rng: random.Random, communes: list[Commune]) -> None:
    counts = allocate(EMPLOYERS, [c.final["si_compulsory"] for c in communes], minimum=1)
    n = 0
    for c, k in zip(communes, counts, strict=True):
        k = max(k, 3) if c.pilot else k
        staff = round(c.final["si_compulsory"] * 0.85)
        sizes = allocate(staff, [rng.lognormvariate(0, 1.2) for _ in range(k)], minimum=1)
        for size in sizes:
            n += 1
            c.employers.append((f"DN{n:05d}", size))


def _write_employers(rng: random.Random, w: Writer, communes: list[Commune]) -> None:
    sectors = [s for s, _ in SECTORS]
    sector_w = [x for _, x in SECTORS]
    for c in communes:
        area = c.unit.name.split(" ", 1)[1] if " " in c.unit.name else c.unit.name
        for code, size in c.employers:
            form = rng.choice(FORMS)
            name = f"{form} {rng.choice(NAME_WORDS)} {area}"
            prefix = "42" if c.unit.parent_code in _KHANH_HOA_OFFICES else "45"
            tax = prefix + f"{rng.randrange(10**8):08d}"
            w.row(code, name, c.code, tax, rng.choices(sectors, sector_w)[0], size)


_KHANH_HOA_OFFICES = {
    "BHXH-NT",
    "BHXH-CR",
    "BHXH-NHO",
    "BHXH-VN",
    "BHXH-DK",
    "BHXH-CL",
    "BHXH-KV",
    "BHXH-KS",
}


def _write_contributions(rng: random.Random, w: Writer, communes: list[Commune]) -> dict[str, int]:
    periods = [(d.year, d.month) for d in month_ends((2024, 1), (2025, 10))]
    stats = {"late_payers": 0}
    for c in communes:
        for code, size in c.employers:
            salary = rng.randrange(500, 1300) * 10_000  # insured salary, VND a month
            roll = rng.random()
            habit = (
                "good"
                if roll < 0.8
                else "sometimes"
                if roll < 0.9
                else "chronic"
                if roll < 0.97
                else "stopped"
            )
            if habit in ("chronic", "stopped") and size > 150:
                habit = "sometimes"  # large employers rarely stop paying
            if habit != "good":
                stats["late_payers"] += 1
            since = rng.randrange(len(periods) - 14, len(periods) - 2)  # chronic from here
            stop = rng.randrange(2, len(periods) - 4)  # stopped paying from here
            staff = float(size)
            for i, (y, m) in enumerate(periods):
                staff = max(1.0, staff * (1 + rng.gauss(0.003, 0.01)))
                due = round(round(staff) * salary * 0.32)
                due_date = month_end(y + (m == 12), 1 if m == 12 else m + 1)
                paid, paid_on = due, due_date - dt.timedelta(days=rng.randint(2, 25))
                if habit == "sometimes" and rng.random() < 0.3:
                    paid_on = due_date + dt.timedelta(days=rng.randint(5, 75))
                elif habit == "chronic" and i >= since:
                    if rng.random() < 0.3:
                        paid, paid_on = 0, None  # type: ignore[assignment]
                    else:
                        paid = round(due * rng.uniform(0.3, 0.7))
                        paid_on = due_date + dt.timedelta(days=rng.randint(10, 60))
                elif habit == "chronic":
                    paid_on = due_date + dt.timedelta(days=rng.randint(0, 40))
                elif habit == "stopped" and i >= stop:
                    paid, paid_on = 0, None  # type: ignore[assignment]
                if paid_on is not None and paid_on > DATA_END:
                    paid, paid_on = 0, None  # type: ignore[assignment]
                w.row(
                    code,
                    f"{y:04d}-{m:02d}",
                    due,
                    paid,
                    paid_on.isoformat() if paid_on else "",
                )
    return stats


# ---------------------------------------------------------------------------------------
# person-level data of the pilot communes


@dataclass
class PilotPerson:
    person_id: str
    sex: str
    birth: dt.date
    name: str
    phone: str
    household: str


def _adult_birth(rng: random.Random) -> dt.date:
    return rand_date(rng, dt.date(1962, 1, 1), dt.date(2005, 6, 30))


def _any_birth(rng: random.Random) -> dt.date:
    r = rng.random()
    if r < 0.22:
        return rand_date(rng, dt.date(2008, 1, 1), dt.date(2025, 6, 30))
    if r < 0.36:
        return rand_date(rng, dt.date(1935, 1, 1), dt.date(1962, 1, 1))
    return _adult_birth(rng)


def _plus_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


@dataclass
class Pilot:
    commune: Commune
    people: list[PilotPerson]
    spells: list[tuple[int, str, str, dt.date, dt.date | None, str]]  # idx, scheme, grp, s, e, emp
    new_starts: list[tuple[dt.date, int, str]]  # first spells starting in 2025 (start, idx, s)
    prospects: list[int]  # persons with no spell at all


NEW_SHARE = {"si_compulsory": 0.15, "ui": 0.15, "si_voluntary": 0.45, "hi": 0.06}
LAPSED_SHARE = {"si_compulsory": 0.06, "ui": 0.06, "si_voluntary": 0.12, "hi": 0.015}
JOIN_SHARE = {"si_compulsory": 0.02, "ui": 0.02, "si_voluntary": 0.10, "hi": 0.01}


def build_pilot(rng: random.Random, c: Commune) -> Pilot:
    f = c.final
    n_c = {
        k: (f[k], round(f[k] * LAPSED_SHARE[k]), round(f[k] * JOIN_SHARE[k]) or 1) for k in SCHEMES
    }
    employees_end = sum(n_c["si_compulsory"])
    vol_base = max(employees_end, sum(n_c["ui"]))
    hi_end = sum(n_c["hi"])
    size = max(c.pop[2025], hi_end, vol_base + sum(n_c["si_voluntary"]), sum(n_c["ui"])) + 200
    adults_until = max(employees_end, vol_base + sum(n_c["si_voluntary"]), sum(n_c["ui"]))
    people: list[PilotPerson] = []
    household, left_in_house = 0, 0
    for i in range(size):
        if left_in_house == 0:
            household += 1
            left_in_house = rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5, 6])
        left_in_house -= 1
        sex = "F" if rng.random() < 0.51 else "M"
        birth = _adult_birth(rng) if i < adults_until else _any_birth(rng)
        people.append(
            PilotPerson(
                person_id=f"56{c.index:02d}{i:06d}",
                sex=sex,
                birth=birth,
                name=full_name(rng, sex),
                phone=phone(rng),
                household=f"HGD{c.code}{household:05d}",
            )
        )
    employers = [e for e, _ in c.employers]
    emp_w = [s for _, s in c.employers]
    employer_of = {i: rng.choices(employers, emp_w)[0] for i in range(employees_end)}
    spells: list[tuple[int, str, str, dt.date, dt.date | None, str]] = []
    new_starts: list[tuple[dt.date, int, str]] = []
    used: set[int] = set()

    def hi_group(i: int) -> str:
        if i < employees_end:
            return "employee"
        age = (AS_OF - people[i].birth).days // 365
        if age < 6 or age >= 75 or rng.random() < 0.55:  # mountain communes: ethnic minorities
            return "state_supported"
        if age < 23:
            return "student"
        return "household" if rng.random() < 0.85 else "other"

    vol_groups = (["farmer", "freelancer", "business_owner"], [55, 30, 15])
    for scheme in SCHEMES:
        active, lapsed, joiners = n_c[scheme]
        base = vol_base if scheme == "si_voluntary" else 0
        for j in range(active + lapsed + joiners):
            i = base + j
            used.add(i)
            p = people[i]
            adult = scheme != "hi"
            earliest = _plus_years(p.birth, 18) if adult else p.birth
            if scheme in ("si_compulsory", "ui"):
                grp, emp = "employee", employer_of.get(i, employers[0])
            elif scheme == "si_voluntary":
                grp, emp = rng.choices(*vol_groups)[0], ""
            else:
                grp, emp = hi_group(i), ""
            end: dt.date | None
            if j < active:
                if rng.random() < NEW_SHARE[scheme]:
                    start = rand_date(rng, dt.date(2024, 1, 1), AS_OF)
                else:
                    start = rand_date(rng, HISTORY_FROM, dt.date(2023, 12, 31))
                start = min(max(start, earliest, HISTORY_FROM), AS_OF)
                end = None
                r = rng.random()
                if scheme == "hi":
                    if r < 0.05:
                        end = rand_date(rng, dt.date(2025, 12, 1), dt.date(2025, 12, 30))
                    elif r < 0.08:
                        end = rand_date(rng, dt.date(2025, 10, 1), dt.date(2025, 11, 29))
                    elif r < 0.65:
                        end = rand_date(rng, dt.date(2025, 12, 31), dt.date(2026, 12, 31))
                    if start < dt.date(2024, 7, 1) and rng.random() < 0.3:  # a renewal
                        renew = rand_date(rng, dt.date(2024, 7, 1), dt.date(2025, 6, 30))
                        spells.append((i, scheme, grp, start, renew - dt.timedelta(days=1), emp))
                        if start.year == 2025:
                            new_starts.append((start, i, scheme))
                        start = renew
                        spells.append((i, scheme, grp, start, end, emp))
                        continue
                elif r < 0.02:
                    end = rand_date(rng, dt.date(2025, 10, 1), dt.date(2025, 11, 29))
            elif j < active + lapsed:
                start = rand_date(rng, max(earliest, HISTORY_FROM), dt.date(2024, 6, 30))
                start = min(start, dt.date(2025, 9, 1))
                end = rand_date(rng, max(start, dt.date(2024, 1, 1)), AS_OF - dt.timedelta(days=1))
            else:
                start = rand_date(rng, AS_OF + dt.timedelta(days=1), DATA_END)
                end = None
            spells.append((i, scheme, grp, start, end, emp))
            if start.year == 2025:
                new_starts.append((start, i, scheme))
    new_starts.sort()
    prospects = [i for i in range(size) if i not in used]
    return Pilot(c, people, spells, new_starts, prospects)


def _write_participations(w: Writer, pilots: list[Pilot]) -> None:
    former = former_of()
    for pilot in pilots:
        for i, scheme, grp, start, end, emp in pilot.spells:
            p = pilot.people[i]
            # a spell that ended before 1 July 2025 is keyed by a former commune
            ended = end is not None and end < REORGANISED_ON
            w.row(
                p.person_id,
                former[pilot.commune.code][0] if ended else pilot.commune.code,
                scheme,
                grp,
                start.isoformat(),
                end.isoformat() if end else "",
                p.household,
                emp,
                p.birth.isoformat(),
                p.sex,
                p.name,
                p.phone,
            )


def _write_activities(
    rng: random.Random,
    wa: Writer,
    wt: Writer,
    communes: list[Commune],
    pilots: dict[str, Pilot],
) -> None:
    channels = list(CHANNEL_PLAN)
    ch_w = [CHANNEL_PLAN[ch].weight for ch in channels]
    per_commune = allocate(1_800, [c.pop[2025] ** 0.6 for c in communes], minimum=4)
    n = 0
    prospect_no = 0
    for c, k in zip(communes, per_commune, strict=True):
        pilot = pilots.get(c.code)
        if pilot is not None:
            k += 60
        dates = []
        for _ in range(k):
            month = rng.choices(range(1, 12), MONTH_WEIGHTS)[0]
            dates.append(rand_date(rng, dt.date(2025, month, 1), month_end(2025, month)))
        dates.sort()
        starts = [s for s, _, _ in pilot.new_starts] if pilot else []
        for date in dates:
            n += 1
            code = f"HD2025-{n:05d}"
            ch = rng.choices(channels, ch_w)[0]
            plan = CHANNEL_PLAN[ch]
            lead = rng.choice(plan.leads)
            group = rng.choice(ACTIVITY_GROUPS[c.unit.kind])
            coord = rng.sample([o for o in COORD_ORGS if o != lead], rng.randint(0, 3))
            lo, hi = plan.reach
            planned = rng.randint(lo, hi)
            reach = max(1, round(planned * rng.uniform(0.7, 1.1)))
            leads = round(reach * rng.uniform(0.05, 0.3)) if reach > 5 else reach
            regs = max(0, round(CHANNEL_REG[ch] * rng.uniform(0.4, 1.6)))
            installs = round(reach * rng.uniform(0.2, 0.6)) if ch == "vssid_guidance" else ""
            cost = round(CHANNEL_COST[ch] * rng.uniform(0.7, 1.3), -4)
            campaign = ""
            wa.row(
                code,
                c.code,
                ch,
                date.isoformat(),
                lead,
                campaign,
                group,
                ";".join(coord),
                planned,
                reach,
                leads,
                regs,
                installs,
                int(cost),
            )
            alo, ahi = plan.attendees
            n_att = min(reach, rng.randint(alo, ahi))
            if n_att <= 0:
                continue
            seen: set[str] = set()
            if pilot is None:
                if rng.random() > 0.12:  # most communes keep no attendance lists
                    continue
                for _ in range(n_att):
                    prospect_no += 1
                    sex = "F" if rng.random() < 0.5 else "M"
                    pid = f"TN{c.code}{prospect_no:06d}"
                    wt.row(code, pid, full_name(rng, sex), phone(rng))
                continue
            # pilot commune: some attendees start a spell 1-90 days later (conversions)
            lo_i = bisect.bisect_left(starts, date + dt.timedelta(days=1))
            hi_i = bisect.bisect_right(starts, date + dt.timedelta(days=90))
            window = [pilot.new_starts[x][1] for x in range(lo_i, hi_i)]
            k_conv = min(len(window), round(n_att * plan.conv * rng.uniform(0.6, 1.4)))
            chosen = rng.sample(window, k_conv) if k_conv else []
            while len(chosen) < n_att:
                pool = pilot.prospects if rng.random() < 0.6 else range(len(pilot.people))
                chosen.append(rng.choice(pool))
            for i in chosen:
                p = pilot.people[i]
                if p.person_id in seen:
                    continue
                seen.add(p.person_id)
                wt.row(code, p.person_id, p.name, p.phone)


def write_demo(out: Path, *, seed: int = 2025) -> dict[str, int]:
    """Write the demo files into ``out``; returns the number of rows of each file."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    communes = build_communes(rng)
    _build_employers(rng, communes)
    writers = {
        k: Writer(out, k)
        for k in (
            "units",
            "population",
            "targets",
            "counts",
            "employers",
            "contributions",
            "participations",
            "activities",
            "attendees",
        )
    }
    try:
        _write_units(writers["units"])
        _write_population(writers["population"], communes)
        _write_targets(writers["targets"], communes)
        _write_counts(writers["counts"], communes)
        _write_employers(rng, writers["employers"], communes)
        _write_contributions(rng, writers["contributions"], communes)
        pilots = {
            c.code: build_pilot(random.Random(seed * 1000 + c.index), c)
            for c in communes
            if c.pilot
        }
        _write_participations(writers["participations"], list(pilots.values()))
        _write_activities(rng, writers["activities"], writers["attendees"], communes, pilots)
    finally:
        for w in writers.values():
            w.close()
    return {k: w.rows for k, w in writers.items()}
