"""Year-end forecast of participants with its uncertainty (SPEC section 11).

Every month-end of the snapshot up to the as-of date is read in one set-based query (one series
per leaf unit and scheme, normally the communes). Each series is projected to 31 December:

- **seasonal** where at least ``SEASONAL_MIN`` month-ends of history exist: an additive
  Holt–Winters state-space model (statsmodels ``ETSModel``: additive error, additive trend,
  additive 12-month seasonality, so the October–December rush is learnt from past years).
  Its smoothing weights are fitted once per scheme on the total of the forecast's root (one
  optimisation per scheme); every unit's own series is then run through the same model with
  those weights (``ETSModel.smooth``: no optimisation), which keeps the province by commune well
  under a second. The 80 % interval is the model's analytical prediction interval.
- **trend** where history is shorter: an ordinary least-squares line over the last (up to 6)
  month-ends (statsmodels ``OLS``), with its prediction interval for one new observation.

The forecasts are reconciled: the leaf forecasts are scaled (by their share of the total) so
that they add up to the root's own forecast, and every unit between gets the sum of its leaves
in whole persons (largest remainder), so communes add up to offices and the province exactly.
A unit's interval keeps the width of its own model, centred on the reconciled figure; the
probability of reaching the target reads the same normal predictive distribution.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.http import Http404
from django.utils.translation import gettext as _
from scipy.stats import norm
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from ansinh.accounts.access import Actor, suppress_rows, unit_in_scope
from ansinh.core import sql
from ansinh.core.cache import cached
from ansinh.core.codes import SCHEME_CODES
from ansinh.core.formats import fmt_date
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_children, unit_subtree
from ansinh.monitoring import figures
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.selectors import (
    data_as_of,
    data_version,
    leaf_rows,
    legacy_snapshot_rows,
)
from ansinh.targets.selectors import target_tree

INTERVAL = 80
Z = float(norm.ppf(0.5 + INTERVAL / 200))  # 1.2816 for the 80 % interval
SEASONAL_MIN = 24
# month-ends a model reads at most (the latest five years): older years say little of this
# year's rush, and the cost of a fit grows with the length of the series
MAX_HISTORY = 60
TREND_POINTS = 6
# smoothing weights when the root's series cannot be fitted (level, trend, seasonal)
DEFAULT_WEIGHTS = (0.5, 0.05, 0.2, 0.9)


class ForecastError(ValueError):
    """A forecast that cannot be made as asked (message in the user's words)."""


@dataclass(frozen=True)
class Fit:
    point: float
    sd: float
    method: str
    history: int


# --------------------------------------------------------------------------- history


def history(*, root: Unit, until: dt.date) -> tuple[list[dt.date], dict[str, dict[str, list[int]]]]:
    """The materialised month-ends up to ``until`` and, per leaf path and scheme, participants
    at each of them: one query over the snapshot for every unit below ``root``, plus the
    former communes' rows credited to their successors (SPEC section 9)."""
    dates = sorted(SnapshotState.objects.filter(as_of__lte=until).values_list("as_of", flat=True))
    if not dates:
        return [], {}
    index = {d: i for i, d in enumerate(dates)}
    query = (
        "SELECT s.as_of AS as_of, u.path AS path, s.scheme AS scheme, "
        "SUM(s.participants) AS participants "
        f"FROM {sql.table(KpiSnapshot)} s JOIN {sql.table(Unit)} u ON u.code = s.unit_id "
        "WHERE s.in_total AND s.as_of <= %(until)s AND u.path LIKE %(path_like)s "
        "GROUP BY s.as_of, u.path, s.scheme"
    )
    out: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {s: [0] * len(dates) for s in SCHEME_CODES}
    )
    for row in sql.fetch(query, {"until": until, "path_like": root.path + "%"}):
        day = sql.as_date(row["as_of"])
        scheme = row["scheme"]
        if scheme in SCHEME_CODES and day in index:
            out[row["path"]][scheme][index[day]] += int(row["participants"] or 0)
    # facts of before 1 July 2025 keyed by former communes count in today's communes
    for day, rows in legacy_snapshot_rows(unit=root, dates=dates).items():
        for r in rows:
            if r.in_total and r.scheme in SCHEME_CODES and day in index:
                out[r.path][r.scheme][index[day]] += r.participants
    return dates, dict(out)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


