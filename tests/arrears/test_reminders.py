"""Reminders by e-mail, SMS and Zalo ZNS (issue 20 item 2) against real servers on loopback
started here: an SMTP server (aiosmtpd) and an HTTP server standing for the SMS gateway and
the ZNS API. Consent decides who is messaged; the outbox keeps each message's state and
reason; an unreachable server leaves messages queued, never lost, never sent twice."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from ansinh.accounts.access import SYSTEM
from ansinh.arrears import reminders
from ansinh.arrears.models import Contribution, Employer, FollowUp, OutboxMessage
from ansinh.arrears.services import followup_sync
from ansinh.core import words
from ansinh.core.models import AuditEvent
from ansinh.registry.models import Person

from .factories import d, make_units, make_user

D = d("2025-09-30")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("reject"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Gateway:
    """The SMS gateway (POST /sms) and the ZNS API (POST /zns) in one HTTP server."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.zns_answer: dict[str, Any] = {"error": 0, "data": {"msg_id": "z1"}}
        self.status = 200


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, int]]:
    gw = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            gw.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = gw.zns_answer if self.path == "/zns" else {"id": f"s{len(gw.requests)}"}
            raw = json.dumps(answer).encode()
            self.send_response(gw.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gw, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def conf(**over: Any) -> dict[str, Any]:
    base = {
        "smtp_host": "",
        "smtp_port": 25,
        "smtp_user": "",
        "smtp_password": "",
        "smtp_starttls": False,
        "smtp_from": "bhxh@khanhhoa.example",
        "sms_url": "",
        "sms_key": "",
        "zns_url": "",
        "zns_key": "",
        "timeout": 5,
    }
    return {**base, **over}


def person(pid: str, *, consent: str, phone: str = "0912345678", email: str = "") -> None:
    from ansinh.registry.models import Spell

    p = Person.objects.create(
        person_id=pid, full_name=f"Lê Thị {pid}", phone=phone, consent=consent, email=email
    )
    Spell.objects.create(
        person=p,
        scheme="hi",
        group="household",
        unit_id="C1",
        start_date=d("2025-01-01"),
        end_date=d("2025-10-15"),
    )


@pytest.fixture
def world(db):
    units = make_units()
    person("A1", consent="yes", email="a1@example.org")
    person("A2", consent="no")
    person("A3", consent="")
    person("A4", consent="yes", phone="0281234567")  # a landline: no SMS
    person("A5", consent="yes", phone="0987654321")
    Employer.objects.create(
        code="E1", name="Công ty A", unit_id="C1", email="ketoan@congtya.example"
    )
    Employer.objects.create(code="E2", name="Công ty B", unit_id="C2", email="reject@b.example")
    Employer.objects.create(code="E3", name="Công ty C", unit_id="C2")
    for code in ("E1", "E2", "E3"):
        Contribution.objects.create(employer_id=code, period=d("2025-07-01"), amount_due=2_000_000)
    followup_sync(as_of=D, actor=SYSTEM)
    return units


def test_sms_only_to_consenting_people_once(world, gateway) -> None:
    gw, port = gateway
    admin = make_user("p", "province")
    res = reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms", amount=1_263_600)
    assert res == {"queued": 2, "skipped": 3, "already": 0}
    reasons = {
        p: words.shown(r) for p, r in OutboxMessage.objects.values_list("person_id", "reason")
    }
    assert reasons["A2"] == "không đồng ý nhận tin nhắn"
    assert reasons["A3"] == "chưa có sự đồng ý nhận tin nhắn"
    assert reasons["A4"] == "không có số điện thoại di động hợp lệ"
    # queued again: nothing new
    again = reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms")
    assert again == {"queued": 0, "skipped": 0, "already": 5}
    with override_settings(
        ANSINH_MESSAGING=conf(sms_url=f"http://127.0.0.1:{port}/sms", sms_key="k-123")
    ):
        assert reminders.outbox_send(actor=admin) == {
            "sent": 2,
            "retry": 0,
            "failed": 0,
            "skipped": 0,
        }
        assert reminders.outbox_send(actor=admin)["sent"] == 0  # never twice
    assert sorted(r[2]["to"] for r in gw.requests) == ["0912345678", "0987654321"]
    path, headers, body = gw.requests[0]
    assert path == "/sms" and headers["authorization"] == "Bearer k-123"
    assert "Lê Thị A" in body["text"] and "15/10/2025" in body["text"]
    assert "1.263.600 đồng" in body["text"]
    sent = OutboxMessage.objects.filter(state="sent")
    assert sent.count() == 2 and all(m.sent_at and m.provider_id for m in sent)
    assert not {m.person_id for m in sent} & {"A2", "A3", "A4"}
    assert AuditEvent.objects.filter(action="outbox.send").count() == 1


def test_unreachable_servers_leave_messages_queued_with_the_reason(world, gateway, smtp) -> None:
    gw, port = gateway
    box, smtp_port = smtp
    admin = make_user("p", "province")
    reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms")
    reminders.outbox_queue(actor=admin, kind="employer", channel="email", as_of=D)
    dead = free_port()  # nothing listens there
    with override_settings(
        ANSINH_MESSAGING=conf(
            sms_url=f"http://127.0.0.1:{dead}/sms", smtp_host="127.0.0.1", smtp_port=dead
        )
    ):
        res = reminders.outbox_send(actor=admin)
    # E3 has no e-mail: skipped at queueing; the other 4 wait
    assert res == {"sent": 0, "retry": 4, "failed": 0, "skipped": 0}
    waiting = OutboxMessage.objects.filter(state="queued")
    assert waiting.count() == 4 and all(m.attempts == 1 for m in waiting)
    reasons = {m.channel: words.shown(m.reason) for m in waiting}
    assert "không kết nối được http://127.0.0.1" in reasons["sms"]
    assert "không kết nối được máy chủ thư 127.0.0.1" in reasons["email"]
    e3 = OutboxMessage.objects.get(employer_id="E3").reason
    assert words.shown(e3) == "đơn vị chưa có địa chỉ e-mail"
    # the servers come back: each message goes once; the refused address fails with the reason
    with override_settings(
        ANSINH_MESSAGING=conf(
            sms_url=f"http://127.0.0.1:{port}/sms", smtp_host="127.0.0.1", smtp_port=smtp_port
        )
    ):
        res = reminders.outbox_send(actor=admin)
        assert res == {"sent": 3, "retry": 0, "failed": 1, "skipped": 0}
        assert reminders.outbox_send(actor=admin) == dict.fromkeys(
            ("sent", "retry", "failed", "skipped"), 0
        )
    assert len(gw.requests) == 2 and len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "ketoan@congtya.example" and "Công ty A" in mail["Subject"]
    text = mail.get_content()
    assert "2.000.000 đồng" in text and "tiền lãi chậm đóng" in text
    failed = OutboxMessage.objects.get(state="failed")
    assert failed.employer_id == "E2" and "550" in words.shown(failed.reason)
    # unconfigured: messages wait, saying which setting is missing
    OutboxMessage.objects.filter(pk=failed.pk).update(state="queued", attempts=0)
    with override_settings(ANSINH_MESSAGING=conf()):
        assert reminders.outbox_send(actor=admin)["retry"] == 1
    assert "ANSINH_SMTP_HOST" in words.shown(OutboxMessage.objects.get(pk=failed.pk).reason)


def test_zns_error_and_consent_withdrawn_before_sending(world, gateway, client) -> None:
    gw, port = gateway
    admin = make_user("p", "province")
    reminders.template_save(
        actor=admin,
        kind="hi_expiring",
        channel="zns",
        subject="",
        body="{name}: thẻ hết hạn {card_end}",
        zns_template_id="231456",
    )
    reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="zns")
    # A5 withdraws consent from the worklist page after the message was queued
    client.force_login(admin)
    fu = FollowUp.objects.get(person_id="A5")
    assert client.post(f"/worklists/{fu.pk}/", {"action": "opt_out"}).status_code == 302
    assert Person.objects.get(person_id="A5").opted_out_at is not None
    a5 = OutboxMessage.objects.get(person_id="A5")
    assert a5.state == "skipped" and words.shown(a5.reason).startswith(
        "đã từ chối nhận tin nhắn ngày"
    )
    gw.zns_answer = {"error": -124, "message": "Access token invalid"}
    with override_settings(
        ANSINH_MESSAGING=conf(zns_url=f"http://127.0.0.1:{port}/zns", zns_key="zk")
    ):
        res = reminders.outbox_send(actor=admin)
    assert res == {"sent": 0, "retry": 0, "failed": 1, "skipped": 0}
    path, headers, body = gw.requests[0]
    assert path == "/zns" and headers["access_token"] == "zk"
    assert body["phone"] == "84912345678" and body["template_id"] == "231456"
    assert body["template_data"]["card_end"] == "15/10/2025"
    m = OutboxMessage.objects.get(person_id="A1")
    assert (
        m.state == "failed"
        and words.shown(m.reason) == "Zalo ZNS trả lỗi -124: Access token invalid"
    )
    # the outbox page shows each state and reason, person data masked
    page = client.get("/outbox/").content.decode()
    assert "Access token invalid" in page and "đã từ chối nhận tin nhắn" in page
    # the reasons the sender wrote in Vietnamese read in English on the English page, the
    # date in the English form
    client.cookies["django_language"] = "en"
    page = client.get("/outbox/").content.decode()
    opted = timezone.localtime(Person.objects.get(person_id="A5").opted_out_at).date()
    assert f"opted out of messages on {opted.isoformat()}" in page
    assert "Zalo ZNS answered error -124: Access token invalid" in page
    assert "đã từ chối" not in page and "trả lỗi" not in page
    fu_page = client.get(f"/worklists/{fu.pk}/").content.decode()
    assert "Zalo ZNS ·" in fu_page and "· zns ·" not in fu_page  # the channel by its name
    assert "opted out of messages on" in fu_page
    client.cookies["django_language"] = "vi"
    assert "0912345678" not in page and "09******78" in page
    # requeued after fixing the key: sent once
    assert client.post(f"/outbox/{m.pk}/requeue").status_code == 302
    gw.zns_answer = {"error": 0, "data": {"msg_id": "z-9"}}
    with override_settings(
        ANSINH_MESSAGING=conf(zns_url=f"http://127.0.0.1:{port}/zns", zns_key="zk")
    ):
        assert reminders.outbox_send(actor=admin)["sent"] == 1
    assert OutboxMessage.objects.get(person_id="A1").provider_id == "z-9"


