"""Reminders by e-mail (SMTP), SMS and Zalo ZNS (HTTP APIs): an outbox.

``outbox_queue`` writes one ``OutboxMessage`` per person or employer and channel, its words
rendered from the editable ``MessageTemplate`` — or, when the message must not go (no
consent, opted out, marked do-not-contact, no address on that channel), a ``skipped`` message
saying why, so the outbox shows every decision. ``outbox_send`` sends what is queued:

- a message is **claimed** by one conditional UPDATE (``queued`` → ``sending``) in its own
  transaction before anything goes out, so two runs at once (a page's job and cron) never send
  one message twice;
- a failure that may pass (server unreachable, timeout, 4xx SMTP reply, HTTP 5xx) puts the
  message back to ``queued`` with the reason: never lost, retried by the next run, up to
  ``MAX_ATTEMPTS``; a refusal (address rejected, bad key, a ZNS error code) is ``failed`` with
  the reason;
- consent is checked again just before sending (it may have been withdrawn since).

Settings: ``settings.ANSINH_MESSAGING`` (config/env.py: ANSINH_SMTP_*, ANSINH_SMS_URL/KEY,
ANSINH_ZNS_URL/KEY). The SMS gateway takes ``POST {"to", "text", "id"}`` with
``Authorization: Bearer KEY`` and answers 2xx (optionally ``{"id": …}``); ZNS is Zalo's
``POST {"phone": "84…", "template_id", "template_data", "tracking_id"}`` with header
``access_token: KEY``, answering ``{"error": 0, "data": {"msg_id": …}}``.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import string
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from ansinh.accounts.access import SYSTEM, Actor, actor_root_unit, actor_user, may, unit_filter
from ansinh.arrears import figures, selectors
from ansinh.arrears.models import Employer, FollowUp, MessageTemplate, OutboxMessage
from ansinh.core import words
from ansinh.core.formats import fmt_date, fmt_int
from ansinh.core.jobs import job_enqueue
from ansinh.core.models import Job
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.registry.models import Person

MAX_ATTEMPTS = 5
# a message still ``sending`` this long after it was claimed belongs to a run that died
# (killed worker, power cut): it is queued again and goes out with the same id, which the
# SMS gateway, ZNS (tracking_id) and mail (Message-ID) use to drop a second copy
STALE_SENDING = dt.timedelta(minutes=15)
CHANNELS: dict[str, Any] = {
    "sms": gettext_lazy("SMS"),
    "zns": gettext_lazy("Zalo ZNS"),
    "email": gettext_lazy("E-mail"),
}
KINDS: dict[str, Any] = {
    "hi_expiring": gettext_lazy("Thẻ BHYT sắp hết hạn"),
    "lapsed": gettext_lazy("Ngừng tham gia"),
    "employer": gettext_lazy("Thông báo đơn vị chậm đóng"),
}
PLACEHOLDERS = ("name", "card_end", "amount", "interest", "code", "unit")
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "hi_expiring": {
        "subject": "Thẻ BHYT của {name} sắp hết hạn",
        "body": (
            "BHXH {unit} thông báo: thẻ BHYT của {name} hết hạn ngày {card_end}. "
            "Số tiền gia hạn: {amount} đồng. Vui lòng gia hạn để không gián đoạn quyền lợi."
        ),
    },
    "lapsed": {
        "subject": "{name}: tham gia lại BHXH, BHYT",
        "body": (
            "BHXH {unit}: quá trình tham gia của {name} đã dừng từ ngày {card_end}. "
            "Mức đóng: {amount} đồng. Liên hệ cán bộ BHXH để tham gia lại."
        ),
    },
    "employer": {
        "subject": "Thông báo chậm đóng BHXH, BHYT, BHTN — {name}",
        "body": (
            "BHXH {unit} thông báo: đơn vị {name} (mã {code}) còn chậm đóng {amount} đồng; "
            "tiền lãi chậm đóng {interest} đồng. Đề nghị nộp ngay để bảo đảm quyền lợi "
            "người lao động."
        ),
    },
}
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")


# ---------------------------------------------------------------- templates


def template_for(*, kind: str, channel: str) -> dict[str, str]:
    """The words of a kind of message on a channel: the edited template or the default."""
    row = MessageTemplate.objects.filter(kind=kind, channel=channel).first()
    if row is not None:
        return {"subject": row.subject, "body": row.body, "zns_template_id": row.zns_template_id}
    return {**DEFAULT_TEMPLATES[kind], "zns_template_id": ""}


def template_check(text: str) -> str | None:
    """None when ``text`` is a usable template, else what is wrong (in the user's words)."""
    try:
        fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None]
    except ValueError:
        return _("dấu { } không khớp")
    unknown = [f for f in fields if f not in PLACEHOLDERS]
    if unknown:
        return _("không có trường %(f)s; dùng: %(known)s") % {
            "f": "{" + unknown[0] + "}",
            "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS),
        }
    return None


