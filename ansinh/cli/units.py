"""`ansinh units official --province CODE [--legacy]` — SPEC section 9."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts.access import SYSTEM


def add_parser(sub: Any) -> None:
    p = sub.add_parser("units", help=gettext_lazy("danh mục đơn vị hành chính"))
    s = p.add_subparsers(dest="units_cmd", required=True)
    o = s.add_parser(
        "official",
        help=gettext_lazy(
            "nạp các đơn vị cấp xã chính thức của một tỉnh (Quyết định 19/2025/QĐ-TTg)"
        ),
    )
    o.add_argument("--province", required=True, metavar="CODE", help=gettext_lazy("mã tỉnh, vd 56"))
    o.add_argument(
        "--legacy",
        action="store_true",
        help=gettext_lazy(
            "thêm các huyện, xã còn hiệu lực đến 30/06/2025 và đơn vị kế thừa của từng xã cũ"
        ),
    )
    o.set_defaults(func=run_official)


def run_official(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.geography.services import units_official_load

    result = units_official_load(actor=SYSTEM, province=args.province.strip(), legacy=args.legacy)
    if result is None:
        raise CliError(
            _("--province: danh mục chính thức không có tỉnh mã “%(code)s”")
            % {"code": args.province}
        )
    total = result.created + result.updated + result.unchanged
    lines = [
        _(
            "units official %(code)s (%(name)s): %(n)s đơn vị, tạo mới %(c)s, "
            "cập nhật %(u)s, không đổi %(s)s"
        )
        % {
            "code": result.province,
            "name": result.name,
            "n": total,
            "c": result.created,
            "u": result.updated,
            "s": result.unchanged,
        }
    ]
    if args.legacy:
        legacy_total = result.legacy_created + result.legacy_updated + result.legacy_unchanged
        lines.append(
            _(
                "đơn vị đến 30/06/2025: %(n)s đơn vị, tạo mới %(c)s, cập nhật %(u)s, "
                "không đổi %(s)s; xã cũ được gán đơn vị kế thừa: %(k)s"
            )
            % {
                "n": legacy_total,
                "c": result.legacy_created,
                "u": result.legacy_updated,
                "s": result.legacy_unchanged,
                "k": result.successors_created,
            }
        )
    for line in lines:
        sys.stdout.write(line + "\n")
    if result.not_official:
        sys.stderr.write(
            _("cảnh báo: %(n)s xã trong cây đơn vị không có trong danh mục chính thức: %(codes)s")
            % {"n": len(result.not_official), "codes": ", ".join(result.not_official)}
            + "\n"
        )
    return 0
