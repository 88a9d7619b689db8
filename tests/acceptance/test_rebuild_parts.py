"""`ansinh kpi --rebuild` in parts (issue 22 item 3): the installed command, on a scratch
database of the suite's engine, builds the snapshot as several statements side by side, each
over a part of the persons (processes of their own on SQLite, threads on PostgreSQL, reading
the command's snapshot there), and stores exactly the rows one statement over every person
stores: on a messy generated province (shuffled rows, overlapping renewals and moves, same-day
ties) with counts of units without spells."""

from __future__ import annotations

import json

from tests.acceptance.conftest import Site

SNAPSHOT = (
    'SELECT as_of, unit_id, scheme, "group", participants, new, lapsed, renewed, in_total, '
    'from_counts FROM monitoring_kpisnapshot ORDER BY as_of, unit_id, scheme, "group"'
)
PARTS = (
    "SELECT after FROM core_auditevent WHERE action = 'snapshot.rebuild' ORDER BY id DESC LIMIT 1"
)


def _rebuild(site: Site, parts: int) -> tuple[list[tuple], int]:
    r = site.run("kpi", "--rebuild", "--format", "json", ANSINH_REBUILD_PARTS=str(parts))
    assert r.code == 0, r.err
    after = site.query(PARTS)[0][0]
    after = json.loads(after) if isinstance(after, str) else after
    assert after["parts"] == parts
    rows = site.query(SNAPSHOT)
    assert json.loads(r.out) == {"rebuilt": True, "rows": len(rows)}
    return rows, len(rows)


def test_rebuild_in_parts_stores_the_rows_of_one_statement(site: Site) -> None:
    data = site.home / "data"
    assert site.run("init").code == 0
    r = site.run("generate", "--out", str(data), "--scale", "0.002", "--seed", "5", "--messy")
    assert r.code == 0, r.err
    for kind in ("units", "counts", "participations"):
        r = site.run("import", kind, str(data / f"{kind}.csv"))
        assert r.code == 0, r.err
    # the import built the snapshot as one statement, in its own transaction
    imported = site.query(SNAPSHOT)
    assert len(imported) > 1000
    assert any(row[-1] for row in imported)  # rows of counts are in
    assert any(row[6] for row in imported) and any(row[7] for row in imported)  # lapsed, renewed
    parted, _n = _rebuild(site, 3)
    assert parted == imported