# --------------------------------------------------------------------------- models


def _trim(values: list[int]) -> np.ndarray:
    """The series from its first month with anyone covered, at most the last ``MAX_HISTORY``
    month-ends."""
    arr = np.asarray(values[-MAX_HISTORY:], dtype=float)
    nz = np.nonzero(arr)[0]
    return arr[nz[0] :] if len(nz) else arr[:0]


def _ets(y: np.ndarray) -> ETSModel:
    return ETSModel(
        y,
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=12,
        initialization_method="heuristic",
    )


def seasonal_weights(y: np.ndarray) -> np.ndarray:
    """Smoothing weights (level, trend, seasonal) fitted by maximum likelihood on ``y``."""
    if len(y) < SEASONAL_MIN:
        return np.asarray(DEFAULT_WEIGHTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = _ets(y).fit(disp=False, maxiter=200)
            params = np.asarray(res.params, dtype=float)
        except (ValueError, np.linalg.LinAlgError):
            return np.asarray(DEFAULT_WEIGHTS)
    if not np.all(np.isfinite(params)):
        return np.asarray(DEFAULT_WEIGHTS)
    return params


def fit_series(values: list[int], *, horizon: int, weights: np.ndarray) -> Fit:
    """The year-end figure of one series ``horizon`` month-ends after its last point, modelled
    on the log scale (growth and the year-end rush are proportional to a unit's size): ``point``
    is the median forecast in persons, ``sd`` the predictive standard deviation of its log."""
    return fit_path(values, horizon=horizon, weights=weights)[-1]


def fit_path(values: list[int], *, horizon: int, weights: np.ndarray) -> list[Fit]:
    """``fit_series`` at every horizon 1 … ``horizon`` (one element for ``horizon`` 0)."""
    y = _trim(values)
    n = len(y)
    if n == 0:
        return [Fit(0.0, 0.0, "trend", 0)] * max(horizon, 1)
    if horizon <= 0:
        return [Fit(float(y[-1]), 0.0, "seasonal" if n >= SEASONAL_MIN else "trend", n)]
    z = np.log1p(y)
    steps = np.arange(1, horizon + 1)
    if n >= SEASONAL_MIN:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = _ets(z).smooth(weights)
                mus = np.asarray(res.forecast(horizon), dtype=float)
                var = np.asarray(res.mse * res._relative_forecast_variance(steps), dtype=float)
                if np.all(np.isfinite(mus)) and np.all(np.isfinite(var)):
                    return [
                        Fit(_expm1(m), math.sqrt(max(v, 0.0)), "seasonal", n)
                        for m, v in zip(mus, var, strict=True)
                    ]
            except (ValueError, np.linalg.LinAlgError):
                pass
    pts = z[-TREND_POINTS:]
    if len(pts) < 3:
        return [Fit(float(y[-1]), 0.0, "trend", n)] * horizon
    x = np.arange(len(pts), dtype=float)
    design = np.column_stack([np.ones_like(x), x])
    res_ols = OLS(pts, design).fit()
    ahead = np.column_stack([np.ones(horizon), len(pts) - 1 + steps.astype(float)])
    pred = res_ols.get_prediction(ahead)
    out = []
    for m, v in zip(pred.predicted_mean, pred.var_pred_mean, strict=True):
        sd = math.sqrt(float(v) + float(res_ols.scale))
        out.append(Fit(_expm1(float(m)), sd if math.isfinite(sd) else 0.0, "trend", n))
    return out


# --------------------------------------------------------------------------- the tree


def _largest_remainder(total: int, values: list[float]) -> list[int]:
    """Whole numbers proportional to ``values`` adding up to ``total``."""
    s = sum(values)
    if not values:
        return []
    if s <= 0:
        base = [0] * len(values)
        base[0] = total
        return base
    raw = [total * v / s for v in values]
    ints = [math.floor(r) for r in raw]
    rest = total - sum(ints)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - ints[i]), i))
    for i in order[:rest]:
        ints[i] += 1
    return ints


