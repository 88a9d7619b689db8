"""An upload over the configured size is refused before it is read (issue 21 item 4), on the
import page and the API: 413 in the user's words, no file kept, no job started."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ansinh.accounts.models import User
from ansinh.core.models import Job


@pytest.mark.django_db
def test_upload_over_the_limit_refused_before_reading(client, units, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_MAX_UPLOAD_BYTES = 64 << 10
    admin = User.objects.create_user(username="adm", password="x-pass-12345", role="admin")
    client.force_login(admin)
    body = b"as_of,unit_code,scheme,participants\n" + b"2025-09-30,C1,hi,5\n" * 5000
    res = client.post(
        "/imports/", {"kind": "counts", "file": SimpleUploadedFile("c.csv", body, "text/csv")}
    )
    assert res.status_code == 413
    assert "quá lớn" in res.content.decode() and "tối đa 0 MB" not in res.content.decode()
    assert not Job.objects.exists()
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
    token_res = client.post(
        "/api/imports/counts", {"file": SimpleUploadedFile("c.csv", body, "text/csv")}
    )
    assert token_res.status_code == 413 and "detail" in token_res.json()
    # under the limit: taken
    small = b"as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,5\n"
    res = client.post(
        "/imports/", {"kind": "counts", "file": SimpleUploadedFile("c.csv", small, "text/csv")}
    )
    assert res.status_code == 302
