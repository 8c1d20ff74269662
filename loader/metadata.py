"""Cell metadata: the `raw.metadata` rows of every layout, and Single Cell Portal metadata files.

A Single Cell Portal file has a `NAME` header, a `TYPE` row (group/numeric), then one row per cell. It is
streamed with pyarrow (all text), numeric columns converted to Float64, and every row landed — also cells
that are not in the matrix. The chosen cell-type and sample columns are pulled out into their own columns;
which columns those are by default, and the table every layout lands, are defined here once.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from loader.errors import InputError
from loader.features import constant_column
from loader.identifiers import describe, first_bad, identifier_problem
from loader.textio import (
    READ_ERRORS,
    ArrowSource,
    bounded_lines,
    decode_line,
    first_invalid_utf8,
    is_gzip,
    iter_lines,
    line_chunks,
    read_failure,
    require_file,
)

UNANNOTATED = "unannotated"
COLUMN_KINDS = ("group", "numeric")
MISSING_NUMBERS = ["", "NA", "NaN", "nan", "N/A", "null", "None"]
BLOCK_SIZE = 4 << 20
# Defaults when no column is named: CELLxGENE's names first, then scanpy's and Single Cell Portal's.
CELL_TYPE_COLUMNS = ("cell_type", "Cluster", "louvain", "leiden")
SAMPLE_COLUMNS = ("donor_id", "sample", "Subject")
MAX_LISTED_COLUMNS = 25


@dataclass(frozen=True)
class MetadataHeader:
    """Column names and kinds from the first two lines, and where the data rows start."""

    path: Path
    columns: list[str]
    kinds: list[str]
    data_offset: int

    @property
    def name_column(self) -> str:
        return self.columns[0]

    def of_kind(self, kind: str) -> list[str]:
        pairs = zip(self.columns, self.kinds, strict=True)
        return [c for c, k in pairs if k == kind and c != self.name_column]


def read_metadata_header(path: Path) -> MetadataHeader:
    """Check the `NAME` header and the `TYPE` row that must fit it."""
    require_file(path, "metadata")
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            lines = bounded_lines(handle, path)
            first, second = (next(lines, (0, b""))[1] for _ in range(2))
    except READ_ERRORS as exc:
        raise read_failure(path, exc) from None
    columns = decode_line(path, 1, first).split("\t")
    if columns[0].upper() != "NAME":
        raise InputError(path, 1, "metadata header must start with a NAME column (Single Cell Portal layout)")
    seen: set[str] = set()
    for column in columns:
        problem = identifier_problem(column)
        if problem:
            raise InputError(path, 1, describe("metadata column name", column, problem))
        if column in seen:
            raise InputError(path, 1, f"metadata header names column {column!r} twice")
        seen.add(column)
    if not second:
        raise InputError(path, 2, "missing TYPE row (second line declaring each column group or numeric)")
    types = decode_line(path, 2, second).split("\t")
    if types[0].upper() != "TYPE":
        raise InputError(path, 2, f"second line must start with TYPE, found {types[0][:40]!r}")
    if len(types) != len(columns):
        raise InputError(
            path, 2, f"TYPE row has {len(types)} fields but the header has {len(columns)} columns"
        )
    kinds = ["name"]
    for column, kind in zip(columns[1:], types[1:], strict=True):
        if kind.strip().lower() not in COLUMN_KINDS:
            raise InputError(path, 2, f"TYPE of column {column!r} is {kind!r}; expected 'group' or 'numeric'")
        kinds.append(kind.strip().lower())
    return MetadataHeader(path, columns, kinds, len(first) + len(second))


def _line_of_row(path: Path, row: int) -> int:
    """Physical line of the 0-based data row (blank lines are skipped by the reader)."""
    seen = -1
    for number, text in iter_lines(path, 3):
        if text.strip():
            seen += 1
            if seen == row:
                return number
    return 3 + row


def _locate_bad_row(path: Path, width: int, message: str) -> InputError:
    invalid = first_invalid_utf8(path, 3)
    if invalid is not None:
        return invalid
    for number, text in iter_lines(path, 3):
        found = len(text.split("\t"))
        if text.strip() and found != width:
            return InputError(
                path, number, f"expected {width} tab-separated fields like the header, found {found}"
            )
    return InputError(path, None, f"cannot parse the metadata: {message.splitlines()[0]}")


def _numeric(column: pa.Array, name: str, path: Path, first_row: int) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(column)
    missing = pc.is_in(trimmed, value_set=pa.array(MISSING_NUMBERS))
    cleaned = pc.if_else(missing, pa.scalar(None, pa.string()), trimmed)
    try:
        return pc.cast(cleaned, pa.float64())
    except pa.ArrowInvalid:
        for i, text in enumerate(cleaned.to_pylist()):
            if text is None:
                continue
            try:
                float(text)
            except ValueError:
                line = _line_of_row(path, first_row + i)
                problem = f"value {text!r} in numeric column {name!r} is not a number"
                raise InputError(path, line, problem) from None
        raise


def _listing(columns: list[str]) -> str:
    shown = ", ".join(columns[:MAX_LISTED_COLUMNS])
    return shown + (f", … ({len(columns)} in all)" if len(columns) > MAX_LISTED_COLUMNS else "")


@dataclass(frozen=True)
class ColumnChoice:
    """Which metadata columns hold the cell type and the sample; `where` names them in messages."""

    columns: list[str]
    path: Path
    line: int | None
    where: str = ""

    def _choose(self, requested: str | None, defaults: tuple[str, ...], what: str, flag: str) -> str | None:
        if requested is None:
            return next((c for c in defaults if c in self.columns), None)
        if requested in self.columns:
            return requested
        problem = (
            f"no {what} column {requested!r}; the columns are {_listing(self.columns)} (choose with {flag})"
        )
        raise InputError(self.path, self.line, self.where + problem)

    def cell_type(self, requested: str | None) -> str | None:
        """The requested column (refused if absent), else the first default present, else None."""
        return self._choose(requested, CELL_TYPE_COLUMNS, "cell type", "--cell-type-column")

    def sample(self, requested: str | None) -> str | None:
        return self._choose(requested, SAMPLE_COLUMNS, "sample", "--sample-column")


def metadata_table(
    dataset: str,
    load_id: str,
    barcodes: pa.Array,
    cell_type: pa.Array | None,
    sample: pa.Array | None,
    groups: dict[str, pa.Array],
    numerics: dict[str, pa.Array],
) -> pa.Table:
    """Rows of `raw.metadata`: an empty or missing cell type is `unannotated`, a missing sample is empty,
    and attributes keep every other non-missing value by column name."""
    n = len(barcodes)
    if cell_type is None:
        cell_type = pa.array([UNANNOTATED] * n, pa.string())
    else:
        cell_type = pc.fill_null(pc.if_else(pc.equal(cell_type, ""), UNANNOTATED, cell_type), UNANNOTATED)
    sample = pa.array([""] * n, pa.string()) if sample is None else pc.fill_null(sample, "")
    return pa.table(
        {
            "dataset": constant_column(dataset, n),
            "load_id": constant_column(load_id, n),
            "barcode": barcodes,
            "cell_type": cell_type,
            "sample": sample,
            "group_attributes": _map_array(list(groups), list(groups.values()), pa.string(), n),
            "numeric_attributes": _map_array(list(numerics), list(numerics.values()), pa.float64(), n),
        }
    )


def _map_array(keys: list[str], columns: list[pa.Array], value_type: pa.DataType, n: int) -> pa.MapArray:
    """Row-wise map {key: value} over columns, leaving out null values."""
    if not keys or n == 0:
        return pa.MapArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string()), pa.array([], value_type)
        )
    width = len(keys)
    order = (np.arange(width)[None, :] * n + np.arange(n)[:, None]).ravel()
    items = pa.concat_arrays([c.cast(value_type) for c in columns]).take(pa.array(order))
    key_array = pa.array(np.tile(np.array(keys, dtype=object), n), pa.string())
    valid = np.asarray(items.is_valid(), dtype=bool) if items.null_count else np.ones(len(items), dtype=bool)
    counts = valid.reshape(n, width).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    keep = pa.array(valid)
    return pa.MapArray.from_arrays(pa.array(offsets), key_array.filter(keep), items.filter(keep))


class MetadataReader:
    """Arrow tables ready for `raw.metadata`, streamed block by block."""

    def __init__(
        self, header: MetadataHeader, cell_type_column: str | None, sample_column: str | None
    ) -> None:
        self.header = header
        columns = header.columns[1:]
        choice = ColumnChoice(columns, header.path, 1)
        chosen = choice.cell_type(cell_type_column)
        self.sample_column = choice.sample(sample_column)
        if chosen is None:
            raise InputError(
                header.path,
                1,
                f"no cell type column (looked for {', '.join(CELL_TYPE_COLUMNS)}); the columns are "
                f"{_listing(columns)} (choose with --cell-type-column)",
            )
        self.cell_type_column: str = chosen
        self.rows = 0

    def tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        header = self.header
        options = {
            "read_options": pacsv.ReadOptions(column_names=header.columns, use_threads=False),
            # No quoting: values are taken as written; quotes around a name are refused (loader.identifiers).
            "parse_options": pacsv.ParseOptions(delimiter="\t", quote_char=False),
            "convert_options": pacsv.ConvertOptions(
                column_types=dict.fromkeys(header.columns, pa.string()), strings_can_be_null=False
            ),
        }
        try:
            with ArrowSource(header.path) as source:
                source.skip(header.data_offset)
                for chunk in line_chunks(source, BLOCK_SIZE):
                    try:
                        table = pacsv.read_csv(pa.BufferReader(chunk), **options)
                    except pa.ArrowInvalid as exc:
                        raise _locate_bad_row(header.path, len(header.columns), str(exc)) from None
                    if table.num_rows:
                        yield self._table(table.combine_chunks().to_batches()[0], dataset, load_id)
                        self.rows += table.num_rows
        except READ_ERRORS as exc:
            raise read_failure(header.path, exc) from None

    def _check_identifiers(self, values: pa.Array, kind: str, *, allow_empty: bool) -> None:
        """Refuse the first value an identifier may not be (an empty group label means unannotated)."""
        if allow_empty:
            values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        i = first_bad(values)
        if i is not None:
            value = values[i].as_py()
            problem = identifier_problem(value) or "is not allowed"
            line = _line_of_row(self.header.path, self.rows + i)
            raise InputError(self.header.path, line, describe(kind, value, problem))

    def _table(self, batch: pa.RecordBatch, dataset: str, load_id: str) -> pa.Table:
        header = self.header
        names = batch.column(header.name_column)
        groups = header.of_kind("group")
        self._check_identifiers(names, "NAME (cell barcode)", allow_empty=False)
        for column in groups:
            self._check_identifiers(batch.column(column), f"{column!r} value", allow_empty=True)
        numerics = header.of_kind("numeric")
        return metadata_table(
            dataset,
            load_id,
            names,
            batch.column(self.cell_type_column),
            batch.column(self.sample_column) if self.sample_column else None,
            {c: batch.column(c) for c in groups},
            {c: _numeric(batch.column(c), c, header.path, self.rows) for c in numerics},
        )
