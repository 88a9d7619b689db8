"""The one door for access (DESIGN.md rule 3): who the actor is, what its role may do, which
units, records and cells it may see. Every page, export, API endpoint and command asks here and
nowhere else.

- :data:`Actor` is a logged-in :class:`User` or the explicit :data:`SYSTEM` actor (the command
  line, daily jobs, the demo loader). Every selector takes it required and keyword-only; ``None``
  is refused with ``TypeError`` (never "everything"), so a forgotten actor closes the door.
- :data:`PERMISSIONS` is the one table of what each :class:`User.Role` may do; :func:`may` reads
  it. The system actor may do everything and sees every unit.
- Scope: :func:`allowed_units`, :func:`unit_visible`, :func:`unit_filter`, :func:`unit_in_scope`,
  :func:`import_scope`, :func:`activity_filter` (a partner's activities by organisation).
- Disclosure of aggregate figures (SPEC section 4): which cells a viewer or partner sees as
  ``<5``. Each kind of figure row names its person counts and the figures derived from them; a
  count between 1 and 4 is shown as ``"<5"`` and, once one count of a row is hidden, every
  derived figure of that row (a percentage, a gap, a cost per person) is withheld as ``None``,
  since it would give the count away. Pages, exports and the API all pass their rows through
  :func:`suppress_cells` with the same kind, so that they agree cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from ansinh.accounts.models import User
from ansinh.core.actors import SYSTEM as SYSTEM  # the door names it: access.SYSTEM
from ansinh.core.actors import SystemActor, actor_required
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_root

# a page's ``request.user`` may be anonymous: such an actor may do nothing and sees no unit
Actor = User | SystemActor | AnonymousUser

Action = Literal[
    "see_all_units",  # scope is the whole province (else: the user's own unit)
    "see_people",  # person pages, attendee lists, worklists with names
    "unmask",  # may ask for unmasked personal fields (audited)
    "see_small_cells",  # aggregate counts 1-4 shown as they are (else "<5")
    "import",  # may import files (an office: rows of its own units, import_scope)
    "see_all_imports",  # every import batch and job (else: its own)
    "see_plans",
    "edit_plans",
    "approve_plans",
    "write_activities",  # record activities and attendees
    "org_scoped",  # sees activities, follow-ups and attendees by its organisation (partner)
    "see_arrears",
    "work_followups",  # assign, record outcomes, review reminders
    "manage_arrears",  # reminder templates, letters to the province's employers
    "see_reports",
    "issue_documents",  # give a document its number
    "open_registers",
    "manage_users",
    "see_audit",  # the audit log and the service's metrics
]

_R = User.Role
# the province's agency sees and does everything but the logins and the audit trail, the
# administrator's
_PROVINCE = frozenset(
    {
        "see_all_units",
        "see_people",
        "unmask",
        "see_small_cells",
        "import",
        "see_all_imports",
        "see_plans",
        "edit_plans",
        "approve_plans",
        "write_activities",
        "see_arrears",
        "work_followups",
        "manage_arrears",
        "see_reports",
        "issue_documents",
        "open_registers",
    }
)
PERMISSIONS: dict[str, frozenset[str]] = {
    _R.ADMIN: _PROVINCE | {"manage_users", "see_audit"},
    _R.PROVINCE: _PROVINCE,
    _R.OFFICE: frozenset(
        {
            "see_people",
            "unmask",
            "see_small_cells",
            "import",
            "see_plans",
            "edit_plans",
            "write_activities",
            "see_arrears",
            "work_followups",
            "see_reports",
            "issue_documents",
        }
    ),
    _R.PARTNER: frozenset({"write_activities", "org_scoped"}),
    _R.VIEWER: frozenset({"see_plans", "see_arrears", "see_reports"}),
}
ALL_ACTIONS = frozenset(Action.__args__) - {"org_scoped"}  # type: ignore[attr-defined]


def roles_with(action: str) -> list[str]:
    """The roles that may do ``action`` (a query of logins, e.g. staff to assign)."""
    return [str(role) for role, actions in PERMISSIONS.items() if action in actions]


def _actions(actor: Any) -> frozenset[str]:
    actor_required(actor)
    if isinstance(actor, SystemActor):
        return ALL_ACTIONS
    if not getattr(actor, "is_authenticated", False):
        return frozenset()
    return PERMISSIONS.get(getattr(actor, "role", None) or "", frozenset())


def may(actor: Any, action: str) -> bool:
    """Whether the actor's role may do ``action`` (``PERMISSIONS``). ``None`` raises."""
    return action in _actions(actor)


