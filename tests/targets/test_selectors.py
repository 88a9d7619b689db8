"""Targets (SPEC section 3): own row, else the sum of the children's, never for hi_coverage."""

from __future__ import annotations

from decimal import Decimal

from ansinh.targets.selectors import target_tree, targets_of
from tests.monitoring.factories import make_units, targets


def test_target_tree(db: None) -> None:
    u = make_units()
    targets(
        [
            (2025, "C1", "hi", 10),
            (2025, "C2", "hi", 15),
            (2025, "C3", "hi", 7),
            (2025, "O2", "hi", 9),  # own row beats the children's 7
            (2025, "C1", "hi_coverage", "92.5"),
            (2025, "KH", "ui", 1000),
            (2026, "C1", "hi", 99),
        ]
    )
    tree = target_tree(unit=u["KH"], year=2025)
    assert tree["O1"]["hi"] == Decimal(25)
    assert tree["O2"]["hi"] == Decimal(9)
    assert tree["KH"]["hi"] == Decimal(34)
    assert tree["KH"]["ui"] == Decimal(1000) and tree["O1"]["ui"] is None
    assert tree["C1"]["hi_coverage"] == Decimal("92.5")
    assert tree["O1"]["hi_coverage"] is None  # never summed
    assert targets_of(unit=u["C1"], year=2026)["hi"] == Decimal(99)
    assert targets_of(unit=u["C2"], year=2024) == {
        "si_compulsory": None,
        "si_voluntary": None,
        "ui": None,
        "hi": None,
        "hi_coverage": None,
    }
