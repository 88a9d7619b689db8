"""Daily worklists through the doors offices use: an import of participations (or of
contributions/employers) brings the lists up to date in the same job, `ansinh worklists sync`
does it for cron, and the page says as of which data date the lists stand."""

from __future__ import annotations

import pathlib

import pytest

from ansinh.arrears.models import FollowUp, WorklistBuild

from .factories import d, make_user

UNITS = (
    "code,name,level,parent_code\n"
    "KH,Khánh Hòa,province,\n"
    "O1,BHXH cơ sở Nha Trang,office,KH\n"
    "C1,Phường Nha Trang,commune,O1\n"
    "C2,Phường Bắc Nha Trang,commune,O1\n"
)
HEAD = "person_id,unit_code,scheme,group,start_date,end_date,full_name,phone\n"
# data date 30 Sep 2025 (the latest start: B's)
FIRST = HEAD + (
    "P1,C1,hi,household,2024-10-15,2025-10-14,Nguyễn Văn Một,0901000001\n"  # expiring
    "P2,C1,hi,household,2024-11-20,2025-11-19,Trần Thị Hai,0901000002\n"  # 50 days left: not yet
    "P3,C2,hi,household,2024-10-10,2025-10-09,Lê Văn Ba,0901000003\n"  # expiring, then DNC
    "B,C2,hi,household,2025-09-30,2026-09-29,Phạm Văn Bốn,0901000004\n"
)
# data date 25 Oct 2025 (P6's start): P2 has 25 days left, P1 and P3 have lapsed
SECOND = HEAD + "P6,C1,hi,freelancer,2025-10-25,2026-10-24,Võ Thị Sáu,0901000006\n"


