"""Materialised KPI snapshot: participants per leaf unit, scheme and group at each month-end."""

from __future__ import annotations

from django.db import models


class KpiSnapshot(models.Model):
    """Rows at the units where facts are loaded (normally communes); a unit's figure is the sum
    over its subtree of the rows with ``in_total``."""

    as_of = models.DateField()
    # reads go by date (the unique key starts with as_of); every further index is paid on each
    # row an import's correction updates (three fewer: 5 s → 0.7 s at 78,000 rows on PostgreSQL)
    unit = models.ForeignKey(
        "geography.Unit", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    scheme = models.CharField(max_length=16)
    group = models.CharField(max_length=32, blank=True, default="")
    participants = models.PositiveBigIntegerField(default=0)
    new = models.PositiveBigIntegerField(default=0)
    lapsed = models.PositiveBigIntegerField(default=0)
    renewed = models.PositiveBigIntegerField(default=0)
    # False for a counts row with a group where the same unit/scheme also has a row without a
    # group at that date: the ungrouped row is the total, the grouped ones only break it down.
    in_total = models.BooleanField(default=True)
    # True where the row comes from aggregate counts (the unit has no spell of the scheme)
    from_counts = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "unit", "scheme", "group"], name="kpisnapshot_unique"
            ),
        ]


class SnapshotState(models.Model):
    """Which month-ends are materialised, and when the data last changed ("data as of")."""

    as_of = models.DateField(primary_key=True)
    built_at = models.DateTimeField(auto_now=True)
