"""The import page through the HTTP client: upload, job (inline in tests), summary, errors,
errors CSV, scoping by role and unit."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ansinh.accounts.models import User
from ansinh.core.models import ImportBatch, Job
from ansinh.registry.models import Spell

PARTS = (
    "person_id,unit_code,scheme,group,start_date\n"
    "P1,C1,hi,household,2025-01-01\n"
    "P2,C3,hi,household,2025-01-01\n"
)


def _user(name, role, unit=None):
    return User.objects.create_user(username=name, password="x-pass-12345", role=role, unit_id=unit)


def _upload(client, kind, name, content):
    return client.post(
        "/imports/",
        {"kind": kind, "file": SimpleUploadedFile(name, content.encode("utf-8"), "text/csv")},
    )


@pytest.mark.django_db
def test_admin_uploads_and_sees_summary(client, units, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    admin = _user("admin1", "admin")
    client.force_login(admin)
    page = client.get("/imports/")
    assert page.status_code == 200
    # kinds by their names, never the code alone
    assert "Người tham gia (từng người)" in page.content.decode()
    res = _upload(client, "participations", "p.csv", PARTS)
    assert res.status_code == 302
    job = Job.objects.get(kind="import")
    assert res["Location"] == f"/imports/{job.pk}/"
    assert job.status == "done"
    assert job.result["created"] == 2 and job.result["rows"] == 2 and job.result["refused"] is False
    assert job.result["summary"] == "participations: đọc 2 dòng, tạo mới 2, cập nhật 0, không đổi 0"
    assert Spell.objects.count() == 2
    body = client.get(res["Location"]).content.decode()
    assert "Người tham gia (từng người): đã nhập — đọc 2 dòng, tạo mới 2" in body
    assert "Running" not in body and "Done" not in body and "Đã xong" in body
    status = client.get(f"/imports/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and "hx-get" not in status.content.decode()
    # the upload was consumed; the batch is listed with its uploader
    assert not any((tmp_path / "uploads").glob("*p.csv"))
    batch = ImportBatch.objects.get(kind="participations")
    assert batch.user_id == admin.pk and batch.file_name == "p.csv"
    listing = client.get("/imports/").content.decode()
    assert "p.csv" in listing and "admin1" in listing


@pytest.mark.django_db
def test_office_rows_of_other_units_refused_with_errors_csv(client, units, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    office = _user("off1", "office", "O1")
    client.force_login(office)
    res = _upload(client, "participations", "p.csv", PARTS)
    job = Job.objects.get(kind="import")
    assert job.status == "refused"
    assert job.result["refused"] is True
    assert job.result["errors"] == [
        {
            "row": 3,
            "column": "unit_code",
            "value": "C3",
            "message": job.result["errors"][0]["message"],
        }
    ]
    assert Spell.objects.count() == 0
    body = client.get(res["Location"]).content.decode()
    assert "bị từ chối" in body and "C3" in body
    csv_res = client.get(f"/imports/{job.pk}/errors.csv")
    assert csv_res.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_res.content.decode("utf-8"))))
    assert rows[0] == ["row", "column", "value", "message"]
    assert rows[1][:3] == ["3", "unit_code", "C3"]
    # another office may not see that job or its errors
    client.force_login(_user("off2", "office", "O2"))
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/errors.csv").status_code == 404
    # its own rows go through
    client.force_login(office)
    _upload(
        client,
        "participations",
        "p1.csv",
        PARTS.splitlines()[0] + "\n" + PARTS.splitlines()[1] + "\n",
    )
    assert Spell.objects.filter(unit_id="C1").count() == 1


@pytest.mark.django_db
def test_viewer_and_partner_get_404_and_anonymous_redirect(client, units):
    assert client.get("/imports/").status_code == 302
    client.force_login(_user("v", "viewer", "KH"))
    assert client.get("/imports/").status_code == 404
    client.force_login(
        User.objects.create_user(username="p", password="x", role="partner", org="womens_union")
    )
    assert client.get("/imports/").status_code == 404


@pytest.mark.django_db
def test_bad_form_and_xlsx_upload(client, units, settings, tmp_path):
    import datetime as dt

    import openpyxl

    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(_user("prov", "province", "KH"))
    res = client.post("/imports/", {"kind": "participations"})
    assert res.status_code == 400
    res = _upload(client, "participations", "p.txt", PARTS)
    assert res.status_code == 400
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["as_of", "unit_code", "scheme", "participants"])
    ws.append([dt.date(2025, 9, 30), "C2", "hi", 42])
    buf = io.BytesIO()
    wb.save(buf)
    res = client.post(
        "/imports/",
        {"kind": "counts", "file": SimpleUploadedFile("c.xlsx", buf.getvalue())},
    )
    assert res.status_code == 302
    job = Job.objects.get(kind="import")
    assert job.result["created"] == 1, job.result
