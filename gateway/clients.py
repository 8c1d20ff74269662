"""Engine clients for worker threads: one handle per thread and purpose, all closed on shutdown.

A clickhouse-connect client serialises its own calls (and a chDB handle is busy while a stream is open), so
threads never share one. Clients on the same chDB path share the process's one engine.

A client that saw any error, or whose result was not read to the end, is closed and never used again: chDB
(4.4) keeps the output a failed query had already produced in the handle, and clickhouse-connect's chdb
backend reuses the handle, so the next query on it would read the previous one's leftover bytes as its own
answer (a /sql query stopped by the row limit made the next request on that thread answer the first user's
text). Every use of a client therefore goes through `ClientPool.using`.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import (
    ClickHouseError,
    DatabaseError,
    OperationalError,
    StreamFailureError,
)

from gateway.config import GatewayConfig
from gateway.errors import ApiError, BadRequest, InternalError, QueryTimeout, Unavailable
from gateway.sqlguard.cost import MAX_CREATED_ELEMENTS, MAX_PATTERN_CHARS
from genostream.engine import get_client
from genostream.errors import EngineError

SQL_BLOCK_ROWS = 8192
SQL_TIMEZONE = "UTC"  # the session time zone of /sql and the ClickHouse port
SQL_TZINFO = datetime.UTC
SQL_DATABASE = "marts"  # the /sql client's default database: unqualified table names are marts tables
# For queries that read a few granules (two genes' stored rows): one thread. Reading them in parallel costs
# more in coordination than it saves, and concurrent requests only compete for the cores (170M non-zeros,
# in-process, 2 cores: correlation p99 66 → 7 ms alone; 314 → 349 queries/s from 4 threads). And no query plan
# optimizations: on a plan this small they cost more to try than they save (same rows, same answers; at 170M,
# p50 in-process Pearson 4.7–5.0 → 4.3–4.6 ms, Spearman 19.4 → 17.0 ms, with a breakdown 5.3 → 4.8 ms).
SMALL_READ = {"max_threads": 1, "query_plan_enable_optimizations": 0}


class ClientPool:
    """Thread-local clients: `main` for the gateway's queries, `stream` for streamed exports, `sql` sealed."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Client] = []
        self._closed = False

    def _server_settings(self) -> dict[str, int | str]:
        return engine_server_settings(self.config)

    def _settings(self, purpose: str) -> dict[str, Any]:
        embedded = self.config.engine.embedded
        if purpose == "main":
            return {"max_execution_time": self.config.query_timeout_s}
        if purpose == "stream":
            # The engine's own clock also runs while a slow client reads; the export budget bounds that, and
            # `exports.engine_time_budget` holds the engine's work to query_timeout_s.
            settings: dict[str, Any] = {"max_execution_time": self.config.export_timeout_s}
            if embedded:  # a server has its own limits
                settings.update(export_memory_settings(self.config))
            return settings
        # readonly comes last: once it is set, no later setting on the handle can change.
        return {
            # The host's time zone is not the analyst's business (formatDateTime(now(), '%z') showed it).
            "session_timezone": SQL_TIMEZONE,
            "max_execution_time": self.config.sql_timeout_s,
            "max_result_rows": self.config.sql_max_rows,
            "max_result_bytes": self.config.sql_max_bytes,
            "result_overflow_mode": "throw",
            "max_memory_usage": self.config.sql_max_memory_bytes,
            # Small blocks: Python holds one block of a /sql result at a time while encoding it, and the
            # engine checks the time limit between blocks (a function call's own cost is bounded by the
            # guard, gateway.sqlguard.cost).
            "max_block_size": SQL_BLOCK_ROWS,
            # range() creates at most this many elements per block (other sized functions: the guard).
            "function_range_max_elements_in_block": MAX_CREATED_ELEMENTS,
            # multiMatch*'s pattern sets (Hyperscan): bounded in size, and no patterns known to be costly.
            "max_hyperscan_regexp_length": MAX_PATTERN_CHARS,
            "max_hyperscan_regexp_total_length": 10 * MAX_PATTERN_CHARS,
            "reject_expensive_hyperscan_regexps": 1,
            "readonly": 1,
        }

    def _get(self, purpose: str) -> Client:
        client = getattr(self._local, purpose, None)
        if client is not None:
            return client
        if self._closed:
            raise Unavailable("the gateway is shutting down")
        try:
            client = get_client(
                self.config.engine, settings=self._settings(purpose), server_settings=self._server_settings()
            )
        except ClickHouseError as exc:
            raise Unavailable(f"cannot open the engine: {EngineError.from_clickhouse(exc)}") from None
        if purpose == "sql":
            client.database = SQL_DATABASE
            # clickhouse-connect learnt the engine's zone before the session's applied; DateTime values are
            # the session's (an embedded engine sends no X-ClickHouse-Timezone that would tell it).
            client.server_tz = SQL_TZINFO
        with self._lock:
            self._open.append(client)
        setattr(self._local, purpose, client)
        return client

    def main(self) -> Client:
        return self._get("main")

    def stream(self) -> Client:
        return self._get("stream")

    def sql(self) -> Client:
        return self._get("sql")

    @contextmanager
    def using(self, purpose: str) -> Iterator[Client]:
        """This thread's client of `purpose`; closed and forgotten if anything goes wrong inside the block."""
        client = self._get(purpose)
        try:
            yield client
        except BaseException:
            self.discard(purpose)
            raise

    def fetch(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run one of the gateway's own (parameter-bound) queries, with `settings` for this query only;
        rows as dicts."""
        with as_api_errors(timeout_s=self.config.query_timeout_s), self.using("main") as client:
            result = client.query(sql, parameters=parameters or {}, settings=settings)
        names = result.column_names
        return [dict(zip(names, row, strict=True)) for row in result.result_rows]

    def fetch_arrow(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> pa.Table:
        """Run one of the gateway's own (parameter-bound) queries; the rows as an Arrow table, for answers of
        many rows that numpy reads by column (a list of dicts costs a microsecond per value)."""
        with as_api_errors(timeout_s=self.config.query_timeout_s), self.using("main") as client:
            return client.query_arrow(sql, parameters=parameters or {}, settings=settings)

    def discard(self, purpose: str) -> None:
        """Drop this thread's client of `purpose` (an error or a partial read may have left it unusable)."""
        client = getattr(self._local, purpose, None)
        if client is None:
            return
        setattr(self._local, purpose, None)
        with self._lock:
            if client in self._open:
                self._open.remove(client)
        with contextlib.suppress(Exception):  # it is being thrown away because it failed
            client.close()

    def close(self) -> None:
        """Close every client any thread opened, releasing the embedded store."""
        with self._lock:
            self._closed = True
            clients, self._open = self._open, []
        for client in clients:
            with contextlib.suppress(Exception):  # best effort at shutdown
                client.close()

    def reopen(self) -> None:
        """Allow clients again after `close` (tests reuse one app across store restarts)."""
        with self._lock:
            self._closed = False
        self._local = threading.local()


def engine_server_settings(config: GatewayConfig) -> dict[str, int | str]:
    """The embedded engine's process-wide settings (a server keeps its own; see genostream.engine).

    The engine's memory is the gateway's: every query together stays under `max_server_memory_usage`. Not
    the per-user `max_memory_usage_for_user`: chDB frees a result stream the gateway gave up on (a client
    that stopped reading) outside the user's tracker, so that tracker only grows while some query runs —
    with exports always running it drifted up to its limit and every query failed."""
    return {"max_server_memory_usage": config.engine_max_memory_bytes}


def export_memory_settings(config: GatewayConfig) -> dict[str, int]:
    """One export's share of the embedded engine's memory: with every export worker busy (`bulk_threads`),
    exports together hold at most half of it, so exports a client stalls cannot starve short questions;
    sorts and aggregations beyond half the share spill to disk instead of failing."""
    share = config.engine_max_memory_bytes // (2 * config.bulk_threads)
    return {
        "max_memory_usage": share,
        "max_bytes_before_external_sort": share // 2,
        "max_bytes_before_external_group_by": share // 2,
    }


def api_error_for(
    exc: ClickHouseError, *, user_sql: bool = False, timeout_s: float | None = None
) -> ApiError:
    """Map an engine failure to the API error a client should see (by ClickHouse's error name)."""
    error = EngineError.from_clickhouse(exc)
    message = error.message
    if error.is_one_of("TIMEOUT_EXCEEDED"):
        limit = f" of {timeout_s:g} s" if timeout_s else ""
        return QueryTimeout(f"the query exceeded the time limit{limit}; narrow it down or aggregate more")
    # A stream the engine failed half-way (it names its error code) is the query's error, not a lost engine.
    if isinstance(exc, OperationalError) and not (isinstance(exc, StreamFailureError) and error.code):
        return Unavailable(f"the engine cannot be reached: {message}")
    if user_sql and error.is_one_of("TOO_MANY_ROWS_OR_BYTES", "MEMORY_LIMIT_EXCEEDED"):
        return BadRequest(f"the query result is too large ({message}); add a LIMIT or aggregate")
    if user_sql and isinstance(exc, DatabaseError):
        return BadRequest(f"query failed: {message}", code=error.code)
    if error.is_one_of("MEMORY_LIMIT_EXCEEDED"):  # the gateway's engine-wide cap, shared by every request
        return Unavailable(f"the engine is at its memory limit ({message}); retry in a moment")
    if error.is_one_of("UNKNOWN_TABLE", "UNKNOWN_DATABASE"):
        return Unavailable(f"the marts are not built in this store ({message}); run `make dbt-build`")
    return InternalError(f"an internal query failed: {message}")


@contextmanager
def as_api_errors(*, user_sql: bool = False, timeout_s: float | None = None) -> Iterator[None]:
    """Turn clickhouse-connect exceptions raised inside the block into API errors (the HTTP answer a client
    sees). Not `genostream.engine.engine_errors`, which keeps them engine errors for the CLIs."""
    try:
        yield
    except ApiError:
        raise
    except ClickHouseError as exc:
        raise api_error_for(exc, user_sql=user_sql, timeout_s=timeout_s) from None
