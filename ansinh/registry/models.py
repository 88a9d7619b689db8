"""People, participation spells and aggregate counts."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class Person(models.Model):
    person_id = models.CharField(max_length=64, primary_key=True)
    full_name = models.CharField(max_length=200, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=8, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    household_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    do_not_contact = models.BooleanField(default=False)
    # where to find them (the optional ``address`` / ``village`` columns of participations)
    address = models.CharField(max_length=300, blank=True, default="")
    village = models.CharField(max_length=100, blank=True, default="")
    # consent to be messaged (Law 91/2025, Decree 356/2025): "yes", "no" or "" (not asked),
    # from the optional ``consent`` column of imports; ``opted_out_at`` when they withdrew it
    consent = models.CharField(max_length=8, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    opted_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.person_id


class Spell(models.Model):
    """A participation spell: ``end_date`` is the last day covered (inclusive), null = open.
    Natural key: (person, scheme, start_date, unit). ``batch``/``row_no`` order ties."""

    # person and unit are covered by the natural key and spell_unit_scheme_idx: no extra
    # single-column (and varchar_pattern_ops) indexes to maintain on 5-million-row imports
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="spells", db_index=False
    )
    scheme = models.CharField(max_length=16)
    group = models.CharField(max_length=32)
    unit = models.ForeignKey(
        "geography.Unit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    employer_code = models.CharField(max_length=64, blank=True, default="")
    # which import wrote the row (orders KPI ties); a provenance pointer, not a constraint the
    # database checks row by row on bulk loads (the importer writes the batch first)
    batch = models.ForeignKey(
        "core.ImportBatch",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    row_no = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "scheme", "start_date", "unit"], name="spell_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="spell_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(scheme__in=["si_compulsory", "si_voluntary", "ui", "hi"]),
                name="spell_scheme_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["scheme", "start_date"], name="spell_scheme_start_idx"),
            models.Index(fields=["scheme", "end_date"], name="spell_scheme_end_idx"),
            models.Index(fields=["unit", "scheme"], name="spell_unit_scheme_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.scheme} {self.start_date}..{self.end_date or ''}"


class Count(models.Model):
    """An aggregate participant count where no person data exists; stands until replaced."""

    as_of = models.DateField()
    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    scheme = models.CharField(max_length=16)
    group = models.CharField(max_length=32, blank=True, default="")
    participants = models.PositiveBigIntegerField()
    batch = models.ForeignKey(
        "core.ImportBatch", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "unit", "scheme", "group"], name="count_unique"
            ),
        ]
        indexes = [models.Index(fields=["scheme", "unit", "as_of"], name="count_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.as_of} {self.unit_id} {self.scheme} {self.participants}"
