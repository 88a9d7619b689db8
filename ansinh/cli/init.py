from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("init", help="create or migrate the database (idempotent)")
    p.set_defaults(func=run)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    migrate()
    print(f"ansinh: database ready ({connection.vendor}: {connection.settings_dict['NAME']})")
    return 0
