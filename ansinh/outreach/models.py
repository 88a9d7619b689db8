"""Campaigns, communication plans and their items, activities and attendees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Campaign(models.Model):
    code = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=300)
    start = models.DateField()
    end = models.DateField()
    lead_org = models.CharField(max_length=32)
    budget = models.PositiveBigIntegerField(default=0)
    units = models.ManyToManyField("geography.Unit", blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="campaign_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Plan(models.Model):
    """A communication plan of one unit (an office or a commune) for one year; versioned."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        SUBMITTED = "submitted"
        RETURNED = "returned"
        APPROVED = "approved"

    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    as_of = models.DateField()
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    comment = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True)
    # the gaps the draft was built from: {commune: {scheme: gap}} (schemes with a target)
    gaps = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # who submitted it: never the one who approves it (four eyes, SPEC section 6)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "unit_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "version"], name="plan_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year} v{self.version} {self.status}"


class PlanItem(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)  # YYYY-MM
    channel = models.CharField(max_length=32)
    group = models.CharField(max_length=32)
    schemes = models.JSONField(default=list)
    lead_org = models.CharField(max_length=32)
    coordinating_orgs = models.JSONField(default=list, blank=True)
    sessions = models.PositiveIntegerField(default=1)
    planned_reach = models.PositiveIntegerField(default=0)
    expected_registrations = models.PositiveIntegerField(default=0)
    cost = models.PositiveBigIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["month", "unit_id", "channel", "group"]
        constraints = [
            # no two items with the same commune, group and channel in one month (no overlap)
            models.UniqueConstraint(
                fields=["plan", "unit", "month", "channel", "group"], name="planitem_no_overlap"
            ),
            models.CheckConstraint(condition=Q(sessions__gte=1), name="planitem_sessions_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month} {self.channel} {self.group}"


class LiveManager(models.Manager):
    """The rows not deleted (soft delete: ``deleted_at`` set, kept for the audit trail)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Activity(models.Model):
    code = models.CharField(max_length=64, primary_key=True)
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=32)
    date = models.DateField(db_index=True)
    lead_org = models.CharField(max_length=32)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    plan_item = models.ForeignKey(
        PlanItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    group = models.CharField(max_length=32, blank=True, default="")
    coordinating_orgs = models.JSONField(default=list, blank=True)
    planned_reach = models.PositiveIntegerField(null=True, blank=True)
    reach = models.PositiveIntegerField(null=True, blank=True)
    leads = models.PositiveIntegerField(null=True, blank=True)
    registrations = models.PositiveIntegerField(null=True, blank=True)
    vssid_installs = models.PositiveIntegerField(null=True, blank=True)
    cost = models.PositiveBigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    photo = models.ImageField(upload_to="activities/", null=True, blank=True)
    batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # set by the phone that captured it offline: a sync sent twice writes once
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        base_manager_name = "all_objects"
        ordering = ["-date", "code"]
        indexes = [models.Index(fields=["unit", "date"], name="activity_unit_date_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.channel} {self.date}"


class Attendee(models.Model):
    """A person who attended; ``person_id`` need not be known yet (a prospect)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    person_id = models.CharField(max_length=64, db_index=True)
    full_name = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    # the optional ``address`` / ``village`` / ``consent`` (to be messaged: "yes", "no", "")
    # columns of the attendees import; a person's latest stated consent counts when their
    # participation data has none (arrears.reminders)
    address = models.CharField(max_length=300, blank=True, default="")
    village = models.CharField(max_length=100, blank=True, default="")
    consent = models.CharField(max_length=8, blank=True, default="")
    batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # captured in the field (typed, scanned from the CCCD QR code, pasted)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=8, blank=True, default="")  # male / female
    # when the consent above ("yes") was given in the field (Law 91/2025): nobody is
    # contacted without it
    consent_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, blank=True, default="")  # typed / qr / paste
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(fields=["activity", "person_id"], name="attendee_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.person_id}"
