"""The explicit system actor. It lives in core, the bottom layer, so that core's own jobs and
audit rows can name it; ``accounts.access`` (the one door) decides what it may do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemActor:
    """The explicit actor of the command line, jobs nobody started and the demo loader: it may
    do everything, sees every unit, and its audit rows are written as ``cli`` (no user)."""

    username: str = "cli"
    pk: None = None
    id: None = None
    role: str = ""
    unit: None = None
    org: str = ""
    is_active: bool = True
    is_authenticated: bool = True

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()


def actor_required(actor: object) -> None:
    """Refuse a missing actor (``None``): a write names who did it — a user or ``SYSTEM`` —
    and never defaults to the command line's rights (DESIGN.md rule 3)."""
    if actor is None:
        raise TypeError("an actor is required: a user, or SYSTEM (ansinh.core.actors), never None")
