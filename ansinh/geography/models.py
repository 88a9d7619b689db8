"""Units (province, offices, historic districts, communes) and their population."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Unit(models.Model):
    """An administrative or service unit. ``path`` is the materialised path of codes from the
    root (``KH/O01/22366/``), so "a unit and everything below it" is one indexed prefix query."""

    class Level(models.TextChoices):
        PROVINCE = "province"
        OFFICE = "office"
        DISTRICT = "district"
        COMMUNE = "commune"

    code = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=200)
    level = models.CharField(max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=400, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["level", "path"], name="unit_level_path_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="unit_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, level="province") | Q(parent__isnull=False),
                name="unit_parent_unless_province",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Population(models.Model):
    """Population of a unit in a year; ``group`` blank means the whole population."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=32, blank=True, default="")
    population = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "unit", "group"], name="population_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.unit_id} {self.group or '*'} {self.population}"
