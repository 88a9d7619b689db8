"""The API of SPEC section 5: same JSON as the CLI, scoped, 401 without login, 404 outside."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.api.factories import build_world


@pytest.fixture
def world(db, cli):
    from ansinh.arrears.models import Contribution, Employer
    from ansinh.geography.models import Population, Unit
    from ansinh.targets.models import Target

    w = build_world(tokens=True)
    Target.objects.create(year=2025, unit=Unit.objects.get(pk="C1"), indicator="hi", target=10)
    Population.objects.create(year=2025, unit=Unit.objects.get(pk="C1"), population=40)
    emp = Employer.objects.create(code="E1", name="Công ty A", unit=Unit.objects.get(pk="C1"))
    Contribution.objects.create(employer=emp, period=dt.date(2025, 3, 1), amount_due=1_000_000)
    assert cli("kpi", "--rebuild").code == 0
    return w


def get(client, world, who, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {world.tokens[who]}")


ENDPOINTS = [
    "/api/kpi?as_of=2025-06-30",
    "/api/funnel?from=2025-01-01&to=2025-06-30",
    "/api/arrears?as_of=2025-06-30",
    "/api/people/P1",
    "/api/jobs/1",
    "/api/units",
    "/api/activities",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unauthenticated_is_401(client, world, path):
    r = client.get(path)
    assert r.status_code == 401
    assert r.json() == {"detail": "Unauthorized"}
    r = client.get(path, HTTP_AUTHORIZATION="Bearer ans_not-a-token")
    assert r.status_code == 401


def test_post_import_unauthenticated_is_401(client, world):
    r = client.post("/api/imports/units", {"file": b""})
    assert r.status_code == 401


def test_kpi_is_the_cli_json(client, world, cli):
    out = cli("kpi", "--as-of", "2025-06-30", "--format", "json")
    assert out.code == 0, out.err
    r = get(client, world, "admin", "/api/kpi?as_of=2025-06-30")
    assert r.status_code == 200
    assert r.json() == json.loads(out.out)
    # same key order as the CLI
    assert list(r.json()) == list(json.loads(out.out))
    hi = next(i for i in r.json()["indicators"] if i["code"] == "hi")
    assert hi["participants"] == 2  # P1 in C1 and P2 in C3 hold an open HI spell
    si = next(i for i in r.json()["indicators"] if i["code"] == "si_compulsory")
    assert si == {
        "code": "si_compulsory",
        "participants": 0,
        "target": None,
        "attainment_pct": None,
        "gap": None,
        "required_per_month": None,
    }


def test_kpi_by_unit_matches_cli(client, world, cli):
    out = cli("kpi", "--as-of", "2025-06-30", "--unit", "O1", "--by", "unit", "--format", "json")
    r = get(client, world, "prov", "/api/kpi?as_of=2025-06-30&unit=O1&by=unit")
    assert r.status_code == 200
    assert r.json() == json.loads(out.out)
    assert [row["unit"] for row in r.json()["rows"]] == ["C1", "C2"]


def test_kpi_defaults_to_own_unit_and_scopes(client, world):
    r = get(client, world, "off1", "/api/kpi?as_of=2025-06-30")
    assert r.status_code == 200
    assert r.json()["unit"] == "O1"
    hi = next(i for i in r.json()["indicators"] if i["code"] == "hi")
    assert hi["participants"] == 1  # only P1 is in O1's communes
    other = get(client, world, "off1", "/api/kpi?as_of=2025-06-30&unit=C3")
    missing = get(client, world, "off1", "/api/kpi?as_of=2025-06-30&unit=ZZZ")
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    assert get(client, world, "viewer", "/api/kpi?as_of=2025-06-30&unit=O1").status_code == 404


def test_kpi_viewer_cells_below_5_suppressed(client, world):
    r = get(client, world, "viewer", "/api/kpi?as_of=2025-06-30")
    assert r.status_code == 200
    assert r.json()["unit"] == "C1"
    hi = next(i for i in r.json()["indicators"] if i["code"] == "hi")
    assert hi["participants"] == "<5"
    assert hi["gap"] is None and hi["attainment_pct"] is None  # 10 - 1 would give it away
    cov = next(i for i in r.json()["indicators"] if i["code"] == "hi_coverage")
    assert cov["participants"] == "<5" and cov["coverage_pct"] is None
    # a nobody-covered cell stays 0
    ui = next(i for i in r.json()["indicators"] if i["code"] == "ui")
    assert ui["participants"] == 0


@pytest.mark.parametrize(
    "query",
    ["as_of=2025-13-01", "as_of=yesterday", "as_of=2025-6-30", "by=district"],
)
def test_kpi_bad_input_is_400_with_message(client, world, query):
    r = get(client, world, "admin", f"/api/kpi?{query}")
    assert r.status_code == 400
    assert r.json()["detail"]


def test_funnel_is_the_cli_json(client, world, cli):
    out = cli(
        "outreach", "funnel", "--from", "2025-01-01", "--to", "2025-12-31", "--format", "json"
    )
    assert out.code == 0, out.err
    r = get(client, world, "admin", "/api/funnel?from=2025-01-01&to=2025-12-31")
    assert r.status_code == 200
    assert r.json() == json.loads(out.out)
    rows = {row["key"]: row for row in r.json()["rows"]}
    assert rows["small_group"]["activities"] == 1 and rows["small_group"]["attendees"] == 1
    r = get(client, world, "admin", "/api/funnel?from=2025-12-31&to=2025-01-01")
    assert r.status_code == 400


def test_funnel_partner_sees_own_activities_suppressed(client, world):
    r = get(client, world, "partner", "/api/funnel?from=2025-01-01&to=2025-12-31")
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert sum(row["activities"] for row in rows) == 1  # A1 only (womens_union)
    sg = next(row for row in rows if row["key"] == "small_group")
    assert sg["attendees"] == "<5"


def test_arrears(client, world, cli):
    out = cli("arrears", "--as-of", "2025-06-30", "--format", "json")
    assert out.code == 0, out.err
    r = get(client, world, "admin", "/api/arrears?as_of=2025-06-30")
    assert r.status_code == 200
    assert r.json() == json.loads(out.out)
    assert r.json()["totals"]["overdue"] == 1_000_000  # due 2025-04-30, nothing paid
    assert get(client, world, "partner", "/api/arrears?as_of=2025-06-30").status_code == 404
    assert get(client, world, "off2", "/api/arrears?as_of=2025-06-30&unit=C1").status_code == 404
    r = get(client, world, "off2", "/api/arrears?as_of=2025-06-30")
    assert r.status_code == 200 and r.json()["totals"]["overdue"] == 0


def test_units_paginated_and_scoped(client, world):
    r = get(client, world, "admin", "/api/units?limit=2&offset=1")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 6
    assert [u["code"] for u in body["items"]] == ["O1", "C1"]
    r = get(client, world, "off1", "/api/units")
    assert [u["code"] for u in r.json()["items"]] == ["O1", "C1", "C2"]
    assert r.json()["items"][1] == {
        "code": "C1",
        "name": "Đơn vị C1",
        "level": "commune",
        "parent": "O1",
        "valid_from": None,
        "valid_to": None,
    }


def test_activities_scoped(client, world):
    assert [
        a["code"] for a in get(client, world, "partner", "/api/activities").json()["items"]
    ] == ["A1"]
    assert [a["code"] for a in get(client, world, "off2", "/api/activities").json()["items"]] == [
        "A2"
    ]
    assert get(client, world, "admin", "/api/activities").json()["count"] == 2
    assert get(client, world, "off2", "/api/activities?unit=C1").status_code == 404


def test_docs_and_schema_served_locally(client, world):
    r = client.get("/api/schema/")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in [
        "/api/kpi",
        "/api/funnel",
        "/api/arrears",
        "/api/people/{person_id}",
        "/api/imports/{kind}",
        "/api/jobs/{job_id}",
    ]:
        assert p in paths
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "cdn." not in html and "unpkg" not in html
    for asset in [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui.css",
        "/static/ninja/swagger-ui-init.js",
    ]:
        assert asset in html
        assert client.get(asset).status_code == 200


def test_session_auth_works(client, world):
    client.force_login(world.users["off1"])
    r = client.get("/api/kpi?as_of=2025-06-30")
    assert r.status_code == 200 and r.json()["unit"] == "O1"


# ---------------------------------------------------------------- imports and jobs


@pytest.fixture
def importing():
    return pytest.importorskip("ansinh.imports.run")


def post_file(client, world, who, kind, content, name="pop.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(
        f"/api/imports/{kind}", {"file": f}, HTTP_AUTHORIZATION=f"Bearer {world.tokens[who]}"
    )


# The inline job runner closes "old" connections, which ends a test's transaction on PostgreSQL:
# these tests run in autocommit (transaction=True) like a served request does.
@pytest.mark.django_db(transaction=True)
def test_import_job_and_progress(client, world, importing):
    from ansinh.geography.models import Population

    r = post_file(client, world, "admin", "population", "year,unit_code,population\n2025,C2,500\n")
    assert r.status_code == 200, r.content
    job_id = r.json()["job"]
    assert isinstance(job_id, int)
    j = get(client, world, "admin", f"/api/jobs/{job_id}")
    assert j.status_code == 200
    body = j.json()
    assert body["status"] == "done"
    assert body["result"]["created"] == 1 and body["result"]["rows"] == 1
    assert Population.objects.get(unit_id="C2", year=2025).population == 500
    # another office's user cannot see the job
    assert get(client, world, "off2", f"/api/jobs/{job_id}").status_code == 404
    assert get(client, world, "admin", "/api/jobs/999999").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_import_refused_file_reports_errors(client, world, importing):
    r = post_file(client, world, "admin", "population", "year,unit_code,population\n2025,NOPE,5\n")
    job_id = r.json()["job"]
    body = get(client, world, "admin", f"/api/jobs/{job_id}").json()
    assert body["result"]["refused"] is True
    assert body["result"]["errors"][0]["row"] == 2


@pytest.mark.parametrize(
    "who,kind", [("viewer", "population"), ("partner", "attendees"), ("admin", "nonsense")]
)
def test_import_refusals_are_404(client, world, who, kind, importing):
    r = post_file(client, world, who, kind, "year,unit_code,population\n2025,C1,5\n")
    assert r.status_code == 404


def test_jobs_endpoint_is_dated(client, world):
    from ansinh.core.models import Job

    job = Job.objects.create(
        kind="x", created_by=world.users["off1"], status="running", progress=3, total=10
    )
    body = get(client, world, "off1", f"/api/jobs/{job.pk}").json()
    assert (body["status"], body["progress"], body["total"]) == ("running", 3, 10)
    assert dt.datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert get(client, world, "off2", f"/api/jobs/{job.pk}").status_code == 404
    assert get(client, world, "prov", f"/api/jobs/{job.pk}").status_code == 200
