"""The import page in the user's words (issue 16 items 4–6) through the HTTP client: kinds,
statuses and code values by their names, refused uploads in the history with their errors
file, the preview asking for confirmation above a 10 % change, undo from the batch's page,
templates to download."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent, ImportBatch, Job
from ansinh.registry.models import Count, Spell

HEAD = "person_id,unit_code,scheme,group,start_date\n"


def _user(name, role, unit=None):
    return User.objects.create_user(username=name, password="x-pass-12345", role=role, unit_id=unit)


def _upload(client, kind, name, content):
    return client.post(
        "/imports/",
        {"kind": kind, "file": SimpleUploadedFile(name, content.encode("utf-8"), "text/csv")},
    )


@pytest.fixture
def admin(client, units, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    user = _user("adm", "admin")
    client.force_login(user)
    return user


def _people(n, start=0, unit="C1"):
    return "".join(f"P{i},{unit},hi,household,2025-01-01\n" for i in range(start, start + n))


@pytest.mark.django_db
def test_refused_upload_in_history_with_errors_file(client, admin):
    res = _upload(
        client,
        "activities",
        "a.csv",
        "code,unit_code,channel,date,lead_org\nA1,C1,booth,2025-01-01,nasa\n",
    )
    job = Job.objects.get(kind="import")
    assert job.status == "refused"
    body = client.get(res["Location"]).content.decode()
    # the valid values by their names, never as codes
    assert "Hội Liên hiệp Phụ nữ" in body and "womens_union" not in body
    assert "Bị từ chối" in body
    batch = ImportBatch.objects.exclude(kind="units").get()
    assert (batch.state, batch.errors, batch.job_id) == ("refused", 1, job.pk)
    listing = client.get("/imports/").content.decode()
    assert (
        "a.csv" in listing
        and "Bị từ chối" in listing
        and f"/imports/{job.pk}/errors.csv" in listing
    )
    assert client.get(f"/imports/{job.pk}/errors.csv").status_code == 200
    page = client.get(f"/imports/batches/{batch.pk}/").content.decode()
    assert "Bị từ chối" in page and "Hoàn tác lần nhập này" not in page


@pytest.mark.django_db
def test_utf16_upload_named_as_what_it_is(client, admin):
    text = "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,5\n"
    res = client.post(
        "/imports/",
        {"kind": "counts", "file": SimpleUploadedFile("c.csv", text.encode("utf-16"), "text/csv")},
    )
    body = client.get(res["Location"]).content.decode()
    assert "UTF-16" in body and "CSV UTF-8" in body and "nhị phân" not in body


@pytest.mark.django_db
def test_big_change_asks_for_confirmation_then_imports(client, admin):
    res = _upload(client, "participations", "a.csv", HEAD + _people(40))
    assert Spell.objects.count() == 40  # nothing before: no comparison to make
    # 40 → 45 is 12.5 %: held back, nothing written
    res = _upload(client, "participations", "b.csv", HEAD + _people(5, start=40, unit="C2"))
    job = Job.objects.order_by("-id").first()
    assert job.result["needs_confirmation"] is True and job.result["dry_run"] is True
    assert job.result["preview"]["schemes"]["hi"] == {"before": 40, "after": 45}
    assert Spell.objects.count() == 40
    body = client.get(res["Location"]).content.decode()
    assert "Chờ xác nhận" in body and "Xác nhận và nhập" in body and "+12,5" in body
    # without the box ticked: nothing
    client.post(f"/imports/{job.pk}/confirm/", {})
    assert Spell.objects.count() == 40
    res = client.post(f"/imports/{job.pk}/confirm/", {"confirm": "yes"})
    assert res.status_code == 302
    assert Spell.objects.count() == 45
    assert AuditEvent.objects.filter(action="import.confirm").count() == 1
    # the kept file was used once
    assert client.post(f"/imports/{job.pk}/confirm/", {"confirm": "yes"}).status_code == 404
    # 45 → 46 is 2 %: imported at once, the preview shown with it
    res = _upload(client, "participations", "c.csv", HEAD + _people(1, start=45))
    assert Spell.objects.count() == 46
    body = client.get(res["Location"]).content.decode()
    assert "Bảo hiểm y tế" in body and "đã nhập" in body


@pytest.mark.django_db
def test_undo_from_the_batch_page(client, admin):
    head = "as_of,unit_code,scheme,participants\n"
    _upload(client, "counts", "1.csv", head + "2025-06-30,C1,hi,100\n")
    _upload(client, "counts", "2.csv", head + "2025-06-30,C1,hi,95\n")
    first, second = ImportBatch.objects.exclude(kind="units").order_by("id")
    page = client.get(f"/imports/batches/{first.pk}/").content.decode()
    assert "Hoàn tác lần nhập này" not in page and f"số {second.pk}" in page
    res = client.post(f"/imports/batches/{first.pk}/undo/")
    assert res.status_code == 409 and "hoàn tác lần đó trước" in res.content.decode()
    assert Count.objects.get().participants == 95
    res = client.post(f"/imports/batches/{second.pk}/undo/")
    assert res.status_code == 302
    assert Count.objects.get().participants == 100
    page = client.get(res["Location"]).content.decode()
    assert "Đã hoàn tác" in page
    listing = client.get("/imports/").content.decode()
    assert "Đã hoàn tác" in listing


@pytest.mark.django_db
def test_undo_scoped_to_who_may_import(client, units, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    office = _user("off1", "office", "O1")
    client.force_login(office)
    _upload(client, "counts", "1.csv", "as_of,unit_code,scheme,participants\n2025-06-30,C1,hi,7\n")
    batch = ImportBatch.objects.exclude(kind="units").get()
    client.force_login(_user("off2", "office", "O2"))
    assert client.get(f"/imports/batches/{batch.pk}/").status_code == 404
    assert client.post(f"/imports/batches/{batch.pk}/undo/").status_code == 404
    client.force_login(_user("v", "viewer", "KH"))
    assert client.post(f"/imports/batches/{batch.pk}/undo/").status_code == 404
    assert Count.objects.count() == 1
    client.force_login(office)
    assert client.post(f"/imports/batches/{batch.pk}/undo/").status_code == 302
    assert Count.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_template_download(client, admin, lang):
    res = client.get(f"/imports/template/activities.xlsx?lang={lang}")
    assert res.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(res.content))
    data, notes = wb.worksheets[0], wb.worksheets[1]
    header = [c.value for c in data[1]]
    if lang == "vi":
        assert header[:5] == [
            "Mã hoạt động",
            "Mã đơn vị",
            "Hình thức",
            "Ngày tổ chức",
            "Đơn vị chủ trì",
        ]
        assert data["E2"].value == "Hội Liên hiệp Phụ nữ"
    else:
        assert header[:5] == ["code", "unit_code", "channel", "date", "lead_org"]
        assert data["E2"].value == "Women's Union"
    lists = {str(dv.sqref): dv.formula1 for dv in data.data_validations.dataValidation}
    assert any(sq.startswith("E2") for sq in lists), lists
    assert notes.max_row >= 4 + len(header)
    assert client.get("/imports/template/nope.xlsx").status_code == 404


@pytest.mark.django_db
def test_the_template_imports_back(cli, client, admin, tmp_path):
    """The template's own example row, codes by their names, goes through the importer."""
    res = client.get("/imports/template/counts.xlsx?lang=vi")
    wb = openpyxl.load_workbook(io.BytesIO(res.content))
    ws = wb.worksheets[0]
    ws["B2"] = "C1"
    path = tmp_path / "t.xlsx"
    wb.save(path)
    out = cli("import", "counts", str(path))
    assert out.code == 0, out.err
    c = Count.objects.get()
    assert (c.unit_id, c.scheme, c.participants, str(c.as_of)) == (
        "C1",
        "si_voluntary",
        1234,
        "2025-09-30",
    )


@pytest.mark.django_db
def test_cli_template(cli, units, tmp_path):
    out = tmp_path / "p.xlsx"
    res = cli("import", "template", "participations", "--lang", "vi", "-o", str(out))
    assert res.code == 0, res.err
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb.worksheets[0][1]][:3] == [
        "Mã số BHXH",
        "Mã đơn vị",
        "Loại hình bảo hiểm",
    ]
    assert cli("import", "template", "nope", "-o", str(out)).code == 2
    assert cli("import", "template", "counts").code == 2
    rows = json.loads(cli("import", "list", "--format", "json").out)
    assert [r["kind"] for r in rows] == ["units"]


@pytest.mark.django_db
def test_english_under_the_switch(client, admin):
    client.cookies["django_language"] = "en"
    body = client.get("/imports/").content.decode()
    assert "Participants (person by person)" in body and "more than 10 %," in body
    assert "Người tham gia (từng người)" not in body
    res = _upload(
        client,
        "activities",
        "a.csv",
        "code,unit_code,channel,date,lead_org\nA1,C1,booth,2025-01-01,nasa\n",
    )
    body = client.get(res["Location"]).content.decode()
    assert "Women&#x27;s Union" in body or "Women's Union" in body
    assert "Refused" in body
