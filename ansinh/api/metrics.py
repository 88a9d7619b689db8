"""``/metrics``: the service's state in Prometheus' text format, for admins only (a session
or ``Authorization: Bearer TOKEN`` of an admin; anyone else gets 404, as for any page they may
not see). Gauges read from the database at each scrape: jobs by kind and state, the worker,
import batches and rows, the snapshot's month-ends and age, active logins by role, audit rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Max, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ansinh.accounts.access import may
from ansinh.accounts.models import User
from ansinh.accounts.services import token_authenticate
from ansinh.core.models import AuditEvent, ImportBatch, Job
from ansinh.core.selectors import health_report
from ansinh.monitoring.models import SnapshotState


class _State(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        health = health_report()
        up = GaugeMetricFamily("ansinh_up", "1 where the part answers", labels=["part"])
        up.add_metric(["database"], 1.0 if health["database"] == "ok" else 0.0)
        up.add_metric(["worker"], 1.0 if health["worker"] == "ok" else 0.0)
        yield up
        jobs = GaugeMetricFamily(
            "ansinh_jobs", "Jobs by kind and status", labels=["kind", "status"]
        )
        for row in Job.objects.values("kind", "status").annotate(n=Count("id")).order_by():
            jobs.add_metric([row["kind"], row["status"]], float(row["n"]))
        yield jobs
        imports = ImportBatch.objects.aggregate(n=Count("id"), rows=Sum("rows"))
        yield GaugeMetricFamily(
            "ansinh_import_batches", "Import batches written", value=float(imports["n"] or 0)
        )
        yield GaugeMetricFamily(
            "ansinh_import_rows", "Rows read by written imports", value=float(imports["rows"] or 0)
        )
        snap = SnapshotState.objects.aggregate(n=Count("as_of"), built=Max("built_at"))
        yield GaugeMetricFamily(
            "ansinh_snapshot_month_ends", "Month-ends materialised", value=float(snap["n"] or 0)
        )
        age = (timezone.now() - snap["built"]).total_seconds() if snap["built"] else 0.0
        yield GaugeMetricFamily(
            "ansinh_snapshot_age_seconds", "Seconds since the snapshot last changed", value=age
        )
        users = GaugeMetricFamily("ansinh_users_active", "Active logins by role", labels=["role"])
        by_role = User.objects.filter(is_active=True).values_list("role").annotate(n=Count("id"))
        for role, n in by_role.order_by():
            users.add_metric([str(role)], float(n))
        yield users
        yield GaugeMetricFamily(
            "ansinh_audit_events", "Rows of the audit log", value=float(AuditEvent.objects.count())
        )


def metrics(request: HttpRequest) -> HttpResponse:
    user = request.user
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        user = token_authenticate(key=auth[len("Bearer ") :].strip()) or user
    if not may(user, "see_audit") or not user.is_active:
        raise Http404
    registry = CollectorRegistry()
    registry.register(_State())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
