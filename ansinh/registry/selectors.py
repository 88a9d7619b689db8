"""Reads of people and their participation spells (SPEC section 4: masked per role, audited).

``person_get`` is the one door to a person's data for the pages and the API:

- ``admin`` and ``province`` see anyone; ``office`` a person with a spell (or an attendance)
  in its units, and only the spells of its units;
- ``partner`` only its own attendees (activities its organisation leads, within its unit),
  always masked, without their spells;
- ``viewer`` nobody.

Everything else answers ``None`` (the caller answers 404, as for a missing record). Every view
writes an audit row: ``person.view`` (masked) or ``person.unmask`` (person data shown in full).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q

from ansinh.accounts.access import (
    Actor,
    actor_org,
    can_see_people,
    can_unmask,
    mask_date,
    mask_id,
    mask_name,
    mask_phone,
    may,
    org_scoped,
    unit_filter,
)
from ansinh.core.services import audit_record
from ansinh.registry.models import Person, Spell


def _partner_attendance_q(actor: Actor) -> Q:
    """A partner's own attendees: those of the activities its organisation leads, within
    its unit when it has one (the activities whose attendee list its pages show). Attendees
    of activities it only coordinates are not its own."""
    q = Q(activity__lead_org=getattr(actor, "org", ""))
    unit = getattr(actor, "unit", None)
    if unit is not None:
        q &= Q(activity__unit__path__startswith=unit.path)
    return q


def _attendances(actor: Actor, person_id: str) -> Any:
    # outreach sits above registry in the layers; the model is read through the app registry

    attendee = apps.get_model("outreach", "Attendee")
    return attendee.objects.filter(person_id=person_id)


def person_get(
    *, actor: Actor, person_id: str, unmask: bool = False, ip: str | None = None
) -> dict[str, Any] | None:
    """The person with their spells as a dict, masked unless ``unmask`` (for the roles that
    may), or None when the actor may not see them (answered as 404)."""
    if org_scoped(actor):
        org = actor_org(actor)
        if not org:
            return None
        att = (
            _attendances(actor, person_id)
            .filter(_partner_attendance_q(actor))
            .order_by("-activity__date", "-id")
            .first()
        )
        if att is None:
            return None
        person = Person.objects.filter(person_id=person_id).first()
        spells_qs = Spell.objects.none()  # no person data beyond the attendee (SPEC 4)
        unmask = False
        base = person or Person(person_id=person_id, full_name=att.full_name, phone=att.phone)
    elif can_see_people(actor):
        person = Person.objects.filter(person_id=person_id).first()
        scope = unit_filter(actor)
        spells_qs = Spell.objects.filter(person_id=person_id).filter(scope)
        if person is None:
            return None
        if not may(actor, "see_all_units") and not spells_qs.exists():
            # an office sees a person without a spell of its units only as its attendee
            mine = _attendances(actor, person_id).filter(unit_filter(actor, "activity__unit"))
            if not mine.exists():
                return None
        base = person
        unmask = bool(unmask) and can_unmask(actor)
    else:
        return None

    spells = [
        {
            "scheme": s.scheme,
            "group": s.group,
            "unit": s.unit_id,
            "start_date": s.start_date.isoformat(),
            "end_date": s.end_date.isoformat() if s.end_date else None,
            "employer_code": s.employer_code or None,
        }
        for s in spells_qs.order_by("scheme", "start_date", "unit_id")
    ]
    if unmask:
        data = {
            "person_id": base.person_id,
            "full_name": base.full_name,
            "birth_date": base.birth_date.isoformat() if base.birth_date else None,
            "sex": base.sex,
            "phone": base.phone,
            "household_id": base.household_id,
            "masked": False,
            "spells": spells,
        }
    else:
        data = {
            "person_id": base.person_id,
            "full_name": mask_name(base.full_name),
            "birth_date": mask_date(base.birth_date) or None,
            "sex": base.sex,
            "phone": mask_phone(base.phone),
            "household_id": mask_id(base.household_id),
            "masked": True,
            "spells": spells,
        }
    audit_record(
        actor=actor,
        action="person.unmask" if unmask else "person.view",
        object_type="person",
        object_id=person_id,
        ip=ip,
    )
    return data