def _expm1(x: float) -> float:
    """``exp(x) − 1`` kept finite (a runaway model never overflows into an error)."""
    return math.expm1(min(x, 700.0))


def _half_up(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _members(root: Unit, leaves: list[str]) -> dict[str, list[str]]:
    """Every unit path from ``root`` down to each leaf → the leaf paths at or below it."""
    members: dict[str, list[str]] = defaultdict(list)
    for leaf in leaves:
        parts = leaf.strip("/").split("/")
        for k in range(1, len(parts) + 1):
            p = "/".join(parts[:k]) + "/"
            if p.startswith(root.path):
                members[p].append(leaf)
    return members


def forecast_tree(
    *,
    root: Unit,
    year: int,
    as_of: dt.date,
    data: tuple[list[dt.date], dict[str, dict[str, list[int]]]] | None = None,
) -> dict[str, Any]:
    """Reconciled forecasts of every unit at or below ``root`` that has data:
    ``{"history_end": date|None, "units": {code: {scheme: {"point", "sd", "method",
    "history"}}}}`` (point a whole number; the leaves add up to every unit above them).
    ``data``: the history already read (longer is fine: cut at the as-of date)."""
    until = min(as_of, dt.date(year, 12, 31))
    if data is None:
        dates, series = history(root=root, until=until)
    else:
        keep = sum(1 for d in data[0] if d <= until)
        dates = data[0][:keep]
        series = {p: {s: v[:keep] for s, v in sch.items()} for p, sch in data[1].items()}
    units: dict[str, dict[str, dict[str, Any]]] = {}
    fitted: dict[str, list[float]] = {}
    if not dates:
        return {"history_end": None, "units": units, "weights": fitted}
    last = dates[-1]
    horizon = max(_months_between(last, dt.date(year, 12, 31)), 0)
    paths = dict(unit_subtree(unit=root).values_list("path", "code"))
    leaves = sorted(p for p in series if p in paths)
    # every unit from the root down to each leaf gets the sum of the leaves below it
    members = _members(root, leaves)
    for scheme in SCHEME_CODES:
        sums: dict[str, list[int]] = {
            p: [sum(v) for v in zip(*(series[leaf][scheme] for leaf in ls), strict=True)]
            for p, ls in members.items()
        }
        if root.path not in sums:
            continue
        weights = seasonal_weights(np.log1p(_trim(sums[root.path])))
        fitted[scheme] = [float(w) for w in weights]
        fits = {p: fit_series(v, horizon=horizon, weights=weights) for p, v in sums.items()}
        top = max(_half_up(fits[root.path].point), 0)
        leaf_ints = dict(
            zip(
                leaves,
                _largest_remainder(top, [max(fits[leaf].point, 0.0) for leaf in leaves]),
                strict=True,
            )
        )
        for p, ls in members.items():
            f = fits[p]
            units.setdefault(paths[p], {})[scheme] = {
                "point": sum(leaf_ints[leaf] for leaf in ls),
                "sd": f.sd,
                "method": f.method,
                "history": f.history,
            }
    return {"history_end": last, "units": units, "weights": fitted}


def forecast_tree_cached(*, root: Unit, year: int, as_of: dt.date, version: str) -> dict[str, Any]:
    return cached(
        namespace="forecast",
        version=version,
        parts=(root.code, year, as_of.isoformat()),
        compute=lambda: forecast_tree(root=root, year=year, as_of=as_of),
    )


# --------------------------------------------------------------------------- the JSON


def bounds(point: int, sd: float) -> tuple[int, int]:
    """The 80 % interval around a median ``point`` whose log has standard deviation ``sd``."""
    mu = math.log1p(max(point, 0))
    return (
        max(_half_up(_expm1(mu - Z * sd)), 0),
        max(_half_up(_expm1(mu + Z * sd)), 0),
    )


def p_meet(point: float, sd: float, target: int | None) -> float | None:
    """P(year-end ≥ target) under the (log-normal) predictive distribution, 2 decimals."""
    if target is None:
        return None
    if sd <= 0:
        return 1.0 if point >= target else 0.0
    mu = math.log1p(max(point, 0.0))
    p = float(norm.sf((math.log1p(max(target, 0)) - mu) / sd))
    return float(Decimal(repr(p)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def indicator(
    *, scheme: str, participants: int, target: int | None, fc: dict[str, Any] | None
) -> dict[str, Any]:
    """One forecast indicator of SPEC section 11."""
    if fc is None:
        fc = {"point": participants, "sd": 0.0, "method": "trend", "history": 0}
    point = int(fc["point"])
    low, high = bounds(point, float(fc["sd"]))
    return {
        "code": scheme,
        "participants": participants,
        "target": target,
        "forecast": point,
        "low": low,
        "high": high,
        "interval": INTERVAL,
        "p_meet_target": p_meet(point, float(fc["sd"]), target),
        "method": fc["method"],
        "history_months": int(fc["history"]),
    }


def _participants(*, root: Unit, as_of: dt.date) -> dict[str, dict[str, int]]:
    """Participants at ``as_of`` of every unit at or below ``root`` (leaf rows summed up)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    paths = dict(unit_subtree(unit=root).values_list("path", "code"))
    for r in leaf_rows(unit=root, as_of=as_of):
        if not r.in_total:
            continue
        parts = r.path.strip("/").split("/")
        for k in range(1, len(parts) + 1):
            p = "/".join(parts[:k]) + "/"
            if p in paths:
                out[paths[p]][r.scheme] += r.participants
    return out


def default_as_of(*, year: int, latest: dt.date | None) -> dt.date:
    """The latest data date, but never after 31 December of ``year``."""
    end = dt.date(year, 12, 31)
    return end if latest is None or latest > end else latest


def forecast_figures(
    *,
    unit: Unit,
    year: int,
    as_of: dt.date,
    by: str | None = None,
    actor: Actor,
    version: str | None = None,
) -> dict[str, Any]:
    """The JSON of ``ansinh kpi forecast`` / ``GET /api/forecast`` (SPEC section 11)."""
    if not unit_in_scope(actor=actor, unit=unit):
        raise Http404
    if by not in (None, "unit"):
        raise ValueError(by)
    if as_of.year > year:
        raise ForecastError(
            _msg_after(year=year, as_of=as_of),
        )
    if year > as_of.year + 1:
        raise ForecastError(
            _("Chỉ dự báo được đến hết năm sau năm của ngày số liệu (%(y)s)")
            % {"y": as_of.year + 1}
        )
    tree = _tree_for(unit=unit, year=year, as_of=as_of, version=version)
    participants = _participants(root=unit, as_of=as_of)
    targets = target_tree(unit=unit, year=year)

    def items(code: str) -> list[dict[str, Any]]:
        out = []
        for s in SCHEME_CODES:
            target = figures.target_int(targets.get(code, {}).get(s))
            out.append(
                indicator(
                    scheme=s,
                    participants=participants.get(code, {}).get(s, 0),
                    target=target,
                    fc=tree["units"].get(code, {}).get(s),
                )
            )
        return suppress_rows(out, actor=actor, kind="forecast")

    head = {"year": year, "as_of": as_of.isoformat(), "unit": unit.code}
    if by is None:
        return {**head, "indicators": items(unit.code)}
    children = unit_children(unit=unit).values_list("code", flat=True)
    return {**head, "rows": [{"unit": c, "indicators": items(c)} for c in children]}


def _msg_after(*, year: int, as_of: dt.date) -> str:
    return _("Ngày %(d)s đã sau năm %(y)s: năm đó đã khép lại, hãy xem số liệu thực tế") % {
        "d": fmt_date(as_of),
        "y": year,
    }


def straight_line(values: list[int], *, horizon: int) -> float | None:
    """The dashboard's former method, kept as the backtest's yardstick: a least-squares line
    through the last (up to 6, at least 3) month-ends, extended ``horizon`` months."""
    pts = [float(v) for v in values[-6:]]
    if len(pts) < 3:
        return None
    x = np.arange(len(pts), dtype=float)
    slope, _intercept = np.polyfit(x, np.asarray(pts), 1)
    return max(pts[-1] + float(slope) * horizon, 0.0)


def _pct(x: float) -> float:
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def backtest(*, unit: Unit) -> dict[str, Any]:
    """How the forecast would have done: for every past year with history on 30 September
    and 31 December, the forecast from 30 September against the figure of 31 December, for
    ``unit`` and every unit below it with data. Per year and scheme: mean absolute percentage
    error (``mape``), the share of units whose December figure fell inside the 80 % interval
    (``interval_hit_pct``), and the straight line's error (``straight_line_mape``); the rows
    of ``year`` null add up all years."""
    latest = data_as_of()
    if latest is None:
        return {"unit": unit.code, "interval": INTERVAL, "from_month": 9, "rows": []}
    dates, series = history(root=unit, until=latest)
    have = set(dates)
    years = sorted(
        y
        for y in {d.year for d in dates}
        if dt.date(y, 9, 30) in have and dt.date(y, 12, 31) in have
    )
    paths = dict(unit_subtree(unit=unit).values_list("path", "code"))
    leaves = sorted(p for p in series if p in paths)
    members = _members(unit, leaves)
    acc: dict[tuple[int | None, str], list[tuple[float, bool, float | None]]] = defaultdict(list)
    for y in years:
        sep, dec = dates.index(dt.date(y, 9, 30)), dates.index(dt.date(y, 12, 31))
        tree = forecast_tree(root=unit, year=y, as_of=dt.date(y, 9, 30), data=(dates, series))
        for p, ls in members.items():
            code = paths[p]
            for s in SCHEME_CODES:
                total = [sum(v) for v in zip(*(series[leaf][s] for leaf in ls), strict=True)]
                actual = total[dec]
                fc = tree["units"].get(code, {}).get(s)
                if actual <= 0 or fc is None or fc["history"] < 3:
                    continue
                low, high = bounds(fc["point"], fc["sd"])
                hit = low <= actual <= high
                line = straight_line(total[: sep + 1], horizon=3)
                err = abs(fc["point"] - actual) / actual
                line_err = None if line is None else abs(line - actual) / actual
                for key in ((y, s), (None, s)):
                    acc[key].append((err, hit, line_err))
    rows = []
    for (yr, sch), vals in sorted(
        acc.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or 0, kv[0][1])
    ):
        lines = [v[2] for v in vals if v[2] is not None]
        rows.append(
            {
                "year": yr,
                "scheme": sch,
                "units": len(vals),
                "mape": _pct(100 * sum(v[0] for v in vals) / len(vals)),
                "interval_hit_pct": _pct(100 * sum(v[1] for v in vals) / len(vals)),
                "straight_line_mape": _pct(100 * sum(lines) / len(lines)) if lines else None,
            }
        )
    return {"unit": unit.code, "interval": INTERVAL, "from_month": 9, "rows": rows}


def _tree_for(*, unit: Unit, year: int, as_of: dt.date, version: str | None) -> dict[str, Any]:
    root = Unit.objects.filter(parent__isnull=True, path=unit.path.split("/")[0] + "/").first()
    return forecast_tree_cached(
        root=root or unit, year=year, as_of=as_of, version=version or data_version()
    )


def fan(
    *, unit: Unit, scheme: str, year: int, as_of: dt.date, version: str | None = None
) -> list[dict[str, Any]]:
    """The forecast of ``unit`` and ``scheme`` at each month-end after its history up to
    31 December of ``year`` (the chart's fan): ``[{"date", "forecast", "low", "high"}]``, the
    last point equal to the reconciled year-end forecast."""
    tree = _tree_for(unit=unit, year=year, as_of=as_of, version=version)
    fc = tree["units"].get(unit.code, {}).get(scheme)
    last = tree["history_end"]
    if fc is None or last is None:
        return []
    dates, series = history(root=unit, until=min(as_of, dt.date(year, 12, 31)))
    total = [sum(v) for v in zip(*(sch[scheme] for sch in series.values()), strict=True)]
    horizon = max(_months_between(last, dt.date(year, 12, 31)), 0)
    if not total or horizon == 0:
        return []
    weights = np.asarray(tree["weights"].get(scheme, DEFAULT_WEIGHTS))
    path = fit_path(total, horizon=horizon, weights=weights)
    # the unit's own path, moved (on the log scale) to end on the reconciled figure
    shift = math.log1p(int(fc["point"])) - math.log1p(max(path[-1].point, 0.0))
    out = []
    day = last
    for k, f in enumerate(path):
        day = month_end_after(day)
        point = (
            int(fc["point"])
            if k == len(path) - 1
            else _half_up(_expm1(math.log1p(max(f.point, 0.0)) + shift))
        )
        low, high = bounds(point, float(fc["sd"]) if k == len(path) - 1 else f.sd)
        out.append({"date": day.isoformat(), "forecast": point, "low": low, "high": high})
    return out


def month_end_after(day: dt.date) -> dt.date:
    """The month-end of the month after ``day``'s."""
    first = dt.date(day.year + (day.month == 12), 1 if day.month == 12 else day.month + 1, 1)
    return dt.date(
        first.year + (first.month == 12), 1 if first.month == 12 else first.month + 1, 1
    ) - dt.timedelta(days=1)


def at_risk(
    *,
    unit: Unit,
    year: int,
    as_of: dt.date,
    actor: Actor,
    version: str | None = None,
    scheme: str | None = None,
) -> list[dict[str, Any]]:
    """Early warning: the communes at or below ``unit`` (or its children where it has no
    communes) whose probability of reaching a scheme's target is below 50 %, least likely
    first, each with what it would take per month beyond what the forecast brings in."""
    tree = _tree_for(unit=unit, year=year, as_of=as_of, version=version)
    units = list(
        unit_subtree(unit=unit)
        .filter(level=Unit.Level.COMMUNE)
        .order_by("code")
        .values_list("code", "name")
    )
    if not units:
        units = [(unit.code, unit.name)]
    targets = target_tree(unit=unit, year=year)
    participants = _participants(root=unit, as_of=as_of)
    out = []
    for code, name in units:
        for s in SCHEME_CODES if scheme is None else (scheme,):
            target = figures.target_int(targets.get(code, {}).get(s))
            if target is None:
                continue
            item = indicator(
                scheme=s,
                participants=participants.get(code, {}).get(s, 0),
                target=target,
                fc=tree["units"].get(code, {}).get(s),
            )
            if item["p_meet_target"] is None or item["p_meet_target"] >= 0.5:
                continue
            item = suppress_rows([item], actor=actor, kind="forecast")[0]
            out.append(
                {
                    "unit": code,
                    "name": name,
                    **item,
                    "shortfall": None
                    if not isinstance(item["forecast"], int)
                    else max(target - item["forecast"], 0),
                    "per_month": required_per_month(item, as_of=as_of),
                }
            )
    out.sort(key=lambda i: (i["p_meet_target"] or 0.0, -(i["shortfall"] or 0), i["unit"]))
    return out


def forecast_shortfalls(
    *, unit: Unit, year: int, as_of: dt.date, version: str | None = None
) -> dict[str, dict[str, int]]:
    """For every unit at or below ``unit`` with a forecast and a target of ``year``:
    ``{code: {scheme: target − forecast}}`` where the forecast falls short (the plan builder's
    "what will not come in by itself"). Empty when ``as_of`` is after ``year``."""
    if as_of.year > year:
        return {}
    tree = _tree_for(unit=unit, year=year, as_of=as_of, version=version)
    targets = target_tree(unit=unit, year=year)
    out: dict[str, dict[str, int]] = {}
    for code, schemes in tree["units"].items():
        if code not in targets:
            continue
        for s, fc in schemes.items():
            target = figures.target_int(targets[code].get(s))
            if target is not None and target > int(fc["point"]):
                out.setdefault(code, {})[s] = target - int(fc["point"])
    return out


def required_per_month(item: dict[str, Any], *, as_of: dt.date) -> int | None:
    """What it would take per month beyond the forecast to reach the target: the shortfall
    (target − forecast) spread over the months left; None without a target or shortfall."""
    target, point = item.get("target"), item.get("forecast")
    if not isinstance(target, int) or not isinstance(point, int) or point >= target:
        return None
    left = max(figures.months_left(as_of), 1)
    return math.ceil((target - point) / left)


__all__ = [
    "INTERVAL",
    "ForecastError",
    "at_risk",
    "backtest",
    "fan",
    "default_as_of",
    "fit_series",
    "forecast_figures",
    "forecast_shortfalls",
    "forecast_tree",
    "history",
    "required_per_month",
]
