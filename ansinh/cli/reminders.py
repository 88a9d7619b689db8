"""`ansinh reminders queue|send` — reminders by e-mail, SMS and Zalo ZNS (the outbox).

``queue --kind hi_expiring|lapsed|employer --channel sms|zns|email [--unit CODE]
[--amount N] [--as-of DATE]`` writes the messages (skipped ones say why: no consent, opted
out, no address); ``send [--limit N]`` sends what is queued (for cron; safe to run twice at
once). Exit codes: 0 done (one line of counts; messages that wait for a retry are no error);
1 refused (an unknown unit); 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM


def add_parser(sub: Any) -> None:
    p = sub.add_parser("reminders", help=_("tin nhắc qua e-mail, SMS, Zalo ZNS"))
    psub = p.add_subparsers(dest="reminders_command", required=True, parser_class=type(p))
    q = psub.add_parser("queue", help=_("lập các tin nhắc vào hàng đợi"))
    q.add_argument("--kind", required=True, choices=["hi_expiring", "lapsed", "employer"])
    q.add_argument("--channel", required=True, choices=["sms", "zns", "email"])
    q.add_argument("--unit", default=None, metavar="CODE")
    q.add_argument("--amount", default=None, metavar="VND")
    q.add_argument("--as-of", dest="as_of", default=None, metavar="DATE")
    q.set_defaults(func=run_queue)
    s = psub.add_parser("send", help=_("gửi các tin đang chờ trong hàng đợi"))
    s.add_argument("--limit", type=int, default=None, metavar="N")
    s.set_defaults(func=run_send)


def run_queue(args: argparse.Namespace) -> int:
    from ansinh.arrears.reminders import outbox_queue
    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg
    from ansinh.geography.models import Unit

    unit = None
    if args.unit:
        unit = Unit.objects.filter(code=args.unit).first()
        if unit is None:
            raise CliError(_("--unit: không có đơn vị mã %(c)s") % {"c": args.unit})
    amount = None
    if args.amount:
        digits = args.amount.replace(".", "").replace(",", "").replace(" ", "")
        if not digits.isdigit():
            raise CliError(
                _("--amount: %(v)s không phải số tiền nguyên (đồng)") % {"v": args.amount},
                code=2,
            )
        amount = int(digits)
    as_of = parse_date_arg(args.as_of, flag="--as-of") if args.as_of else None
    result = outbox_queue(
        actor=SYSTEM, kind=args.kind, channel=args.channel, unit=unit, amount=amount, as_of=as_of
    )
    sys.stdout.write(
        _("reminders queue: %(q)d vào hàng đợi, %(s)d bỏ qua, %(a)d đã có từ trước")
        % {"q": result["queued"], "s": result["skipped"], "a": result["already"]}
        + "\n"
    )
    return 0


def run_send(args: argparse.Namespace) -> int:
    from ansinh.arrears.reminders import outbox_send

    result = outbox_send(actor=SYSTEM, limit=args.limit)
    sys.stdout.write(
        _("reminders send: đã gửi %(s)d, chờ gửi lại %(r)d, lỗi %(f)d, bỏ qua %(k)d")
        % {"s": result["sent"], "r": result["retry"], "f": result["failed"], "k": result["skipped"]}
        + "\n"
    )
    return 0
