"""Load the demo data set through the import framework and create the demo logins."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM
from ansinh.accounts.models import User
from ansinh.accounts.services import user_create
from ansinh.core.documents import KINDS, register_open
from ansinh.core.models import DocumentRegister
from ansinh.demo.common import LOAD_ORDER
from ansinh.demo.dataset import AS_OF, write_demo
from ansinh.demo.units import PROVINCE_CODE
from ansinh.geography.models import Unit
from ansinh.geography.services import units_official_load
from ansinh.imports.messages import summary_line
from ansinh.imports.run import import_run
from ansinh.outreach.models import Plan
from ansinh.outreach.services import plan_create_draft


class DemoError(RuntimeError):
    """The demo set was refused by the import framework (a bug: it is ours)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str | None
    org: str | None = None


# Fixed demo passwords (they pass Django's validators); printed by `ansinh demo`.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "BienXanh-HonChong-25", "admin", PROVINCE_CODE),
    DemoLogin("tinh", "YenSao-ThapBa-2025", "province", PROVINCE_CODE),
    DemoLogin("coso.khanhson", "TramHuong-DaBan-25", "office", "BHXH-KS"),
    DemoLogin("phunu", "VinhCamRanh-BinhBa-25", "partner", PROVINCE_CODE, "womens_union"),
    DemoLogin("xem.nhatrang", "NuiChua-TanhLinh-25", "viewer", "22366"),
)


def demo_load(*, seed: int = 2025, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the demo files to a temporary folder and import them in order (each one all or
    nothing, with the snapshot refresh of ``import_run``). Raises DemoError on a refusal."""

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ansinh-demo-") as tmp:
        folder = Path(tmp)
        write_demo(folder, seed=seed)
        for kind in LOAD_ORDER:
            if kind != "units" and "units_official" not in results:
                # the units in force until 30 June 2025 and their successors (SPEC section
                # 9), as `ansinh units official --province 56 --legacy` loads them, before
                # the facts: last year's are keyed by the former communes; today's units
                # keep their offices
                began = time.monotonic()
                official = units_official_load(province=PROVINCE_CODE, legacy=True, actor=SYSTEM)
                results["units_official"] = official
                if progress is not None and official is not None:
                    progress(
                        f"units official {PROVINCE_CODE} --legacy: "
                        f"{official.legacy_created + official.legacy_updated} "
                        f"({time.monotonic() - began:.1f} s)"
                    )
            began = time.monotonic()
            result = import_run(
                kind=kind,
                path=folder / f"{kind}.csv",
                display_name=f"demo/{kind}.csv",
                actor=SYSTEM,
            )
            if result.refused:
                lines = [summary_line(result)]
                lines += [
                    _("dòng %(r)s, cột %(c)s: %(m)s") % {"r": e.row, "c": e.column, "m": e.message}
                    for e in result.errors[:20]
                ]
                raise DemoError(lines)
            results[kind] = result
            if progress is not None:
                progress(f"{summary_line(result)} ({time.monotonic() - began:.1f} s)")
    return results


def demo_logins_ensure() -> list[tuple[DemoLogin, bool]]:
    """Create the demo logins that are missing; returns each login and whether it was new."""

    out = []
    for login in DEMO_LOGINS:
        if User.objects.filter(username=login.username).exists():
            out.append((login, False))
            continue
        user_create(
            actor=SYSTEM,
            username=login.username,
            role=login.role,
            unit_code=login.unit,
            org=login.org,
            password=login.password,
        )
        out.append((login, True))
    return out


def demo_registers_ensure() -> int:
    """Open the registers of outgoing documents (plans KH, reports BC, notices TB) of the
    province and of every office, where missing; returns how many were opened."""

    have = set(DocumentRegister.objects.values_list("unit_id", "kind"))
    opened = 0
    for unit in Unit.objects.filter(level__in=["province", "office"], valid_to__isnull=True):
        for kind in KINDS:
            if (unit.code, kind) not in have:
                register_open(actor=SYSTEM, unit=unit, kind=kind)
                opened += 1
    return opened


def demo_plan_ensure() -> Any:
    """A draft communication plan of the province for 2025, drafted by the province login as
    of 30 September 2025 (``dataset.AS_OF``), the start of the year-end peak campaign, from the
    gaps and the forecast, so the plan pages open on a real plan (the list is otherwise
    empty). Only when no plan exists; returns the plan, or None."""

    if Plan.objects.exists():
        return None
    actor = User.objects.filter(username="tinh", is_active=True).first()
    unit = Unit.objects.filter(code=PROVINCE_CODE).first()
    if actor is None or unit is None:
        return None
    return plan_create_draft(actor=actor, unit=unit, year=AS_OF.year, as_of=AS_OF)
