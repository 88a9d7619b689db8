"""Units (province, offices, historic districts, communes) and their population."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

# The reorganisation of 1 July 2025: districts abolished, communes merged (SPEC section 9).
REORGANISED_ON = dt.date(2025, 7, 1)
LEGACY_VALID_TO = dt.date(2025, 6, 30)
# A unit in force until 30 June 2025 is stored under its code and this suffix (``22411@2025``):
# every new commune took the code of a commune it absorbed, so the former unit needs a key of
# its own. It is shown as ``22411 (đến 30/06/2025)`` (``ansinh.geography.selectors``).
LEGACY_SUFFIX = "@2025"


def legacy_key(code: str) -> str:
    """The stored key of the former unit of ``code`` (``22411`` → ``22411@2025``)."""
    return code if code.endswith(LEGACY_SUFFIX) else f"{code}{LEGACY_SUFFIX}"


def is_legacy_key(code: str) -> bool:
    return code.endswith(LEGACY_SUFFIX)


def official_code(code: str) -> str:
    """The code as written in files and decisions (``22411@2025`` → ``22411``)."""
    return code[: -len(LEGACY_SUFFIX)] if code.endswith(LEGACY_SUFFIX) else code


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


class Successor(models.Model):
    """A former commune (in force until 30 June 2025) and one commune of today that took (part
    of) it, with the share of the former commune's figures that counts there. The shares of one
    former commune add up to 1 (checked by ``units official`` and ``import successors``);
    ``main`` marks the successor the official conversion names as the main one."""

    legacy = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="successors")
    successor = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="predecessors")
    share = models.DecimalField(max_digits=7, decimal_places=6)
    main = models.BooleanField(default=False)

    class Meta:
        ordering = ["legacy", "-share", "successor"]
        constraints = [
            models.UniqueConstraint(fields=["legacy", "successor"], name="successor_unique"),
            models.CheckConstraint(
                condition=Q(share__gte=0) & Q(share__lte=1), name="successor_share_range"
            ),
            models.CheckConstraint(
                condition=~Q(legacy=models.F("successor")), name="successor_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legacy_id} -> {self.successor_id} {self.share}"


class TreeChange(models.Model):
    """A write to the unit tree that no import batch records (``units official``, paths
    rebuilt): the data version (``ansinh.monitoring.selectors.data_version``) reads the latest,
    so that a page cached before it shows the new names and places."""

    at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.what}"
