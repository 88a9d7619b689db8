"""``ansinh generate``: a synthetic but realistic province in every format of SPEC section 2.

Calibrated to the demo province (Khánh Hòa, 65 communes; scale 1.0 ≈ 1.9 million residents):
HI ≈ 93 % of the residents, compulsory SI ≈ 14 %, UI ≈ 13.7 %, voluntary SI ≈ 1.6 % on
2025-09-30, with the group mix of DOMAIN.md. Every person-scheme history has one to four spells
(renewals, lapses and returns, moves between communes), persons carry households, birth dates,
sexes, Vietnamese names and phones; employers pay monthly contributions (some late); activities
of 2025 list attendees, some of whom start a spell within 90 days.

The files are written commune by commune (rows streamed through ``csv.writer``; one commune's
arrays in memory at a time), drawn with numpy's PCG64 seeded by ``(seed, commune)``: the same
seed writes byte-identical files. The special zone Trường Sa has no person data, only counts.

``messy=True`` (``ansinh generate --messy``, issue 22) writes the participations file as offices
send it: the same province, with 5–10 % of the renewals running a few days into the next spell,
extra moves between communes whose spells overlap, same-start-date ties (a second spell of the
person and scheme starting the same day in another commune), and the rows shuffled. It also
writes ``participations-resend.csv``: the same file re-sent with 1 % of its rows changed (end
date a month later; tie rows left as they are, so which of the two wins stays decided by row
order). Its draws come from their own generator: the ordered files stay byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ansinh.demo.common import (
    FAMILY_NAMES,
    FAMILY_WEIGHTS,
    GIVEN_F,
    GIVEN_M,
    MIDDLE_F,
    MIDDLE_M,
    PHONE_PREFIXES,
    SCHEMES,
    Writer,
    allocate,
    month_end,
    month_ends,
)
from ansinh.demo.dataset import (
    CHANNEL_COST,
    CHANNEL_PLAN,
    CHANNEL_REG,
    MONTH_WEIGHTS,
    RATES,
    SECTORS,
)
from ansinh.demo.units import PROVINCE_CODE, DemoUnit, units

AS_OF = dt.date(2025, 9, 30)
DATA_END = dt.date(2025, 11, 30)
POPULATION = 1_889_000
COUNTS_ONLY = ("22736",)  # Trường Sa: aggregate counts, no person data
EPOCH = dt.date(1925, 1, 1)
_D = (AS_OF - EPOCH).days
_END = (DATA_END - EPOCH).days
_DATES = [(EPOCH + dt.timedelta(days=i)).isoformat() for i in range(_END + 800)]
_OPEN = -1

# spells per history (current members) and their probabilities
HISTORY = {
    "hi": ([1, 2, 3, 4], [0.25, 0.35, 0.25, 0.15]),
    "si_compulsory": ([1, 2, 3], [0.5, 0.35, 0.15]),
    "ui": ([1, 2, 3], [0.5, 0.35, 0.15]),
    "si_voluntary": ([1, 2], [0.7, 0.3]),
}
# share of the *covered* who are lapsed members instead (past spells only)
LAPSED = {"hi": 0.05, "si_compulsory": 0.12, "ui": 0.12, "si_voluntary": 0.25}
# share of current members whose latest spell starts after AS_OF (October–November joiners)
JOINERS = {"hi": 0.008, "si_compulsory": 0.02, "ui": 0.02, "si_voluntary": 0.08}
# share of the latest spells that started in a year-end campaign (October–December of 2022,
# 2023 or 2024): the month-end series rise in steps at each year's end (SPEC section 11)
CAMPAIGN = {"hi": 0.25, "si_compulsory": 0.08, "ui": 0.08, "si_voluntary": 0.45}
# Trường Sa's counts: the year's shape (relative to September)
SEASON_TS = (0.99, 0.99, 0.992, 0.994, 0.996, 0.998, 0.999, 1.0, 1.0, 1.01, 1.02, 1.04)
_Q4 = np.array([(dt.date(y, 10, 1) - EPOCH).days for y in (2022, 2023, 2024)])


class _Commune:
    def __init__(self, unit: DemoUnit, index: int, pop: int) -> None:
        self.unit, self.index, self.pop = unit, index, pop
        self.employers: list[tuple[str, int]] = []
        self.new_starts: tuple[np.ndarray, np.ndarray] | None = None  # (start day, person idx)
        self.person_ids: list[str] = []
        self.names: list[str] = []
        self.phones: list[str] = []


def _names(rng: np.random.Generator, female: np.ndarray) -> list[str]:
    n = len(female)
    fw = np.array(FAMILY_WEIGHTS, dtype=float)
    fam = rng.choice(len(FAMILY_NAMES), size=n, p=fw / fw.sum())
    mid = rng.integers(0, 10, size=n)
    giv = rng.integers(0, min(len(GIVEN_F), len(GIVEN_M)), size=n)
    out = []
    for i in range(n):
        if female[i]:
            out.append(f"{FAMILY_NAMES[fam[i]]} {MIDDLE_F[mid[i]]} {GIVEN_F[giv[i]]}")
        else:
            out.append(f"{FAMILY_NAMES[fam[i]]} {MIDDLE_M[mid[i]]} {GIVEN_M[giv[i]]}")
    return out


def _histories(
    rng: np.random.Generator, members: np.ndarray, lapsed: np.ndarray, scheme: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spells of the given persons: (person, start, end, order in the history (0 = first),
    latest spell or not).
    ``members`` are covered on AS_OF (or join after it), ``lapsed`` only have past spells."""
    ks, ps = HISTORY[scheme]
    persons = np.concatenate([members, lapsed])
    n = len(persons)
    current = np.arange(n) < len(members)
    k = rng.choice(ks, size=n, p=ps)
    # the latest spell
    start = _D - rng.integers(0, 3 * 365, size=n)
    campaign = rng.random(n) < CAMPAIGN[scheme]
    start = np.where(campaign, rng.choice(_Q4, size=n) + rng.integers(0, 92, size=n), start)
    joiner = current & (rng.random(n) < JOINERS[scheme])
    start = np.where(joiner, _D + 1 + rng.integers(0, _END - _D, size=n), start)
    if scheme == "hi":
        end = start + rng.choice([90, 180, 365, 365], size=n) - 1
        end = np.maximum(end, _D + rng.integers(1, 400, size=n))  # covered on AS_OF
        r = rng.random(n)
        end = np.where(r < 0.05, (dt.date(2025, 12, 1) - EPOCH).days + rng.integers(0, 30, n), end)
        end = np.where((r >= 0.05) & (r < 0.08), _D + 1 + rng.integers(0, 60, n), end)
        end = np.where(r > 0.6, _OPEN, end)
    else:
        end = np.where(rng.random(n) < 0.03, _D + 1 + rng.integers(0, 60, n), _OPEN)
    # lapsed persons: the latest spell ended before AS_OF
    lap_end = _D - 1 - rng.integers(0, 700, size=n)
    lap_start = lap_end - rng.integers(60, 900, size=n)
    start = np.where(current, start, lap_start)
    end = np.where(current, end, lap_end)
    out_p, out_s, out_e, out_o = [persons], [start], [end], [k - 1]
    out_l = [np.ones(n, dtype=bool)]
    nxt_start = start.copy()
    alive = k > 1
    level = 1
    while alive.any():
        idx = np.nonzero(alive)[0]
        gap = np.where(rng.random(len(idx)) < 0.7, 0, rng.integers(30, 300, len(idx)))
        e = nxt_start[idx] - 1 - gap
        s = e - rng.integers(90, 730, len(idx))
        out_p.append(persons[idx])
        out_s.append(s)
        out_e.append(e)
        out_o.append(k[idx] - 1 - level)
        out_l.append(np.zeros(len(idx), dtype=bool))
        nxt_start[idx] = s
        level += 1
        alive = alive & (k > level)
    return (
        np.concatenate(out_p),
        np.concatenate(out_s),
        np.concatenate(out_e),
        np.concatenate(out_o),
        np.concatenate(out_l),
    )


