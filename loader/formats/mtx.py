"""MatrixMarket coordinate files: header checks and a vectorised, validated stream of Arrow batches.

The body is parsed by pyarrow's streaming CSV reader (space-delimited, three typed columns) and every batch
is checked with numpy before it leaves this module, so memory stays bounded by the block size. When pyarrow
rejects a block, the exact line is found again with a slow Python scan — only on that error path.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from loader.entries import MatrixStats, entries_batch, first_fraction, value_problem
from loader.errors import InputError
from loader.textio import ArrowSource, bounded_lines, is_gzip, iter_lines, line_chunks

BANNER = "%%matrixmarket"
SUPPORTED_FIELDS = ("integer", "real")
BLOCK_SIZE = 4 << 20
PARSE_BLOCK = 1 << 20
COLUMNS = ("row", "col", "value")


@dataclass(frozen=True)
class MtxHeader:
    """What the banner and size line declare, and where the entries start."""

    path: Path
    field: str
    n_rows: int
    n_cols: int
    n_entries: int
    size_line: int
    data_offset: int

    def line_of(self, entry: int) -> int:
        """Physical line number of the 0-based `entry` (blank lines are refused, so this is exact)."""
        return self.size_line + 1 + entry


def _check_banner(path: Path, banner: str) -> str:
    tokens = banner.split()
    if not tokens or tokens[0].lower() != BANNER:
        raise InputError(path, 1, "not a MatrixMarket file: the first line must start with '%%MatrixMarket'")
    if len(tokens) != 5:
        raise InputError(path, 1, f"malformed MatrixMarket banner {banner.strip()!r}: expected 5 fields")
    obj, fmt, field, symmetry = (token.lower() for token in tokens[1:])
    if obj != "matrix":
        raise InputError(path, 1, f"unsupported MatrixMarket object {obj!r}: only 'matrix' is supported")
    if fmt != "coordinate":
        raise InputError(
            path, 1, f"unsupported MatrixMarket format {fmt!r}: only 'coordinate' (sparse) is supported"
        )
    if field not in SUPPORTED_FIELDS:
        raise InputError(
            path, 1, f"unsupported MatrixMarket field {field!r}: only 'integer' and 'real' are supported"
        )
    if symmetry != "general":
        raise InputError(
            path, 1, f"unsupported MatrixMarket symmetry {symmetry!r}: only 'general' is supported"
        )
    return field


def _parse_size_line(path: Path, number: int, text: str) -> tuple[int, int, int]:
    tokens = text.split()
    try:
        values = [int(token) for token in tokens]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 0:
        raise InputError(
            path, number, f"malformed size line {text.strip()!r}: expected 3 integers 'rows columns entries'"
        )
    return values[0], values[1], values[2]


def read_header(path: Path) -> MtxHeader:
    """Parse the banner, skip `%` comments, read the size line; refuse anything but coordinate/general.

    Parameters
    ----------
    path
        A MatrixMarket file, plain or gzip-compressed.

    Returns
    -------
    MtxHeader
        The declared field, sizes and entry count, and where the entries start.

    Raises
    ------
    InputError
        The file is not MatrixMarket coordinate/general, or its header is malformed or cut short.
    """
    opener = gzip.open if is_gzip(path) else open
    offset = 0
    field = ""
    try:
        with opener(path, "rb") as handle:
            for number, raw in bounded_lines(handle, path):
                offset += len(raw)
                text = raw.decode("utf-8", errors="replace")
                if number == 1:
                    field = _check_banner(path, text)
                elif not (text.startswith("%") or not text.strip()):
                    n_rows, n_cols, n_entries = _parse_size_line(path, number, text)
                    return MtxHeader(path, field, n_rows, n_cols, n_entries, number, offset)
            if offset == 0:
                raise InputError(path, None, "matrix file is empty")
            raise InputError(path, number + 1, "no size line ('rows columns entries') after the header")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(path, None, f"cannot read the matrix header: {exc}") from None


def _line_problem(text: str) -> str | None:
    """Why one entry line would not parse as `row column value` (mirrors the Arrow reader's rules)."""
    if not text:
        return "empty line inside the entries"
    parts = text.split(" ")
    if len(parts) != 3:
        return f"expected 3 space-separated fields (row column value), found {len(parts)}: {text[:80]!r}"
    for name, token in (("row index", parts[0]), ("column index", parts[1])):
        if not token.strip().lstrip("+-").isdigit():
            return f"{name} {token!r} is not an integer"
    try:
        float(parts[2])
    except ValueError:
        return f"value {parts[2]!r} is not a number"
    return None


def _locate_parse_error(header: MtxHeader, first_entry: int, arrow_message: str) -> InputError:
    """Find the first line at or after `first_entry` that the Arrow reader could not have parsed."""
    last = header.line_of(first_entry)
    try:
        for number, text in iter_lines(header.path, header.line_of(first_entry)):
            last = number
            problem = _line_problem(text)
            if problem:
                return InputError(header.path, number, problem)
    except (OSError, EOFError, zlib.error):
        return InputError(header.path, last, "compressed data ends early or is corrupt (truncated .gz?)")
    return InputError(header.path, last, f"cannot parse the entries: {arrow_message.splitlines()[0]}")


READ_OPTIONS = pacsv.ReadOptions(column_names=list(COLUMNS), block_size=PARSE_BLOCK, use_threads=True)
PARSE_OPTIONS = pacsv.ParseOptions(delimiter=" ", quote_char=False, ignore_empty_lines=False)
CONVERT_OPTIONS = pacsv.ConvertOptions(
    column_types={"row": pa.int64(), "col": pa.int64(), "value": pa.float64()},
    null_values=[],
    strings_can_be_null=False,
    quoted_strings_can_be_null=False,
)


def _raw_batches(source: ArrowSource, header: MtxHeader, chunk_size: int) -> Iterator[pa.RecordBatch]:
    """Unchecked typed batches, one per chunk; a parse failure is turned into a located InputError."""
    source.skip(header.data_offset)
    seen = 0
    try:
        for chunk in line_chunks(source, chunk_size):
            try:
                table = pacsv.read_csv(
                    pa.BufferReader(chunk),
                    read_options=READ_OPTIONS,
                    parse_options=PARSE_OPTIONS,
                    convert_options=CONVERT_OPTIONS,
                )
            except pa.ArrowInvalid as exc:
                raise _locate_parse_error(header, seen, str(exc)) from None
            batch = table.combine_chunks().to_batches()[0] if table.num_rows else None
            if batch is not None:
                seen += batch.num_rows
                yield batch
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise _locate_parse_error(header, seen, str(exc)) from None


class MatrixReader:
    """Validated (gene_index, cell_index, value) batches; explicit zeros are dropped (they are not data)."""

    def __init__(self, header: MtxHeader, *, block_size: int = BLOCK_SIZE) -> None:
        self.header = header
        self.block_size = block_size
        self.stats = MatrixStats()

    def batches(self, on_progress: Callable[[int, int], None] | None = None) -> Iterator[pa.RecordBatch]:
        """Yield checked batches; `on_progress(bytes_read, entries)` after each one."""
        with ArrowSource(self.header.path) as source:
            for batch in _raw_batches(source, self.header, self.block_size):
                checked = self._check(batch)
                if on_progress is not None:
                    on_progress(source.position(), self.stats.entries)
                if checked.num_rows:
                    yield checked
        if self.stats.entries < self.header.n_entries:
            raise InputError(
                self.header.path,
                self.header.size_line,
                f"the header declares {self.header.n_entries} entries but the file has only "
                f"{self.stats.entries} (truncated file?)",
            )

    def _fail(self, index: int, problem: str) -> InputError:
        return InputError(self.header.path, self.header.line_of(self.stats.entries + index), problem)

    def _check_index(self, values: np.ndarray, upper: int, name: str, what: str) -> None:
        bad = (values < 1) | (values > upper)
        if bad.any():
            i = int(bad.argmax())
            raise self._fail(i, f"{name} {values[i]} out of range 1..{upper} ({what})")

    def _check(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        header = self.header
        n = batch.num_rows
        if self.stats.entries + n > header.n_entries:
            extra = header.n_entries - self.stats.entries
            raise self._fail(
                extra, f"more entries than the {header.n_entries} declared on line {header.size_line}"
            )
        rows = batch.column(0).to_numpy()
        cols = batch.column(1).to_numpy()
        values = batch.column(2).to_numpy()
        self._check_index(rows, header.n_rows, "row index", "genes")
        self._check_index(cols, header.n_cols, "column index", "cells")
        problem = value_problem(values)
        if problem is not None:
            raise self._fail(*problem)
        if header.field == "integer" or self.stats.all_integral:
            i = first_fraction(values)
            if i is not None:
                if header.field == "integer":
                    raise self._fail(
                        i, f"value {values[i]} is not an integer but the header declares 'integer'"
                    )
                self.stats.all_integral = False
        self.stats.track_order(rows, cols, header.n_rows, header.n_cols)
        return entries_batch(rows, cols, values, self.stats)


def find_entry_line(header: MtxHeader, row: int, col: int, occurrence: int = 2) -> int | None:
    """Line of the `occurrence`-th entry for (row, col) — to point at a duplicate found by the engine."""
    seen = 0
    entries = 0
    with ArrowSource(header.path) as source:
        for batch in _raw_batches(source, header, BLOCK_SIZE):
            match = (batch.column(0).to_numpy() == row) & (batch.column(1).to_numpy() == col)
            hits = np.flatnonzero(match)
            if seen + len(hits) >= occurrence:
                return header.line_of(entries + int(hits[occurrence - seen - 1]))
            seen += len(hits)
            entries += batch.num_rows
    return None