def write(tmp_path: pathlib.Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def entries() -> set[tuple[str, str, str, str]]:
    return {
        (f.kind, f.person_id or f.household_id or f.employer_id or "", f.status, f.closed_reason)
        for f in FollowUp.objects.all()
    }


@pytest.fixture
def loaded(cli, tmp_path):
    assert cli("import", "units", write(tmp_path, "units.csv", UNITS)).code == 0
    res = cli("import", "participations", write(tmp_path, "p1.csv", FIRST))
    assert res.code == 0, res.err
    return tmp_path


def test_import_builds_the_lists_in_the_same_job(loaded, cli, client) -> None:
    from ansinh.arrears.services import followup_record_outcome

    # the import alone put the person due for renewal on the list, on its data date
    assert entries() == {("hi_expiring", "P1", "open", ""), ("hi_expiring", "P3", "open", "")}
    assert FollowUp.objects.get(person_id="P1").listed_on == d("2025-09-30")
    builds = {b.kind: (b.as_of, b.source) for b in WorklistBuild.objects.all()}
    assert builds == {
        k: (d("2025-09-30"), "import:participations")
        for k in ("hi_expiring", "lapsed", "household")
    }
    # P3 asks never to be contacted again
    admin = make_user("adm", "admin")
    followup_record_outcome(
        actor=admin,
        followup=FollowUp.objects.get(person_id="P3"),
        outcome="do_not_contact",
        on=d("2025-10-01"),
    )

    second = write(loaded, "p2.csv", SECOND)
    res = cli("import", "participations", second)
    assert res.code == 0, res.err
    assert res.out.strip() == "participations: đọc 1 dòng, tạo mới 1, cập nhật 0, không đổi 0"
    # P2 newly expiring appears; P1's card ended, so P1 moved to the lapsed list; P3 (do not
    # contact) is on no list although their card lapsed too
    assert entries() == {
        ("hi_expiring", "P1", "closed", "lapsed"),
        ("lapsed", "P1", "open", ""),
        ("hi_expiring", "P2", "open", ""),
        ("hi_expiring", "P3", "closed", "do_not_contact"),
    }
    assert FollowUp.objects.get(person_id="P2").reference_date == d("2025-11-19")
    assert WorklistBuild.objects.get(kind="lapsed").as_of == d("2025-10-25")

    # re-importing the same file changes nothing, on the lists either
    before = sorted(FollowUp.objects.values_list("pk", "kind", "status", "closed_reason"))
    built = sorted(WorklistBuild.objects.values_list("kind", "as_of", "built_at"))
    again = cli("import", "participations", second)
    assert again.code == 0 and "tạo mới 0, cập nhật 0" in again.out
    assert sorted(FollowUp.objects.values_list("pk", "kind", "status", "closed_reason")) == before
    assert sorted(WorklistBuild.objects.values_list("kind", "as_of", "built_at")) == built

    # the page says as of which data date the lists stand; the employer list was never built
    client.force_login(admin)
    page = client.get("/worklists/").content.decode()
    assert "Dữ liệu đã nhập đến ngày 25/10/2025: có danh sách chưa cập nhật." in page
    assert "chưa lập" in page

    # the daily refresh for cron: idempotent, builds every list on the data date
    out = cli("worklists", "sync")
    assert out.code == 0, out.err
    assert out.out == (
        "worklists 2025-10-25: 0 sắp hết hạn, 0 ngừng tham gia, 0 hộ gia đình, "
        "0 đơn vị chậm đóng mới; 0 mục đã đóng\n"
    )
    assert sorted(FollowUp.objects.values_list("pk", "kind", "status", "closed_reason")) == before
    page = client.get("/worklists/").content.decode()
    assert "Danh sách lập theo dữ liệu đến ngày 25/10/2025" in page
    assert "chưa cập nhật" not in page and "chưa lập" not in page


def test_worklists_sync_command(loaded, cli) -> None:
    # a later date: P1's and P3's cards have ended, they move to the lapsed list; P2 has 30
    # days of cover left (day 30 is in)
    out = cli("worklists", "sync", "--as-of", "2025-10-20")
    assert out.code == 0, out.err
    assert out.out.startswith("worklists 2025-10-20: 1 sắp hết hạn, 2 ngừng tham gia,")
    assert out.out.strip().endswith("2 mục đã đóng")
    again = cli("worklists", "sync", "--as-of", "2025-10-20")
    assert "0 sắp hết hạn, 0 ngừng tham gia, 0 hộ gia đình" in again.out
    # the lists say the data date of their latest build
    cli("worklists", "sync", "--as-of", "2025-09-01")
    assert WorklistBuild.objects.get(kind="lapsed").as_of == d("2025-09-01")
    # wrong usage: 2; refused (nothing written): 1 — one line on stderr, no traceback
    n = FollowUp.objects.count()
    bad = cli("worklists", "sync", "--as-of", "2025-13-01")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "--as-of" in bad.err
    future = cli("worklists", "sync", "--as-of", "2999-01-01")
    assert future.code == 1 and future.err.count("\n") == 1 and future.out == ""
    assert FollowUp.objects.count() == n
    assert cli("worklists").code == 2


def test_contributions_import_builds_the_employer_list(loaded, cli) -> None:
    employers = write(loaded, "e.csv", "code,name,unit_code\nE1,Công ty A,C1\nE2,Công ty B,C2\n")
    assert cli("import", "employers", employers).code == 0
    assert WorklistBuild.objects.get(kind="employer_overdue").source == "import:employers"
    contributions = write(
        loaded,
        "c.csv",
        "employer_code,period,amount_due,amount_paid,paid_on\n"
        "E1,2025-08,1000000,,\n"  # due 30 Sep, the data date: not overdue yet
        "E2,2025-07,2000000,,\n",  # due 31 Aug: overdue
    )
    res = cli("import", "contributions", contributions)
    assert res.code == 0, res.err
    assert {e for e in entries() if e[0] == "employer_overdue"} == {
        ("employer_overdue", "E2", "open", "")
    }
    assert cli("import", "contributions", contributions).code == 0
    assert FollowUp.objects.filter(kind="employer_overdue").count() == 1


def rows() -> list[tuple]:
    return sorted(
        FollowUp.objects.values_list(
            "pk", "kind", "person_id", "household_id", "scheme", "reference_date", "status",
            "closed_reason", "closed_at", "listed_on", "unit_id",
        )
    )  # fmt: skip


def test_import_on_the_same_data_date_syncs_only_what_it_wrote(loaded, cli) -> None:
    """Issue 22: an import that keeps the data date of the lists' last build syncs the persons
    and households it wrote only — the same entries as a whole build, given back by its undo;
    after an outcome (or another import) the next one builds them whole."""
    from ansinh.accounts.access import SYSTEM
    from ansinh.arrears.services import followup_record_outcome, followup_sync
    from ansinh.core.models import AuditEvent, ImportBatch

    before = rows()
    # data date still 30 Sep (B's start): P1 renewed by an overlapping spell, P2's card now
    # ends within 30 days, H9 gets a member without HI beside a covered one, P3 moves to H9
    fix = (
        HEAD.strip()
        + ",household_id\n"
        + (
            "P1,C1,hi,household,2025-09-01,2026-08-31,Nguyễn Văn Một,0901000001,\n"
            "P2,C1,hi,household,2024-11-20,2025-10-20,Trần Thị Hai,0901000002,\n"
            "P7,C2,si_compulsory,household,2025-01-01,,Bảy,0901000007,H9\n"
            "P8,C2,hi,household,2025-01-01,,Tám,0901000008,H9\n"
            "P3,C2,hi,household,2024-10-10,2025-10-09,Lê Văn Ba,0901000003,H9\n"
        )
    )
    assert cli("import", "participations", write(loaded, "fix.csv", fix)).code == 0
    sync = AuditEvent.objects.filter(action="followup.sync").order_by("id").last()
    assert sync.after.get("scope") == "import"
    assert entries() == {
        ("hi_expiring", "P1", "closed", "converted"),
        ("hi_expiring", "P2", "open", ""),
        ("hi_expiring", "P3", "open", ""),
        ("household", "H9", "open", ""),
    }
    # a whole build on the same date finds nothing more to do
    after = rows()
    whole = followup_sync(as_of=d("2025-09-30"), actor=SYSTEM)
    assert sum(whole[k] for k in ("hi_expiring", "lapsed", "household", "closed")) == 0
    assert rows() == after
    # the undo gives the lists back
    batch = ImportBatch.objects.filter(kind="participations").order_by("id").last()
    assert cli("import", "undo", str(batch.pk)).code == 0
    assert rows() == before
    # an outcome since the last build: the next import builds the lists whole
    p3 = FollowUp.objects.get(person_id="P3")
    followup_record_outcome(actor=SYSTEM, followup=p3, outcome="refused", on=d("2025-09-30"))
    assert cli("import", "participations", write(loaded, "fix2.csv", fix)).code == 0
    sync = AuditEvent.objects.filter(action="followup.sync").order_by("id").last()
    assert "scope" not in sync.after
