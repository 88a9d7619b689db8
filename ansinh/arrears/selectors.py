"""Reads of the arrears app: late contributions (SPEC section 8), employers, worklists.

Every selector takes the actor and scopes through ``ansinh.accounts.access``; a record
outside the actor's scope raises Http404, exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from ansinh.accounts.access import (
    Actor,
    actor_org,
    actor_user,
    can_see_arrears,
    can_see_people,
    org_scoped,
    roles_with,
    unit_filter,
)
from ansinh.arrears.figures import (
    BUCKETS,
    arrears,
    as_date,
    due_date,
    row_figures,
)
from ansinh.arrears.models import (
    Contribution,
    Employer,
    FollowUp,
    FollowUpOutcome,
    Reminder,
    WorklistBuild,
)
from ansinh.arrears.worklists import household_members
from ansinh.core import codes
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_children
from ansinh.registry.models import Count as ParticipantCount
from ansinh.registry.models import Person, Spell

KIND_ORDER: tuple[str, ...] = ("hi_expiring", "lapsed", "household", "employer_overdue")
ARREARS_GOAL_PCT = 2.0


def arrears_breakdown(*, unit: Unit, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The employers of an ``arrears`` result summed per child unit of ``unit``."""
    children = list(unit_children(unit=unit))
    if not children:
        return []
    codes = {e["unit"] for e in data["employers"]}
    paths = dict(Unit.objects.filter(code__in=codes).values_list("code", "path"))
    rows: dict[str, dict[str, Any]] = {
        c.code: {
            "unit": c.code,
            "name": c.name,
            "employers": 0,
            "overdue": 0,
            "interest": 0,
            **dict.fromkeys(BUCKETS, 0),
        }
        for c in children
    }
    child_by_path = {c.path: c.code for c in children}
    direct: dict[str, Any] = {
        "unit": unit.code,
        "name": unit.name,
        "employers": 0,
        "overdue": 0,
        "interest": 0,
        **dict.fromkeys(BUCKETS, 0),
    }
    for e in data["employers"]:
        path = paths.get(e["unit"], "")
        target = direct
        for cpath, ccode in child_by_path.items():
            if path.startswith(cpath):
                target = rows[ccode]
                break
        target["employers"] += 1
        target["overdue"] += e["overdue"]
        target["interest"] += e["interest"]
        target[e["bucket"]] += e["overdue"]
    out = [r for r in rows.values() if r["employers"]]
    if direct["employers"]:
        out.append(direct)
    out.sort(key=lambda r: (-r["overdue"], r["unit"]))
    return out


# ---------------------------------------------------------------- employers


def employer_get(*, actor: Actor, code: str) -> Employer:
    """An employer the actor may see, else Http404."""
    if not can_see_arrears(actor):
        raise Http404
    employer = Employer.objects.select_related("unit").filter(unit_filter(actor), code=code).first()
    if employer is None:
        raise Http404
    return employer


def employers_visible(*, actor: Actor) -> QuerySet[Employer]:
    if not can_see_arrears(actor):
        return Employer.objects.none()
    return Employer.objects.select_related("unit").filter(unit_filter(actor))


def data_date() -> dt.date:
    """The date the loaded facts describe: the latest spell start, count ``as_of`` or payment
    (``paid_on``), capped at today; today on an empty database. End dates are left out: a
    paid-up HI card ends months after the extract was taken. Index-backed MAX per scheme."""

    today = dt.date.today()
    values: list[Any] = [
        Spell.objects.filter(scheme=scheme).aggregate(m=Max("start_date"))["m"]
        for scheme in codes.SCHEMES
    ]
    values.append(ParticipantCount.objects.aggregate(m=Max("as_of"))["m"])
    values.append(Contribution.objects.aggregate(m=Max("paid_on"))["m"])
    known = [d for d in (as_date(v) for v in values) if d is not None]
    return min(max(known), today) if known else today


def contributions_as_of_default() -> dt.date:
    """The default date of the arrears and worklist pages: ``data_date()``."""
    return data_date()


# ---------------------------------------------------------------- worklists


def followups_visible(*, actor: Actor) -> QuerySet[FollowUp]:
    if not can_see_people(actor):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(unit_filter(actor))


def followup_get(*, actor: Actor, pk: int) -> FollowUp:
    fu = followups_visible(actor=actor).select_related("unit", "employer").filter(pk=pk).first()
    if fu is None:
        raise Http404
    return fu


