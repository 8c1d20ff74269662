"""POST /sql: read-only SQL for analysts over the marts, bounded in time, rows, bytes and memory."""

from __future__ import annotations

import pyarrow as pa
from flask import Blueprint, Response, request

from gateway.api import endpoint
from gateway.clients import engine_errors
from gateway.formats import MEDIA_TYPES, negotiate, write_batches
from gateway.models import SqlRequest, SqlResponse
from gateway.sqlguard import admit
from gateway.state import get_gateway

bp = Blueprint("sql", __name__)
FORMATS = ("json", "csv", "arrow")


def _arrow_column(values: list) -> pa.Array:
    """Arrow's own inference; text for what it cannot type (maps of mixed values, UUIDs, ...)."""
    try:
        return pa.array(values)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


@endpoint(
    bp,
    "/sql",
    "POST",
    summary="Read-only SQL over the marts",
    description="One SELECT (WITH and UNION allowed) over marts.* — unqualified names are marts tables. "
    "Runs with readonly=1 and fixed limits on time, result rows/bytes and memory; INSERT/ALTER/DROP/"
    "CREATE/SET, SETTINGS clauses, INTO OUTFILE, file()/url()/remote() and other outside access are "
    "refused with 400. JSON `{columns, types, data, rows}`, or CSV / Arrow by `format` or Accept.",
    tag="sql",
    body=SqlRequest,
    response=SqlResponse,
    media_types=tuple(MEDIA_TYPES[f] for f in FORMATS),
    errors=(400, 406, 413, 503, 504),
)
def run_sql(body: SqlRequest):
    gw = get_gateway()
    fmt = negotiate(request.accept_mimetypes, FORMATS, body.format)
    table_functions = gw.table_functions()
    timeout = gw.config.sql_timeout_s
    with engine_errors(user_sql=True, timeout_s=timeout):
        client = gw.pool.sql()
        admitted = admit(client, body.query, table_functions=table_functions)
        result = client.query(admitted.sql)
    columns = list(result.column_names)
    types = [t.name for t in result.column_types]
    if fmt == "json":
        data = [list(row) for row in result.result_rows]
        return SqlResponse(columns=columns, types=types, data=data, rows=len(data))
    table = pa.Table.from_arrays([_arrow_column(list(col)) for col in result.result_columns], names=columns)
    return Response(b"".join(write_batches(fmt, table.schema, table.to_batches())), mimetype=MEDIA_TYPES[fmt])