def template_save(
    *, actor: Actor, kind: str, channel: str, subject: str, body: str, zns_template_id: str = ""
) -> MessageTemplate:
    """Save the words of a kind of message on a channel (ValueError with the reason when a
    placeholder is unknown or braces do not match; nothing written)."""
    if kind not in KINDS or channel not in CHANNELS:
        raise ValueError(_("loại tin hoặc kênh không hợp lệ"))
    if not body.strip():
        raise ValueError(_("nội dung trống"))
    for text in (subject, body):
        problem = template_check(text)
        if problem:
            raise ValueError(problem)
    with transaction.atomic():
        row, _created = MessageTemplate.objects.update_or_create(
            kind=kind,
            channel=channel,
            defaults={
                "subject": subject.strip()[:200],
                "body": body.strip(),
                "zns_template_id": zns_template_id.strip()[:64],
                "updated_by": actor_user(actor),
            },
        )
        audit_record(
            actor=actor,
            action="template.save",
            object_type="message_template",
            object_id=f"{kind}:{channel}",
            after={"subject": row.subject, "body": row.body},
        )
    return row


def _render(text: str, values: dict[str, str]) -> str:
    return text.format_map(values)


# ---------------------------------------------------------------- addresses and consent


def mobile(phone: str) -> str:
    """A Vietnamese mobile number in national form (0xxxxxxxxx), or '' (DOMAIN.md §4a)."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10 and digits.startswith(MOBILE_PREFIXES):
        return digits
    return ""


def stated_consent(person_ids: list[str]) -> dict[str, str]:
    """The consent each person last stated at an activity (attendees import), for persons
    whose participation data holds none: person_id → "yes"/"no"."""
    attendee = apps.get_model("outreach", "Attendee")  # a sibling app: looked up, not imported
    out: dict[str, str] = {}
    for pid, consent in (
        attendee.objects.filter(person_id__in=person_ids)
        .exclude(consent="")
        .order_by("activity__date", "pk")
        .values_list("person_id", "consent")
    ):
        out[pid] = consent  # the latest activity wins
    return out


def with_stated_consent(people: list[Person]) -> None:
    """Fill ``consent`` from the latest attendance where the participation data has none."""
    blank = [p.person_id for p in people if not p.consent]
    if blank:
        stated = stated_consent(blank)
        for p in people:
            if not p.consent and p.person_id in stated:
                p.consent = stated[p.person_id]


def person_block_reason(person: Person | None) -> str:
    """Why a person must not be messaged ('' when they may)."""
    if person is None:
        return words.stored(gettext_noop("không có trong danh sách người tham gia"))
    if person.do_not_contact:
        return words.stored(gettext_noop("đã yêu cầu không liên hệ"))
    if person.opted_out_at is not None:
        return words.stored(
            gettext_noop("đã từ chối nhận tin nhắn ngày %(d)s"),
            d=timezone.localtime(person.opted_out_at).date(),
        )
    if person.consent != "yes":
        if person.consent == "no":
            return words.stored(gettext_noop("không đồng ý nhận tin nhắn"))
        return words.stored(gettext_noop("chưa có sự đồng ý nhận tin nhắn"))
    return ""


def _person_address(person: Person, channel: str) -> tuple[str, str]:
    """(recipient, reason when none) of a person on a channel."""
    if channel == "email":
        if person.email:
            return person.email, ""
        return "", words.stored(gettext_noop("không có địa chỉ e-mail"))
    number = mobile(person.phone)
    return (
        (number, "")
        if number
        else ("", words.stored(gettext_noop("không có số điện thoại di động hợp lệ")))
    )


# ---------------------------------------------------------------- queueing


@dataclass
class QueueResult:
    queued: int = 0
    skipped: int = 0
    already: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"queued": self.queued, "skipped": self.skipped, "already": self.already}


def outbox_queue(
    *,
    actor: Actor,
    kind: str,
    channel: str,
    unit: Unit | None = None,
    amount: int | None = None,
    as_of: dt.date | None = None,
) -> dict[str, int]:
    """Queue the reminders of one kind on one channel for the actor's scope (``unit`` and
    below): ``hi_expiring`` and ``lapsed`` to the persons of the open worklist entries,
    ``employer`` to the employers overdue at ``as_of`` (default the data date) with their
    overdue amount and interest (SPEC section 8). ``amount`` is the sum the person reminders
    name (the renewal or contribution due, typed by the office: rates are dated facts).
    A message already queued for the same purpose is not queued again."""
    if kind not in KINDS or channel not in CHANNELS:
        raise ValueError(kind)
    texts = template_for(kind=kind, channel=channel)
    result = QueueResult()
    root = unit if unit is not None else None
    with transaction.atomic():
        if kind in ("hi_expiring", "lapsed"):
            qs: QuerySet[FollowUp] = FollowUp.objects.filter(
                kind=kind, status=FollowUp.Status.OPEN
            ).filter(unit_filter(actor))
            if root is not None:
                qs = qs.filter(unit__path__startswith=root.path)
            entries = list(qs.select_related("unit").order_by("pk"))
            found = list(Person.objects.filter(person_id__in=[f.person_id for f in entries]))
            with_stated_consent(found)
            people = {p.person_id: p for p in found}
            keys = {f"{kind}:{channel}:{f.pk}" for f in entries}
            done = set(
                OutboxMessage.objects.filter(dedupe_key__in=keys).values_list(
                    "dedupe_key", flat=True
                )
            )
            new = []
            for f in entries:
                key = f"{kind}:{channel}:{f.pk}"
                if key in done:
                    result.already += 1
                    continue
                person = people.get(f.person_id)
                values = {
                    "name": person.full_name if person and person.full_name else f.person_id,
                    "card_end": fmt_date(f.reference_date, lang="vi"),
                    "amount": fmt_int(amount, lang="vi") if amount is not None else "",
                    "interest": "",
                    "code": f.person_id,
                    "unit": f.unit.name,
                }
                reason = person_block_reason(person)
                recipient = ""
                if not reason and person is not None:
                    recipient, reason = _person_address(person, channel)
                new.append(
                    _message(
                        kind=kind,
                        channel=channel,
                        key=key,
                        unit_id=f.unit_id,
                        person_id=f.person_id,
                        followup=f,
                        recipient=recipient,
                        texts=texts,
                        values=values,
                        reason=reason,
                        actor=actor,
                    )
                )
        else:
            scope = root or actor_root_unit(actor)
            if scope is None:
                return result.as_dict()
            day = as_of or selectors.data_date()
            data = figures.arrears(unit=scope, as_of=day, actor=actor)
            employers = {
                e.code: e
                for e in Employer.objects.filter(
                    code__in=[r["code"] for r in data["employers"]]
                ).select_related("unit")
            }
            keys = {f"employer:{channel}:{r['code']}:{day:%Y-%m}" for r in data["employers"]}
            done = set(
                OutboxMessage.objects.filter(dedupe_key__in=keys).values_list(
                    "dedupe_key", flat=True
                )
            )
            new = []
            for r in data["employers"]:
                key = f"employer:{channel}:{r['code']}:{day:%Y-%m}"
                if key in done:
                    result.already += 1
                    continue
                emp = employers[r["code"]]
                if channel == "email":
                    recipient = emp.email
                    reason = (
                        ""
                        if recipient
                        else words.stored(gettext_noop("đơn vị chưa có địa chỉ e-mail"))
                    )
                else:
                    recipient = mobile(emp.phone)
                    reason = (
                        ""
                        if recipient
                        else words.stored(gettext_noop("đơn vị chưa có số điện thoại di động"))
                    )
                values = {
                    "name": emp.name,
                    "card_end": "",
                    "amount": fmt_int(r["overdue"], lang="vi"),
                    "interest": fmt_int(r["interest"], lang="vi"),
                    "code": emp.code,
                    "unit": emp.unit.name,
                }
                new.append(
                    _message(
                        kind=kind,
                        channel=channel,
                        key=key,
                        unit_id=emp.unit_id,
                        employer=emp,
                        recipient=recipient,
                        texts=texts,
                        values=values,
                        reason=reason,
                        actor=actor,
                    )
                )
        OutboxMessage.objects.bulk_create(new, batch_size=1000)
        for m in new:
            if m.state == OutboxMessage.State.SKIPPED:
                result.skipped += 1
            else:
                result.queued += 1
        audit_record(
            actor=actor,
            action="outbox.queue",
            object_type="outbox",
            object_id=f"{kind}:{channel}",
            after={**result.as_dict(), "unit": root.code if root else None},
        )
    return result.as_dict()


def _message(
    *,
    kind: str,
    channel: str,
    key: str,
    unit_id: str,
    recipient: str,
    texts: dict[str, str],
    values: dict[str, str],
    reason: str,
    actor: Actor,
    person_id: str = "",
    followup: FollowUp | None = None,
    employer: Employer | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        kind=kind,
        channel=channel,
        dedupe_key=key,
        unit_id=unit_id,
        person_id=person_id,
        followup=followup,
        employer=employer,
        recipient=recipient,
        subject=_render(texts["subject"], values)[:200],
        body=_render(texts["body"], values),
        zns_template_id=texts.get("zns_template_id", ""),
        zns_data=values,
        state=OutboxMessage.State.SKIPPED if reason else OutboxMessage.State.QUEUED,
        reason=reason[:500],
        created_by=actor_user(actor),
    )


# ---------------------------------------------------------------- sending


class Transient(Exception):
    """A failure that may pass: the message waits for the next run."""


class Refused(Exception):
    """The server refused the message: it is failed, not retried."""


def _conf() -> dict[str, Any]:
    return dict(getattr(settings, "ANSINH_MESSAGING", {}) or {})


def send_email(message: OutboxMessage, conf: dict[str, Any]) -> str:
    if not conf.get("smtp_host"):
        raise Transient(words.stored(gettext_noop("chưa cấu hình máy chủ thư (ANSINH_SMTP_HOST)")))
    mail = EmailMessage()
    mail["From"] = str(conf.get("smtp_from") or "ansinh@localhost")
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    # the same id on every attempt, so a copy sent again after a crash can be recognised
    sender = str(mail["From"])
    msgid = f"<ansinh-outbox-{message.pk}@{sender.rpartition('@')[2] or 'localhost'}>"
    mail["Message-ID"] = msgid
    mail.set_content(message.body)
    try:
        with smtplib.SMTP(
            str(conf["smtp_host"]),
            int(conf.get("smtp_port") or 25),
            timeout=float(conf.get("timeout") or 10),
        ) as smtp:
            if conf.get("smtp_starttls"):
                smtp.starttls()
            if conf.get("smtp_user"):
                smtp.login(str(conf["smtp_user"]), str(conf.get("smtp_password") or ""))
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        error = words.stored(
            gettext_noop("máy chủ thư từ chối địa chỉ: %(c)s %(t)s"),
            c=code,
            t=text.decode(errors="replace") if isinstance(text, bytes) else text,
        )
        if 400 <= int(code) < 500:
            raise Transient(error) from exc
        raise Refused(error) from exc
    except smtplib.SMTPResponseException as exc:
        error = words.stored(
            gettext_noop("máy chủ thư trả lời %(c)s %(t)s"),
            c=exc.smtp_code,
            t=exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error,
        )
        if 400 <= exc.smtp_code < 500:
            raise Transient(error) from exc
        raise Refused(error) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise Transient(
            words.stored(
                gettext_noop("không kết nối được máy chủ thư %(h)s:%(p)s (%(e)s)"),
                h=conf["smtp_host"],
                p=conf.get("smtp_port"),
                e=exc,
            )
        ) from exc
    return msgid


def _post(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: Any) -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only)
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", errors="replace")[:200]
        error = words.stored(gettext_noop("máy chủ trả lời HTTP %(c)s: %(t)s"), c=exc.code, t=text)
        if exc.code >= 500 or exc.code == 429:
            raise Transient(error) from exc
        raise Refused(error) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Transient(
            words.stored(gettext_noop("không kết nối được %(u)s (%(e)s)"), u=url, e=reason)
        ) from exc
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return {}


def _http_url(url: str, name: str) -> str:
    if not url:
        raise Transient(words.stored(gettext_noop("chưa cấu hình %(n)s"), n=name))
    if not url.startswith(("http://", "https://")):
        raise Refused(words.stored(gettext_noop("%(n)s phải là địa chỉ http(s)"), n=name))
    return url


def send_sms(message: OutboxMessage, conf: dict[str, Any]) -> str:
    url = _http_url(str(conf.get("sms_url") or ""), "ANSINH_SMS_URL")
    answer = _post(
        url,
        {"to": message.recipient, "text": message.body, "id": f"ansinh-{message.pk}"},
        {"Authorization": f"Bearer {conf.get('sms_key') or ''}"},
        conf.get("timeout"),
    )
    return str(answer.get("id", "")) if isinstance(answer, dict) else ""


def send_zns(message: OutboxMessage, conf: dict[str, Any]) -> str:
    url = _http_url(str(conf.get("zns_url") or ""), "ANSINH_ZNS_URL")
    answer = _post(
        url,
        {
            "phone": "84" + message.recipient[1:],
            "template_id": message.zns_template_id,
            "template_data": {k: v for k, v in message.zns_data.items() if v},
            "tracking_id": f"ansinh-{message.pk}",
        },
        {"access_token": str(conf.get("zns_key") or "")},
        conf.get("timeout"),
    )
    if not isinstance(answer, dict) or answer.get("error", 0) != 0:
        text = answer.get("message", "") if isinstance(answer, dict) else ""
        raise Refused(
            words.stored(
                gettext_noop("Zalo ZNS trả lỗi %(c)s: %(t)s"),
                c=answer.get("error") if isinstance(answer, dict) else "?",
                t=text,
            )
        )
    data = answer.get("data") or {}
    return str(data.get("msg_id", "")) if isinstance(data, dict) else ""


SENDERS = {"email": send_email, "sms": send_sms, "zns": send_zns}


def _claim(pk: int) -> bool:
    """Take a queued message for this run (one conditional UPDATE, committed at once)."""
    with transaction.atomic():
        return (
            OutboxMessage.objects.filter(pk=pk, state=OutboxMessage.State.QUEUED).update(
                state=OutboxMessage.State.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
            == 1
        )


def _finish(pk: int, **fields: Any) -> None:
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=pk, state=OutboxMessage.State.SENDING).update(**fields)


def _requeue_stale() -> int:
    """Give back the messages a dead run left ``sending`` (see ``STALE_SENDING``)."""
    stale = OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENDING, claimed_at__lt=timezone.now() - STALE_SENDING
    )
    reason = words.stored(gettext_noop("lần gửi trước bị ngắt giữa chừng; gửi lại với cùng mã tin"))
    with transaction.atomic():
        failed = stale.filter(attempts__gte=MAX_ATTEMPTS).update(
            state=OutboxMessage.State.FAILED, reason=reason
        )
        queued = stale.update(state=OutboxMessage.State.QUEUED, reason=reason)
    return failed + queued


def outbox_send(*, actor: Actor, limit: int | None = None) -> dict[str, int]:
    """Send the queued messages (oldest first, at most ``limit``); safe to run twice at once.
    Returns how many were ``sent``, put back to wait (``retry``), ``failed`` and ``skipped``
    (consent withdrawn since queueing)."""
    conf = _conf()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    _requeue_stale()
    done = 0
    last = 0
    while limit is None or done < limit:
        batch = list(
            OutboxMessage.objects.filter(state=OutboxMessage.State.QUEUED, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:100]
        )
        if not batch:
            break
        for pk in batch:
            last = pk
            if limit is not None and done >= limit:
                break
            if not _claim(pk):
                continue  # another run took it
            done += 1
            message = OutboxMessage.objects.select_related("employer").get(pk=pk)
            if message.person_id:
                person = Person.objects.filter(person_id=message.person_id).first()
                if person is not None:
                    with_stated_consent([person])
                reason = person_block_reason(person)
                if reason:
                    _finish(pk, state=OutboxMessage.State.SKIPPED, reason=reason[:500])
                    counts["skipped"] += 1
                    continue
            try:
                provider_id = SENDERS[message.channel](message, conf)
            except Transient as exc:
                failed = message.attempts >= MAX_ATTEMPTS
                _finish(
                    pk,
                    state=OutboxMessage.State.FAILED if failed else OutboxMessage.State.QUEUED,
                    reason=str(exc)[:500],
                )
                counts["failed" if failed else "retry"] += 1
                continue
            except Refused as exc:
                _finish(pk, state=OutboxMessage.State.FAILED, reason=str(exc)[:500])
                counts["failed"] += 1
                continue
            _finish(
                pk,
                state=OutboxMessage.State.SENT,
                sent_at=timezone.now(),
                provider_id=provider_id[:100],
                reason="",
            )
            counts["sent"] += 1
    if any(counts.values()):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="outbox.send",
                object_type="outbox",
                object_id="",
                after=counts,
            )
    return counts


def outbox_send_job_start(*, actor: Actor) -> Job:
    """``outbox_send`` as a background job (``core.jobs``, kind ``outbox_send``: the button of
    the outbox page)."""
    return job_enqueue(kind="outbox_send", params={}, actor=actor)


def outbox_send_job_run(job: Job) -> dict[str, Any]:
    """The ``outbox_send`` job kind: send what is queued, as the job's creator."""
    result = outbox_send(actor=job.created_by or SYSTEM)
    summary = _("Đã gửi %(s)d; %(r)d chờ gửi lại; %(f)d lỗi; %(k)d bỏ qua (không còn đồng ý).") % {
        "s": result["sent"],
        "r": result["retry"],
        "f": result["failed"],
        "k": result["skipped"],
    }
    return {**result, "summary": summary}