def followup_funnel_rows(
    *, unit: Unit, date_from: dt.date, date_to: dt.date, actor: Actor
) -> list[dict[str, Any]]:
    """The funnel row ``followup`` (registered as a ``core.hooks`` funnel row): what the
    worklists of persons and households (not employers) in ``unit`` and below brought in.

    - ``activities``: contacts recorded (outcomes by staff, not automatic) dated in [from, to];
    - ``attendees``: follow-ups with such a contact; ``reach``: those with a contact other than
      ``unreachable``; ``registrations_reported``: those with a ``registered`` contact;
    - ``planned_reach``: follow-ups on the lists during the period (listed on or before ``to``,
      not closed before ``from``);
    - ``converted``: contacted follow-ups later closed by an imported registration
      (``closed_reason='converted'``, may fall after ``to``); a contacted expiring entry that
      moved to the lapsed list counts when its lapsed entry is converted (and was not
      contacted in the period itself);
    - ``cost``: null (follow-ups record no cost), so ``cost_per_conversion`` is null.

    Scope: the actor's units; a partner only the follow-ups assigned to its organisation.
    ``[]`` when nothing was contacted in the period (no row)."""

    base = FollowUp.objects.filter(unit__path__startswith=unit.path).exclude(
        kind=FollowUp.Kind.EMPLOYER_OVERDUE
    )
    base = base.filter(unit_filter(actor))
    if org_scoped(actor):
        base = base.filter(assigned_org=actor_org(actor) or "-")
    contacts = FollowUpOutcome.objects.filter(
        followup__in=base, automatic=False, on__gte=date_from, on__lte=date_to
    )
    n_contacts = contacts.count()
    if not n_contacts:
        return []

    def has(qs: QuerySet[FollowUpOutcome]) -> Any:
        return Exists(qs.filter(followup_id=OuterRef("pk")))

    worked = base.filter(has(contacts))
    # an expiring entry whose card ended moved to the lapsed list (closed "lapsed"; the lapsed
    # entry of the same card end took the case over): a registration that later converts the
    # lapsed entry is credited to the contacts made before the move — once, where the lapsed
    # entry was not itself contacted in the period
    successor_converted = FollowUp.objects.filter(
        kind=FollowUp.Kind.LAPSED,
        person_id=OuterRef("person_id"),
        scheme=OuterRef("scheme"),
        reference_date=OuterRef("reference_date"),
        closed_reason="converted",
    ).exclude(Exists(contacts.filter(followup_id=OuterRef("pk"))))
    agg = worked.annotate(moved_conv=Exists(successor_converted)).aggregate(
        attendees=Count("pk"),
        converted=Count(
            "pk",
            filter=Q(closed_reason="converted")
            | Q(kind=FollowUp.Kind.HI_EXPIRING, closed_reason="lapsed", moved_conv=True),
        ),
    )
    reach = worked.filter(has(contacts.exclude(outcome="unreachable"))).count()
    reported = worked.filter(has(contacts.filter(outcome="registered"))).count()
    planned = (
        base.filter(listed_on__lte=date_to)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=date_from))
        .count()
    )
    return [
        {
            "key": "followup",
            "activities": n_contacts,
            "planned_reach": planned,
            "reach": reach,
            "attendees": int(agg["attendees"] or 0),
            "registrations_reported": reported,
            "converted": int(agg["converted"] or 0),
            "cost": None,
        }
    ]


def followup_conversions(*, unit: Unit, date_from: dt.date, date_to: dt.date) -> int:
    """Follow-ups closed as converted (a registration found in imported spells) from
    ``date_from`` to ``date_to`` inclusive, in ``unit`` and below: conversions of channel
    ``followup`` for the funnel."""
    return FollowUp.objects.filter(
        unit__path__startswith=unit.path,
        closed_reason="converted",
        closed_at__gte=date_from,
        closed_at__lte=date_to,
    ).count()


def reminders_of(*, employers: Iterable[str], review_month: dt.date) -> dict[str, Reminder]:
    return {
        r.employer_id: r
        for r in Reminder.objects.filter(employer_id__in=list(employers), review_month=review_month)
    }


def employer_names(codes: Iterable[str]) -> dict[str, str]:
    return dict(Employer.objects.filter(code__in=list(codes)).values_list("code", "name"))


