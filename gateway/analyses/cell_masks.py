"""A cell selection as a mask over the dataset's cell indices, evaluated in numpy from columns read once.

A question with a `where` otherwise looks its cells up in marts.cells for every request, and the metadata
maps there cost more to read than the two genes' stored rows a correlation needs. Instead each column a
selection names is read once per load of the dataset (the catalog keeps it: cell index → value code, or
number) and a selection becomes a few vectorised comparisons. The rules are those of the SQL predicate
(`CellSelection.predicate`): a group term keeps the cells whose value is listed, a numeric term the cells
that have the column within the inclusive bounds (NaN is within none), and a cell without a value of a
compare-by column falls in the group ''. Region terms (a polygon on an embedding) are the user's own shapes,
so they are looked up in the engine each time, through the term's own SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.analyses.cells import DESIGNATED, CellSelection, RegionTerm, Term
from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool

NO_VALUE = -1


@dataclass(frozen=True)
class GroupColumn:
    """A group column over cell indices: each cell's value as an index into `names` (NO_VALUE: none)."""

    codes: np.ndarray
    names: tuple[str, ...]

    def having(self, values: tuple[str, ...] | list[str]) -> np.ndarray:
        wanted = set(values)
        # One entry per name and a last one for NO_VALUE (index -1): a lookup, not a search per cell.
        accepted = np.array([name in wanted for name in self.names] + [False])
        return accepted[self.codes]


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column over cell indices, and which cells have a value at all."""

    values: np.ndarray
    present: np.ndarray

    def within(self, low: float | None, high: float | None) -> np.ndarray:
        mask = self.present.copy()
        with np.errstate(invalid="ignore"):
            if low is not None:
                mask &= self.values >= low
            if high is not None:
                mask &= self.values <= high
        return mask


def _column_sql(name: str, kind: str) -> str:
    if name in DESIGNATED:  # a fixed column name, never the request's text
        return f"SELECT cell, toString({name}) AS value FROM marts.cells WHERE dataset = {{dataset:String}}"
    attributes = "group_attributes" if kind == "group" else "numeric_attributes"
    return (
        f"SELECT cell, {attributes}[{{key:String}}] AS value FROM marts.cells "
        f"WHERE dataset = {{dataset:String}} AND mapContains({attributes}, {{key:String}})"
    )


def _read(pool: ClientPool, catalog: DatasetCatalog, name: str, kind: str) -> tuple[np.ndarray, pa.Array]:
    table = pool.fetch_arrow(_column_sql(name, kind), {"dataset": catalog.name, "key": name})
    cells = table.column("cell").to_numpy().astype(np.int64)
    return cells, table.column("value").combine_chunks()


def _size(pool: ClientPool, catalog: DatasetCatalog) -> int:
    """How long the per-cell arrays are: one past the largest cell index (every cell has a cell type)."""
    codes = group_column(pool, catalog, "cell_type").codes
    return len(codes)


def group_column(pool: ClientPool, catalog: DatasetCatalog, name: str) -> GroupColumn:
    """The group column `name` (cell_type, sample or one of the study's), once per load of the dataset."""

    def read() -> GroupColumn:
        cells, values = _read(pool, catalog, name, "group")
        size = int(cells.max()) + 1 if name == "cell_type" and len(cells) else _size(pool, catalog)
        encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
        codes = np.full(size, NO_VALUE, dtype=np.int32)
        codes[cells] = encoded.indices.to_numpy(zero_copy_only=False)
        return GroupColumn(codes, tuple(str(v) for v in encoded.dictionary.to_pylist()))

    return catalog.memo(("cell_column", "group", name), read)


def numeric_column(pool: ClientPool, catalog: DatasetCatalog, name: str) -> NumericColumn:
    """The numeric column `name`, once per load of the dataset."""

    def read() -> NumericColumn:
        cells, values = _read(pool, catalog, name, "numeric")
        size = _size(pool, catalog)
        numbers = np.full(size, np.nan)
        numbers[cells] = values.to_numpy(zero_copy_only=False)
        present = np.zeros(size, dtype=bool)
        present[cells] = True
        return NumericColumn(numbers, present)

    return catalog.memo(("cell_column", "numeric", name), read)


def _region_mask(pool: ClientPool, catalog: DatasetCatalog, term: RegionTerm, size: int) -> np.ndarray:
    sql, params = term.sql("region")
    table = pool.fetch_arrow(
        f"SELECT cell FROM marts.cells WHERE dataset = {{dataset:String}} AND {sql}",
        {"dataset": catalog.name, **params},
    )
    mask = np.zeros(size, dtype=bool)
    mask[table.column("cell").to_numpy().astype(np.int64)] = True
    return mask


def selection_mask(pool: ClientPool, catalog: DatasetCatalog, selection: CellSelection) -> np.ndarray:
    """Which cell indices the selection holds (the same cells as its SQL predicate over marts.cells)."""
    cell_types = group_column(pool, catalog, "cell_type")
    mask = np.ones(len(cell_types.codes), dtype=bool)
    if selection.cell_types:
        mask &= cell_types.having(selection.cell_types)
    if selection.excluded_cell_types:
        mask &= ~cell_types.having(selection.excluded_cell_types)
    mask &= cell_types.codes != NO_VALUE  # indices no cell has
    for term in selection.terms:
        if isinstance(term, RegionTerm):
            mask &= _region_mask(pool, catalog, term, len(mask))
        elif isinstance(term, Term) and term.column.kind == "group":
            mask &= group_column(pool, catalog, term.column.name).having(term.values)
        else:
            mask &= numeric_column(pool, catalog, term.column.name).within(term.low, term.high)
    return mask


def group_codes(pool: ClientPool, catalog: DatasetCatalog, by: str | None) -> GroupColumn:
    """Each cell's group of `by` (None: one group ''), a cell without a value in the group '' as the SQL
    breakdown's `group_attributes[by]` puts it."""
    if by is None:
        size = len(group_column(pool, catalog, "cell_type").codes)
        return GroupColumn(np.zeros(size, dtype=np.int32), ("",))
    column = group_column(pool, catalog, by)
    if not (column.codes == NO_VALUE).any():
        return column
    names = (*column.names, "") if "" not in column.names else column.names
    empty = names.index("")
    return GroupColumn(np.where(column.codes == NO_VALUE, empty, column.codes).astype(np.int32), names)
