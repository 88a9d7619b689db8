"""Yearly targets per unit and indicator."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Target(models.Model):
    """``target`` is a number of participants for a scheme, or a percent for ``hi_coverage``."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey("geography.Unit", on_delete=models.CASCADE, related_name="+")
    indicator = models.CharField(max_length=16)
    target = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "unit", "indicator"], name="target_unique"),
            models.CheckConstraint(condition=Q(target__gte=Decimal(0)), name="target_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.unit_id} {self.indicator} {self.target}"
