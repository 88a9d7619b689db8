"""`ansinh demo`: the Khánh Hòa demo set reproduces the figures of the article exactly."""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

D = "2025-09-30"
ARTICLE = {"si_compulsory": 269_801, "si_voluntary": 29_500, "ui": 258_953, "hi": 1_762_678}


def _rows(folder: Path, kind: str) -> list[dict[str, str]]:
    with (folder / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_files_add_up_to_the_article(cli, tmp_path: Path) -> None:
    r = cli("demo", "--files", str(tmp_path))
    assert r.code == 0, r.err
    # counts: per unit, scheme and group the latest row on or before D stands
    latest: dict[tuple[str, str, str], tuple[str, int]] = {}
    count_units: dict[str, set[str]] = collections.defaultdict(set)
    for c in _rows(tmp_path, "counts"):
        count_units[c["scheme"]].add(c["unit_code"])
        key = (c["unit_code"], c["scheme"], c["group"])
        # rows of before 1 July 2025 are keyed by the former communes, whose counts stand
        # only while they were in force (SPEC section 9; D is after 30 June 2025)
        if c["as_of"] < "2025-07-01":
            continue
        if c["as_of"] <= D and (key not in latest or latest[key][0] < c["as_of"]):
            latest[key] = (c["as_of"], int(c["participants"]))
    total: collections.Counter[str] = collections.Counter()
    for (_u, scheme, group), (_d, n) in latest.items():
        assert group  # per-group rows only: never a total next to its breakdown
        total[scheme] += n
    people: dict[str, set[str]] = collections.defaultdict(set)
    spell_units: dict[str, set[str]] = collections.defaultdict(set)
    for s in _rows(tmp_path, "participations"):
        spell_units[s["scheme"]].add(s["unit_code"])
        if s["start_date"] <= D and (not s["end_date"] or s["end_date"] >= D):
            people[s["scheme"]].add(s["person_id"])
    for scheme, persons in people.items():
        total[scheme] += len(persons)
        assert not spell_units[scheme] & count_units[scheme]  # spells and counts never mix
    assert dict(total) == ARTICLE
    targets = {(t["unit_code"], t["indicator"]): t["target"] for t in _rows(tmp_path, "targets")}
    assert targets[("56", "si_compulsory")] == "214950"
    assert targets[("56", "hi_coverage")] == "95.0"
    units = _rows(tmp_path, "units")
    communes = [u["code"] for u in units if u["level"] == "commune"]
    assert len(communes) == 65
    commune_targets = sum(int(targets[(c, "si_voluntary")]) for c in communes)
    assert commune_targets == 57_820
    pop = {(p["year"], p["unit_code"]): int(p["population"]) for p in _rows(tmp_path, "population")}
    assert pop[("2025", "56")] == sum(pop[("2025", c)] for c in communes) == 1_889_000
    # worklists: HI cards expiring in the 30 days after 2025-11-30, lapsed in the 90 before
    hi_ends = [s["end_date"] for s in _rows(tmp_path, "participations") if s["scheme"] == "hi"]
    assert any("2025-12-01" <= e <= "2025-12-30" for e in hi_ends)
    assert any("2025-09-01" <= e <= "2025-11-29" for e in hi_ends)
    # at least three years of month-ends with a year-end peak (SPEC section 11)
    vol: dict[str, int] = collections.defaultdict(int)
    for c in _rows(tmp_path, "counts"):
        if c["scheme"] == "si_voluntary":
            vol[c["as_of"]] += int(c["participants"])
    assert min(vol) == "2022-01-31" and len(vol) >= 45
    for y in (2022, 2023, 2024):
        assert vol[f"{y}-12-31"] > 1.15 * vol[f"{y}-09-30"]  # the December rush
        assert vol[f"{y + 1}-01-31"] < vol[f"{y}-12-31"]  # part of it lapses in January
    # the same seed writes the same files
    again = tmp_path / "again"
    assert cli("demo", "--files", str(again)).code == 0
    for kind in ("counts", "participations", "contributions", "attendees"):
        assert (again / f"{kind}.csv").read_bytes() == (tmp_path / f"{kind}.csv").read_bytes()


def _readme_logins() -> str:
    """The block between the demo-logins markers of README.md, without its fence."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- demo-logins -->\n", 1)[1].split("<!-- /demo-logins -->", 1)[0]
    lines = block.strip().splitlines()
    assert lines[0] == "```text" and lines[-1] == "```"
    return "\n".join(lines[1:-1]) + "\n"


def test_readme_lists_every_demo_login() -> None:
    from ansinh.demo.load import DEMO_LOGINS

    block = _readme_logins()
    rows = [line.split() for line in block.splitlines()[3:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (d.username, d.password, d.role) for d in DEMO_LOGINS
    ]


def test_demo_loads_and_kpi_matches_the_article(cli, client) -> None:
    r = cli("demo", "--no-serve")
    assert r.code == 0, r.err
    first = r.out
    assert _readme_logins() in r.out  # README shows exactly what `ansinh demo` prints
    for name in ("admin", "tinh", "coso.khanhson", "phunu", "xem.nhatrang"):
        assert name in r.out
    r = cli("kpi", "--as-of", D, "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["unit"] == "56"
    ind = {i["code"]: i for i in data["indicators"]}
    for scheme, n in ARTICLE.items():
        assert ind[scheme]["participants"] == n
    assert ind["si_compulsory"]["target"] == 214_950
    assert ind["si_compulsory"]["attainment_pct"] == 125.52
    assert ind["si_voluntary"]["attainment_pct"] == 51.02
    assert ind["ui"]["attainment_pct"] == 118.85
    assert ind["hi"]["attainment_pct"] == 97.2
    assert ind["hi_coverage"]["coverage_pct"] == 93.31
    assert ind["hi_coverage"]["population"] == 1_889_000
    assert ind["hi_coverage"]["target_pct"] == 95.0
    # the pilot communes' attendees convert; some employers are behind
    r = cli("outreach", "funnel", "--from", "2025-01-01", "--to", "2025-11-30", "--format", "json")
    assert r.code == 0, r.err
    assert sum(row["converted"] for row in json.loads(r.out)["rows"]) > 50
    r = cli("arrears", "--as-of", D, "--format", "json")
    assert r.code == 0, r.err
    totals = json.loads(r.out)["totals"]
    assert totals["employers"] > 50 and 0 < totals["arrears_pct"] < 10
    # a draft plan of the province, drafted from the gaps, so the plan pages show one
    from ansinh.outreach.models import Plan

    plan = Plan.objects.get()
    assert (plan.unit_id, plan.status, plan.created_by.username) == ("56", "draft", "tinh")
    assert plan.items.count() > 0
    assert (
        f"kế hoạch truyền thông năm {plan.year} của tỉnh ({plan.items.count()} hoạt động)" in first
    )
    # the printed logins work; a second run loads nothing and keeps them
    resp = client.post("/login/", {"username": "coso.khanhson", "password": "TramHuong-DaBan-25"})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    r = cli("demo", "--no-serve")
    assert r.code == 0 and "TramHuong-DaBan-25" in r.out
    assert Plan.objects.count() == 1 and "kế hoạch" not in r.out
    r = cli("kpi", "--as-of", D, "--format", "json")
    assert json.loads(r.out)["indicators"][0]["participants"] == 269_801
