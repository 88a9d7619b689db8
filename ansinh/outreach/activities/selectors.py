"""Reads of activities and attendees, scoped through the access door (DESIGN.md rule 3).

Scope: admin/province (and the command line) see every activity; office and viewer the
activities of their unit's subtree; a partner those its organisation leads or coordinates
(within its unit when it has one). A record outside the scope is a 404, like a missing one.
Attendees (person data): admin/province/office within scope, masked unless asked to unmask;
a partner only those of the activities its organisation leads, always masked; a viewer none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from ansinh.accounts.access import (
    Actor,
    activity_filter,
    activity_units,
    actor_org,
    can_see_people,
    mask_id,
    mask_name,
    mask_phone,
    may,
    org_scoped,
    suppress_cells,
)
from ansinh.accounts.access import can_unmask as access_can_unmask
from ansinh.geography.models import Unit
from ansinh.outreach.conversions import activity_conversions
from ansinh.outreach.models import Activity, Attendee, Campaign, Plan, PlanItem

DUPLICATE_WINDOW_DAYS = 7


def scoped_activities(actor: Actor) -> QuerySet[Activity]:
    """Every activity the actor may see (decided by ``access.activity_filter``)."""
    return activity_filter(Activity.objects.all(), actor=actor)


def actor_units(actor: Actor) -> QuerySet[Unit]:
    """The units where the actor may record or look at activities (``access.activity_units``)."""
    return activity_units(actor)


def activity_list(
    *,
    actor: Actor,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    channel: str = "",
    unit: Unit | None = None,
) -> QuerySet[Activity]:
    """The actor's activities, filtered, newest first, with their unit and attendee count
    (one query)."""
    qs = scoped_activities(actor)
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    if channel:
        qs = qs.filter(channel=channel)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return (
        qs.select_related("unit")
        .annotate(n_attendees=Count("attendees", filter=Q(attendees__deleted_at__isnull=True)))
        .order_by("-date", "code")
    )


ACTIVITY_CELLS = ("planned_reach", "reach", "leads", "registrations", "vssid_installs", "cost")


def activity_cells(*, actor: Actor, activity: Activity) -> dict[str, Any]:
    """An activity's reported figures as the actor may see them (small cells for viewers and
    partners, ``accounts.access`` kind ``activity``), with its attendee count when listed."""
    cells = {k: getattr(activity, k) for k in ACTIVITY_CELLS}
    if hasattr(activity, "n_attendees"):
        cells["n_attendees"] = activity.n_attendees
    return suppress_cells(cells, actor=actor, kind="activity")


def activity_get(*, actor: Actor, code: str) -> Activity:
    """The activity if the actor may see it; Http404 otherwise (exactly as a missing one)."""
    activity = scoped_activities(actor).select_related("unit", "campaign").filter(code=code).first()
    if activity is None:
        raise Http404
    return activity


def can_write(actor: Actor) -> bool:
    return may(actor, "write_activities")


def is_own_activity(*, actor: Actor, activity: Activity) -> bool:
    """A partner's own activity is one its organisation leads."""
    return org_scoped(actor) and activity.lead_org == actor_org(actor)


def can_see_attendees(*, actor: Actor, activity: Activity) -> bool:
    if can_see_people(actor):
        return True
    return is_own_activity(actor=actor, activity=activity)


def can_unmask(actor: Actor) -> bool:
    return access_can_unmask(actor)


def can_add_attendee(*, actor: Actor, activity: Activity) -> bool:
    return can_write(actor) and can_see_attendees(actor=actor, activity=activity)


def can_edit_activity(*, actor: Actor, activity: Activity) -> bool:
    """Correct, close or delete an activity: admin/province/office within their scope (the
    activity was found through :func:`activity_get`); a partner the ones its organisation
    leads, or that its user recorded."""
    if not can_write(actor):
        return False
    if org_scoped(actor):
        return is_own_activity(actor=actor, activity=activity) or (
            activity.created_by_id is not None and activity.created_by_id == actor.pk
        )
    return True


