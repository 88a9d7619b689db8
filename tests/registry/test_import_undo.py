"""Preview, list and undo of imports (SPEC section 10) through the command line: after
``import undo`` every figure, the snapshot and the worklists equal what they were before the
batch — compared figure by figure on randomised imports; an undo that cannot be done changes
nothing and says why."""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection

from ansinh.arrears.models import Contribution, Employer, FollowUp
from ansinh.core.models import AuditEvent, ImportBatch
from ansinh.geography.models import Population, Unit
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.outreach.models import Activity
from ansinh.registry.models import Count, Person, Spell
from ansinh.targets.models import Target

UNITS = ("KH", "O1", "O2", "C1", "C2", "C3")
DATES = ("2024-12-31", "2025-02-28", "2025-03-15", "2025-06-30", "2025-09-30", "2025-12-31")
SCHEMES = ("si_compulsory", "si_voluntary", "ui", "hi")
GROUPS = ("employee", "freelancer", "household", "student", "farmer")
P_HEAD = "person_id,unit_code,scheme,group,start_date,end_date,full_name,phone\n"


def _kpis(cli) -> dict:
    out = {}
    for unit in UNITS:
        for day in DATES:
            res = cli("kpi", "--as-of", day, "--unit", unit, "--format", "json")
            assert res.code == 0, res.err
            out[(unit, day)] = json.loads(res.out)
        res = cli("kpi", "--as-of", DATES[-2], "--unit", unit, "--by", "group", "--format", "json")
        out[(unit, "group")] = json.loads(res.out)
    return out


def _rows(model, *fields) -> list:
    return sorted(map(repr, model.objects.values_list(*fields)))


def _state(cli) -> dict:
    """Every figure and every stored fact an import or its undo may touch."""
    return {
        "kpi": _kpis(cli),
        "snapshot": _rows(
            KpiSnapshot, "as_of", "unit_id", "scheme", "group", "participants", "in_total"
        ),
        "months": _rows(SnapshotState, "as_of"),
        "spells": _rows(
            Spell,
            "id",
            "person_id",
            "scheme",
            "group",
            "unit_id",
            "start_date",
            "end_date",
            "employer_code",
            "batch_id",
            "row_no",
        ),
        "persons": _rows(Person, "person_id", "full_name", "phone", "birth_date", "household_id"),
        "counts": _rows(Count, "as_of", "unit_id", "scheme", "group", "participants", "batch_id"),
        "targets": _rows(Target, "year", "unit_id", "indicator", "target"),
        "population": _rows(Population, "year", "unit_id", "group", "population"),
        "activities": _rows(Activity, "code", "unit_id", "date", "cost", "reach", "batch_id"),
        "employers": _rows(Employer, "code", "name", "unit_id", "batch_id"),
        "contributions": _rows(
            Contribution, "employer_id", "period", "amount_due", "amount_paid", "paid_on"
        ),
        "followups": _rows(
            FollowUp, "id", "kind", "person_id", "scheme", "employer_id", "status", "closed_reason"
        ),
        "units": _rows(Unit, "code", "name", "level", "parent_id", "path"),
    }


def _spell(rng: random.Random) -> tuple[str, str, str, str, str]:
    start = f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"
    end = rng.choice(["", "", f"2025-{rng.randint(10, 12):02d}-{rng.randint(1, 28):02d}"])
    return rng.choice(("C1", "C2", "C3")), rng.choice(SCHEMES), rng.choice(GROUPS), start, end