def review_newly_overdue(*, unit: Unit, as_of: dt.date, actor: Actor) -> list[dict[str, Any]]:
    """The monthly review: employers overdue at ``as_of`` that were not overdue at the previous
    month's review (the same day one month earlier)."""
    now = arrears(unit=unit, as_of=as_of, actor=actor)
    before = arrears(unit=unit, as_of=as_of - relativedelta(months=1), actor=actor)
    was = {e["code"] for e in before["employers"]}
    return [dict(e) for e in now["employers"] if e["code"] not in was]


def _contactable(qs: QuerySet[FollowUp]) -> QuerySet[FollowUp]:

    return qs.exclude(person_id__in=Person.objects.filter(do_not_contact=True).values("person_id"))


def followup_count(*, qs: QuerySet[FollowUp]) -> int:
    """How many entries ``followup_rows`` would list without a limit."""
    return _contactable(qs).count()


def followup_filter(
    *,
    qs: QuerySet[FollowUp],
    actor: Actor,
    village: str = "",
    group: str = "",
    due_days: int | None = None,
    as_of: dt.date | None = None,
    assigned: str = "",
) -> QuerySet[FollowUp]:
    """Narrow a worklist: persons of a village (thôn, tổ dân phố), persons with a spell of a
    target group, entries whose reference date (the card's last day) falls within ``due_days``
    days of ``as_of`` (the data date), and by assignment: ``me``, ``none``, ``u<id>`` (an
    officer) or a partner organisation's code."""

    if village:
        qs = qs.filter(
            Exists(Person.objects.filter(person_id=OuterRef("person_id"), village=village))
        )
    if group:
        qs = qs.filter(Exists(Spell.objects.filter(person_id=OuterRef("person_id"), group=group)))
    if due_days is not None and as_of is not None:
        qs = qs.filter(
            reference_date__gte=as_of, reference_date__lte=as_of + dt.timedelta(days=due_days)
        )
    if assigned == "me":
        qs = qs.filter(assigned_to=actor_user(actor))
    elif assigned == "none":
        qs = qs.filter(assigned_to__isnull=True, assigned_org="")
    elif assigned.startswith("u") and assigned[1:].isdigit():
        qs = qs.filter(assigned_to_id=int(assigned[1:]))
    elif assigned in codes.ORGS:
        qs = qs.filter(assigned_org=assigned)
    return qs


def followup_villages(*, qs: QuerySet[FollowUp], limit: int = 500) -> list[str]:
    """The villages of the persons on a worklist (for the filter's choices)."""

    return list(
        Person.objects.filter(person_id__in=qs.exclude(person_id="").values("person_id"))
        .exclude(village="")
        .values_list("village", flat=True)
        .distinct()
        .order_by("village")[:limit]
    )


