"""Login hardening: the page a locked-out login gets (django-axes, AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts.access import may
from ansinh.accounts.models import User
from ansinh.accounts.selectors import failed_attempts, job_get, locked_usernames, users_list
from ansinh.accounts.services import (
    UserError,
    user_change_own_password,
    user_create,
    user_reset_password,
    user_unlock,
    user_update,
)
from ansinh.core.codes import ORGS, ROLES
from ansinh.core.formats import parse_date, sheet_row
from ansinh.core.http import client_ip
from ansinh.core.models import AuditEvent
from ansinh.core.selectors import audit_choices, audit_list
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit

__all__ = ["LogoutView", "client_ip", "lockout"]


def lockout(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """Too many failed logins: the login page again, with a clear Vietnamese message, 429."""
    minutes = int(round(float(getattr(settings, "AXES_COOLOFF_TIME", 0.25) or 0) * 60))
    message = _(
        "Tài khoản tạm thời bị khóa do đăng nhập sai %(n)s lần liên tiếp. "
        "Vui lòng thử lại sau %(m)s phút hoặc liên hệ quản trị viên."
    ) % {"n": getattr(settings, "AXES_FAILURE_LIMIT", 5), "m": minutes}
    return render(
        request,
        "accounts/login.html",
        {"form": AuthenticationForm(request), "locked_out": True, "lockout_message": message},
        status=429,
    )


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, as Django's) and say so on the login page that follows."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("Bạn đã đăng xuất."))
        return response


# ---------------------------------------------------------------- users on the web (admins)


def _admin_only(request: HttpRequest) -> Any:
    """Only admins manage logins; anyone else gets the same 404 as a missing page."""
    user: Any = request.user
    if not may(user, "manage_users"):
        raise Http404
    return user


def _unit_choices() -> list[tuple[str, str]]:
    units = Unit.objects.filter(valid_to__isnull=True).order_by("path")
    return [("", "—")] + [(u.code, f"{'· ' * u.depth}{u.name} ({u.code})") for u in units]


def _role_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in ROLES.items()]


def _org_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(code, str(label)) for code, label in ORGS.items()]


class _NewPasswordMixin(forms.Form):
    password1 = forms.CharField(
        label=gettext_lazy("Mật khẩu mới"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Nhập lại mật khẩu mới"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Hai lần nhập mật khẩu không khớp."))
        return data


class UserFields(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Vai trò"), choices=_role_choices)
    unit = forms.ChoiceField(label=gettext_lazy("Đơn vị"), choices=_unit_choices, required=False)
    org = forms.ChoiceField(
        label=gettext_lazy("Tổ chức (vai trò phối hợp)"), choices=_org_choices, required=False
    )


class UserCreateForm(UserFields, _NewPasswordMixin):
    username = forms.CharField(label=gettext_lazy("Tên đăng nhập"), max_length=150)
    field_order = ["username", "role", "unit", "org", "password1", "password2"]


class UserEditForm(UserFields):
    is_active = forms.BooleanField(label=gettext_lazy("Đang hoạt động"), required=False)


class PasswordResetForm(_NewPasswordMixin):
    pass


class OwnPasswordForm(_NewPasswordMixin):
    old_password = forms.CharField(
        label=gettext_lazy("Mật khẩu hiện tại"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password1", "password2"]


def user_error_text(exc: UserError, data: dict[str, Any]) -> tuple[str, str]:
    """(field, message) of a refusal of the user services, in the user's words."""
    msg = str(exc)
    if msg.startswith("exists"):
        return "username", _("Tên đăng nhập “%(n)s” đã có.") % {"n": data.get("username", "")}
    if msg == "username":
        return "username", _(
            "Tên đăng nhập chỉ gồm chữ, số và các dấu @ . + - _ (tối đa 150 ký tự)."
        )
    if msg.startswith("unit"):
        return "unit", _("Vai trò này cần một đơn vị.")
    if msg.startswith("org"):
        return "org", _("Vai trò tổ chức phối hợp cần chọn tổ chức.")
    if msg == "self":
        return "role", _(
            "Không thể tự bỏ vai trò quản trị hay tự khóa tài khoản của mình "
            "(nhờ một quản trị viên khác)."
        )
    return "role", msg


def _password_errors(form: forms.Form, exc: ValidationError, field: str = "password1") -> None:
    for message in exc.messages:
        form.add_error(field, message)


@login_required
def users_page(request: HttpRequest) -> HttpResponse:
    actor = _admin_only(request)
    # least privilege first: a new login is a viewer unless the admin picks another role
    form = UserCreateForm(request.POST or None, initial={"role": User.Role.VIEWER})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                actor=actor,
                username=data["username"],
                role=data["role"],
                unit_code=data["unit"] or None,
                org=data["org"] or None,
                password=data["password1"],
                must_change_password=True,
            )
        except ValidationError as exc:
            _password_errors(form, exc)
        except UserError as exc:
            form.add_error(*user_error_text(exc, data))
        else:
            messages.success(
                request,
                _("Đã tạo tài khoản %(n)s. Người dùng phải đổi mật khẩu ở lần đăng nhập đầu.")
                % {"n": user.username},
            )
            return redirect("users")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/users.html",
        {"users": users_list(), "form": form, "locked": locked_usernames()},
        status=status,
    )


