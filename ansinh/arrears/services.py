"""Writes of the arrears app: follow-up worklists, outcomes, reminders (DESIGN.md rules 1–2).

Every function is keyword-only, runs in one transaction and writes its audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM, Actor, actor_user, may, unit_visible
from ansinh.arrears import worklists
from ansinh.arrears.models import Employer, FollowUp, FollowUpOutcome, Reminder, WorklistBuild
from ansinh.arrears.selectors import data_date
from ansinh.core import sql
from ansinh.core.codes import ORGS
from ansinh.core.jobs import job_enqueue
from ansinh.core.models import ImportBatch, Job
from ansinh.core.services import audit_record
from ansinh.registry.models import Person, Spell

CLOSING_OUTCOMES = {"registered", "refused", "do_not_contact"}
PERSON_KINDS = ("hi_expiring", "lapsed", "household")
SYNC_LOCK = 0x616E_7369  # PostgreSQL advisory lock key serialising followup_sync ("ansi")


def _key(
    kind: str, person_id: str, scheme: str, household_id: str, employer: str | None, ref: dt.date
) -> tuple:
    return (kind, person_id, scheme, household_id, employer or None, ref)


ALL_KINDS = (*PERSON_KINDS, "employer_overdue")
# what an import of a KIND can change: the lists brought up to date after it (imports.run)
KINDS_AFTER_IMPORT = {
    "participations": PERSON_KINDS,
    "contributions": ("employer_overdue",),
    "employers": ("employer_overdue",),
}


def _insert_person_list(
    *, kind: str, as_of: dt.date, now: dt.datetime, scope: worklists.Scope | None = None
) -> int:
    """Insert the entries of one person list at ``as_of`` that do not exist yet: one
    INSERT … SELECT (the list's query of ``worklists`` against the existing entries), of the
    persons and households of ``scope`` only when given."""
    query, params = worklists.PERSON_LISTS[kind](as_of=as_of, scope=scope)
    # a household stays one entry while it is open, whatever month first listed it
    still_open = " OR f.status = 'open'" if kind == FollowUp.Kind.HOUSEHOLD else ""
    ops = connection.ops
    table = sql.table(FollowUp)
    insert = f"""
        INSERT INTO {table} (kind, unit_id, person_id, household_id, employer_id, scheme,
                             reference_date, assigned_org, status, closed_reason, listed_on,
                             created_at)
        SELECT c.kind, c.unit_id, c.person_id, c.household_id, NULL, c.scheme,
               c.reference_date, '', %(status)s, '', {sql.date_param("listed_on")},
               %(created_at)s
        FROM ({query}) c
        WHERE NOT EXISTS (
            SELECT 1 FROM {table} f
            WHERE f.kind = c.kind AND f.person_id = c.person_id AND f.scheme = c.scheme
              AND f.household_id = c.household_id AND f.employer_id IS NULL
              AND (f.reference_date = c.reference_date{still_open}))
    """
    own = {
        "status": FollowUp.Status.OPEN.value,
        "listed_on": ops.adapt_datefield_value(as_of),
        "created_at": ops.adapt_datetimefield_value(now),
    }
    return sql.execute(insert, sql.merge(own, params))


def _insert_employer_list(*, as_of: dt.date, overdue: list[worklists.Candidate]) -> int:
    """The employer list is one entry per overdue employer (hundreds, from ``arrears``)."""
    refs = {c.reference_date for c in overdue}
    if not refs:
        return 0
    existing = set(
        FollowUp.objects.filter(
            kind=FollowUp.Kind.EMPLOYER_OVERDUE,
            employer_id__in=[c.employer for c in overdue],
            reference_date__gte=min(refs),
            reference_date__lte=max(refs),
        ).values_list("employer_id", "reference_date")
    )
    new = [
        FollowUp(
            kind=c.kind,
            unit_id=c.unit,
            employer_id=c.employer,
            reference_date=c.reference_date,
            listed_on=as_of,
        )
        for c in overdue
        if (c.employer, c.reference_date) not in existing
    ]
    FollowUp.objects.bulk_create(new, batch_size=2000)
    return len(new)


def followup_sync(
    *,
    as_of: dt.date,
    actor: Actor,
    kinds: tuple[str, ...] | None = None,
    source: str = "",
    scope: worklists.Scope | None = None,
) -> dict[str, int]:
    """Bring the worklists ``kinds`` (default: all four) up to date at the data date
    ``as_of``: close what was converted or paid, then create the entries of each list that do
    not exist yet — set-based (one INSERT … SELECT per person list), idempotent. Records, per
    list, the data date of this build (``WorklistBuild``) and writes one audit row. Returns the number created per kind and ``closed``.

    ``scope`` (person lists only): the lists were built at ``as_of`` and only the persons and
    households of the scope changed since (``followup_after_import`` checks it), so only
    their entries are closed and created — the same entries as a whole build."""
    kinds = tuple(k for k in ALL_KINDS if kinds is None or k in kinds)
    counts = {k: 0 for k in ALL_KINDS}
    with transaction.atomic():
        if sql.is_postgres():
            # two syncs at once (an import's and cron's) would both see an entry missing
            sql.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": SYNC_LOCK})
        overdue = worklists.employers_overdue(as_of=as_of) if "employer_overdue" in kinds else None
        closed = _close_converted(
            as_of=as_of,
            persons=any(k in PERSON_KINDS for k in kinds),
            employers=overdue is not None,
            employers_overdue=overdue,
            scope=scope,
        )
        now = timezone.now()
        for kind in kinds:
            if kind in PERSON_KINDS:
                counts[kind] = _insert_person_list(kind=kind, as_of=as_of, now=now, scope=scope)
            elif overdue is not None:
                counts[kind] = _insert_employer_list(as_of=as_of, overdue=overdue)
        if "lapsed" in kinds:
            closed += _close_lapsed_expiring(as_of=as_of, scope=scope)
        for kind in kinds:
            WorklistBuild.objects.update_or_create(
                kind=kind,
                defaults={
                    "as_of": as_of,
                    "built_at": now,
                    "source": source[:40],
                    "created": counts[kind],
                },
            )
        result = {**counts, "closed": closed}
        audit_record(
            actor=actor,
            action="followup.sync",
            object_type="followup",
            object_id=as_of.isoformat(),
            after={
                **result,
                "kinds": list(kinds),
                "source": source,
                **({"scope": "import"} if scope is not None else {}),
            },
        )
    return result


def followup_sync_job_start(*, as_of: dt.date, actor: Actor) -> Job:
    """Run ``followup_sync`` as a background job (``core.jobs``, kind ``followup_sync``); the
    result dict holds the counts per kind and a ``summary`` line."""
    return job_enqueue(kind="followup_sync", params={"as_of": as_of.isoformat()}, actor=actor)


def followup_sync_job_run(job: Job) -> dict[str, Any]:
    """The ``followup_sync`` job kind; the daily run (no ``as_of``) builds the lists at the
    latest data date."""
    raw = (job.params or {}).get("as_of")
    as_of = dt.date.fromisoformat(raw) if raw else data_date()
    source = "page" if raw else "daily"
    result = followup_sync(as_of=as_of, actor=job.created_by or SYSTEM, source=source)
    summary = _(
        "%(a)d sắp hết hạn, %(b)d ngừng tham gia, %(c)d hộ gia đình, %(e)d đơn vị chậm "
        "đóng mới; %(x)d mục đã đóng."
    ) % {
        "a": result["hi_expiring"],
        "b": result["lapsed"],
        "c": result["household"],
        "e": result["employer_overdue"],
        "x": result["closed"],
    }
    return {**result, "summary": summary}


def _close_converted(
    *,
    as_of: dt.date,
    persons: bool = True,
    employers_overdue: list[worklists.Candidate] | None = None,
    employers: bool = True,
    scope: worklists.Scope | None = None,
) -> int:
    """Close, on ``as_of``, what the data now resolves (see ``followup_close_converted``):
    the person and household entries when ``persons``, the employer entries when
    ``employers`` (against ``employers_overdue``, the overdue employers, when already
    computed)."""
    n = _close_persons(as_of=as_of, scope=scope) if persons else 0
    if employers:
        n += _close_employers(as_of=as_of, overdue=employers_overdue)
    return n


def _close_persons(*, as_of: dt.date, scope: worklists.Scope | None = None) -> int:
    # open, or closed on the person's word ("registered") and not yet seen in the data
    awaiting = FollowUp.objects.filter(
        Q(status=FollowUp.Status.OPEN) | Q(closed_reason=FollowUpOutcome.Outcome.REGISTERED)
    )
    # a spell of the scheme running past the reference date (renewed, extended or re-joined)
    # that an import wrote after the follow-up was created: what was already known at creation
    # (a renewal after a gap, say) is not a conversion
    renewed = Spell.objects.filter(
        person_id=OuterRef("person_id"),
        scheme=OuterRef("scheme"),
        batch__at__gte=OuterRef("created_at"),
    ).filter(Q(end_date__isnull=True) | Q(end_date__gt=OuterRef("reference_date")))
    persons = awaiting.filter(kind__in=["hi_expiring", "lapsed"])
    households = awaiting.filter(kind="household")
    if scope is not None:
        persons = persons.filter(person_id__in=RawSQL(scope.persons, []))
        households = households.filter(household_id__in=RawSQL(scope.households, []))
    person_conv = list(persons.filter(Exists(renewed)).values_list("pk", flat=True))
    uncovered = Person.objects.filter(
        household_id=OuterRef("household_id"), do_not_contact=False
    ).exclude(
        Exists(
            Spell.objects.filter(
                person_id=OuterRef("person_id"), scheme="hi", start_date__lte=as_of
            ).filter(Q(end_date__isnull=True) | Q(end_date__gte=as_of))
        )
    )
    hh_conv = list(households.exclude(Exists(uncovered)).values_list("pk", flat=True))
    converted = person_conv + hh_conv
    n = 0
    if converted:
        n += FollowUp.objects.filter(pk__in=converted).update(
            status=FollowUp.Status.CLOSED, closed_reason="converted", closed_at=as_of
        )
        FollowUpOutcome.objects.bulk_create(
            [
                FollowUpOutcome(
                    followup_id=pk,
                    outcome=FollowUpOutcome.Outcome.REGISTERED,
                    on=as_of,
                    note=_("Tự động: đã có trong dữ liệu tham gia được nhập"),
                    automatic=True,
                )
                for pk in converted
            ],
            batch_size=2000,
        )
    return n


def _close_lapsed_expiring(*, as_of: dt.date, scope: worklists.Scope | None = None) -> int:
    """An open ``hi_expiring`` entry whose card has ended by ``as_of`` and whose person is now
    on the lapsed list (an entry for the same card end) moves there: closed ``lapsed``. The
    case stays with whoever had it: the lapsed entry takes over its assignment (unless it has
    one). The contacts stay on the expiring entry; the funnel's ``followup`` row credits a
    later conversion of the lapsed entry to them (``selectors.followup_funnel_rows``)."""
    moved = FollowUp.objects.filter(
        kind=FollowUp.Kind.LAPSED,
        person_id=OuterRef("person_id"),
        scheme=OuterRef("scheme"),
        reference_date=OuterRef("reference_date"),
    )
    leaving = FollowUp.objects.filter(
        kind=FollowUp.Kind.HI_EXPIRING, status=FollowUp.Status.OPEN, reference_date__lt=as_of
    )
    if scope is not None:
        # a move needs a lapsed entry created since the lists were built: of the scope's
        leaving = leaving.filter(person_id__in=RawSQL(scope.persons, []))
    leaving = leaving.annotate(successor=Subquery(moved.order_by("pk").values("pk")[:1]))
    pairs = [
        (pk, succ, user, org)
        for pk, succ, user, org in leaving.exclude(successor=None).values_list(
            "pk", "successor", "assigned_to_id", "assigned_org"
        )
    ]
    if not pairs:
        return 0
    to_succ = {pk: succ for pk, succ, _u, _o in pairs}
    for _pk, succ, user, org in pairs:
        if user is not None or org:
            FollowUp.objects.filter(pk=succ, assigned_to=None, assigned_org="").update(
                assigned_to_id=user, assigned_org=org
            )
    return FollowUp.objects.filter(pk__in=to_succ).update(
        status=FollowUp.Status.CLOSED, closed_reason="lapsed", closed_at=as_of
    )


def _close_employers(*, as_of: dt.date, overdue: list[worklists.Candidate] | None) -> int:
    """Close the employer entries whose employer is no longer overdue (``paid``)."""
    n = 0
    open_ = FollowUp.objects.filter(status=FollowUp.Status.OPEN)
    emp_open = list(open_.filter(kind="employer_overdue").values_list("pk", "employer_id"))
    if emp_open:
        if overdue is None:
            overdue = worklists.employers_overdue(as_of=as_of)
        still = {c.employer for c in overdue}
        paid = [pk for pk, emp in emp_open if emp not in still]
        if paid:
            n += FollowUp.objects.filter(pk__in=paid).update(
                status=FollowUp.Status.CLOSED, closed_reason="paid", closed_at=as_of
            )
    return n


def followup_close_converted(*, as_of: dt.date, actor: Actor) -> int:
    """Close the follow-ups whose person registered (a spell of the scheme running past the
    reference date, written by an import after the follow-up was created), whose household is
    now fully covered, or whose employer is no longer overdue, on ``as_of``. Open follow-ups and
    those closed on the person's word (outcome ``registered``) are looked at. Person and
    household closings are conversions (``closed_reason='converted'``, an automatic
    ``registered`` outcome); the funnel reports those of worked follow-ups as the row
    ``followup`` (``followup_funnel_rows``). Returns the number closed."""
    with transaction.atomic():
        n = _close_converted(as_of=as_of)
        if n:
            audit_record(
                actor=actor,
                action="followup.close_converted",
                object_type="followup",
                object_id=as_of.isoformat(),
                after={"closed": n},
            )
    return n


def followup_after_import(
    *,
    kind: str,
    actor: Actor,
    batch_id: int | None = None,
    scope: Callable[[], worklists.Scope | None] | None = None,
) -> dict[str, Any]:
    """Called by ``imports.run.import_run`` (a plain call, in the import's transaction): after
    an import of participations (the person lists) or of contributions or employers (the
    employer list), in the same job, bring those lists up to date on the data date
    (``selectors.data_date``): close what the import resolved, add the new entries.

    ``scope``: gives the persons and households batch ``batch_id`` wrote (asked only when
    used). The person lists are synced for them only where that gives the whole build's
    entries (``_built_since``): else in whole."""
    kinds = KINDS_AFTER_IMPORT.get(kind)
    if not kinds:
        return {}
    as_of = data_date()
    written = None
    if (
        scope is not None
        and batch_id is not None
        and set(kinds) <= set(PERSON_KINDS)
        and _built_since(as_of=as_of, kinds=kinds, batch_id=batch_id)
    ):
        written = scope()
    result = followup_sync(
        as_of=as_of, actor=actor, kinds=kinds, source=f"import:{kind}", scope=written
    )
    return {
        "followups_closed": result["closed"],
        "followups_created": sum(result[k] for k in kinds),
    }


def _built_since(*, as_of: dt.date, kinds: tuple[str, ...], batch_id: int) -> bool:
    """Whether the lists ``kinds`` were last built on the data date ``as_of`` and nothing but
    batch ``batch_id`` can have changed them since: no outcome recorded (a closing, a
    do-not-contact), no other import written or undone. Then the entries a whole build would
    change are those of the persons and households the batch wrote."""
    builds = list(WorklistBuild.objects.filter(kind__in=kinds).values_list("as_of", "built_at"))
    if len(builds) != len(kinds) or any(d != as_of for d, _at in builds):
        return False
    since = min(at for _d, at in builds)
    if FollowUpOutcome.objects.filter(at__gte=since).exists():
        return False
    others = ImportBatch.objects.exclude(pk=batch_id).exclude(state=ImportBatch.State.REFUSED)
    return not others.filter(Q(at__gte=since) | Q(undone_at__gte=since)).exists()


def _check_followup(actor: Actor, followup: FollowUp) -> None:
    if not may(actor, "work_followups"):
        raise Http404
    if unit_visible(actor=actor, code=followup.unit_id) is None:
        raise Http404


def followup_assign(
    *, actor: Actor, followup: FollowUp, user: Any = None, org: str = ""
) -> FollowUp:
    """Assign a follow-up to a staff login (in scope) or to a partner organisation."""

    _check_followup(actor, followup)
    if org and org not in ORGS:
        raise ValueError(org)
    if user is not None and (
        not may(user, "work_followups")
        or (
            getattr(user, "unit_id", None) is not None
            and unit_visible(actor=actor, code=user.unit_id) is None
        )
    ):
        raise ValueError(getattr(user, "username", ""))
    with transaction.atomic():
        before = {"user": followup.assigned_to_id, "org": followup.assigned_org}
        followup.assigned_to = user
        followup.assigned_org = org
        followup.save(update_fields=["assigned_to", "assigned_org"])
        audit_record(
            actor=actor,
            action="followup.assign",
            object_type="followup",
            object_id=str(followup.pk),
            before=before,
            after={"user": followup.assigned_to_id, "org": org},
        )
    return followup


def followup_assign_many(
    *, actor: Actor, followups: list[FollowUp], user: Any = None, org: str = ""
) -> int:
    """Assign several entries at once (the ticked rows of a worklist page): all or none, one
    audit row per entry as ``followup_assign``."""
    with transaction.atomic():
        for fu in followups:
            followup_assign(actor=actor, followup=fu, user=user, org=org)
    return len(followups)


def followup_record_outcome(
    *, actor: Actor, followup: FollowUp, outcome: str, on: dt.date, note: str = ""
) -> FollowUpOutcome:
    """Record what came of a call or visit. ``registered``, ``refused`` and ``do_not_contact``
    close the follow-up; ``do_not_contact`` also marks the person so that they never appear on
    a list again (and closes their other open follow-ups)."""

    _check_followup(actor, followup)
    if outcome not in FollowUpOutcome.Outcome.values:
        raise ValueError(outcome)
    with transaction.atomic():
        row = FollowUpOutcome.objects.create(
            followup=followup,
            outcome=outcome,
            on=on,
            note=note[:500],
            by=actor_user(actor),
        )
        if outcome in CLOSING_OUTCOMES and followup.status == FollowUp.Status.OPEN:
            followup.status = FollowUp.Status.CLOSED
            followup.closed_reason = outcome
            followup.closed_at = on
            followup.save(update_fields=["status", "closed_reason", "closed_at"])
        if outcome == "do_not_contact" and followup.person_id:
            Person.objects.filter(person_id=followup.person_id).update(do_not_contact=True)
            FollowUp.objects.filter(
                person_id=followup.person_id, status=FollowUp.Status.OPEN
            ).update(status=FollowUp.Status.CLOSED, closed_reason="do_not_contact", closed_at=on)
        audit_record(
            actor=actor,
            action="followup.outcome",
            object_type="followup",
            object_id=str(followup.pk),
            after={"outcome": outcome, "on": on.isoformat(), "note": note[:500]},
        )
    return row


def person_data_view_record(
    *, actor: Actor, what: str, person_ids: list[str], unmasked: bool
) -> None:
    """Audit a view or export of person data (SPEC section 4)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="person.unmask" if unmasked else "person.view",
            object_type="worklist",
            object_id=what,
            after={"persons": person_ids[:1000], "count": len(person_ids)},
        )


def reminder_create(
    *, actor: Actor, employer: Employer, review_month: dt.date, overdue: int, interest: int
) -> Reminder:
    """The reminder letter of an employer for a monthly review (idempotent per month)."""
    with transaction.atomic():
        reminder, created = Reminder.objects.get_or_create(
            employer=employer,
            review_month=review_month.replace(day=1),
            defaults={"overdue": overdue, "interest": interest},
        )
        if created:
            audit_record(
                actor=actor,
                action="reminder.create",
                object_type="employer",
                object_id=employer.code,
                after={
                    "review_month": f"{review_month:%Y-%m}",
                    "overdue": overdue,
                    "interest": interest,
                },
            )
    return reminder


def reminder_mark_sent(
    *, actor: Actor, reminder: Reminder, sent_on: dt.date | None = None, number: str = ""
) -> Reminder:
    """Record the letter as sent (who, when; the date it went out, today unless given, and its
    number in the register when given): the written reminder of the legal steps."""
    number = number.strip()
    if len(number) > 40:
        raise ValueError(number)
    with transaction.atomic():
        if reminder.sent_at is None or (number and number != reminder.number):
            reminder.sent_at = reminder.sent_at or timezone.now()
            reminder.sent_by = reminder.sent_by or actor_user(actor)
            reminder.sent_on = reminder.sent_on or sent_on or timezone.localdate()
            reminder.number = number or reminder.number
            reminder.save(update_fields=["sent_at", "sent_by", "sent_on", "number"])
            audit_record(
                actor=actor,
                action="reminder.sent",
                object_type="employer",
                object_id=reminder.employer_id,
                after={
                    "review_month": f"{reminder.review_month:%Y-%m}",
                    "sent_on": reminder.sent_on.isoformat(),
                    "number": reminder.number,
                },
            )
    return reminder


def legal_reminder_record(
    *,
    actor: Actor,
    employer: Employer,
    sent_on: dt.date,
    number: str,
    overdue: int,
    interest: int,
) -> Reminder:
    """Record the written reminder (văn bản đôn đốc) sent to a late employer on ``sent_on``
    with its register number: the step after which, 60 days on, the debts it names still
    unpaid are evasion (``selectors.legal_states``). One per employer and month (the letter of
    that month's review, if made, is the one recorded). Refused (ValueError) without a number
    or with a date in the future."""
    number = number.strip()
    if not number or len(number) > 40:
        raise ValueError("number")
    if sent_on > timezone.localdate():
        raise ValueError("sent_on")
    reminder = reminder_create(
        actor=actor,
        employer=employer,
        review_month=sent_on.replace(day=1),
        overdue=overdue,
        interest=interest,
    )
    with transaction.atomic():
        before = {
            "sent_on": reminder.sent_on.isoformat() if reminder.sent_on else None,
            "number": reminder.number,
        }
        reminder.sent_on = sent_on
        reminder.number = number
        reminder.sent_at = reminder.sent_at or timezone.now()
        reminder.sent_by = reminder.sent_by or actor_user(actor)
        reminder.save(update_fields=["sent_on", "number", "sent_at", "sent_by"])
        audit_record(
            actor=actor,
            action="reminder.sent",
            object_type="employer",
            object_id=employer.code,
            before=before,
            after={"sent_on": sent_on.isoformat(), "number": number},
        )
    return reminder