def is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def actor_user(actor: Any) -> User | None:
    """The login to write in a record's "by" column: the user, or None for the system actor."""
    actor_required(actor)
    return actor if isinstance(actor, User) and actor.pk else None


# ---------------------------------------------------------------------------------------- scope


def actor_root_unit(actor: Any) -> Unit | None:
    """The top unit the actor may see: the province for admin/province (and the system actor),
    the user's own unit otherwise."""
    if may(actor, "see_all_units"):
        return getattr(actor, "unit", None) or unit_root()
    return getattr(actor, "unit", None)


def _scope_path(actor: Any) -> str | None:
    """The path prefix of the units the actor may see: "" everything (admin, province, the
    system actor), None nothing (no unit), else the actor's own unit's path."""
    if may(actor, "see_all_units"):
        return ""
    unit = getattr(actor, "unit", None)
    return None if unit is None else unit.path


def allowed_units(actor: Any) -> QuerySet[Unit]:
    """Every unit the actor may see."""
    path = _scope_path(actor)
    if path is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=path) if path else Unit.objects.all()


def allowed_unit_ids(actor: Any) -> set[str]:
    return set(allowed_units(actor).values_list("code", flat=True))


def unit_in_scope(*, actor: Any, unit: Unit) -> bool:
    """Whether ``unit`` is among ``allowed_units(actor)``, without a query (a page asks it of
    a few units: the breadcrumb's ancestors)."""
    path = _scope_path(actor)
    return path is not None and unit.path.startswith(path)


def unit_visible(*, actor: Any, code: str) -> Unit | None:
    """The unit if the actor may see it, else None (answered as 404)."""
    return allowed_units(actor).filter(code=code).first()


def unit_filter(actor: Any, field: str = "unit") -> Q:
    """A Q filtering a queryset whose ``field`` is a unit FK to what the actor may see."""
    path = _scope_path(actor)
    if path is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": path}) if path else Q()


def can_see_people(actor: Any) -> bool:
    return may(actor, "see_people")


def can_unmask(actor: Any) -> bool:
    return may(actor, "unmask")


def can_see_arrears(actor: Any) -> bool:
    """Arrears pages, employers and their figures (SPEC section 4)."""
    return may(actor, "see_arrears")


def can_import(actor: Any) -> bool:
    return may(actor, "import")


def import_scope(actor: Any) -> set[str] | None:
    """The units whose rows the actor may import: None = all (the system actor, admin,
    province), else the codes of the actor's own subtree."""
    if may(actor, "see_all_units"):
        return None
    return allowed_unit_ids(actor)


def org_scoped(actor: Any) -> bool:
    """Whether the actor sees activities, follow-ups and attendees by its organisation (a
    partner) rather than by its unit alone."""
    return may(actor, "org_scoped")


def actor_org(actor: Any) -> str:
    return str(getattr(actor, "org", "") or "")


