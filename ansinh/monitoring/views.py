"""Dashboard pages: the user's own unit (``/``) and any visible unit (``/units/CODE/``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ansinh.accounts.access import (
    Actor,
    actor_root_unit,
    org_scoped,
    small,
    suppresses_small_counts,
    unit_in_scope,
    unit_visible,
)
from ansinh.core import formats
from ansinh.core.cache import cached
from ansinh.core.codes import SCHEME_CODES
from ansinh.geography.models import Unit, is_legacy_key
from ansinh.geography.selectors import (
    unit_ancestors,
    unit_children,
    unit_predecessors,
    unit_successors,
)
from ansinh.monitoring import forecast as fc
from ansinh.monitoring import selectors
from ansinh.targets.selectors import target_tree

CONTENT = "monitoring/_dashboard.html"
TREND_MONTHS = 12
AT_RISK_ROWS = 20


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    unit = actor_root_unit(request.user)
    if unit is None:
        if org_scoped(request.user):
            return redirect("activity_list")  # a partner without a unit: its activities
        raise Http404
    return _page(request, unit)


@login_required
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_visible(actor=request.user, code=code)
    if unit is None:
        raise Http404
    return _page(request, unit)


def _lineage(actor: Actor, links: list[Any], side: str) -> list[tuple[Any, bool]]:
    """Successor links with their share in percent, and whether the actor may open the unit
    on the other side (else its name is shown without a link)."""
    out = []
    for link in links:
        link.share_pct = link.share * 100
        out.append((link, unit_in_scope(actor=actor, unit=getattr(link, side))))
    return out


def _as_of(request: HttpRequest, latest: dt.date | None) -> dt.date | None:
    raw = request.GET.get("as_of", "").strip()
    if raw:
        try:
            if len(raw) != 10:
                raise ValueError
            return dt.date.fromisoformat(raw)
        except ValueError:
            messages.error(request, _("Ngày không hợp lệ: %(value)s") % {"value": raw})
    return latest


def _page(request: HttpRequest, unit: Unit) -> HttpResponse:
    actor = request.user
    crumbs = [(u, unit_in_scope(actor=actor, unit=u)) for u in unit_ancestors(unit=unit)]
    scheme = request.GET.get("scheme", "")
    if scheme not in SCHEME_CODES:
        scheme = "hi"
    version = selectors.data_version()
    latest = selectors.data_as_of(version=version)
    as_of = _as_of(request, latest)
    # drill-down links keep the date and scheme the user is looking at
    query = urlencode({k: request.GET[k] for k in ("as_of", "scheme") if request.GET.get(k)})
    keep = f"?{query}" if query else ""
    ctx: dict[str, Any] = {
        "unit": unit,
        "keep": keep,
        "crumbs": crumbs,
        "as_of": as_of,
        "data_as_of": latest,
        "scheme": scheme,
        "schemes": SCHEME_CODES,
        # the reorganisation of 1 July 2025: what a former unit became, what a commune was
        "successors": (
            _lineage(actor, unit_successors(unit=unit), "successor")
            if is_legacy_key(unit.code)
            else []
        ),
        "predecessors": (
            _lineage(actor, unit_predecessors(unit=unit), "legacy")
            if unit.level == Unit.Level.COMMUNE
            else []
        ),
    }
    if as_of is None:
        ctx["content"] = render_to_string(CONTENT, ctx)
        return render(request, "monitoring/dashboard.html", ctx)

    parts = (
        unit.code,
        as_of.isoformat(),
        scheme,
        suppresses_small_counts(actor),
        translation.get_language(),
    )

    def content() -> str:
        figures = cached(
            namespace="dashboard",
            version=version,
            parts=parts,
            compute=lambda: _figures(
                unit=unit, as_of=as_of, scheme=scheme, actor=actor, version=version
            ),
        )
        return render_to_string(CONTENT, {**ctx, **figures})

    # the page below the menu, rendered: the same HTML for the same key (what it shows of the
    # units above and beside and whether the actor may open them included), so that a warm
    # page reads one string from the cache and renders none of its figures
    head = (
        keep,
        latest,
        [(u.code, u.name, can) for u, can in crumbs],
        (unit.name, unit.level, unit.valid_to),
        [(s.successor_id, s.successor.name, s.share, s.main, can) for s, can in ctx["successors"]],
        [(s.legacy_id, s.legacy.name, s.share, can) for s, can in ctx["predecessors"]],
    )
    ctx["content"] = mark_safe(
        cached(namespace="dashboard_page", version=version, parts=(*parts, head), compute=content)
    )
    return render(request, "monitoring/dashboard.html", ctx)


def _figures(
    *, unit: Unit, as_of: dt.date, scheme: str, actor: Actor, version: str
) -> dict[str, Any]:
    """What the dashboard shows of ``unit`` at ``as_of``: the same for every actor who sees
    the unit alike (kept per data version by the caller)."""
    rows = selectors.leaf_rows(unit=unit, as_of=as_of)
    kpi = selectors.figures_from_rows(unit=unit, as_of=as_of, by=None, rows=rows, actor=actor)
    by_unit = selectors.figures_from_rows(unit=unit, as_of=as_of, by="unit", rows=rows, actor=actor)
    by_group = selectors.figures_from_rows(
        unit=unit, as_of=as_of, by="group", rows=rows, actor=actor
    )
    series = selectors.series_all(unit=unit, months=TREND_MONTHS, as_of=as_of, last_rows=rows)
    year = as_of.year
    forecast = fc.forecast_figures(unit=unit, year=year, as_of=as_of, actor=actor, version=version)
    forecasts = {i["code"]: i for i in forecast["indicators"]}
    warnings = fc.at_risk(unit=unit, year=year, as_of=as_of, actor=actor, version=version)
    fan = fc.fan(unit=unit, scheme=scheme, year=year, as_of=as_of, version=version)
    names = dict(unit_children(unit=unit).values_list("code", "name"))

    children = []
    for row in by_unit["rows"]:
        items = {i["code"]: i for i in row["indicators"]}
        children.append({"code": row["unit"], "name": names.get(row["unit"], ""), "items": items})
    children.sort(
        key=lambda c: (
            c["items"][scheme]["attainment_pct"] is None,
            c["items"][scheme]["attainment_pct"] or 0.0,
            c["code"],
        )
    )
    groups = [
        {"group": r["group"], "items": {i["code"]: i for i in r["indicators"]}}
        for r in by_group["rows"]
    ]
    lagging = []
    if unit.level in ("province", "office"):
        lagging = selectors.ranking_by_gap(
            unit=unit, as_of=as_of, scheme=scheme, level="commune", actor=actor, rows=rows
        )
        lagging = [i for i in lagging if i["gap"] is not None and i["gap"] > 0][:10]

    # trend chart: participants of the chosen scheme and the target of each point's year
    years = {d.year for d, _n in series[scheme]} | {year}
    target_by_year = {
        y: target_tree(unit=unit, year=y)[unit.code].get(scheme) for y in sorted(years)
    }
    # … and the forecast fan from the last month-end to December beside the target line
    ahead = [dt.date.fromisoformat(p["date"]) for p in fan if p["date"] > as_of.isoformat()]
    hidden = suppresses_small_counts(actor) and any(
        small(p["low"]) or small(p["forecast"]) for p in fan
    )
    if hidden:
        ahead, fan = [], []
    dates = [d for d, _n in series[scheme]] + ahead
    n_hist = len(series[scheme])
    by_date = {p["date"]: p for p in fan}
    last_value = series[scheme][-1][1] if series[scheme] else None

    def band(key: str) -> list[int | None]:
        out: list[int | None] = [None] * n_hist
        if fan and out:
            out[-1] = last_value  # the fan opens at the last figure
        return out + [by_date[d.isoformat()][key] for d in ahead]

    chart = {
        "labels": [formats.fmt_chart_date(d) for d in dates],
        "dates": [d.isoformat() for d in dates],
        "participants": [n for _d, n in series[scheme]] + [None] * len(ahead),
        "target": [
            None if target_by_year[d.year] is None else float(target_by_year[d.year] or 0)
            for d in dates
        ],
        "forecast": band("forecast") if ahead else [],
        "low": band("low") if ahead else [],
        "high": band("high") if ahead else [],
        "label_participants": _("Người tham gia"),
        "label_target": _("Kế hoạch năm"),
        "label_forecast": _("Dự báo"),
        "label_interval": _("Khoảng dự báo 80 %"),
    }
    return {
        "kpi": kpi,
        "cards": [i for i in kpi["indicators"] if i["code"] != "hi_coverage"],
        "has_targets": any(i.get("target") is not None for i in kpi["indicators"]),
        "coverage": next((i for i in kpi["indicators"] if i["code"] == "hi_coverage"), None),
        "children": children,
        "groups": groups,
        "lagging": lagging,
        "forecasts": forecasts,
        "at_risk": warnings,
        "at_risk_shown": warnings[:AT_RISK_ROWS],
        "chart": chart,
        "live": not selectors.snapshot_ready(as_of),
    }
