"""`ansinh generate`: deterministic, every SPEC section 2 format, a realistic province."""

from __future__ import annotations

import collections
import csv
import hashlib
import re
from pathlib import Path

import pytest

REQUIRED = {
    "units": {"code", "name", "level", "parent_code"},
    "population": {"year", "unit_code", "population"},
    "targets": {"year", "unit_code", "indicator", "target"},
    "participations": {"person_id", "unit_code", "scheme", "group", "start_date"},
    "counts": {"as_of", "unit_code", "scheme", "participants"},
    "employers": {"code", "name", "unit_code"},
    "contributions": {"employer_code", "period", "amount_due"},
    "activities": {"code", "unit_code", "channel", "date", "lead_org"},
    "attendees": {"activity_code", "person_id"},
}
D = "2025-09-30"


def _rows(folder: Path, kind: str) -> list[dict[str, str]]:
    with (folder / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*"))}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ansinh.demo.generate import generate

    out = tmp_path_factory.mktemp("gen")
    generate(out, scale=0.01, seed=7)
    return out


def test_generate_cli_is_deterministic(cli, tmp_path: Path, small: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    r = cli("generate", "--out", str(a), "--scale", "0.01", "--seed", "7")
    assert r.code == 0, r.err
    assert "participations.csv" in r.out
    assert cli("generate", "--out", str(b), "--scale", "0.01", "--seed", "7").code == 0
    assert cli("generate", "--out", str(c), "--scale", "0.01", "--seed", "8").code == 0
    assert _digest(a) == _digest(b) == _digest(small)
    assert len(_digest(a)) == 9
    assert _digest(a)["participations.csv"] != _digest(c)["participations.csv"]


def test_generate_refuses_bad_scale(cli, tmp_path: Path) -> None:
    r = cli("generate", "--out", str(tmp_path), "--scale", "0")
    assert r.code == 2 and "--scale" in r.err
    assert cli("generate").code == 2  # --out is required


def test_files_follow_the_spec(small: Path) -> None:
    from ansinh.core.codes import CHANNEL_CODES, GROUP_CODES, ORG_CODES, SCHEME_CODES

    for kind, required in REQUIRED.items():
        with (small / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert required <= set(header), kind
    units = _rows(small, "units")
    levels = collections.Counter(u["level"] for u in units)
    assert levels == {"province": 1, "office": 15, "commune": 65}
    by_code = {u["code"]: u for u in units}
    assert all(
        by_code[u["parent_code"]]["level"] == "office" for u in units if u["level"] == "commune"
    )
    assert "22736" in by_code and by_code["22736"]["parent_code"] == "BHXH-CR"  # Trường Sa
    spells = _rows(small, "participations")
    assert {s["scheme"] for s in spells} == set(SCHEME_CODES)
    assert {s["group"] for s in spells} <= set(GROUP_CODES)
    assert all(s["unit_code"] in by_code for s in spells)
    assert all(not s["end_date"] or s["end_date"] >= s["start_date"] for s in spells)
    keys = [(s["person_id"], s["scheme"], s["start_date"], s["unit_code"]) for s in spells]
    assert len(keys) == len(set(keys))  # the natural key of a spell is unique
    acts = _rows(small, "activities")
    assert {a["channel"] for a in acts} <= set(CHANNEL_CODES)
    assert {a["lead_org"] for a in acts} <= set(ORG_CODES)
    codes = {a["code"] for a in acts}
    assert all(t["activity_code"] in codes for t in _rows(small, "attendees"))
    employers = {e["code"] for e in _rows(small, "employers")}
    contributions = _rows(small, "contributions")
    assert all(c["employer_code"] in employers for c in contributions)
    assert all(int(c["amount_paid"]) == 0 or c["paid_on"] for c in contributions)
    assert any(c["paid_on"] and c["paid_on"] > _due(c["period"]) for c in contributions)


def _due(period: str) -> str:
    import calendar

    y, m = int(period[:4]), int(period[5:])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def test_shares_like_the_province(small: Path) -> None:
    pop = sum(int(r["population"]) for r in _rows(small, "population") if r["year"] == "2025")
    assert pop == round(1_889_000 * 0.01)
    covered: dict[str, set[str]] = collections.defaultdict(set)
    histories: collections.Counter[tuple[str, str]] = collections.Counter()
    for s in _rows(small, "participations"):
        histories[(s["person_id"], s["scheme"])] += 1
        if s["start_date"] <= D and (not s["end_date"] or s["end_date"] >= D):
            covered[s["scheme"]].add(s["person_id"])
    share = {k: len(v) / pop for k, v in covered.items()}
    assert 0.90 < share["hi"] < 0.96
    assert 0.11 < share["si_compulsory"] < 0.18
    assert 0.10 < share["ui"] < 0.17
    assert 0.008 < share["si_voluntary"] < 0.03
    assert 1.5 < sum(histories.values()) / len(histories) < 3.5  # renewals, lapses
    assert covered["ui"] - covered["si_compulsory"] == set()  # UI only with compulsory SI


def test_generated_files_import_and_count(cli, tmp_path: Path) -> None:
    """The generated files pass the import framework; the KPI engine counts what the files say."""
    import json

    out = tmp_path / "g"
    assert cli("generate", "--out", str(out), "--scale", "0.002", "--seed", "3").code == 0
    for kind in ("units", "population", "targets", "employers", "contributions", "counts",
                 "participations", "activities", "attendees"):  # fmt: skip
        r = cli("import", kind, str(out / f"{kind}.csv"))
        assert r.code == 0, (kind, r.err)
    latest: dict[tuple[str, str], str] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for c in _rows(out, "counts"):
        if c["as_of"] <= D:
            counts[(c["unit_code"], c["scheme"], c["as_of"])] = int(c["participants"])
            key = (c["unit_code"], c["scheme"])
            latest[key] = max(latest.get(key, ""), c["as_of"])
    expected = collections.Counter()
    for (unit, scheme), as_of in latest.items():
        expected[scheme] += counts[(unit, scheme, as_of)]
    people: dict[str, set[str]] = collections.defaultdict(set)
    for s in _rows(out, "participations"):
        if s["start_date"] <= D and (not s["end_date"] or s["end_date"] >= D):
            people[s["scheme"]].add(s["person_id"])
    for scheme, persons in people.items():
        expected[scheme] += len(persons)
    r = cli("kpi", "--as-of", D, "--format", "json")
    assert r.code == 0, r.err
    got = {i["code"]: i["participants"] for i in json.loads(r.out)["indicators"]}
    for scheme in ("si_compulsory", "si_voluntary", "ui", "hi"):
        assert got[scheme] == expected[scheme], scheme


def test_generated_history_has_a_year_end_peak(small: Path) -> None:
    """At least three years of history, and the campaign months (October–December) bring more
    voluntary SI and HI members than the rest of the year (SPEC section 11 learns from it)."""
    starts: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    years: set[str] = set()
    for s in _rows(small, "participations"):
        starts[s["scheme"]][int(s["start_date"][5:7])] += 1
        years.add(s["start_date"][:4])
    assert {"2022", "2023", "2024", "2025"} <= years
    for scheme in ("si_voluntary", "hi"):
        q4 = sum(starts[scheme][m] for m in (10, 11, 12)) / 3
        rest = sum(starts[scheme][m] for m in range(1, 10)) / 9
        assert q4 > 1.3 * rest, (scheme, q4, rest)
    months = {c["as_of"] for c in _rows(small, "counts")}
    assert len(months) >= 36 and min(months) <= "2022-01-31"


def _overlaps(spells: list[dict[str, str]]) -> tuple[int, int, int]:
    """(spells starting inside the previous spell of the person and scheme, of them in another
    commune, same-start-date ties)."""
    by: dict[tuple[str, str], list[dict[str, str]]] = collections.defaultdict(list)
    for s in spells:
        by[(s["person_id"], s["scheme"])].append(s)
    overlap = moved = ties = 0
    for history in by.values():
        history.sort(key=lambda s: s["start_date"])
        for prev, s in zip(history, history[1:], strict=False):
            if s["start_date"] == prev["start_date"]:
                ties += 1
            elif prev["end_date"] and s["start_date"] <= prev["end_date"]:
                overlap += 1
                moved += s["unit_code"] != prev["unit_code"]
    return overlap, moved, ties


def test_generate_messy(cli, tmp_path: Path, small: Path) -> None:
    """``--messy`` (issue 22): the ordered files unchanged, participations shuffled with
    overlapping renewals, overlapping moves and same-day ties; a re-sent file with 1 % changed;
    both import cleanly and the re-sent file updates exactly its changed rows."""
    out = tmp_path / "m"
    r = cli("generate", "--out", str(out), "--scale", "0.01", "--seed", "7", "--messy")
    assert r.code == 0, r.err
    assert "participations-resend.csv" in r.out
    digest, ordered = _digest(out), _digest(small)
    for name, h in ordered.items():
        assert (digest[name] == h) == (name != "participations.csv"), name
    spells = _rows(out, "participations")
    plain = _rows(small, "participations")
    key = ("person_id", "scheme", "start_date", "unit_code")
    keys = [tuple(s[k] for k in key) for s in spells]
    assert len(keys) == len(set(keys))
    assert all(not s["end_date"] or s["end_date"] >= s["start_date"] for s in spells)
    assert len(plain) < len(spells) < 1.02 * len(plain)  # the ties add ~0.4 %
    # shuffled: consecutive rows rarely belong to the same commune's people
    same = sum(
        a["person_id"][:4] == b["person_id"][:4] for a, b in zip(spells, spells[1:], strict=False)
    )
    assert same / len(spells) < 0.1
    overlap, moved, ties = _overlaps(spells)
    assert 0.05 <= overlap / len(spells) <= 0.10, overlap / len(spells)
    assert moved > 0.01 * len(spells) and ties > 0.002 * len(spells)
    assert _overlaps(plain)[0] < 0.001 * len(plain)
    resent = _rows(out, "participations-resend")
    assert [tuple(s[k] for k in key) for s in resent] == keys
    changed = sum(a != b for a, b in zip(spells, resent, strict=True))
    assert 0.007 * len(spells) < changed < 0.013 * len(spells)
    for kind in ("units", "population", "targets", "participations"):
        r = cli("import", kind, str(out / f"{kind}.csv"))
        assert r.code == 0, (kind, r.err)
    r = cli("import", "participations", str(out / "participations-resend.csv"))
    assert r.code == 0, r.err
    n = len(spells)  # N rows read, 0 created, U updated, S unchanged (in either language)
    assert re.findall(r"\d+", r.out) == [str(n), "0", str(changed), str(n - changed)], r.out


def test_generate_help_lists_messy(cli) -> None:
    r = cli("generate", "--help")  # argparse %-formats help texts: no stray "%" in them
    assert r.code == 0 and "--messy" in r.out, r.err
