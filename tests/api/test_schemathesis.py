"""Property-based API checks from the OpenAPI schema (schemathesis 3): whatever the inputs, the
API never answers a server error, and its answers match the schema's status codes.
Bounded and deterministic: a few examples per operation, derandomised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from tests.api.factories import build_world

# django-ninja writes OpenAPI 3.1
schemathesis.experimental.OPEN_API_3_1.enable()


def _many_compat() -> None:
    """hypothesis-jsonschema 0.23 drives ``many`` with ``while elements.more()``; the locked
    Hypothesis only offers ``with many(...) as e: for _ in e``. Adapt the old calls to the new
    protocol (only for objects' properties, in this test process)."""
    from hypothesis.internal.conjecture import utils as cu
    from hypothesis_jsonschema import _from_schema

    if hasattr(cu.many, "more"):
        return

    class OldMany:
        def __init__(self, data: Any, **kw: Any) -> None:
            self._many = cu.many(data, **kw)
            self._many.__enter__()
            self._it = iter(self._many)

        def more(self) -> bool:
            try:
                next(self._it)
                return True
            except StopIteration:
                self._many.__exit__(None, None, None)
                return False

        def reject(self, why: str | None = None) -> None:
            self._many.reject(why)

    class Shim:
        many = OldMany

        def __getattr__(self, name: str) -> Any:
            return getattr(cu, name)

    _from_schema.cu = Shim()  # type: ignore[attr-defined]


_many_compat()

TOKEN: dict[str, str] = {}


@pytest.fixture
def api_schema(db: Any) -> Iterator[Any]:
    from config.wsgi import application

    world = build_world(tokens=True)
    TOKEN["value"] = world.tokens["off1"]
    # like Django's test client: requests must not close the test's connection (PostgreSQL)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails(case: Any) -> None:
    response = case.call_wsgi(headers={"Authorization": f"Bearer {TOKEN['value']}"})
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance))
