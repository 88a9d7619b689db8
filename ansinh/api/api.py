"""The REST API of SPEC section 5 (django-ninja; OpenAPI at /api/schema/, docs at /api/docs/).

Thin: every endpoint authenticates (session or ``Authorization: Bearer TOKEN``), resolves the
unit through the access door (``ansinh.accounts.access``) and returns the dict of the
selector that the command line prints, unchanged — except that aggregate person counts are
suppressed below 5 (``<5``) for viewers and partners (SPEC section 4). A record the actor may
not see answers 404 exactly like a missing one; unauthenticated calls answer 401.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import APIKeyCookie, HttpBearer

from ansinh.accounts.access import (
    Actor,
    actor_root_unit,
    allowed_units,
    can_import,
    can_see_arrears,
    suppress_cells,
    unit_in_scope,
)
from ansinh.accounts.selectors import job_get
from ansinh.accounts.services import token_authenticate
from ansinh.accounts.views import client_ip
from ansinh.arrears.figures import arrears as arrears_figures
from ansinh.core import words
from ansinh.geography.selectors import unit_root
from ansinh.imports.jobs import import_job_retry, import_job_start
from ansinh.imports.kinds import KINDS
from ansinh.monitoring import forecast as fc
from ansinh.monitoring.selectors import data_as_of, data_version, kpi_figures_cached
from ansinh.outreach.activities.selectors import actor_units, scoped_activities
from ansinh.outreach.funnel import funnel as funnel_figures
from ansinh.registry.selectors import person_get


class BearerAuth(HttpBearer):
    """``Authorization: Bearer TOKEN`` (``ansinh user token NAME`` prints one)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(key=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The Django session of the pages (CSRF checked on writes)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # no session, no CSRF question: an anonymous call answers 401 whatever its method
        # (SPEC section 5), not 403 "CSRF check failed"
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="ansinh API",
    version="1",
    description=(
        "Coverage figures, outreach funnel, late contributions, people and imports "
        "(shared/SPEC.md section 5). Authenticate with a session or "
        "`Authorization: Bearer TOKEN`."
    ),
    urls_namespace="api",
    openapi_url="/schema/",
    docs_url="/docs/",
    auth=[BearerAuth(), SessionAuth()],
)


class Error(Schema):
    detail: str


class Invalid(Schema):
    """A parameter that does not fit the schema (django-ninja's validation answer)."""

    detail: list[dict[str, Any]]


class UnitOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None


class ActivityOut(Schema):
    code: str
    unit: str
    channel: str
    date: dt.date
    lead_org: str
    group: str
    coordinating_orgs: list[str]
    planned_reach: int | None
    reach: int | str | None  # "<5" for viewers and partners (SPEC section 4)
    registrations: int | str | None
    cost: int | None


class JobOut(Schema):
    id: int
    kind: str
    status: str
    progress: int
    total: int
    message: str
    result: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobStarted(Schema):
    job: int


# ---------------------------------------------------------------------------- helpers


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None) or request.user


