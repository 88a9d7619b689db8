"""The person page: a person and their spells, masked per role; unmasking is audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ansinh.accounts.access import can_unmask
from ansinh.accounts.views import client_ip
from ansinh.registry.selectors import person_get


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
    may_unmask = can_unmask(request.user)
    return render(
        request,
        "registry/person.html",
        {"person": person, "can_unmask": may_unmask},
    )
