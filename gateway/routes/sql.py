"""POST /sql: read-only SQL for analysts over the marts, bounded in time, rows, bytes and memory."""

from __future__ import annotations

from flask import Blueprint, request

from gateway.clients import as_api_errors
from gateway.http.endpoint import endpoint
from gateway.http.formats import MEDIA_TYPES, negotiate
from gateway.http.spool import Spool
from gateway.schemas import SqlRequest, SqlResponse
from gateway.sqlguard.guard import admit
from gateway.sqlguard.result import encode
from gateway.state import get_gateway

bp = Blueprint("sql", __name__)
FORMATS = ("json", "csv", "arrow")


@endpoint(
    bp,
    "/sql",
    "POST",
    summary="Read-only SQL over the marts",
    description="One SELECT (WITH and UNION allowed) over marts.* — unqualified names are marts tables. "
    "Runs with readonly=1 and fixed limits on time, result rows/bytes and memory; INSERT/ALTER/DROP/"
    "CREATE/SET, SETTINGS clauses, INTO OUTFILE, tables outside the marts and functions outside the "
    "analysts' allow-list (aggregates, maths, strings, arrays, maps, tuples, dates, conversions, JSON, "
    "hashes — nothing that reads the host, files, URLs, settings or other tables) are refused with 400. "
    "JSON `{columns, types, data, rows}`, or CSV / Arrow by `format` or Accept; in CSV and Arrow, Array, "
    "Map, Tuple, JSON, UUID, Decimal and DateTime values are their JSON text.",
    tag="sql",
    body=SqlRequest,
    response=SqlResponse,
    media_types=tuple(MEDIA_TYPES[f] for f in FORMATS),
    errors=(400, 406, 413, 503, 504),
)
def run_sql(body: SqlRequest):
    gw = get_gateway()
    fmt = negotiate(request.accept_mimetypes, FORMATS, body.format)
    spool = Spool(gw.config.spool_memory_bytes)
    try:
        # The whole answer is encoded (to the spool, not RAM) before anything is sent: a query stopped by a
        # limit half-way is still a clean 4xx, never a cut-short 200.
        timeout = gw.config.sql_timeout_s
        with gw.sql_turn(), as_api_errors(user_sql=True, timeout_s=timeout), gw.pool.using("sql") as client:
            admitted = admit(client, body.query)
            with client.query_column_block_stream(admitted.sql) as stream:
                names = list(stream.source.column_names)
                types = [t.name for t in stream.source.column_types]
                spool.extend(encode(fmt, names, types, stream))
    except BaseException:
        spool.close()
        raise
    return spool.response(MEDIA_TYPES[fmt])