@login_required
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _admin_only(request)
    user = get_object_or_404(User.objects.select_related("unit"), pk=user_id)
    edit = UserEditForm(
        request.POST if request.POST.get("action") == "update" else None,
        initial={
            "role": user.role,
            "unit": user.unit_id or "",
            "org": user.org,
            "is_active": user.is_active,
        },
    )
    reset = PasswordResetForm(request.POST if request.POST.get("action") == "reset" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update" and edit.is_valid():
            data = edit.cleaned_data
            try:
                user_update(
                    actor=actor,
                    user=user,
                    role=data["role"],
                    unit_code=data["unit"] or None,
                    org=data["org"] or None,
                    is_active=bool(data["is_active"]),
                )
            except UserError as exc:
                user.refresh_from_db()
                edit.add_error(*user_error_text(exc, data))
            else:
                messages.success(request, _("Đã lưu thay đổi của %(n)s.") % {"n": user.username})
                return redirect("user_detail", user_id=user.pk)
        elif action == "reset" and reset.is_valid():
            try:
                user_reset_password(
                    actor=actor, user=user, password=reset.cleaned_data["password1"]
                )
            except ValidationError as exc:
                _password_errors(reset, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Đã đặt lại mật khẩu của %(n)s. Người dùng phải đổi mật khẩu ở lần "
                        "đăng nhập tới."
                    )
                    % {"n": user.username},
                )
                return redirect("user_detail", user_id=user.pk)
        elif action == "unlock":
            removed = user_unlock(actor=actor, username=user.username)
            messages.success(
                request,
                _("Đã mở khóa đăng nhập của %(n)s (%(k)s lượt đăng nhập sai được xóa).")
                % {"n": user.username, "k": removed},
            )
            return redirect("user_detail", user_id=user.pk)
        status = 400
    return render(
        request,
        "accounts/user.html",
        {
            "u": user,
            "edit": edit,
            "reset": reset,
            "locked": user.username in locked_usernames([user.username]),
            "attempts": failed_attempts(user.username),
        },
        status=status,
    )


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Every user changes their own password here (and must, after an admin set it)."""
    user: Any = request.user
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_change_own_password(
                user=user, old=form.cleaned_data["old_password"], new=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            field = (
                "old_password"
                if not user.check_password(form.cleaned_data["old_password"])
                else "password1"
            )
            _password_errors(form, exc, field)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Đã đổi mật khẩu."))
            return redirect("/")
    return render(
        request,
        "accounts/password.html",
        {"form": form, "forced": getattr(user, "must_change_password", False)},
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- jobs and the audit log


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(actor=request.user, job_id=job_id)
    if job is None:
        raise Http404
    template = "core/job_fragment.html" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job})


AUDIT_PAGE_SIZE = 100
AUDIT_CSV_HEADER = ["at", "actor", "action", "object_type", "object_id", "ip", "before", "after"]


@login_required
def audit_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The audit log for admins: filter, page through, export as CSV. Read-only: the app has
    no form or endpoint that changes a row, and the model refuses updates and deletes."""
    if not may(request.user, "see_audit"):
        raise Http404
    text = {
        "action": request.GET.get("action", "").strip(),
        "actor_name": request.GET.get("actor", "").strip(),
        "object_type": request.GET.get("object_type", "").strip(),
        "object_id": request.GET.get("object_id", "").strip(),
    }
    date_from, date_to = _date_param(request, "from"), _date_param(request, "to")
    qs = audit_list(**text, date_from=date_from, date_to=date_to)
    filters = {**text, "date_from": date_from, "date_to": date_to}
    if request.GET.get("format") == "csv":
        audit_record(
            actor=request.user,
            action="audit.export",
            object_type="audit",
            after={k: str(v) for k, v in filters.items() if v},
            ip=client_ip(request),
        )
        return _audit_csv(qs)
    page = Paginator(qs, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "events": page.object_list,
            "q": request.GET,
            "query": query.urlencode(),
            "choices": audit_choices(),
        },
    )


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        messages.error(request, _("Ngày không hợp lệ: %(value)s") % {"value": raw})
        return None


class _Echo:
    def write(self, value: str) -> str:
        return value


def _audit_csv(qs: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(AUDIT_CSV_HEADER)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                sheet_row(
                    [
                        timezone.localtime(e.at).isoformat(timespec="seconds"),
                        e.actor_name,
                        e.action,
                        e.object_type,
                        e.object_id,
                        e.ip or "",
                        "" if e.before is None else json.dumps(e.before, ensure_ascii=False),
                        "" if e.after is None else json.dumps(e.after, ensure_ascii=False),
                    ]
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
