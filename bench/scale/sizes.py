"""Sizes given as non-zeros ("20M", "1000M", "1B", "60k") and the study each one is: ≈ `nnz_per_cell`
non-zeros per cell over `genes` genes — the seed's shape (170M over 60k cells × 25k genes ≈ 2,800 a cell)."""

from __future__ import annotations

import math
import re

from bench.errors import BenchError

SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "g": 1_000_000_000}
DEFAULT_SIZES = "20M,170M,500M,1000M"
NNZ_PER_CELL = 2_800
GENES = 25_000
MIN_CELLS = 11  # loader.synth needs one cell per cell type


def parse_size(text: str) -> int:
    """'170M' → 170_000_000 (suffixes k, M, B/G; plain integers too)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMbBgG]?)\s*", text)
    if not match:
        raise BenchError(f"not a size in non-zeros: {text!r} (e.g. 20M, 1000M, 1B)")
    value = float(match.group(1)) * SUFFIXES[match.group(2).lower()]
    if value < 1:
        raise BenchError(f"a size must be at least one non-zero: {text!r}")
    return int(value)


def parse_sizes(text: str) -> list[int]:
    """A comma-separated list of sizes, smallest first, without repeats."""
    sizes = sorted({parse_size(part) for part in text.split(",") if part.strip()})
    if not sizes:
        raise BenchError("no sizes given")
    return sizes


def label(nnz: int) -> str:
    """A directory-friendly name of a size: 20000000 → '20M', 60000 → '60k'."""
    for suffix, unit in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if nnz % unit == 0 and nnz >= unit:
            return f"{nnz // unit}{suffix}"
    return str(nnz)


def cells_for(nnz: int, nnz_per_cell: int = NNZ_PER_CELL) -> int:
    return max(MIN_CELLS, math.ceil(nnz / nnz_per_cell))
