"""The draft plan with the forecast on (SPEC sections 6 and 11): a commune losing participants
is planned for what the year-end forecast says will be missing, not only today's gap, and the
draft still meets every invariant of section 6."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ansinh.geography.models import Unit
from ansinh.monitoring.services import snapshot_rebuild
from tests.monitoring.factories import counts, targets
from tests.outreach.test_plan_build import check_draft, expected_by

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 9, 30)


def _month_end(m: int) -> str:
    nxt = dt.date(2025 + (m == 12), 1 if m == 12 else m + 1, 1)
    return (nxt - dt.timedelta(days=1)).isoformat()


def test_declining_commune_is_planned_for_its_forecast_shortfall(cli: Any) -> None:
    kh = Unit.objects.create(code="KH", name="Tỉnh", level="province", path="KH/", depth=0)
    for code, name in (("X1", "Xã Giảm"), ("X2", "Xã Tăng")):
        Unit.objects.create(
            code=code, name=name, level="commune", parent=kh, path=f"KH/{code}/", depth=1
        )
    rows = []
    for m in range(1, 10):
        rows.append((_month_end(m), "X1", "hi", 1200 - 20 * m))  # losing 20 a month
        rows.append((_month_end(m), "X2", "hi", 1000 + 20 * m))  # gaining 20 a month
    counts(rows)
    targets([(2025, "X1", "hi", 1050), (2025, "X2", "hi", 1200)])
    snapshot_rebuild()
    r = cli("kpi", "forecast", "--year", "2025", "--as-of", AS_OF.isoformat(), "--by", "unit")
    fc = {row["unit"]: row["indicators"][3] for row in json.loads(r.out)["rows"]}
    assert fc["X1"]["forecast"] < 1000 < fc["X2"]["forecast"]  # the trends go on
    r = cli("plan", "build", "--year", "2025", "--as-of", AS_OF.isoformat())
    assert r.code == 0, r.err
    data = json.loads(r.out)
    gaps = {"X1": {"hi": 30}, "X2": {"hi": 20}}
    check_draft(data, year=2025, as_of=AS_OF, unit="KH", gaps_=gaps)
    got = expected_by(data["items"])
    shortfall = 1050 - fc["X1"]["forecast"]
    assert shortfall > 30 and got[("X1", "hi")] >= shortfall  # what will not come by itself
    assert 20 <= got[("X2", "hi")] < got[("X1", "hi")]  # today's gap is enough there