def test_a_claimed_message_is_not_sent_by_a_second_run(world, gateway) -> None:
    gw, port = gateway
    admin = make_user("p", "province")
    reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms")
    first = OutboxMessage.objects.filter(state="queued").order_by("pk").first()
    assert reminders._claim(first.pk) and not reminders._claim(first.pk)
    with override_settings(ANSINH_MESSAGING=conf(sms_url=f"http://127.0.0.1:{port}/sms")):
        assert reminders.outbox_send(actor=admin)["sent"] == 1
    assert [r[2]["id"] for r in gw.requests] != [f"ansinh-{first.pk}"]
    assert OutboxMessage.objects.get(pk=first.pk).state == "sending"


def test_templates_cli_and_pages(world, gateway, cli, client) -> None:
    gw, port = gateway
    admin = make_user("p", "province")
    client.force_login(admin)
    bad = client.post(
        "/outbox/templates/",
        {"kind": "lapsed", "channel": "sms", "subject": "", "body": "Chào {ten}"},
    )
    assert bad.status_code == 400 and "không có trường {ten}" in bad.content.decode()
    ok = client.post(
        "/outbox/templates/",
        {"kind": "lapsed", "channel": "sms", "subject": "", "body": "Chào {name}, {amount}đ"},
    )
    assert ok.status_code == 302
    out = cli("reminders", "queue", "--kind", "hi_expiring", "--channel", "sms")
    assert out.code == 0 and "2 vào hàng đợi, 3 bỏ qua" in out.out
    assert cli("reminders", "queue", "--kind", "x", "--channel", "sms").code == 2
    assert (
        cli("reminders", "queue", "--kind", "lapsed", "--channel", "sms", "--unit", "ZZ").code == 1
    )
    with override_settings(ANSINH_MESSAGING=conf(sms_url=f"http://127.0.0.1:{port}/sms")):
        sent = cli("reminders", "send")
    assert sent.code == 0 and "đã gửi 2, chờ gửi lại 0, lỗi 0, bỏ qua 0" in sent.out
    # the page's button starts the sending as a job
    r = client.post(
        "/outbox/queue", {"kind": "employer", "channel": "email", "as_of": "2025-09-30"}
    )
    assert r.status_code == 302 and OutboxMessage.objects.filter(kind="employer").count() == 3
    r = client.post("/outbox/send")
    assert r.status_code == 302 and r["Location"].startswith("/jobs/")
    # an office sees its own units' messages; viewers and partners no outbox
    office = make_user("o2", "office", world["O2"])
    client.force_login(office)
    assert 'data-id="' not in client.get("/outbox/").content.decode()
    client.force_login(make_user("v", "viewer", world["C1"]))
    assert client.get("/outbox/").status_code == 404


