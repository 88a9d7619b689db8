"""The person page: a person and their spells, masked per role; unmasking is audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ansinh.accounts.views import client_ip
from ansinh.registry.selectors import UNMASK_ROLES, person_get


@login_required
def person_detail(request: HttpRequest, person_id: str) -> HttpResponse:
    unmask = request.GET.get("unmask", "") in {"1", "true", "yes"}
    person = person_get(
        actor=request.user,
        person_id=person_id,
        unmask=unmask,
        ip=client_ip(request),
    )
    if person is None:
        raise Http404
    can_unmask = getattr(request.user, "role", "") in UNMASK_ROLES
    return render(
        request,
        "registry/person.html",
        {"person": person, "can_unmask": can_unmask},
    )
