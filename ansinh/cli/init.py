from __future__ import annotations

import argparse
from typing import Any

from django.utils.translation import gettext as _


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "init", help=_("tạo hoặc cập nhật cấu trúc cơ sở dữ liệu (chạy lại không sao)")
    )
    p.set_defaults(func=run)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def ensure_database() -> None:
    """Create the schema on first use (SPEC section 1: the database is "created on first
    use"), so that any command works on a fresh ``ANSINH_HOME`` or an empty PostgreSQL
    database; ``ansinh init`` stays the way to migrate an existing one."""
    from django.db import connection

    if "django_migrations" not in connection.introspection.table_names():
        migrate()


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    migrate()
    print(
        _("ansinh: cơ sở dữ liệu sẵn sàng (%(vendor)s: %(name)s)")
        % {"vendor": connection.vendor, "name": connection.settings_dict["NAME"]}
    )
    return 0
