"""Response formats chosen by Accept (or an explicit `format`): JSON, CSV, Arrow IPC stream, Parquet.

Tables are written batch by batch into a sink that is drained after every batch, so a streamed export
holds one engine block at a time, whatever its total size.

CSV is what spreadsheets open, and a study's own names reach it: a text cell that starts with a formula
trigger (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading apostrophe, as OWASP's "CSV Injection"
advises, so `=1+2` shows as text instead of running. Numbers are never touched; programs that need every
text exactly as stored ask for JSON, Arrow or Parquet, which carry the same rows unchanged.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from werkzeug.datastructures import MIMEAccept

from gateway.errors import NotAcceptable

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
    "h5ad": "application/x-hdf5",
}
ALIASES = {"application/x-parquet": "parquet", "application/octet-stream": "arrow"}
# What a spreadsheet runs as a formula at the start of a cell (OWASP); explorer/csv.js has the same list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def negotiate(accept: MIMEAccept, allowed: Sequence[str], explicit: str | None = None) -> str:
    """The format to answer in: `explicit` if given, else the best Accept match (JSON when indifferent)."""
    if explicit:
        return explicit
    if not accept or accept.best in (None, "*/*"):
        return allowed[0]
    offers = {MEDIA_TYPES[f]: f for f in allowed}
    offers.update({media: fmt for media, fmt in ALIASES.items() if fmt in allowed})
    best = accept.best_match(list(offers))
    if best is None:
        wanted = ", ".join(MEDIA_TYPES[f] for f in allowed)
        raise NotAcceptable(f"cannot answer in {accept}; this endpoint offers {wanted}")
    return offers[best]


class _Sink:
    """A write-only file that hands its bytes over on `drain` (pyarrow writers write into it)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_rows(batch: pa.RecordBatch) -> str:
    columns = [[_json_value(v) for v in column.to_pylist()] for column in batch.columns]
    return ",".join(json.dumps(list(row), default=str) for row in zip(*columns, strict=True))


def _json_split(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """pandas' `split` orientation (columns, index, data), row by row; read back with
    `pd.read_json(..., orient="split")`."""
    yield ('{"columns":' + json.dumps(schema.names) + ',"data":[').encode()
    rows = 0
    for batch in batches:
        if batch.num_rows:
            yield (("," if rows else "") + _json_rows(batch)).encode()
            rows += batch.num_rows
    yield b'],"index":['
    step = 100_000
    for start in range(0, rows, step):
        chunk = ",".join(map(str, range(start, min(rows, start + step))))
        yield (("," if start else "") + chunk).encode()
    yield b"]}"


def _with_writer(writer_factory, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    sink = _Sink()
    writer = writer_factory(sink)
    try:
        for batch in batches:
            writer.write_batch(batch)
            data = sink.drain()
            if data:
                yield data
    finally:
        writer.close()
    yield sink.drain()


def formula_safe(texts: pa.Array) -> pa.Array:
    """`texts` with a leading apostrophe on every value a spreadsheet would run as a formula (nulls stay)."""
    starts = functools.reduce(pc.or_, (pc.starts_with(texts, trigger) for trigger in FORMULA_TRIGGERS))
    return pc.if_else(starts, pc.binary_join_element_wise("'", texts, ""), texts)


def _spreadsheet_safe(
    batches: Iterable[pa.RecordBatch], columns: Collection[int]
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        arrays = [formula_safe(a) if i in columns else a for i, a in enumerate(batch.columns)]
        yield pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def write_batches(
    fmt: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    *,
    text_columns: Collection[int] | None = None,
) -> Iterator[bytes]:
    """Encode a stream of record batches of `schema` in `fmt`, yielding bytes as they are ready.

    In CSV, the string columns of `text_columns` (positions; default every string column) are made
    `formula_safe`: callers name the string columns that hold numbers written as text to leave them alone.
    """
    if fmt == "json":
        return _json_split(schema, batches)
    if fmt == "csv":
        strings = {i for i, f in enumerate(schema) if pa.types.is_string(f.type)}
        safe = _spreadsheet_safe(batches, strings if text_columns is None else strings & set(text_columns))
        return _with_writer(lambda sink: pacsv.CSVWriter(sink, schema), safe)
    if fmt == "arrow":
        return _with_writer(lambda sink: pa.ipc.new_stream(sink, schema), batches)
    if fmt == "parquet":
        return _with_writer(lambda sink: pq.ParquetWriter(sink, schema), batches)
    raise ValueError(f"unknown format {fmt!r}")