def _files(seed: int) -> tuple[str, str]:
    """A first file, and a second one mixing changed rows of the first, new spells of known
    persons, new persons and rows left as they were."""
    rng = random.Random(seed)
    a: list[tuple] = []
    for i in range(60):
        unit, scheme, group, start, end = _spell(rng)
        a.append((f"P{i}", unit, scheme, group, start, end, f"Người {i}", f"09{i:08d}"))
    b: list[tuple] = []
    for row in rng.sample(a, 25):
        pid, unit, scheme, group, start, end, name, phone = row
        change = rng.choice(("end", "group", "same", "name"))
        if change == "end":
            end = f"2025-{rng.randint(10, 12):02d}-{rng.randint(1, 28):02d}"
        elif change == "group":
            group = rng.choice([g for g in GROUPS if g != group])
        elif change == "name":
            name = name + " B"
        b.append((pid, unit, scheme, group, start, end, name, phone))
    for _i in range(10):  # a known person's new spell: a move, another scheme
        pid = f"P{rng.randrange(60)}"
        unit, scheme, group, start, end = _spell(rng)
        start = f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"
        if not any(r[0] == pid and r[2] == scheme and r[4] == start for r in (*a, *b)):
            b.append((pid, unit, scheme, group, start, end, "", ""))
    for i in range(60, 75):
        unit, scheme, group, start, end = _spell(rng)
        b.append((f"P{i}", unit, scheme, group, start, end, f"Người {i}", ""))

    def text(rows: list[tuple]) -> str:
        return P_HEAD + "".join(",".join(r) + "\n" for r in rows)

    return text(a), text(b)


def _batch_id(out: str) -> int:
    return ImportBatch.objects.order_by("-id").first().pk


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_undo_gives_back_every_figure(cli, write, units, seed):
    a, b = _files(seed)
    counts = (
        "as_of,unit_code,scheme,participants\n"
        "2025-03-31,C3,si_compulsory,40\n2025-06-30,C3,si_compulsory,45\n2025-06-30,C2,ui,12\n"
    )
    assert cli("import", "counts", str(write("c.csv", counts))).code == 0
    assert cli("import", "participations", str(write("a.csv", a))).code == 0
    before = _state(cli)
    audits = AuditEvent.objects.count()
    res = cli("import", "participations", str(write("b.csv", b)))
    assert res.code == 0, res.err
    batch = ImportBatch.objects.order_by("-id").first()
    assert batch.created > 0 and batch.updated > 0
    changed = _state(cli)
    assert changed != before
    if seed in (1, 2):  # these files change the worklists too
        assert changed["followups"] != before["followups"]
    res = cli("import", "undo", str(batch.pk))
    assert res.code == 0, res.err
    assert f"lần nhập số {batch.pk}" in res.out
    after = _state(cli)
    for key in before:
        assert after[key] == before[key], key
    batch.refresh_from_db()
    assert batch.state == "undone" and batch.undone_at is not None
    assert AuditEvent.objects.filter(action="import.undo.participations").count() == 1
    assert AuditEvent.objects.count() > audits
    # the undo tables are gone with it
    assert not [
        t
        for t in connection.introspection.table_names()
        if t.startswith(f"ansinh_undo_{batch.pk}_")
    ]
    # listed as undone; a second undo is refused and changes nothing
    listed = json.loads(cli("import", "list", "--format", "json").out)
    assert listed[0]["id"] == batch.pk and listed[0]["state"] == "undone"
    res = cli("import", "undo", str(batch.pk))
    assert res.code == 1 and "đã được hoàn tác" in res.err
    assert _state(cli) == after


@pytest.mark.django_db
def test_undo_of_a_first_load_gives_back_the_empty_registry(cli, write, units):
    # a first load creates every row (its undo keys come straight from the staging table)
    a, _b = _files(1)
    before = _state(cli)
    assert cli("import", "participations", str(write("a.csv", a))).code == 0
    batch = ImportBatch.objects.order_by("-id").first()
    assert batch.created > 0 and batch.updated == 0 and batch.unchanged == 0
    assert _state(cli) != before
    res = cli("import", "undo", str(batch.pk))
    assert res.code == 0, res.err
    after = _state(cli)
    for key in before:
        assert after[key] == before[key], key
    # and the same file loads again as new
    assert cli("import", "participations", str(write("a.csv", a))).code == 0
    assert ImportBatch.objects.order_by("-id").first().created == batch.created


