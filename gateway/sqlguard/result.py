"""A /sql result, from the engine's column blocks to JSON, CSV or Arrow bytes, one block at a time.

Each column's output type follows from its ClickHouse type alone, so every block of a result has the same
schema: numbers, booleans, text and dates keep their Arrow types; everything Arrow's CSV writer or a plain
table cannot hold (Array, Map, Tuple, JSON, UUID, Decimal, IPs, DateTime, ...) is its JSON text, the same
value the JSON format gives. Python holds one block at a time, never the whole result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pydantic_core

from gateway.http.formats import write_batches

Blocks = Iterable[Sequence[Any]]

_WRAPPER = re.compile(r"^(?:Nullable|LowCardinality)\((.*)\)$")
PLAIN_TYPES: dict[str, pa.DataType] = {
    "Int8": pa.int8(),
    "Int16": pa.int16(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Float32": pa.float32(),
    "Float64": pa.float64(),
    "Bool": pa.bool_(),
    "String": pa.string(),
    "Date": pa.date32(),
    "Date32": pa.date32(),
}
# Types whose JSON text is a number (it may start with "-"): left as they are in CSV, where every other text
# cell is made safe for spreadsheets (gateway.http.formats.formula_safe).
_NUMBER_TEXT = re.compile(r"^(?:Decimal|U?Int(?:128|256)|BFloat16|Interval|Time(?:64)?\b)")


def _unwrapped(ch_type: str) -> str:
    while match := _WRAPPER.match(ch_type):
        ch_type = match.group(1)
    return ch_type


def arrow_type(ch_type: str) -> pa.DataType:
    """The Arrow type a column of `ch_type` is sent as (string, holding JSON text, for the rest)."""
    return PLAIN_TYPES.get(_unwrapped(ch_type), pa.string())


def _plain(value: Any) -> Any:
    """Bytes (FixedString) as text, so any value serialises."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def json_value_text(value: Any) -> str | None:
    """One value as JSON text (NaN and infinities as null, as JSON requires); None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    text = pydantic_core.to_json(_plain(value), inf_nan_mode="null").decode()
    if not isinstance(value, list | tuple | dict) and text.startswith('"'):
        return str(json.loads(text))  # a scalar the JSON format writes as a string (UUID, Decimal, ...)
    return text


def _arrow_array(values: Sequence[Any], ch_type: str) -> pa.Array:
    target = arrow_type(ch_type)
    if _unwrapped(ch_type) in PLAIN_TYPES:
        return pa.array(list(values), type=target)
    return pa.array([json_value_text(v) for v in values], type=pa.string())


def arrow_schema(names: Sequence[str], ch_types: Sequence[str]) -> pa.Schema:
    return pa.schema([(name, arrow_type(t)) for name, t in zip(names, ch_types, strict=True)])


def _batches(schema: pa.Schema, ch_types: Sequence[str], blocks: Blocks) -> Iterator[pa.RecordBatch]:
    for block in blocks:
        arrays = [_arrow_array(column, t) for column, t in zip(block, ch_types, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _json_rows(ch_types: Sequence[str], blocks: Blocks, counter: list[int]) -> Iterator[bytes]:
    first = True
    for block in blocks:
        columns = [list(column) for column in block]
        if any(_unwrapped(t).startswith("FixedString") for t in ch_types):
            columns = [_plain(column) for column in columns]
        rows = list(zip(*columns, strict=True))
        if not rows:
            continue
        text = pydantic_core.to_json(rows, inf_nan_mode="null")[1:-1]
        yield (text if first else b"," + text)
        first = False
        counter[0] += len(rows)


def encode(fmt: str, names: Sequence[str], ch_types: Sequence[str], blocks: Blocks) -> Iterator[bytes]:
    """The result in `fmt`: JSON `{columns, types, data, rows}`, CSV with a header, or an Arrow IPC stream."""
    if fmt != "json":
        schema = arrow_schema(names, ch_types)
        texts = [i for i, t in enumerate(ch_types) if not _NUMBER_TEXT.match(_unwrapped(t))]
        return write_batches(fmt, schema, _batches(schema, ch_types, blocks), text_columns=texts)
    return _json(names, ch_types, blocks)


def _json(names: Sequence[str], ch_types: Sequence[str], blocks: Blocks) -> Iterator[bytes]:
    rows = [0]
    yield f'{{"columns":{json.dumps(list(names))},"types":{json.dumps(list(ch_types))},"data":['.encode()
    yield from _json_rows(ch_types, blocks, rows)
    yield f'],"rows":{rows[0]}}}'.encode()
