"""Matplotlib charts of the progress report as PNG bytes (object API with the Agg canvas:
no pyplot state, safe in threads)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils.translation import gettext as _
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ansinh.core.formats import fmt_int, fmt_pct
from ansinh.reports.progress import SCHEMES, ProgressReport, scheme_label

BLUE = "#1f5fa8"
RED = "#c0392b"
GREEN = "#2e8b57"
GREY = "#8a8f98"


def _png(fig: Figure, dpi: int = 150) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def trend_chart(report: ProgressReport, lang: str) -> bytes:
    """Participants at each month-end against the year's target, one panel per scheme."""
    fig = Figure(figsize=(7.2, 4.8))
    axes = fig.subplots(2, 2)
    fmt = FuncFormatter(lambda v, _pos: fmt_int(int(v), lang=lang))
    by_code = report.scheme_by_code
    for ax, scheme in zip(axes.flat, SCHEMES, strict=True):
        series = report.trend.get(scheme, [])
        xs = [d for d, _n in series]
        ys = [n for _d, n in series]
        ax.plot(xs, ys, color=BLUE, marker="o", markersize=2.5, linewidth=1.6, label=_("Tham gia"))
        target = by_code[scheme].target if scheme in by_code else None
        if target is not None:
            ax.axhline(target, color=RED, linestyle="--", linewidth=1.1, label=_("Kế hoạch năm"))
        ax.set_title(scheme_label(scheme), fontsize=9)
        ax.yaxis.set_major_formatter(fmt)
        ax.tick_params(labelsize=7)
        ax.grid(True, color="#e3e6ea", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if xs:
            ax.set_xticks(xs[:: max(len(xs) // 6, 1)])
            ax.set_xticklabels([d.strftime("%m/%y") for d in xs[:: max(len(xs) // 6, 1)]])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[1:]:
        h, labs = ax.get_legend_handles_labels()
        for hh, ll in zip(h, labs, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return _png(fig)


def attainment_chart(report: ProgressReport, lang: str) -> bytes:
    """% of the year's plan per scheme (bars) against the 100 % line, plus HI coverage."""
    labels: list[str] = []
    values: list[float] = []
    for s in report.schemes:
        if s.attainment_pct is not None:
            labels.append(scheme_label(s.code))
            values.append(float(s.attainment_pct))
    cov = report.coverage
    cov_target = None
    if cov is not None and cov.coverage_pct is not None:
        labels.append(_("Bao phủ BHYT"))
        values.append(float(cov.coverage_pct))
        cov_target = cov.target_pct
    fig = Figure(figsize=(7.2, 2.8))
    ax = fig.subplots()
    if values:
        colours = [GREEN if v >= 100 else BLUE for v in values]
        if cov_target is not None:
            colours[-1] = GREEN if Decimal(str(values[-1])) >= cov_target else BLUE
        bars = ax.barh(labels, values, color=colours, height=0.55)
        ax.axvline(100, color=RED, linestyle="--", linewidth=1.1)
        for bar, v in zip(bars, values, strict=True):
            ax.text(
                bar.get_width() + 1.5,
                bar.get_y() + bar.get_height() / 2,
                fmt_pct(v, lang=lang),
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, max(max(values), 100) * 1.18)
        ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_pct(v, places=0, lang=lang)))
    ax.set_title(_("Tỷ lệ hoàn thành kế hoạch năm"), fontsize=9)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)