def with_co_orgs(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Annotate the coordinating orgs (a JSON list) as text, so that a partner filter runs
    the same on SQLite and PostgreSQL."""
    return qs.annotate(_co_orgs=Cast("coordinating_orgs", TextField()))


def partner_activity_q(org: str) -> Q:
    """Activities an organisation leads or coordinates (on a :func:`with_co_orgs` queryset)."""
    return Q(lead_org=org) | Q(_co_orgs__contains=f'"{org}"')


def activity_filter(qs: QuerySet[Any], *, actor: Any) -> QuerySet[Any]:
    """``qs`` (activities) narrowed to those the actor may see: all for admin, province and the
    system actor; a partner's those its organisation leads or coordinates (within its unit
    when it has one); everyone else's those of its own unit's subtree."""
    if may(actor, "see_all_units"):
        return qs
    unit = getattr(actor, "unit", None)
    if org_scoped(actor):
        org = actor_org(actor)
        if not org:
            return qs.none()
        qs = with_co_orgs(qs).filter(partner_activity_q(org))
        if unit is not None:
            qs = qs.filter(unit__path__startswith=unit.path)
        return qs
    if unit is None:
        return qs.none()
    return qs.filter(unit__path__startswith=unit.path)


def activity_units(actor: Any) -> QuerySet[Unit]:
    """The units where the actor may record or look at activities (a partner without a unit
    works province-wide, limited by its organisation instead)."""
    if org_scoped(actor) and getattr(actor, "unit", None) is None:
        return Unit.objects.all()
    return allowed_units(actor)


# ------------------------------------------------------------------------------------ masking


def mask_name(name: str) -> str:
    """``Nguyễn Văn An`` → ``Ng*** V** A`` (first letters kept, the last word's initial)."""
    words = name.split()
    if not words:
        return ""
    out = []
    for i, w in enumerate(words):
        if i == len(words) - 1:
            out.append(w[:1])
        elif i == 0:
            out.append(w[:2] + "***")
        else:
            out.append(w[:1] + "**")
    return " ".join(out)


def mask_phone(phone: str) -> str:
    p = phone.strip()
    if len(p) <= 4:
        return "*" * len(p)
    return p[:2] + "*" * (len(p) - 4) + p[-2:]


def mask_id(value: str) -> str:
    v = value.strip()
    if len(v) <= 4:
        return "*" * len(v)
    return v[:2] + "*" * (len(v) - 4) + v[-2:]


def mask_date(value: Any) -> str:
    if not value:
        return ""
    return f"**/**/{value.year}" if hasattr(value, "year") else "****"


# ------------------------------------------------------------------------------- small cells

SMALL_CELL = 5
HIDDEN = "<5"


@dataclass(frozen=True)
class Cells:
    """The person counts of a kind of row, and the figures derived from them."""

    counts: tuple[str, ...]
    derived: tuple[str, ...] = ()


CELLS: dict[str, Cells] = {
    # one indicator of SPEC section 3 (kpi, ranking, the dashboard's lagging communes)
    "kpi": Cells(
        counts=("participants",),
        derived=("attainment_pct", "gap", "required_per_month", "coverage_pct"),
    ),
    # one forecast indicator of SPEC section 11: the year-end figures are person counts too
    "forecast": Cells(
        counts=("participants", "forecast", "low", "high"), derived=("p_meet_target",)
    ),
    # one funnel row of SPEC section 7
    "funnel": Cells(
        counts=("attendees", "converted", "registrations_reported", "reach"),
        derived=("conversion_pct", "cost_per_conversion"),
    ),
    # the funnel page's plan-against-done row of a commune
    "plan_vs_done": Cells(counts=("registrations_reported", "converted")),
    # one activity (lists and the API): its reported person counts
    "activity": Cells(
        counts=("reach", "leads", "registrations", "vssid_installs", "attendees", "n_attendees")
    ),
}


def suppresses_small_counts(actor: Any) -> bool:
    return not may(actor, "see_small_cells")


def small(value: Any) -> bool:
    """A person count the small-cell rule hides (1 to 4; 0 and None are shown)."""
    return value == HIDDEN or (
        isinstance(value, int) and not isinstance(value, bool) and 0 < abs(value) < SMALL_CELL
    )


def suppress(value: int | None, actor: Any) -> int | str | None:
    """One person count as the actor may see it."""
    if value is None or not suppresses_small_counts(actor):
        return value
    return HIDDEN if small(value) else value


def suppress_cells(row: dict[str, Any], *, actor: Any, kind: str) -> dict[str, Any]:
    """``row`` as the actor may see it (a copy when anything is hidden)."""
    if not suppresses_small_counts(actor):
        return row
    rule = CELLS[kind]
    hidden = [k for k in rule.counts if k in row and small(row[k])]
    if not hidden:
        return row
    out = dict(row)
    for k in hidden:
        out[k] = HIDDEN
    for k in rule.derived:
        if k in out:
            out[k] = None
    return out


def suppress_rows(rows: Iterable[dict[str, Any]], *, actor: Any, kind: str) -> list[dict[str, Any]]:
    return [suppress_cells(r, actor=actor, kind=kind) for r in rows]