@pytest.mark.django_db
def test_undo_of_counts_targets_and_activities(cli, write, units):
    first = {
        "counts": "as_of,unit_code,scheme,participants\n2025-06-30,C1,hi,100\n2025-06-30,C2,hi,50\n",
        "targets": "year,unit_code,indicator,target\n2025,C1,hi,120\n2025,KH,hi_coverage,95\n",
        "population": "year,unit_code,population\n2025,C1,200\n2025,C2,100\n",
        "activities": "code,unit_code,channel,date,lead_org,cost\nA1,C1,booth,2025-05-01,si_office,1000\n",
    }
    second = {
        "counts": "as_of,unit_code,scheme,participants\n2025-06-30,C1,hi,10\n2025-09-30,C2,hi,55\n",
        "targets": "year,unit_code,indicator,target\n2025,C1,hi,130\n2025,C2,hi,60\n",
        "population": "year,unit_code,population\n2025,C1,210\n2025,C3,80\n",
        "activities": "code,unit_code,channel,date,lead_org,cost\nA1,C1,booth,2025-05-01,si_office,2.000\nA2,C2,booth,2025-06-01,si_office,5\n",
    }
    for kind, text in first.items():
        assert cli("import", kind, str(write(f"{kind}1.csv", text))).code == 0
    before = _state(cli)
    ids = []
    for kind, text in second.items():
        assert cli("import", kind, str(write(f"{kind}2.csv", text))).code == 0
        ids.append(ImportBatch.objects.order_by("-id").first().pk)
    assert _state(cli) != before
    for batch_id in reversed(ids):
        res = cli("import", "undo", str(batch_id))
        assert res.code == 0, res.err
    after = _state(cli)
    for key in before:
        assert after[key] == before[key], key


@pytest.mark.django_db
def test_undo_refused_while_a_later_batch_changed_the_same_rows(cli, write, units):
    head = "as_of,unit_code,scheme,participants\n"
    assert cli("import", "counts", str(write("1.csv", head + "2025-06-30,C1,hi,100\n"))).code == 0
    first = ImportBatch.objects.order_by("-id").first().pk
    assert cli("import", "counts", str(write("2.csv", head + "2025-06-30,C1,hi,90\n"))).code == 0
    second = ImportBatch.objects.order_by("-id").first().pk
    state = _state(cli)
    res = cli("import", "undo", str(first))
    assert res.code == 1
    assert f"số {second}" in res.err and "hoàn tác lần đó trước" in res.err
    assert _state(cli) == state
    assert ImportBatch.objects.get(pk=first).state == "done"
    # in order it works: 90 back to 100, then nothing
    assert cli("import", "undo", str(second)).code == 0
    assert Count.objects.get().participants == 100
    assert cli("import", "undo", str(first)).code == 0
    assert not Count.objects.exists()


@pytest.mark.django_db
def test_undo_of_what_does_not_exist_or_wrong_usage(cli, units):
    res = cli("import", "undo", "999")
    assert res.code == 1 and "Không có lần nhập số 999" in res.err
    assert cli("import", "undo").code == 2
    assert cli("import", "undo", "abc").code == 2


@pytest.mark.django_db
def test_undo_of_units_refused_while_facts_use_them(cli, write, units):
    res = cli(
        "import",
        "units",
        str(write("u.csv", "code,name,level,parent_code\nC9,Xã Chín,commune,O1\n")),
    )
    assert res.code == 0
    batch = ImportBatch.objects.order_by("-id").first().pk
    path = write("c.csv", "as_of,unit_code,scheme,participants\n2025-06-30,C9,hi,5\n")
    assert cli("import", "counts", str(path)).code == 0
    res = cli("import", "undo", str(batch))
    assert res.code == 1 and "còn dùng" in res.err
    assert Unit.objects.filter(code="C9").exists()
    assert cli("import", "undo", str(batch + 1)).code == 0
    assert cli("import", "undo", str(batch)).code == 0
    assert not Unit.objects.filter(code="C9").exists()


