"""The dashboard explains itself: a year without targets says why the plan columns are empty."""

from __future__ import annotations

from django.test import Client

from tests.monitoring.factories import batch, make_units, make_user, spells, targets


def test_a_year_without_targets_says_so(db: None) -> None:
    units = make_units()
    spells([("a", "C1", "hi", "household", "2025-01-10", None)], batch())
    targets([(2025, "C1", "hi", 20)])
    client = Client()
    client.force_login(make_user("p0", "province", units["KH"]))
    with_targets = client.get("/", {"as_of": "2025-06-30"}).content.decode()
    assert 'id="no-targets"' not in with_targets
    next_year = client.get("/", {"as_of": "2026-06-30"}).content.decode()
    assert "Chưa có kế hoạch năm 2026 cho đơn vị này" in next_year
