"""Employers, their monthly contributions, follow-up worklists and reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Employer(models.Model):
    code = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=300)
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    tax_code = models.CharField(max_length=32, blank=True, default="")
    sector = models.CharField(max_length=100, blank=True, default="")
    employees = models.PositiveIntegerField(null=True, blank=True)
    # where notices go (the optional ``email`` / ``phone`` columns of the employers import)
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Contribution(models.Model):
    """What an employer owes for one month (``period``, first day of the month)."""

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="contributions")
    period = models.DateField()
    amount_due = models.PositiveBigIntegerField()
    amount_paid = models.PositiveBigIntegerField(default=0)
    paid_on = models.DateField(null=True, blank=True)
    batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employer", "period"], name="contribution_unique"),
            models.CheckConstraint(
                condition=Q(amount_paid=0) | Q(paid_on__isnull=False), name="paid_needs_date"
            ),
        ]
        indexes = [models.Index(fields=["period"], name="contribution_period_idx")]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.period:%Y-%m}"


class FollowUp(models.Model):
    """An entry of a worklist: a person (expiring/lapsed cover, household gap) or an employer."""

    class Kind(models.TextChoices):
        HI_EXPIRING = "hi_expiring"
        LAPSED = "lapsed"
        HOUSEHOLD = "household"
        EMPLOYER_OVERDUE = "employer_overdue"

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    person_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    household_id = models.CharField(max_length=64, blank=True, default="")
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.CASCADE, related_name="followups"
    )
    scheme = models.CharField(max_length=16, blank=True, default="")
    reference_date = models.DateField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_org = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    closed_reason = models.CharField(max_length=32, blank=True, default="")
    closed_at = models.DateField(null=True, blank=True)
    # the data date of the list that first held it (``followup_sync(as_of=…)``)
    listed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "person_id",
                    "scheme",
                    "household_id",
                    "employer",
                    "reference_date",
                ],
                name="followup_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id or self.employer_id}"


class WorklistBuild(models.Model):
    """When a worklist was last brought up to date (``followup_sync``), and on which data date:
    one row per kind, so the pages can say as of which data the lists stand."""

    kind = models.CharField(max_length=32, choices=FollowUp.Kind.choices, primary_key=True)
    # the data date of the latest build
    as_of = models.DateField()
    built_at = models.DateTimeField()
    # what ran it: ``import:participations``, ``cli``, ``page``…
    source = models.CharField(max_length=40, blank=True, default="")
    created = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} {self.as_of}"


class FollowUpOutcome(models.Model):
    class Outcome(models.TextChoices):
        CALLED = "called"
        VISITED = "visited"
        PROMISED = "promised"
        REGISTERED = "registered"
        REFUSED = "refused"
        UNREACHABLE = "unreachable"
        DO_NOT_CONTACT = "do_not_contact"

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="outcomes")
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    on = models.DateField()
    note = models.CharField(max_length=500, blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # written by the system (a registration found in imported spells), not a contact
    automatic = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["on"], name="followup_outcome_on_idx")]


class Reminder(models.Model):
    """A reminder letter for an employer newly overdue, from the monthly review."""

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="reminders")
    review_month = models.DateField()
    overdue = models.PositiveBigIntegerField()
    interest = models.PositiveBigIntegerField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the written reminder of the law (Law 41/2024 art. 38–39): the date it went out and its
    # number in the office's register of documents ("12/TB-BHXH"), filled by the user; 60 days
    # after ``sent_on`` the debts it named, still unpaid, are evasion (``selectors.legal_states``)
    sent_on = models.DateField(null=True, blank=True)
    number = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employer", "review_month"], name="reminder_unique"),
        ]
        indexes = [models.Index(fields=["employer", "sent_on"], name="reminder_sent_on_idx")]


class MessageTemplate(models.Model):
    """The words of a reminder (``reminders.KINDS``) on a channel, edited by the province;
    placeholders ``{name}``, ``{card_end}``, ``{amount}``, ``{interest}``, ``{code}``,
    ``{unit}``. Missing rows use ``reminders.DEFAULT_TEMPLATES``."""

    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=8)
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField()
    # Zalo ZNS sends only templates registered with Zalo: their id; the body fills its fields
    zns_template_id = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="message_template_unique"),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "zns"]), name="message_template_channel"
            ),
        ]


class OutboxMessage(models.Model):
    """One message to one person or employer on one channel, and what became of it.

    ``queued`` → (claimed by a sender) ``sending`` → ``sent``; a failure that may pass (server
    unreachable, busy) goes back to ``queued`` with its ``reason`` and is retried by the next
    run, up to ``reminders.MAX_ATTEMPTS``; a refusal (address rejected, bad key, too many
    attempts) is ``failed``; a message that must not go (no consent, opted out, no address)
    is ``skipped`` with the reason and never sent."""

    class State(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=8)
    # one message per purpose: "hi_expiring:sms:<followup>", "employer:email:<code>:<month>"
    dedupe_key = models.CharField(max_length=200, unique=True)
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    person_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    followup = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    recipient = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    zns_template_id = models.CharField(max_length=64, blank=True, default="")
    zns_data = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "zns"]), name="outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_time"
            ),
        ]
        indexes = [models.Index(fields=["state", "id"], name="outbox_state_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.state}"
