"""`ansinh generate` — SPEC section 1: write a synthetic, realistic province in the formats of
SPEC section 2 (calibrated to the demo province; scale 1.0 ≈ 1.9 million residents)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _


def add_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help=_("tạo bộ dữ liệu tổng hợp (định dạng SPEC mục 2)"))
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--scale", type=float, default=1.0, help=_("1.0 ≈ 1,9 triệu dân"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--messy",
        action="store_true",
        help=_(
            "tệp tham gia như các đơn vị gửi: xáo trộn dòng, các giai đoạn chồng lấn, trùng "
            "ngày bắt đầu; kèm tệp gửi lại có một phần trăm số dòng thay đổi"
        ),
    )
    p.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.demo.generate import generate

    if not 0 < args.scale <= 10:
        raise CliError(_("--scale: phải lớn hơn 0 và không quá 10"), code=2)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(_("--out: “%(p)s” không phải là thư mục") % {"p": out})
    began = time.monotonic()
    try:
        rows = generate(out, scale=args.scale, seed=args.seed, messy=args.messy)
    except OSError as exc:
        raise CliError(_("--out: không ghi được “%(p)s”: %(e)s") % {"p": out, "e": exc}) from None
    for kind, n in rows.items():
        size = (out / f"{kind}.csv").stat().st_size
        print(
            _("%(file)s: %(n)s dòng, %(mb).1f MB")
            % {"file": out / f"{kind}.csv", "n": n, "mb": size / 1e6}
        )
    print(
        _("Đã ghi %(n)s tệp (quy mô %(s)s, hạt giống %(seed)s) trong %(t).1f giây.")
        % {"n": len(rows), "s": args.scale, "seed": args.seed, "t": time.monotonic() - began}
    )
    return 0
