"""SPEC section 7 edge cases not covered by the hand-made tree of test_funnel: rounding
half-up (not to even), an activity without attendees, and the CLI (json/csv/table) and
``GET /api/funnel`` answering the same figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.test import Client

from ansinh.accounts.models import User
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Person, Spell
from tests.outreach.test_funnel import make_tree

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def data(db: None) -> None:
    make_tree()
    # 32 attendees, one converts: 1/32 = 3.125 % → 3.13 half-up (3.12 to even);
    # cost 5 for 2 conversions (a second scheme of the same person) → 2.5 → 3 (2 to even)
    Activity.objects.create(
        code="R1", unit_id="C1", channel="booth", date=D(2025, 4, 1), lead_org="si_office", cost=5
    )
    for k in range(32):
        Attendee.objects.create(activity_id="R1", person_id=f"R{k:02d}")
    Person.objects.create(person_id="R00")
    for scheme in ("hi", "si_voluntary"):
        Spell.objects.create(
            person_id="R00", scheme=scheme, group="freelancer", unit_id="C1",
            start_date=D(2025, 4, 30),
        )  # fmt: skip
    # an activity with no attendees at all: 0 %, no cost per conversion
    Activity.objects.create(
        code="R2", unit_id="C2", channel="loudspeaker", date=D(2025, 4, 2),
        lead_org="commune_committee", cost=200_000, reach=1000,
    )  # fmt: skip


def test_rounding_and_no_attendees(data: None, cli: Any) -> None:
    res = cli("outreach", "funnel", "--from", "2025-04-01", "--to", "2025-04-30")
    assert res.code == 0, res.err
    got = json.loads(res.out)
    rows = {r["key"]: r for r in got["rows"]}
    booth = rows["booth"]
    assert booth["attendees"] == 32 and booth["converted"] == 2
    assert booth["conversion_pct"] == 6.25  # 2/32
    assert booth["cost_per_conversion"] == 3  # 5 / 2 = 2.5, half-up
    loud = rows["loudspeaker"]
    assert loud["attendees"] == 0 and loud["converted"] == 0
    assert loud["conversion_pct"] == 0 and loud["cost_per_conversion"] is None
    assert loud["reach"] == 1000 and loud["cost"] == 200_000

    # by org: one conversion per scheme → 1/32 when only hi counts (si_voluntary later)
    Spell.objects.filter(scheme="si_voluntary").update(start_date=D(2025, 8, 1))  # day 122
    res = cli("outreach", "funnel", "--from", "2025-04-01", "--to", "2025-04-30", "--by", "org")
    org = {r["key"]: r for r in json.loads(res.out)["rows"]}
    assert org["si_office"]["converted"] == 1
    assert org["si_office"]["conversion_pct"] == 3.13  # 3.125 half-up
    assert org["si_office"]["cost_per_conversion"] == 5
    assert org["commune_committee"]["cost_per_conversion"] is None


def test_csv_table_and_api_agree(data: None, cli: Any) -> None:
    args = ("outreach", "funnel", "--from", "2025-01-01", "--to", "2025-12-31", "--unit", "O1")
    js = json.loads(cli(*args).out)
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").out)))
    assert [r["key"] for r in rows] == [r["key"] for r in js["rows"]]
    for r, j in zip(rows, js["rows"], strict=True):
        assert int(r["converted"]) == j["converted"] and int(r["attendees"]) == j["attendees"]
        assert r["cost_per_conversion"] in ("", str(j["cost_per_conversion"]))
    table = cli(*args, "--format", "table").out
    assert "booth" in table and "loudspeaker" in table
    for by in ("channel", "org", "group"):
        admin = User.objects.get_or_create(username="adm", role="admin")[0]
        c = Client()
        c.force_login(admin)
        r = c.get(f"/api/funnel?from=2025-01-01&to=2025-12-31&unit=O1&by={by}")
        assert r.status_code == 200
        assert r.json() == json.loads(cli(*args, "--by", by).out)
