"""`ansinh backup -o FILE` / `ansinh restore FILE`: a restored database gives the same figures;
a file that is not a backup is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.api.factories import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def kpi(cli, *extra: str) -> dict:
    out = cli("kpi", "--as-of", "2025-06-30", "--format", "json", *extra)
    assert out.code == 0, out.err
    return json.loads(out.out)


def hi(obj: dict) -> int:
    return next(i["participants"] for i in obj["indicators"] if i["code"] == "hi")


def test_backup_restore_gives_same_figures(cli, tmp_path):
    from ansinh.accounts.models import User
    from ansinh.registry.models import Person, Spell

    build_world()
    assert cli("kpi", "--rebuild").code == 0
    before = kpi(cli)
    before_o1 = kpi(cli, "--unit", "O1", "--by", "unit")
    assert hi(before) == 2

    out = cli("backup", "-o", str(tmp_path / "ansinh.backup"))
    assert out.code == 0, out.err
    assert (tmp_path / "ansinh.backup").stat().st_size > 0
    assert not (tmp_path / "ansinh.backup.part").exists()

    # change the data after the backup
    Spell.objects.filter(person_id="P1").delete()
    p = Person.objects.create(person_id="P9")
    for i in range(3):
        Spell.objects.create(
            person=Person.objects.create(person_id=f"Q{i}"),
            scheme="hi",
            group="household",
            unit_id="C2",
            start_date=dt.date(2025, 1, 1),
        )
    Spell.objects.create(
        person=p, scheme="hi", group="household", unit_id="C3", start_date=dt.date(2025, 1, 1)
    )
    User.objects.filter(username="viewer").delete()
    assert cli("kpi", "--rebuild").code == 0
    assert hi(kpi(cli)) == 5

    out = cli("restore", str(tmp_path / "ansinh.backup"))
    assert out.code == 0, out.err
    assert kpi(cli) == before
    assert kpi(cli, "--unit", "O1", "--by", "unit") == before_o1
    assert User.objects.filter(username="viewer").exists()
    assert not Person.objects.filter(person_id="P9").exists()
    assert Spell.objects.filter(person_id="P1").count() == 2


def test_restore_refuses_what_is_not_a_backup(cli, tmp_path):
    from ansinh.registry.models import Spell

    build_world()
    n = Spell.objects.count()
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"PK\x03\x04 not a database at all" * 100)
    out = cli("restore", str(junk))
    assert out.code == 1
    assert len(out.err.strip().splitlines()) == 1 and "junk.bin" in out.err
    assert "Traceback" not in out.err
    out = cli("restore", str(tmp_path / "missing.backup"))
    assert out.code == 1 and len(out.err.strip().splitlines()) == 1
    assert Spell.objects.count() == n


def test_backup_usage(cli):
    assert cli("backup").code == 2
    assert cli("restore").code == 2