def _parse_date(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HttpError(
            400,
            _("%(name)s: ngày không hợp lệ “%(value)s” (định dạng YYYY-MM-DD)")
            % {"name": name, "value": value},
        ) from None


def _default_date(*, version: str | None = None) -> dt.date:
    """The latest date with data (else today); ``version``: the caller's data version."""

    return data_as_of(version=version) or timezone.localdate()


def _unit(actor: Actor, code: str | None, units: Any = None) -> Any:
    """The unit named by ``unit`` if visible, else the actor's own unit; 404 otherwise.
    ``units`` is the queryset of visible units (default: the access door's)."""
    if code and "\x00" in code:
        raise Http404
    visible = allowed_units(actor) if units is None else units
    if code:
        unit = visible.filter(code=code).first()
    else:
        unit = actor_root_unit(actor)
        if unit is None and units is not None:
            unit = unit_root()
        if unit is not None and not (
            unit_in_scope(actor=actor, unit=unit)
            if units is None
            else visible.filter(code=unit.code).exists()
        ):
            unit = None
    if unit is None:
        raise Http404
    return unit


def _choice(value: str | None, name: str, choices: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    if value not in choices:
        raise HttpError(
            400,
            _("%(name)s: giá trị không hợp lệ “%(value)s” (chọn một trong: %(choices)s)")
            % {"name": name, "value": value, "choices": ", ".join(choices)},
        )
    return value


# ---------------------------------------------------------------------------- figures

# the query parameters and the answers the figure endpoints share
_AS_OF = Query(None, description="YYYY-MM-DD; default: the latest data")
_UNIT = Query(None, description="unit code; default: the user's own unit")


def _figures(path: str, summary: str) -> Any:
    """``@api.get`` for a figures endpoint: the JSON of one command's ``--json``."""
    return api.get(
        path,
        response={200: dict[str, Any], 400: Error, 401: Error, 404: Error, 422: Invalid},
        summary=summary,
        tags=["figures"],
    )


@_figures("/kpi", "Coverage figures (SPEC section 3) — the JSON of `ansinh kpi`")
def kpi(
    request: HttpRequest,
    as_of: str | None = _AS_OF,
    unit: str | None = _UNIT,
    by: str | None = Query(None, description="unit | group"),
) -> Any:
    actor = _actor(request)
    version = data_version()
    date = _parse_date(as_of, "as_of") or _default_date(version=version)
    by_ = _choice(by, "by", ("unit", "group"))
    u = _unit(actor, unit)
    figures = kpi_figures_cached(unit=u, as_of=date, by=by_, actor=actor, version=version)
    # suppressed by the selector (``access.suppress_rows``, kind ``kpi``), as on the pages
    return figures


@_figures("/forecast", "Year-end forecast (SPEC section 11) — the JSON of `ansinh kpi forecast`")
def forecast(
    request: HttpRequest,
    year: int | None = Query(None, description="the year; default: the as-of date's year"),
    as_of: str | None = _AS_OF,
    unit: str | None = _UNIT,
    by: str | None = Query(None, description="unit"),
) -> Any:
    actor = _actor(request)
    version = data_version()
    date = _parse_date(as_of, "as_of")
    if year is None:
        year = (date or _default_date(version=version)).year
    if not 1900 <= year <= 9999:
        raise HttpError(400, _("year: năm không hợp lệ “%(value)s”") % {"value": year})
    if date is None:
        date = fc.default_as_of(year=year, latest=data_as_of(version=version))
    by_ = _choice(by, "by", ("unit",))
    u = _unit(actor, unit)
    try:
        return fc.forecast_figures(
            unit=u, year=year, as_of=date, by=by_, actor=actor, version=version
        )
    except fc.ForecastError as exc:
        raise HttpError(400, str(exc)) from None


@_figures("/funnel", "Outreach funnel (SPEC section 7) — the JSON of `ansinh outreach funnel`")
def funnel(
    request: HttpRequest,
    date_from: str | None = Query(None, alias="from", description="YYYY-MM-DD"),
    date_to: str | None = Query(None, alias="to", description="YYYY-MM-DD"),
    unit: str | None = _UNIT,
    by: str | None = Query(None, description="channel | org | group"),
) -> Any:
    actor = _actor(request)
    to = _parse_date(date_to, "to") or _default_date()
    start = _parse_date(date_from, "from") or dt.date(to.year, 1, 1)
    if start > to:
        raise HttpError(400, _("from: phải trước hoặc bằng to"))
    by_ = _choice(by, "by", ("channel", "org", "group")) or "channel"
    u = _unit(actor, unit, actor_units(actor))
    data = funnel_figures(unit=u, date_from=start, date_to=to, by=by_, actor=actor)
    # suppressed by the selector (kind ``funnel``), as on the funnel page
    return data


@_figures("/arrears", "Late contributions (SPEC section 8) — the JSON of `ansinh arrears`")
def arrears(
    request: HttpRequest,
    as_of: str | None = _AS_OF,
    unit: str | None = _UNIT,
) -> Any:
    actor = _actor(request)
    if not can_see_arrears(actor):
        raise Http404
    date = _parse_date(as_of, "as_of") or _default_date()
    u = _unit(actor, unit)
    return arrears_figures(unit=u, as_of=date, actor=actor)


# ---------------------------------------------------------------------------- records


@api.get(
    "/people/{person_id}",
    response={200: dict[str, Any], 401: Error, 404: Error, 422: Invalid},
    summary="A person with their spells, masked per role (`?unmask=true` is audited)",
    tags=["records"],
)
def person(request: HttpRequest, person_id: str, unmask: bool = False) -> Any:
    if "\x00" in person_id:
        raise Http404
    data = person_get(
        actor=_actor(request),
        person_id=person_id,
        unmask=unmask,
        ip=client_ip(request),
    )
    if data is None:
        raise Http404
    return data


@api.get(
    "/units",
    response={200: list[UnitOut], 401: Error, 422: Invalid},
    summary="Units the user may see (paginated: limit, offset)",
    tags=["records"],
)
@paginate(LimitOffsetPagination)
def units(request: HttpRequest) -> Any:
    return [
        {
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "parent": u.parent_id,
            "valid_from": u.valid_from,
            "valid_to": u.valid_to,
        }
        for u in allowed_units(_actor(request)).order_by("path")
    ]


@api.get(
    "/activities",
    response={200: list[ActivityOut], 401: Error, 404: Error, 422: Invalid},
    summary="Outreach activities the user may see (paginated: limit, offset)",
    tags=["records"],
)
@paginate(LimitOffsetPagination)
def activities(request: HttpRequest, unit: str | None = None) -> Any:
    actor = _actor(request)
    qs = scoped_activities(actor)
    if unit:
        u = _unit(actor, unit, actor_units(actor))
        qs = qs.filter(unit__path__startswith=u.path)
    return [
        suppress_cells(
            {
                "code": a.code,
                "unit": a.unit_id,
                "channel": a.channel,
                "date": a.date,
                "lead_org": a.lead_org,
                "group": a.group,
                "coordinating_orgs": list(a.coordinating_orgs or []),
                "planned_reach": a.planned_reach,
                "reach": a.reach,
                "registrations": a.registrations,
                "cost": a.cost,
            },
            actor=actor,
            kind="activity",
        )
        for a in qs.order_by("-date", "code")
    ]


# ---------------------------------------------------------------------------- imports, jobs


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@api.post(
    "/imports/{kind}",
    response={200: JobStarted, 400: Error, 401: Error, 404: Error, 422: Invalid},
    summary="Start an import of one file (multipart field `file`); answers the job id",
    tags=["imports"],
)
def import_start(request: HttpRequest, kind: str, file: UploadedFile = File(...)) -> Any:  # noqa: B008
    actor = _actor(request)
    if not can_import(actor) or kind not in KINDS:
        raise Http404
    name = Path(file.name or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise HttpError(400, _("Chỉ nhận tệp CSV hoặc XLSX"))
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{uuid.uuid4().hex}_{_SAFE.sub('_', name)[-100:]}"
    with dest.open("wb") as fh:
        for chunk in file.chunks():
            fh.write(chunk)
    job = import_job_start(kind=kind, uploaded_path=dest, display_name=name, actor=actor)
    return {"job": job.pk}


def _job_or_404(fetch: Any, request: HttpRequest, job_id: int) -> Any:
    """``fetch(actor=, job_id=)`` for the caller, 404 for an id out of range or not found."""
    if not 0 < job_id < 2**62:
        raise Http404
    found = fetch(actor=_actor(request), job_id=job_id)
    if found is None:
        raise Http404
    return found


@api.post(
    "/jobs/{job_id}/retry",
    response={200: JobStarted, 401: Error, 404: Error, 422: Invalid},
    summary="Run a failed import again on the file it kept; answers the new job id",
    tags=["imports"],
)
def job_retry(request: HttpRequest, job_id: int) -> Any:
    job = _job_or_404(import_job_retry, request, job_id)
    return {"job": job.pk}


@api.get(
    "/jobs/{job_id}",
    response={200: JobOut, 401: Error, 404: Error, 422: Invalid},
    summary="A job's progress and result",
    tags=["imports"],
)
def job(request: HttpRequest, job_id: int) -> Any:
    j = _job_or_404(job_get, request, job_id)
    result = j.result
    if isinstance(result, dict) and "traceback" in result:
        result = {k: v for k, v in result.items() if k != "traceback"}
    return {
        "id": j.pk,
        "kind": j.kind,
        "status": j.status,
        "progress": j.progress,
        "total": j.total,
        "message": words.shown(j.message),
        "result": result,
        "created_at": j.created_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
    }
