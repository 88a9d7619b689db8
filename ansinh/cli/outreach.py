"""`ansinh outreach` — see SPEC section 1. (Being written.)"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("outreach")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError

    raise CliError("not yet available")