def followup_rows(*, qs: QuerySet[FollowUp], limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Rows of a worklist with the person's or employer's details (a fixed number of
    queries), persons marked do-not-contact left out; the lists in the order an office works
    them (expiring, lapsed, households, employers), soonest reference date first."""

    order = Case(
        *(When(kind=k, then=Value(i)) for i, k in enumerate(KIND_ORDER)),
        default=Value(len(KIND_ORDER)),
        output_field=IntegerField(),
    )
    items = list(
        _contactable(qs)
        .select_related("employer", "assigned_to")
        .order_by(order, "reference_date", "pk")[offset : offset + limit]
    )
    people = {
        p.person_id: p
        for p in Person.objects.filter(person_id__in=[f.person_id for f in items if f.person_id])
    }
    last = {}
    ids = [f.pk for f in items]
    for o in FollowUpOutcome.objects.filter(followup_id__in=ids).order_by("on", "id"):
        last[o.followup_id] = o.outcome
    rows = []
    for f in items:
        person = people.get(f.person_id)
        address = village = ""
        if f.employer_id:
            code, name, phone = f.employer_id, f.employer.name if f.employer else "", ""
        elif person is not None:
            code, name, phone = person.person_id, person.full_name, person.phone
            address, village = person.address, person.village
        else:
            code, name, phone = f.person_id, "", ""
        assigned = ""
        if f.assigned_to is not None:
            assigned = staff_label(f.assigned_to)
        elif f.assigned_org:
            assigned = str(codes.label(codes.ORGS, f.assigned_org))
        rows.append(
            {
                "id": f.pk,
                "kind": f.kind,
                "unit": f.unit_id,
                "person_id": f.person_id,
                "is_person": bool(f.person_id),
                "code": code,
                "name": name,
                "phone": phone,
                "address": address,
                "village": village,
                "household": f.household_id,
                "employer": f.employer_id or "",
                "scheme": f.scheme,
                "reference_date": f.reference_date,
                "assigned": assigned,
                "status": f.status,
                "closed_reason": f.closed_reason,
                "last_outcome": last.get(f.pk, ""),
            }
        )
    return rows


def followup_summary(*, actor: Actor) -> list[dict[str, Any]]:
    """Open and closed follow-ups per kind in the actor's scope."""

    qs = followups_visible(actor=actor)
    agg: dict[str, dict[str, Any]] = {
        str(r["kind"]): dict(r)
        for r in qs.values("kind").annotate(
            open=Count("pk", filter=Q(status="open")),
            closed=Count("pk", filter=Q(status="closed")),
            converted=Count("pk", filter=Q(closed_reason="converted")),
        )
    }
    builds = {b.kind: b for b in WorklistBuild.objects.all()}
    return [
        {
            "kind": k,
            "open": agg.get(k, {}).get("open", 0),
            "closed": agg.get(k, {}).get("closed", 0),
            "converted": agg.get(k, {}).get("converted", 0),
            "as_of": builds[k].as_of if k in builds else None,
            "built_at": builds[k].built_at if k in builds else None,
        }
        for k in KIND_ORDER
    ]


def worklists_built(*, summary: list[dict[str, Any]], data: dt.date) -> dict[str, Any]:
    """As of which data date the lists stand (from ``followup_summary``'s rows): ``as_of``
    the date when every list stands at the same one (else None: the table says per list),
    ``built_at`` the latest build, ``behind`` when some list is older than the data date
    ``data`` (or was never built), ``never`` when none was built."""
    dates = {r["as_of"] for r in summary}
    built = [r["built_at"] for r in summary if r["built_at"] is not None]
    known = {d for d in dates if d is not None}
    return {
        "as_of": next(iter(known)) if len(dates) == 1 and known else None,
        "built_at": max(built) if built else None,
        "behind": any(d is None or d < data for d in dates),
        "never": not known,
        "data_date": data,
    }


def followup_detail(*, followup: FollowUp) -> dict[str, Any]:

    person = (
        Person.objects.filter(person_id=followup.person_id).first() if followup.person_id else None
    )
    members: list[dict[str, Any]] = []
    if followup.household_id:
        members = household_members(
            household_ids=[followup.household_id], as_of=followup.reference_date
        ).get(followup.household_id, [])
    return {"person": person, "members": members}


def staff_label(user: Any) -> str:
    """An officer as listed: full name and login (the login alone when no name is set)."""
    # Vietnamese order: family name first
    parts = (getattr(user, "last_name", ""), getattr(user, "first_name", ""))
    full = " ".join(p.strip() for p in parts if p and p.strip())
    return f"{full} ({user.username})" if full else str(user.username)


def assignable_staff(*, actor: Actor, unit: Unit | None = None) -> list[Any]:
    """The active officers (admin, province, office logins) an entry can be given to: those
    of the actor's scope and, for an entry of ``unit``, every officer of the office that
    serves it (the office's login and those of its communes) and of the units above it."""

    qs = get_user_model().objects.filter(role__in=roles_with("work_followups"), is_active=True)
    scope = unit_filter(actor) | Q(unit__isnull=True)
    if unit is not None:
        parts = [p for p in unit.path.split("/") if p]
        office_path = unit.path
        office = Unit.objects.filter(code__in=parts, level="office").first()
        if office is not None:
            office_path = office.path
        ancestors = Q(unit__code__in=parts) | Q(unit__path__startswith=office_path)
        scope = scope & (ancestors | Q(unit__isnull=True))
    return list(qs.filter(scope).select_related("unit").order_by("username"))


# ---------------------------------------------------------------- legal steps (DOMAIN.md §4)

EVADING_AFTER_DAYS = 60
LEGAL_STATES: tuple[str, ...] = ("late", "reminded", "evading")


def legal_states(
    *, unit: Unit, as_of: dt.date, actor: Actor, data: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The legal step of each employer overdue at ``as_of`` (Law 41/2024 arts. 38–39):

    - ``late`` (chậm đóng): overdue, and no written reminder names a debt still unpaid;
    - ``reminded``: a written reminder was sent (``Reminder.sent_on`` on or before ``as_of``,
      with its register number) and some period overdue on that day is still unpaid;
    - ``evading`` (trốn đóng): the same, more than 60 days after the reminder (from day 61).

    The rows of ``arrears`` (same figures, SPEC section 8) with ``state``, ``reminder_on``,
    ``reminder_number`` and ``evading_from`` (the day it becomes or became evasion)."""
    data = data if data is not None else arrears(unit=unit, as_of=as_of, actor=actor)
    employers = [dict(e) for e in data["employers"]]
    codes = [e["code"] for e in employers]
    reminders: dict[str, list[Reminder]] = {}
    for r in (
        Reminder.objects.filter(employer_id__in=codes, sent_on__isnull=False, sent_on__lte=as_of)
        .order_by("employer_id", "-sent_on", "-pk")
        .only("employer_id", "sent_on", "number")
    ):
        reminders.setdefault(r.employer_id, []).append(r)
    rows: dict[str, list[Contribution]] = {}
    if reminders:
        for c in Contribution.objects.filter(employer_id__in=list(reminders)).only(
            "employer_id", "period", "amount_due", "amount_paid", "paid_on"
        ):
            rows.setdefault(c.employer_id, []).append(c)
    for e in employers:
        e.update(state="late", reminder_on=None, reminder_number="", evading_from=None)
        for r in reminders.get(e["code"], []):
            assert r.sent_on is not None
            # a debt the reminder named (overdue on its day) and still unpaid now
            named_unpaid = any(
                due_date(c.period) < r.sent_on
                and row_figures(c, r.sent_on).outstanding > 0
                and row_figures(c, as_of).outstanding > 0
                for c in rows.get(e["code"], [])
            )
            if not named_unpaid:
                continue
            evading_from = r.sent_on + dt.timedelta(days=EVADING_AFTER_DAYS + 1)
            e.update(
                state="evading" if as_of >= evading_from else "reminded",
                reminder_on=r.sent_on,
                reminder_number=r.number,
                evading_from=evading_from,
            )
            break
    return employers


def quarter_of(value: str) -> tuple[dt.date, dt.date, dt.date] | None:
    """``2026-Q1`` → (the quarter's first day, the day the list describes: the last day of the
    quarter before, the deadline: the 14th of the quarter's first month — Decree 274/2025 has
    the list sent *before* the 15th). None when malformed."""

    m = re.fullmatch(r"(\d{4})-?Q([1-4])", value.strip().upper())
    if not m:
        return None
    year, q = int(m.group(1)), int(m.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    return first, first - dt.timedelta(days=1), first.replace(day=14)


def current_quarter(day: dt.date) -> str:
    """The latest quarter whose list the data of ``day`` can make: the quarter holding
    ``day`` (its list describes the last day of the quarter before, on or before ``day``)."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def offenders(*, unit: Unit, quarter: str, actor: Actor) -> dict[str, Any]:
    """The quarterly list of employers late or evading, for publication (DOMAIN.md §4: the
    province sends it before the 15th of each quarter's first month): the employers overdue on
    the last day of the quarter before, with their legal step on that day."""
    parsed = quarter_of(quarter)
    if parsed is None:
        raise ValueError(quarter)
    first, as_of, deadline = parsed
    rows = legal_states(unit=unit, as_of=as_of, actor=actor)
    names = employer_details([r["code"] for r in rows])
    for r in rows:
        r.update(names.get(r["code"], {}))
    return {
        "quarter": quarter,
        "first_day": first,
        "as_of": as_of,
        "deadline": deadline,
        "unit": unit,
        "rows": rows,
        "overdue": sum(r["overdue"] for r in rows),
        "evading": sum(1 for r in rows if r["state"] == "evading"),
    }


def employer_details(codes: Iterable[str]) -> dict[str, dict[str, str]]:
    """Name, tax code and unit name of employers (for lists and letters)."""
    out: dict[str, dict[str, str]] = {}
    for code, name, tax, unit_name in Employer.objects.filter(code__in=list(codes)).values_list(
        "code", "name", "tax_code", "unit__name"
    ):
        out[code] = {"name": name, "tax_code": tax, "unit_name": unit_name}
    return out


def reminder_of_month(*, employer: Employer, month: dt.date) -> Reminder | None:
    """The employer's reminder of a monthly review, if one was issued."""
    return Reminder.objects.filter(employer=employer, review_month=month.replace(day=1)).first()
