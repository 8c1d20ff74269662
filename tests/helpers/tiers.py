"""Which tier a test belongs to, by its directory (tests/conftest.py marks every test with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
# Longest directory first: browser tests sit inside integration/ (they share its store fixtures).
TIERS = {
    ("integration", "browser"): "browser",
    ("unit",): "unit",
    ("integration",): "integration",
    ("cluster",): "cluster",
}


def tier_of(path: Path) -> str:
    """The tier of the test file at `path` (every test file sits in one tier's directory)."""
    resolved = path.resolve()
    parts = resolved.relative_to(TESTS).parts if resolved.is_relative_to(TESTS) else ()
    for prefix, tier in TIERS.items():
        if parts[: len(prefix)] == prefix:
            return tier
    raise pytest.UsageError(f"{path}: a test file outside the tier directories ({', '.join(TIERS.values())})")
