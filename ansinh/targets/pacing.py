"""Pacing of a year's targets over its months.

October to December are the peak months (DOMAIN.md: the year-end campaign, households
renewing HI cards for the new year): the plan builder (``outreach/planning.py``) plans more
sessions in them and the progress report (``reports/progress.py``) expects more of the gap
to be closed in them. Each weighs them its own way; which months they are is said here once.
"""

from __future__ import annotations

PEAK_MONTHS = frozenset({10, 11, 12})