def can_edit_attendee(*, actor: Actor, activity: Activity, attendee: Attendee) -> bool:
    """Correct or take off an attendee: those who may see people (within scope) any of the
    activity's attendees; a partner those its user checked in."""
    if not can_add_attendee(actor=actor, activity=activity):
        return False
    return can_see_people(actor) or (
        attendee.added_by_id is not None and attendee.added_by_id == actor.pk
    )


def attendee_get(*, actor: Actor, activity: Activity, pk: int) -> Attendee:
    """An attendee of the activity that the actor may correct; Http404 otherwise."""
    attendee = Attendee.objects.filter(activity=activity, pk=pk).first()
    if attendee is None or not can_edit_attendee(actor=actor, activity=activity, attendee=attendee):
        raise Http404
    return attendee


def plan_item_choices(*, actor: Actor) -> list[PlanItem]:
    """The plan items an activity may be recorded against: those of the latest version of
    each plan (unit, year) of the actor's units, by commune, month and channel."""
    units = actor_units(actor)
    latest: dict[tuple[str, int], tuple[int, int]] = {}
    for pk, unit_id, year, version in Plan.objects.values_list("pk", "unit_id", "year", "version"):
        key = (unit_id, year)
        if key not in latest or version > latest[key][1]:
            latest[key] = (pk, version)
    plan_ids = [v[0] for v in latest.values()]
    return list(
        PlanItem.objects.filter(plan_id__in=plan_ids, unit__in=units)
        .select_related("unit", "plan")
        .order_by("unit__name", "month", "channel", "group")
    )


def activity_attendees(*, actor: Actor, activity: Activity, unmask: bool = False) -> list[dict]:
    """The attendees of an activity the actor may see, masked unless ``unmask`` (allowed to
    admin/province/office only; the caller writes the audit row), each with the conversions
    (scheme, start date) credited to this activity for admin/province/office. Empty when the
    actor may not see them."""
    if not can_see_attendees(actor=actor, activity=activity):
        return []
    clear = unmask and can_unmask(actor)
    conversions: dict[str, list[tuple[str, dt.date]]] = {}
    if can_see_people(actor):
        conversions = activity_conversions(activity=activity)
    out = []
    me = getattr(actor, "pk", None)
    for a in Attendee.objects.filter(activity=activity).order_by("person_id"):
        # whoever checked a person in sees what they typed
        own = me is not None and a.added_by_id == me
        plain = clear or own
        out.append(
            {
                "pk": a.pk,
                "person_id": a.person_id if plain else mask_id(a.person_id),
                "full_name": a.full_name if plain else mask_name(a.full_name),
                "phone": a.phone if plain else mask_phone(a.phone),
                "consent": a.consent,
                "editable": can_edit_attendee(actor=actor, activity=activity, attendee=a),
                "converted": conversions.get(a.person_id, []),
            }
        )
    return out


def activity_duplicates(
    *,
    unit: Unit,
    group: str,
    channel: str,
    date: dt.date,
    lead_org: str,
    exclude_code: str | None = None,
) -> QuerySet[Activity]:
    """Activities in the same commune, for the same group and channel, within 7 days of
    ``date``, under a different lead: a likely duplicate of work."""
    window = dt.timedelta(days=DUPLICATE_WINDOW_DAYS)
    qs = Activity.objects.filter(
        unit=unit,
        group=group,
        channel=channel,
        date__gte=date - window,
        date__lte=date + window,
    ).exclude(lead_org=lead_org)
    if exclude_code:
        qs = qs.exclude(code=exclude_code)
    return qs.order_by("date", "code")


def campaign_choices() -> QuerySet[Campaign]:
    return Campaign.objects.order_by("-start", "code")


def plan_item_visible(*, actor: Actor, item_id: int) -> PlanItem | None:
    return PlanItem.objects.filter(pk=item_id, unit__in=actor_units(actor)).first()
