"""Small ORM-built worlds for the API, accounts and security tests.

Tree: KH (province) → O1 (office) → C1, C2 (communes); KH → O2 → C3.
One login per role: admin, prov (province), off1 (office O1), off2 (office O2),
partner (womens_union), viewer (commune C1). Persons: P1 in C1 (hi, si_voluntary),
P2 in C3 (hi); P3 attended activity A1 (womens_union, C1) without a spell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "Kh@nhHoa-2025!"


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def unit(code: str, level: str, parent: Any = None, name: str | None = None) -> Any:
    from ansinh.geography.models import Unit

    path = f"{parent.path}{code}/" if parent else f"{code}/"
    depth = parent.depth + 1 if parent else 0
    return Unit.objects.create(
        code=code,
        name=name or f"Đơn vị {code}",
        level=level,
        parent=parent,
        path=path,
        depth=depth,
    )


def build_world(*, tokens: bool = False) -> World:
    from ansinh.accounts.access import SYSTEM
    from ansinh.accounts.services import token_create, user_create
    from ansinh.outreach.models import Activity, Attendee
    from ansinh.registry.models import Person, Spell

    kh = unit("KH", "province", name="Khánh Hòa")
    o1 = unit("O1", "office", kh)
    c1 = unit("C1", "commune", o1)
    unit("C2", "commune", o1)
    o2 = unit("O2", "office", kh)
    c3 = unit("C3", "commune", o2)

    w = World()
    specs = {
        "admin": dict(role="admin"),
        "prov": dict(role="province"),
        "off1": dict(role="office", unit_code="O1"),
        "off2": dict(role="office", unit_code="O2"),
        "partner": dict(role="partner", org="womens_union"),
        "viewer": dict(role="viewer", unit_code="C1"),
    }
    for name, kw in specs.items():
        w.users[name] = user_create(actor=SYSTEM, username=name, password=PASSWORD, **kw)
        if tokens:
            w.tokens[name] = token_create(actor=SYSTEM, user=w.users[name])

    p1 = Person.objects.create(
        person_id="P1",
        full_name="Nguyễn Văn An",
        phone="0901234578",
        birth_date=dt.date(1985, 3, 14),
        sex="M",
        household_id="HH123456",
    )
    p2 = Person.objects.create(person_id="P2", full_name="Trần Thị Bình", phone="0912345699")
    Person.objects.create(person_id="P3", full_name="Lê Văn Cường", phone="0987654321")
    Spell.objects.create(
        person=p1, scheme="hi", group="household", unit=c1, start_date=dt.date(2025, 1, 1)
    )
    Spell.objects.create(
        person=p1,
        scheme="si_voluntary",
        group="freelancer",
        unit=c1,
        start_date=dt.date(2025, 2, 1),
        end_date=dt.date(2025, 12, 31),
    )
    Spell.objects.create(
        person=p2, scheme="hi", group="household", unit=c3, start_date=dt.date(2025, 1, 1)
    )
    a1 = Activity.objects.create(
        code="A1", unit=c1, channel="small_group", date=dt.date(2025, 3, 1), lead_org="womens_union"
    )
    a2 = Activity.objects.create(
        code="A2",
        unit=c3,
        channel="conference",
        date=dt.date(2025, 3, 1),
        lead_org="youth_union",
        coordinating_orgs=["farmers_association"],
    )
    Attendee.objects.create(
        activity=a1, person_id="P3", full_name="Lê Văn Cường", phone="0987654321"
    )
    Attendee.objects.create(activity=a2, person_id="P2")
    return w
