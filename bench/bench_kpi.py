"""KPI engine benchmark: full snapshot build, incremental refresh after a 1 % change, `kpi`
latency per level (snapshot month-end and live date), and DuckDB computing the same participant
counts from the same spells CSV. Prints the results and writes bench/results/kpi.json.

Usage:
  python bench/bench_kpi.py [--scale 0.1] [--seed 1] [--as-of 2025-09-30]
      generates its own province (1 province, 15 offices, 65 communes; scale 1.0 ≈ 1.9 M
      residents) into a fresh database (ANSINH_DATABASE_URL, else SQLite in a temp ANSINH_HOME)
  python bench/bench_kpi.py --reuse --as-of DATE
      measures the database named by the environment as it is (used by bench/run.py)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

SCHEME_SHARE = {"hi": 0.93, "si_compulsory": 0.14, "ui": 0.135, "si_voluntary": 0.016}
GROUPS_HI = ["household", "student", "state_supported", "employee", "farmer", "other"]
FIRST = dt.date(2023, 1, 1)


def setup(reuse: bool) -> None:
    if not reuse and not os.environ.get("ANSINH_DATABASE_URL"):
        os.environ["ANSINH_HOME"] = tempfile.mkdtemp(prefix="ansinh-bench-kpi-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if not reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def generate(scale: float, seed: int, last: dt.date, out_csv: Path) -> dict[str, Any]:
    """Units, targets, population and spells written with bulk inserts; spells also to CSV."""
    from ansinh.core.models import ImportBatch
    from ansinh.geography.models import Population, Unit
    from ansinh.registry.models import Person, Spell
    from ansinh.targets.models import Target

    rnd = random.Random(seed)
    kh = Unit.objects.create(code="56", name="Khánh Hòa", level="province", path="56/", depth=0)
    units = [kh]
    communes: list[Unit] = []
    n = 0
    for o in range(15):
        office = Unit(
            code=f"O{o + 1:02d}",
            name=f"BHXH cơ sở {o + 1}",
            level="office",
            parent=kh,
            path=f"56/O{o + 1:02d}/",
            depth=1,
        )
        units.append(office)
        for _c in range(5 if o < 5 else 4):
            if n >= 65:
                break
            code = f"{22000 + n * 3}"
            c = Unit(
                code=code,
                name=f"Xã {code}",
                level="commune",
                parent=office,
                path=f"{office.path}{code}/",
                depth=2,
            )
            communes.append(c)
            n += 1
    Unit.objects.bulk_create(units[1:])
    Unit.objects.bulk_create(communes)
    weights = [rnd.uniform(0.3, 3.0) for _ in communes]
    residents = int(1_900_000 * scale)
    per = [int(residents * w / sum(weights)) for w in weights]
    Population.objects.bulk_create(
        [
            Population(year=y, unit=c, population=p)
            for c, p in zip(communes, per, strict=True)
            for y in (2024, 2025)
        ]
    )
    batch = ImportBatch.objects.create(kind="participations", file_name="gen.csv", sha256="-")
    days = (last - FIRST).days
    people: list[Person] = []
    spells: list[Spell] = []
    w = csv.writer(out_csv.open("w", encoding="utf-8", newline=""))
    w.writerow(["person_id", "unit_code", "scheme", "group", "start_date", "end_date"])
    row_no = 0
    pid = 0
    for c, pop in zip(communes, per, strict=True):
        for _ in range(pop):
            pid += 1
            person = f"P{pid:08d}"
            people.append(Person(person_id=person))
            for scheme, share in SCHEME_SHARE.items():
                if rnd.random() >= share:
                    continue
                if scheme == "hi":
                    group = rnd.choice(GROUPS_HI)
                elif scheme == "si_voluntary":
                    group = rnd.choice(["freelancer", "farmer", "business_owner"])
                else:
                    group = "employee"
                start = FIRST + dt.timedelta(days=int(rnd.random() ** 0.7 * days))
                unit = c
                while start <= last:
                    if scheme == "hi" and group in ("household", "student"):
                        end: dt.date | None = start + dt.timedelta(days=364)
                    else:
                        end = (
                            None
                            if rnd.random() < 0.85
                            else start + dt.timedelta(days=rnd.randrange(30, 700))
                        )
                    if rnd.random() < 0.01:  # moved: an overlapping spell in another commune
                        unit = rnd.choice(communes)
                    row_no += 1
                    spells.append(
                        Spell(
                            person_id=person,
                            unit=unit,
                            scheme=scheme,
                            group=group,
                            start_date=start,
                            end_date=end,
                            batch=batch,
                            row_no=row_no,
                        )
                    )
                    w.writerow(
                        [
                            person,
                            unit.code,
                            scheme,
                            group,
                            start.isoformat(),
                            end.isoformat() if end else "",
                        ]
                    )
                    if end is None or rnd.random() > 0.85:
                        break
                    start = end + dt.timedelta(
                        days=1 + (0 if rnd.random() < 0.8 else rnd.randrange(60))
                    )
            if len(spells) > 50_000:
                Person.objects.bulk_create(people, batch_size=5000)
                Spell.objects.bulk_create(spells, batch_size=5000)
                people, spells = [], []
    Person.objects.bulk_create(people, batch_size=5000)
    Spell.objects.bulk_create(spells, batch_size=5000)
    targets = []
    for c, pop in zip(communes, per, strict=True):
        for scheme, share in SCHEME_SHARE.items():
            targets.append(
                Target(year=2025, unit=c, indicator=scheme, target=int(pop * share * 1.05))
            )
    targets.append(Target(year=2025, unit=kh, indicator="hi_coverage", target=95))
    Target.objects.bulk_create(targets)
    return {"residents": residents, "persons": pid, "spells": row_no, "communes": len(communes)}


def export_spells(out_csv: Path) -> int:
    from ansinh.registry.models import Spell

    n = 0
    with out_csv.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "person_id",
                "unit_code",
                "scheme",
                "group",
                "start_date",
                "end_date",
                "batch",
                "row_no",
            ]
        )
        for r in Spell.objects.values_list(
            "person_id",
            "unit_id",
            "scheme",
            "group",
            "start_date",
            "end_date",
            "batch_id",
            "row_no",
        ).iterator(chunk_size=20000):
            w.writerow(
                [
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4].isoformat(),
                    r[5].isoformat() if r[5] else "",
                    r[6] or 0,
                    r[7],
                ]
            )
            n += 1
    return n


def duckdb_counts(path: Path, as_of: dt.date) -> tuple[float, dict[tuple[str, str], int]]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    t0 = time.perf_counter()
    rows = con.execute(
        f"""
        WITH s AS (
          SELECT person_id, unit_code, scheme, "group", start_date::DATE AS sd,
                 NULLIF(end_date, '')::DATE AS ed, COALESCE(TRY_CAST(batch AS BIGINT), 0) AS b,
                 COALESCE(TRY_CAST(row_no AS BIGINT), 0) AS r
          FROM read_csv('{path}', header=true, all_varchar=true)
        ), c AS (
          SELECT *, row_number() OVER (PARTITION BY person_id, scheme
                                       ORDER BY sd DESC, b DESC, r DESC) AS k
          FROM s WHERE sd <= DATE '{as_of}' AND (ed IS NULL OR ed >= DATE '{as_of}')
        )
        SELECT unit_code, scheme, count(*) FROM c WHERE k = 1 GROUP BY ALL
        """
    ).fetchall()
    return time.perf_counter() - t0, {(u, s): int(n) for u, s, n in rows}


def log(msg: Any) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def incremental(res: dict[str, Any], me: dt.date) -> None:
    """1 % of the spells changed: (a) new spells in the last month everywhere, (b) the same
    number of changes inside one office's communes; then compared with a full rebuild."""
    from django.db import transaction

    from ansinh.geography.models import Unit
    from ansinh.monitoring.models import KpiSnapshot
    from ansinh.monitoring.services import snapshot_rebuild, snapshot_refresh
    from ansinh.registry.models import Person, Spell

    office = Unit.objects.filter(level="office").order_by("code").first()
    n_change = max(1, res["spells"] // 100)
    units_all = list(Unit.objects.filter(level="commune").values_list("code", flat=True))
    rnd = random.Random(7)
    start = me.replace(day=1)
    tag = f"N{int(time.time()) % 100000:05d}"
    with transaction.atomic():
        Person.objects.bulk_create(
            [Person(person_id=f"{tag}{i:07d}") for i in range(n_change)], ignore_conflicts=True
        )
        Spell.objects.bulk_create(
            [
                Spell(
                    person_id=f"{tag}{i:07d}",
                    unit_id=rnd.choice(units_all),
                    scheme="hi",
                    group="household",
                    start_date=start + dt.timedelta(days=rnd.randrange(20)),
                    row_no=i,
                )
                for i in range(n_change)
            ],
            batch_size=5000,
        )
    t, rows = timed(lambda: snapshot_refresh(units=set(units_all), since=start))
    res["incremental_last_month"] = {"changed": n_change, "seconds": round(t, 2), "rows": rows}
    if office is not None:
        mine = list(Unit.objects.filter(parent=office).values_list("code", flat=True))
        ids = list(
            Spell.objects.filter(unit_id__in=mine)
            .order_by("id")
            .values_list("id", flat=True)[:n_change]
        )
        first = (
            Spell.objects.filter(id__in=ids)
            .order_by("start_date")
            .values_list("start_date", flat=True)
            .first()
        )
        Spell.objects.filter(id__in=ids, end_date__isnull=True).update(end_date=me)
        t, rows = timed(lambda: snapshot_refresh(units=set(mine), since=first))
        res["incremental_one_office"] = {
            "changed": len(ids),
            "communes": len(mine),
            "since": str(first),
            "seconds": round(t, 2),
            "rows": rows,
        }
        before = sorted(
            KpiSnapshot.objects.values_list(
                "as_of", "unit_id", "scheme", "group", "participants", "new", "lapsed", "renewed"
            )
        )
        snapshot_rebuild()
        after = sorted(
            KpiSnapshot.objects.values_list(
                "as_of", "unit_id", "scheme", "group", "participants", "new", "lapsed", "renewed"
            )
        )
        res["incremental_equals_rebuild"] = before == after


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", default="2025-09-30")
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    setup(args.reuse)

    from django.db import connection, transaction

    from ansinh.accounts.access import SYSTEM
    from ansinh.core.formats import month_end
    from ansinh.geography.models import Unit
    from ansinh.geography.selectors import unit_root
    from ansinh.monitoring import selectors
    from ansinh.monitoring.services import snapshot_months, snapshot_rebuild
    from ansinh.registry.models import Spell

    res: dict[str, Any] = {
        "db": connection.vendor,
        "cores": os.cpu_count(),
        "at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    work = Path(tempfile.mkdtemp(prefix="ansinh-bench-kpi-csv-"))
    spells_csv = work / "spells.csv"
    if not args.reuse:
        t, info = timed(lambda: generate(args.scale, args.seed, as_of, spells_csv))
        res["generate"] = {**info, "scale": args.scale, "seconds": round(t, 1)}
    export_spells(spells_csv)
    res["spells"] = Spell.objects.count()
    log(res)

    t, rows = timed(snapshot_rebuild)
    log(f"snapshot {t:.1f}s")
    res["snapshot_full"] = {
        "seconds": round(t, 2),
        "rows": rows,
        "month_ends": len(snapshot_months()),
    }

    root = unit_root()
    assert root is not None
    office = Unit.objects.filter(level="office").order_by("code").first()
    commune = Unit.objects.filter(level="commune").order_by("code").first()
    latency: dict[str, Any] = {}
    me = (
        month_end(as_of)
        if month_end(as_of) == as_of
        else month_end(as_of.replace(day=1) - dt.timedelta(days=1))
    )
    live_day = me - dt.timedelta(days=10)
    for name, u in (("province", root), ("office", office), ("commune", commune)):
        if u is None:
            continue
        t_snap, _ = timed(
            lambda u=u: selectors.kpi_figures(unit=u, as_of=me, actor=SYSTEM), repeat=5
        )
        t_by, _ = timed(
            lambda u=u: selectors.kpi_figures(unit=u, as_of=me, by="unit", actor=SYSTEM), repeat=5
        )
        t_live, _ = timed(
            lambda u=u: selectors.kpi_figures(unit=u, as_of=live_day, actor=SYSTEM), repeat=1
        )
        latency[name] = {
            "snapshot_ms": round(t_snap * 1000, 1),
            "snapshot_by_unit_ms": round(t_by * 1000, 1),
            "live_ms": round(t_live * 1000, 1),
        }
    res["kpi_latency"] = {"month_end": me.isoformat(), "live_date": live_day.isoformat(), **latency}

    log(res["kpi_latency"])
    # DuckDB on the same spells (the CSV written while generating, or exported)
    if not spells_csv.exists():
        export_spells(spells_csv)
    ddb_t, ddb = duckdb_counts(spells_csv, me)
    t_live_all, leaf = timed(lambda: selectors.leaf_rows(unit=root, as_of=me, live=True))
    ours: dict[tuple[str, str], int] = {}
    for r in leaf:
        if r.in_total:
            ours[(r.unit, r.scheme)] = ours.get((r.unit, r.scheme), 0) + r.participants
    spell_units = {(u, s) for u, s in ddb}
    ours_spells = {k: v for k, v in ours.items() if k in spell_units}
    res["duckdb"] = {
        "one_date_s": round(ddb_t, 3),
        "ours_live_one_date_s": round(t_live_all, 3),
        "same_counts": ours_spells == ddb,
        "total": sum(ddb.values()),
    }

    log(res["duckdb"])
    if args.reuse:
        # measure on the caller's database without leaving the changes behind
        with transaction.atomic():
            incremental(res, me)
            transaction.set_rollback(True)
    else:
        incremental(res, me)

    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(res, indent=2, ensure_ascii=False) + "\n"
    (RESULTS / "kpi.json").write_text(text)
    if not args.reuse:
        (RESULTS / f"kpi-{res['db']}-{args.scale:g}.json").write_text(text)
    print(json.dumps(res, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
