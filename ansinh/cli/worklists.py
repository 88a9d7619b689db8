"""`ansinh worklists sync [--as-of DATE]` — bring the follow-up worklists up to date (for cron).

Imports of participations, contributions and employers already do it in their own job; this
command is the daily refresh without any import (cards expire and lapse as days pass).
Exit codes (SPEC section 1): 0 done; 1 refused (a date after today; nothing written);
2 wrong usage (a malformed date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM


def add_parser(sub: Any) -> None:
    p = sub.add_parser("worklists", help=_("danh sách theo dõi, vận động"))
    psub = p.add_subparsers(dest="worklists_command", required=True, parser_class=type(p))
    s = psub.add_parser(
        "sync",
        help=_(
            "lập / cập nhật các danh sách theo dõi tại ngày dữ liệu (mặc định: ngày dữ liệu "
            "mới nhất đã nhập)"
        ),
    )
    s.add_argument("--as-of", dest="as_of", default=None, metavar="DATE")
    s.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from ansinh.arrears.selectors import data_date
    from ansinh.arrears.services import followup_sync
    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg

    if args.as_of:
        as_of = parse_date_arg(args.as_of, flag="--as-of")
        if as_of > dt.date.today():
            raise CliError(
                _("--as-of: ngày %(d)s còn ở tương lai; danh sách lập theo dữ liệu đã có")
                % {"d": as_of.isoformat()}
            )
    else:
        as_of = data_date()
    result = followup_sync(as_of=as_of, source="cli", actor=SYSTEM)
    sys.stdout.write(
        _(
            "worklists %(d)s: %(a)d sắp hết hạn, %(b)d ngừng tham gia, %(c)d hộ gia đình, "
            "%(e)d đơn vị chậm đóng mới; %(x)d mục đã đóng"
        )
        % {
            "d": as_of.isoformat(),
            "a": result["hi_expiring"],
            "b": result["lapsed"],
            "c": result["household"],
            "e": result["employer_overdue"],
            "x": result["closed"],
        }
        + "\n"
    )
    return 0