@pytest.mark.django_db
def test_preview_prints_the_change_and_writes_nothing(cli, write, units):
    a, b = _files(7)
    assert cli("import", "participations", str(write("a.csv", a))).code == 0
    state = _state(cli)
    batches = ImportBatch.objects.count()
    res = cli("import", "participations", str(write("b.csv", b)), "--preview", "--format", "json")
    assert res.code == 0, res.err
    preview = json.loads(res.out)
    assert set(preview) == {"kind", "rows", "as_of", "unit", "schemes"}
    assert preview["kind"] == "participations" and preview["unit"] == "KH"
    assert set(preview["schemes"]) == set(SCHEMES)
    assert all(set(v) == {"before", "after"} for v in preview["schemes"].values())
    assert _state(cli) == state and ImportBatch.objects.count() == batches
    # the figures it announced are those the import then makes
    as_of = preview["as_of"]
    kpi = json.loads(cli("kpi", "--as-of", as_of, "--format", "json").out)
    got = {i["code"]: i["participants"] for i in kpi["indicators"] if i["code"] in SCHEMES}
    assert got == {k: v["before"] for k, v in preview["schemes"].items()}
    assert cli("import", "participations", str(write("b.csv", b))).code == 0
    kpi = json.loads(cli("kpi", "--as-of", as_of, "--format", "json").out)
    got = {i["code"]: i["participants"] for i in kpi["indicators"] if i["code"] in SCHEMES}
    assert got == {k: v["after"] for k, v in preview["schemes"].items()}
    # the text form
    res = cli("import", "participations", str(write("b.csv", b)), "--preview")
    assert res.code == 0 and "hi: " in res.out and " → " in res.out


@pytest.mark.django_db
def test_preview_of_a_refused_file_is_the_refusal(cli, write, units):
    res = cli(
        "import",
        "counts",
        str(write("c.csv", "as_of,unit_code,scheme,participants\nx,C1,hi,1\n")),
        "--preview",
    )
    assert res.code == 1 and res.out == "counts: bị từ chối, 1 lỗi\n"
    assert ImportBatch.objects.count() == 1


@pytest.mark.django_db
def test_list_json_keys(cli, write, units):
    rows = json.loads(cli("import", "list", "--format", "json").out)
    assert len(rows) == 1
    assert set(rows[0]) == {"id", "kind", "file", "rows", "user", "at", "state"}
    assert rows[0]["kind"] == "units" and rows[0]["state"] == "done"
    assert rows[0]["at"].endswith("+07:00")
    table = cli("import", "list")
    assert table.code == 0 and "Đơn vị hành chính" in table.out and "Đã nhập" in table.out


@pytest.mark.django_db
def test_preview_of_counts_asks_nothing_and_writes_nothing(cli, write, units):
    head = "as_of,unit_code,scheme,participants\n"
    assert cli("import", "counts", str(write("1.csv", head + "2025-06-30,C1,hi,100\n"))).code == 0
    state = _state(cli)
    res = cli(
        "import",
        "counts",
        str(write("2.csv", head + "2025-06-30,C1,hi,3\n")),
        "--preview",
        "--format",
        "json",
    )
    assert res.code == 0, res.err
    preview = json.loads(res.out)
    assert preview["schemes"]["hi"] == {"before": 100, "after": 3}
    assert preview["as_of"] == "2025-06-30"
    assert _state(cli) == state
    # in words, with the warning of a change above 10 %
    res = cli("import", "counts", str(write("2.csv", head + "2025-06-30,C1,hi,3\n")), "--preview")
    assert "hi: 100 → 3 (−97)" in res.out and "10 %" in res.err