def outbox_requeue(*, actor: Actor, message: OutboxMessage) -> OutboxMessage:
    """Put a failed message back in the queue (after fixing the address or the settings)."""
    with transaction.atomic():
        n = OutboxMessage.objects.filter(pk=message.pk, state=OutboxMessage.State.FAILED).update(
            state=OutboxMessage.State.QUEUED, attempts=0
        )
        if n:
            audit_record(
                actor=actor,
                action="outbox.requeue",
                object_type="outbox",
                object_id=str(message.pk),
            )
    message.refresh_from_db()
    return message


def person_opt_out(*, actor: Actor, person_id: str) -> bool:
    """Record that a person withdrew consent to be messaged (Decree 356/2025: the right to
    withdraw): queued messages to them are skipped with the reason. False when unknown."""
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(person_id=person_id).first()
        if person is None:
            return False
        if person.opted_out_at is None:
            person.opted_out_at = timezone.now()
            person.save(update_fields=["opted_out_at"])
        reason = person_block_reason(person)
        OutboxMessage.objects.filter(person_id=person_id, state=OutboxMessage.State.QUEUED).update(
            state=OutboxMessage.State.SKIPPED, reason=reason[:500]
        )
        audit_record(
            actor=actor, action="person.opt_out", object_type="person", object_id=person_id
        )
    return True


def outbox_visible(*, actor: Actor) -> QuerySet[OutboxMessage]:
    if not may(actor, "work_followups"):
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(unit_filter(actor))


def outbox_counts(*, qs: QuerySet[OutboxMessage]) -> dict[str, int]:
    counts = dict.fromkeys(OutboxMessage.State.values, 0)
    for row in qs.values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    counts["waiting_retry"] = qs.filter(state="queued").exclude(reason="").count()
    return counts
