"""`ansinh kpi` — the figures of SPEC section 3; `--rebuild` rebuilds the stored snapshot;
`ansinh kpi forecast --year Y` the year-end forecast of SPEC section 11 (`--backtest`: how
well it would have done in past years)."""

from __future__ import annotations

import argparse
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM

# indicator fields in output order (CSV/table: one line per (row,) indicator)
FIELDS = (
    "participants",
    "target",
    "attainment_pct",
    "gap",
    "required_per_month",
    "population",
    "coverage_pct",
    "target_pct",
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("kpi", help=_("các chỉ tiêu phát triển người tham gia (SPEC mục 3)"))
    p.add_argument(
        "action",
        nargs="?",
        choices=["forecast"],
        help=_("forecast: dự báo số người tham gia cuối năm (SPEC mục 11)"),
    )
    p.add_argument("--year", type=int, metavar="Y", help=_("năm dự báo (với forecast)"))
    p.add_argument(
        "--backtest",
        action="store_true",
        help=_("với forecast: dự báo lại từng năm đã qua từ tháng 9 và so với tháng 12"),
    )
    p.add_argument("--as-of", dest="as_of", help=_("ngày tính (YYYY-MM-DD)"))
    p.add_argument("--unit", help=_("mã đơn vị (mặc định: tỉnh)"))
    p.add_argument("--by", choices=["unit", "group"], help=_("chia theo đơn vị con hoặc nhóm"))
    p.add_argument("--format", choices=["json", "csv", "table"], default="json")
    p.add_argument(
        "--rebuild", action="store_true", help=_("tính lại toàn bộ số liệu đã lưu từ dữ liệu gốc")
    )
    p.set_defaults(func=run, _parser=p)


def _headers(by: str | None, localized: bool) -> list[str]:
    key = [] if by is None else [by]
    if not localized:
        return [*key, "indicator", *FIELDS]
    names = {
        "unit": _("Đơn vị"),
        "group": _("Nhóm đối tượng"),
        "indicator": _("Chỉ tiêu"),
        "participants": _("Người tham gia"),
        "target": _("Kế hoạch"),
        "attainment_pct": _("% kế hoạch"),
        "gap": _("Còn thiếu"),
        "required_per_month": _("Cần mỗi tháng"),
        "population": _("Dân số"),
        "coverage_pct": _("% bao phủ"),
        "target_pct": _("% bao phủ giao"),
    }
    return [names[h] for h in [*key, "indicator", *FIELDS]]


def _lines(result: dict[str, Any], by: str | None) -> list[list[Any]]:
    blocks = (
        [([], result["indicators"])]
        if by is None
        else [([row[by]], row["indicators"]) for row in result["rows"]]
    )
    out = []
    for key, items in blocks:
        for item in items:
            out.append([*key, item["code"], *[item.get(f) for f in FIELDS]])
    return out


def run(args: argparse.Namespace) -> int:
    from ansinh.cli.common import parse_date_arg, print_csv, print_json, print_table, resolve_unit

    if args.action == "forecast":
        return run_forecast(args)
    if args.year is not None or args.backtest:
        args._parser.error(_("--year và --backtest chỉ dùng với “kpi forecast”"))
    if args.rebuild:
        from ansinh.monitoring.services import snapshot_rebuild

        rows = snapshot_rebuild()
        if args.format == "json":
            print_json({"rebuilt": True, "rows": rows})
        else:
            print(_("Đã tính lại số liệu: %(rows)s dòng") % {"rows": rows})
        return 0
    if not args.as_of:
        args._parser.error(_("--as-of là bắt buộc (hoặc --rebuild)"))
    as_of = parse_date_arg(args.as_of, flag="--as-of")
    unit = resolve_unit(args.unit)

    from ansinh.monitoring.selectors import kpi_figures

    result = kpi_figures(unit=unit, as_of=as_of, by=args.by, actor=SYSTEM)
    if args.format == "json":
        print_json(result)
    elif args.format == "csv":
        print_csv(_headers(args.by, False), _lines(result, args.by))
    else:
        print_table(_headers(args.by, True), _lines(result, args.by))
    return 0


FORECAST_FIELDS = (
    "participants",
    "target",
    "forecast",
    "low",
    "high",
    "interval",
    "p_meet_target",
    "method",
    "history_months",
)
BACKTEST_FIELDS = (
    "year",
    "scheme",
    "units",
    "mape",
    "interval_hit_pct",
    "straight_line_mape",
)


def _forecast_headers(by: str | None, localized: bool) -> list[str]:
    key = [] if by is None else ["unit"]
    if not localized:
        return [*key, "indicator", *FORECAST_FIELDS]
    names = {
        "unit": _("Đơn vị"),
        "indicator": _("Chỉ tiêu"),
        "participants": _("Người tham gia"),
        "target": _("Kế hoạch"),
        "forecast": _("Dự báo cuối năm"),
        "low": _("Thấp"),
        "high": _("Cao"),
        "interval": _("Khoảng tin cậy (%)"),
        "p_meet_target": _("Xác suất đạt kế hoạch"),
        "method": _("Phương pháp"),
        "history_months": _("Số tháng lịch sử"),
    }
    return [names[h] for h in [*key, "indicator", *FORECAST_FIELDS]]


def run_forecast(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg, print_csv, print_json, print_table, resolve_unit
    from ansinh.monitoring import forecast
    from ansinh.monitoring.selectors import data_as_of

    if args.rebuild:
        args._parser.error(_("--rebuild không dùng với “kpi forecast”"))
    if args.by not in (None, "unit"):
        args._parser.error(_("kpi forecast: --by chỉ nhận “unit”"))
    unit = resolve_unit(args.unit)
    if args.backtest:
        result = forecast.backtest(unit=unit)
        if args.format == "json":
            print_json(result)
        else:
            lines = [
                [str(r["year"] or _("mọi năm")), *[r[f] for f in BACKTEST_FIELDS[1:]]]
                for r in result["rows"]
            ]
            (print_csv if args.format == "csv" else print_table)(list(BACKTEST_FIELDS), lines)
        return 0
    if args.year is None:
        args._parser.error(_("kpi forecast: --year là bắt buộc"))
    latest = data_as_of()
    if args.as_of:
        as_of = parse_date_arg(args.as_of, flag="--as-of")
    else:
        as_of = forecast.default_as_of(year=args.year, latest=latest)
    try:
        result = forecast.forecast_figures(
            unit=unit, year=args.year, as_of=as_of, by=args.by, actor=SYSTEM
        )
    except forecast.ForecastError as exc:
        raise CliError(str(exc)) from None
    if args.format == "json":
        print_json(result)
        return 0
    blocks = (
        [([], result["indicators"])]
        if args.by is None
        else [([row["unit"]], row["indicators"]) for row in result["rows"]]
    )
    lines = [
        [*key, item["code"], *[item.get(f) for f in FORECAST_FIELDS]]
        for key, items in blocks
        for item in items
    ]
    if args.format == "csv":
        print_csv(_forecast_headers(args.by, False), lines)
    else:
        print_table(_forecast_headers(args.by, True), lines)
    return 0