def test_consent_stated_at_an_activity_counts(world, cli, tmp_path, gateway) -> None:
    """The attendees import takes address, village and consent; a person whose participation
    data holds no consent is messaged once they said yes at an activity (the latest counts)."""
    from ansinh.outreach.models import Activity, Attendee

    gw, port = gateway
    Activity.objects.create(
        code="HN1", unit_id="C1", channel="conference", date=d("2025-09-01"), lead_org="bhxh"
    )
    f = tmp_path / "a.csv"
    f.write_text(
        "activity_code,person_id,full_name,address,village,consent\n"
        "HN1,A3,Lê Thị A3,12 Trần Phú,Thôn Đông,Có\n"
        "HN1,NEW1,Người mới,,,không\n"
        "HN1,A2,Lê Thị A2,,,có\n",
        encoding="utf-8",
    )
    res = cli("import", "attendees", str(f))
    assert res.code == 0, res.err
    a3 = Attendee.objects.get(person_id="A3")
    assert (a3.address, a3.village, a3.consent) == ("12 Trần Phú", "Thôn Đông", "yes")
    assert Attendee.objects.get(person_id="NEW1").consent == "no"
    bad = tmp_path / "b.csv"
    bad.write_text("activity_code,person_id,consent\nHN1,A9,maybe\n", encoding="utf-8")
    out = cli("import", "attendees", str(bad))
    assert out.code == 1 and "consent" in out.err
    admin = make_user("p", "province")
    assert reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms")["queued"] == 3
    assert OutboxMessage.objects.get(person_id="A3").state == "queued"
    # A2 said no in the participations data: an activity's yes does not override it
    assert OutboxMessage.objects.get(person_id="A2").state == "skipped"
    with override_settings(ANSINH_MESSAGING=conf(sms_url=f"http://127.0.0.1:{port}/sms")):
        assert reminders.outbox_send(actor=admin)["sent"] == 3


def test_a_message_left_sending_by_a_dead_run_goes_again_with_its_id(world, gateway) -> None:
    """A worker killed between the claim and the answer leaves a message ``sending``; once
    it is older than STALE_SENDING the next run sends it with the same id (the gateway can
    drop a copy); a fresh claim is left alone."""
    gw, port = gateway
    admin = make_user("p", "province")
    reminders.outbox_queue(actor=admin, kind="hi_expiring", channel="sms")
    first, second = OutboxMessage.objects.filter(state="queued").order_by("pk")[:2]
    assert reminders._claim(first.pk) and reminders._claim(second.pk)
    OutboxMessage.objects.filter(pk=first.pk).update(
        claimed_at=timezone.now() - reminders.STALE_SENDING - dt.timedelta(minutes=1)
    )
    with override_settings(ANSINH_MESSAGING=conf(sms_url=f"http://127.0.0.1:{port}/sms")):
        assert reminders.outbox_send(actor=admin)["sent"] == 1
    assert [r[2]["id"] for r in gw.requests] == [f"ansinh-{first.pk}"]
    first.refresh_from_db()
    assert first.state == "sent" and first.attempts == 2
    assert OutboxMessage.objects.get(pk=second.pk).state == "sending"