# messy files (issue 22): share of the earlier spells whose end runs 2–14 days into the next
# spell; extra earlier spells written in another commune, overlapping the next one; latest spells
# with a same-day twin in another commune; rows of the re-sent file that change
MESSY_OVERLAP = 0.16
MESSY_MOVE = 0.04
MESSY_TIE = 0.01
RESEND_CHANGED = 0.01


def _messy(
    mr: np.random.Generator,
    p: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    latest: np.ndarray,
    moved: np.ndarray,
    n_others: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping renewals and moves, and same-day twins, for one scheme of one commune:
    (end, moved, twin persons' index into p, twin ends, twin other communes)."""
    n = len(p)
    earlier = ~latest & (e != _OPEN)
    move = moved | (earlier & (mr.random(n) < MESSY_MOVE))
    ext = np.where(earlier & (mr.random(n) < MESSY_OVERLAP), mr.integers(2, 15, n), 0)
    ext = np.where(move & earlier & (ext == 0), mr.integers(1, 21, n), ext)
    e = np.where(earlier, e + ext, e)
    twin = np.nonzero(latest & (mr.random(n) < MESSY_TIE))[0]
    starts = set(zip(p[~latest].tolist(), s[~latest].tolist(), strict=True))
    twin = np.array(
        [j for j in twin.tolist() if (int(p[j]), int(s[j])) not in starts], dtype=np.int64
    )
    k = len(twin)
    t_end = np.where(mr.random(k) < 0.5, _OPEN, s[twin] + mr.integers(30, 400, k))
    return e, move, twin, t_end, mr.integers(0, max(n_others, 1), k)


def _write_commune_people(
    c: _Commune,
    seed: int,
    wp: Writer,
    others: list[DemoUnit],
    messy: bool = False,
    ties: set[tuple[str, str, str]] | None = None,
) -> dict[str, int]:
    rng = np.random.default_rng([seed, c.index])
    mr = np.random.default_rng([seed, c.index, 22])  # messy draws only
    n = c.pop
    rates = RATES[c.unit.kind]
    female = rng.random(n) < 0.51
    age_days = (rng.beta(1.6, 2.6, size=n) * 95 * 365).astype(np.int64)
    birth = np.maximum(_D - age_days, 0)
    age = age_days // 365
    house_sizes = rng.choice([1, 2, 3, 4, 4, 5, 6], size=n)
    household = np.repeat(np.arange(n), house_sizes)[:n]
    c.person_ids = [f"56{c.index:02d}{i:06d}" for i in range(n)]
    c.names = _names(rng, female)
    pre = rng.integers(0, len(PHONE_PREFIXES), size=n)
    num = rng.integers(0, 10**7, size=n)
    c.phones = [f"{PHONE_PREFIXES[pre[i]]}{num[i]:07d}" for i in range(n)]
    sex = np.where(female, "F", "M")
    hh = [f"HGD{c.unit.code}{h:06d}" for h in household.tolist()]
    births = [_DATES[b] for b in birth.tolist()]
    sexes = sex.tolist()

    working = (age >= 18) & (age < 62)
    share_working = max(float(working.mean()), 0.01)
    u = rng.random(n)
    comp = working & (u < rates["si_compulsory"] / share_working)
    comp_lapsed = working & ~comp & (u < rates["si_compulsory"] / share_working * 1.12)
    ui = comp & (rng.random(n) < 0.96)
    ui_lapsed = comp_lapsed & (rng.random(n) < 0.9)
    v = rng.random(n)
    vol_rate = rates["si_voluntary"] / share_working * 1.45  # most workers are compulsory
    vol = working & ~comp & (v < vol_rate)
    vol_lapsed = working & ~comp & ~vol & (v < vol_rate * 1.3)
    h = rng.random(n)
    hi = h < rates["hi"]
    hi_lapsed = ~hi & (h < rates["hi"] + (1 - rates["hi"]) * 0.6)
    sets = {
        "si_compulsory": (comp, comp_lapsed),
        "ui": (ui, ui_lapsed),
        "si_voluntary": (vol, vol_lapsed),
        "hi": (hi, hi_lapsed),
    }
    emp_codes = [e for e, _ in c.employers]
    emp_w = np.array([s for _, s in c.employers], dtype=float)
    employer = rng.choice(len(emp_codes), size=n, p=emp_w / emp_w.sum()) if emp_codes else None
    employer_l = employer.tolist() if employer is not None else []
    vol_groups = np.array(["farmer", "freelancer", "business_owner"])
    vol_p = [0.55, 0.3, 0.15] if c.unit.kind in ("rural", "mountain") else [0.1, 0.55, 0.35]
    state_p = 0.6 if c.unit.kind == "mountain" else 0.3
    written: dict[str, int] = {}
    starts_all: list[np.ndarray] = []
    persons_all: list[np.ndarray] = []
    comp_spells: tuple[np.ndarray, ...] = ()
    ui_person = ui | ui_lapsed
    for scheme in SCHEMES:
        if scheme == "ui":  # UI goes with compulsory SI: the same spells, for most of them
            keep = ui_person[comp_spells[0]]
            p, s, e, order, latest, moved, other, group = (x[keep] for x in comp_spells)
        else:
            members, lapsed = sets[scheme]
            p, s, e, order, latest = _histories(
                rng, np.nonzero(members)[0], np.nonzero(lapsed)[0], scheme
            )
            # no spell before birth (HI) or before 18: earlier spells dropped, the latest moved
            lower = birth[p] + (0 if scheme == "hi" else 18 * 365 + 5)
            keep = latest | (s >= lower)
            p, s, e, order, latest = p[keep], s[keep], e[keep], order[keep], latest[keep]
            s = np.maximum(s, lower[keep])
            e = np.where((e != _OPEN) & (e < s), s, e)
            moved = rng.random(len(p)) < 0.03
            other = rng.integers(0, len(others), size=len(p))
            if scheme == "si_compulsory":
                group = np.where(rng.random(len(p)) < 0.08, "other", "employee")
                comp_spells = (p, s, e, order, latest, moved, other, group)
            elif scheme == "si_voluntary":
                group = vol_groups[rng.choice(3, size=len(p), p=vol_p)]
            else:
                a = age[p]
                r = rng.random(len(p))
                group = np.where(
                    comp[p],
                    "employee",
                    np.where(
                        (a < 6) | (a >= 80) | (r < state_p),
                        "state_supported",
                        np.where(a < 23, "student", np.where(r < 0.9, "household", "other")),
                    ),
                )
        first_2025 = (order == 0) & (s >= (dt.date(2025, 1, 2) - EPOCH).days)
        starts_all.append(s[first_2025])
        persons_all.append(p[first_2025])
        rows = []
        code = c.unit.code
        with_employer = employer is not None and scheme in ("si_compulsory", "ui")
        if messy:
            e, moved, twin, t_end, t_other = _messy(mr, p, s, e, latest, moved, len(others))
        for i, sj, ej, gj, mv, oj, lt in zip(
            p.tolist(),
            s.tolist(),
            e.tolist(),
            group.tolist(),
            moved.tolist(),
            other.tolist(),
            latest.tolist(),
            strict=True,
        ):
            rows.append(
                [
                    c.person_ids[i],
                    others[oj].code if mv and not lt else code,
                    scheme,
                    gj,
                    _DATES[sj],
                    _DATES[ej] if ej != _OPEN else "",
                    hh[i],
                    emp_codes[employer_l[i]] if with_employer else "",
                    births[i],
                    sexes[i],
                    c.names[i],
                    c.phones[i],
                ]
            )
        if messy:
            for j, tj, oj in zip(twin.tolist(), t_end.tolist(), t_other.tolist(), strict=True):
                i, sj = int(p[j]), int(s[j])
                row = list(rows[j])
                row[1], row[5] = others[oj].code, _DATES[tj] if tj != _OPEN else ""
                rows.append(row)
                if ties is not None:
                    ties.add((c.person_ids[i], scheme, _DATES[sj]))
        wp.rows_many(rows)
        written[scheme] = len(rows)
    starts = np.concatenate(starts_all)
    persons = np.concatenate(persons_all)
    order_idx = np.argsort(starts, kind="stable")
    c.new_starts = (starts[order_idx], persons[order_idx])
    return written


def generate(
    out: Path,
    *,
    scale: float = 1.0,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
    messy: bool = False,
) -> dict[str, int]:
    """Write the nine files into ``out`` (ten with ``messy``: the re-sent participations file);
    returns the rows written per file."""
    out.mkdir(parents=True, exist_ok=True)
    all_units = units()
    cunits = [u for u in all_units if u.level == "commune"]
    total = max(len(cunits), round(POPULATION * scale))
    pops = allocate(total, [u.weight for u in cunits], minimum=1)
    communes = [_Commune(u, i, p) for i, (u, p) in enumerate(zip(cunits, pops, strict=True))]
    pyr = random.Random(seed)
    kinds = (
        "units",
        "population",
        "targets",
        "employers",
        "contributions",
        "counts",
        "participations",
        "activities",
        "attendees",
    )
    w = {k: Writer(out, k) for k in kinds}
    ties: set[tuple[str, str, str]] = set()
    try:
        for u in all_units:
            w["units"].row(u.code, u.name, u.level, u.parent_code, "", "")
        for c in communes:
            w["population"].row(2024, c.unit.code, round(c.pop * pyr.uniform(0.985, 0.997)), "")
            w["population"].row(2025, c.unit.code, c.pop, "")
        # targets: expected participants over an attainment that varies by commune
        attain = {"si_compulsory": 1.2552, "si_voluntary": 0.5102, "ui": 1.1885, "hi": 0.972}
        for c in communes:
            r = RATES[c.unit.kind]
            expected = {
                "si_compulsory": c.pop * r["si_compulsory"],
                "ui": c.pop * r["si_compulsory"] * 0.96,
                "si_voluntary": c.pop * r["si_voluntary"],
                "hi": c.pop * r["hi"],
            }
            for scheme in SCHEMES:
                spread = 0.03 if scheme == "hi" else 0.15
                target = expected[scheme] / (attain[scheme] * pyr.lognormvariate(0, spread))
                w["targets"].row(2025, c.unit.code, scheme, max(1, round(target)))
            w["targets"].row(2025, c.unit.code, "hi_coverage", "95.0")
        w["targets"].row(2025, PROVINCE_CODE, "hi_coverage", "95.0")
        # employers and their contributions
        n_emp = max(len(communes), round(1_630 * scale))
        per = allocate(
            n_emp, [c.pop * RATES[c.unit.kind]["si_compulsory"] for c in communes], minimum=1
        )
        sectors = [s for s, _ in SECTORS]
        sector_w = [x for _, x in SECTORS]
        k = 0
        periods = month_ends((2024, 1), (2025, 10))
        for c, m in zip(communes, per, strict=True):
            staff = max(m, round(c.pop * RATES[c.unit.kind]["si_compulsory"] * 0.85))
            sizes = allocate(staff, [pyr.lognormvariate(0, 1.2) for _ in range(m)], minimum=1)
            for size in sizes:
                k += 1
                code = f"DN{k:06d}"
                c.employers.append((code, size))
                w["employers"].row(
                    code,
                    f"Công ty TNHH {c.unit.name.split(' ', 1)[-1]} số {k}",
                    c.unit.code,
                    f"42{pyr.randrange(10**8):08d}",
                    pyr.choices(sectors, sector_w)[0],
                    size,
                )
                salary = pyr.randrange(500, 1300) * 10_000
                habit = pyr.random()
                for y_m in periods:
                    due = round(size * salary * 0.32)
                    due_date = month_end(y_m.year + (y_m.month == 12), y_m.month % 12 + 1)
                    paid_on: dt.date | None = due_date - dt.timedelta(days=pyr.randint(2, 25))
                    paid = due
                    if habit > 0.9 and pyr.random() < 0.4:  # a late payer
                        paid_on = due_date + dt.timedelta(days=pyr.randint(5, 120))
                        if pyr.random() < 0.3:
                            paid = round(due * pyr.uniform(0.3, 0.8))
                    if paid_on is not None and paid_on > DATA_END:
                        paid, paid_on = 0, None
                    w["contributions"].row(
                        code,
                        f"{y_m:%Y-%m}",
                        due,
                        paid,
                        paid_on.isoformat() if paid_on else "",
                    )
        # people, commune by commune
        for c in communes:
            if c.unit.code in COUNTS_ONLY:
                continue
            others = [x.unit for x in communes if x is not c and x.unit.code not in COUNTS_ONLY]
            _write_commune_people(c, seed, w["participations"], others, messy, ties)
            if progress is not None:
                progress(f"{c.unit.code} {c.unit.name}: {c.pop} residents")
        for c in communes:
            if c.unit.code not in COUNTS_ONLY:
                continue
            r = RATES[c.unit.kind]
            for d in month_ends((2022, 1), (2025, 11)):
                growth = (1.03 ** ((d - AS_OF).days / 365)) * SEASON_TS[d.month - 1]
                for scheme, share in (
                    ("si_compulsory", r["si_compulsory"]),
                    ("ui", r["si_compulsory"] * 0.96),
                    ("si_voluntary", r["si_voluntary"]),
                    ("hi", r["hi"]),
                ):
                    n = min(c.pop, round(c.pop * share * growth))
                    w["counts"].row(d.isoformat(), c.unit.code, scheme, n, "")
        _write_activities(pyr, w["activities"], w["attendees"], communes, scale)
    finally:
        for x in w.values():
            x.close()
    rows = {k: x.rows for k, x in w.items()}
    if messy:
        path = w["participations"].path
        _shuffle(path, np.random.default_rng([seed, 22]))
        rows["participations-resend"] = _resend(
            path, out / "participations-resend.csv", np.random.default_rng([seed, 23]), ties
        )
    return rows


def _shuffle(path: Path, rng: np.random.Generator) -> None:
    """Shuffle the data rows of ``path`` in place, in bounded memory: each row goes to a random
    bucket file (about 32 MB each), then each bucket is shuffled in memory and appended."""
    k = max(1, path.stat().st_size // 32_000_000)
    tmp = path.parent / f".{path.name}.shuffle"
    tmp.mkdir(exist_ok=True)
    try:
        buckets = [(tmp / f"{i}.csv").open("w", encoding="utf-8", newline="") for i in range(k)]
        with path.open(encoding="utf-8", newline="") as fh:
            header = fh.readline()
            while lines := fh.readlines(8_000_000):
                for line, b in zip(lines, rng.integers(0, k, len(lines)).tolist(), strict=True):
                    buckets[b].write(line)
        for b in buckets:
            b.close()
        part = path.parent / f".{path.name}.part"
        with part.open("w", encoding="utf-8", newline="") as fh:
            fh.write(header)
            for i in range(k):
                lines = (tmp / f"{i}.csv").read_text(encoding="utf-8").splitlines(keepends=True)
                fh.writelines(lines[j] for j in rng.permutation(len(lines)).tolist())
        os.replace(part, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _resend(src: Path, dst: Path, rng: np.random.Generator, ties: set[tuple[str, str, str]]) -> int:
    """The participations file re-sent with RESEND_CHANGED of its rows changed (end date 31
    days later; an open spell ends 400 days after its start), tie rows left alone."""
    n = 0
    with (
        src.open(encoding="utf-8", newline="") as fh,
        dst.open("w", encoding="utf-8", newline="") as gh,
    ):
        r = csv.reader(fh)
        w = csv.writer(gh, lineterminator="\n")
        w.writerow(next(r))
        for row in r:
            n += 1
            if rng.random() < RESEND_CHANGED and (row[0], row[2], row[4]) not in ties:
                start = dt.date.fromisoformat(row[4])
                end = dt.date.fromisoformat(row[5]) if row[5] else start + dt.timedelta(400)
                row[5] = (end + dt.timedelta(31)).isoformat()
            w.writerow(row)
    return n


def _write_activities(
    rng: random.Random, wa: Writer, wt: Writer, communes: list[_Commune], scale: float
) -> None:
    channels = list(CHANNEL_PLAN)
    ch_w = [CHANNEL_PLAN[ch].weight for ch in channels]
    total = max(len(communes) * 2, round(6_000 * scale))
    per = allocate(total, [c.pop**0.7 for c in communes], minimum=1)
    n = 0
    for c, k in zip(communes, per, strict=True):
        dates = sorted(
            dt.date(2025, m, 1) + dt.timedelta(days=rng.randint(0, month_end(2025, m).day - 1))
            for m in rng.choices(range(1, 12), MONTH_WEIGHTS, k=k)
        )
        for date in dates:
            n += 1
            code = f"SK2025-{n:06d}"
            ch = rng.choices(channels, ch_w)[0]
            plan = CHANNEL_PLAN[ch]
            lead = rng.choice(plan.leads)
            planned = rng.randint(*plan.reach)
            reach = max(1, round(planned * rng.uniform(0.7, 1.1)))
            regs = round(CHANNEL_REG[ch] * rng.uniform(0.4, 1.6))
            cost = int(round(CHANNEL_COST[ch] * rng.uniform(0.7, 1.3), -4))
            wa.row(code, c.unit.code, ch, date.isoformat(), lead, "", "", "", planned, reach,
                   "", regs, "", cost)  # fmt: skip
            n_att = min(reach, rng.randint(*plan.attendees))
            if n_att <= 0 or not c.person_ids or c.new_starts is None:
                continue
            starts, persons = c.new_starts
            d0 = (date - EPOCH).days
            lo = int(np.searchsorted(starts, d0 + 1, side="left"))
            hi = int(np.searchsorted(starts, d0 + 90, side="right"))
            k_conv = min(hi - lo, round(n_att * plan.conv * rng.uniform(0.6, 1.4)))
            chosen = {int(persons[rng.randrange(lo, hi)]) for _ in range(k_conv)}
            n_att = min(n_att, len(c.person_ids))
            while len(chosen) < n_att:
                chosen.add(rng.randrange(len(c.person_ids)))
            for i in sorted(chosen):
                wt.row(code, c.person_ids[i], c.names[i], c.phones[i])
