"""The cell selection every analysis shares: the chosen cell types, or all cells when none are chosen.

One rule in one place — correlation, co-expression, the scatter and the expression matrix all select cells
by it, with the cell types bound as the `cell_types` parameter (never spliced into the SQL).
"""

from __future__ import annotations


def cell_filter(cell_types: list[str], column: str = "cell_type") -> str:
    """The WHERE term selecting the chosen cell types (all cells when none are chosen)."""
    return f"{column} IN {{cell_types:Array(String)}}" if cell_types else "1"
