"""Are the marts whole? The gateway refuses (503, with the reason) to answer from marts that are not.

Per dataset, the rows of marts.expression, marts.expression_by_gene, marts.cells and marts.genes must be
the counts the manifest recorded for its load (carried into marts.datasets by the build: nnz, n_cells,
n_genes), and no mart may hold a dataset marts.datasets does not list. A build whose writes were cut
short, parts the engine detached at the next start, a dataset reloaded but not rebuilt into every mart: all
show up here. The check is cheap (the expression marts are partitioned by dataset, so their counts come from
part metadata).

It runs when the gateway starts, then every `marts_check_interval_s` on a background thread, and /health
and the data endpoints read its last result — so /health never waits on the engine. Without the background
thread (an app used directly, as the tests do) a stale result is refreshed on the request that needs it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, request

from gateway.clients import ClientPool
from gateway.errors import Unavailable
from genostream.errors import GenostreamError

log = logging.getLogger(__name__)

COUNTS_SQL = """
SELECT 'marts.expression' AS mart, dataset, count() AS n FROM marts.expression GROUP BY dataset
UNION ALL SELECT 'marts.expression_by_gene' AS mart, dataset, count() AS n FROM marts.expression_by_gene
    GROUP BY dataset
UNION ALL SELECT 'marts.cells' AS mart, dataset, count() AS n FROM marts.cells GROUP BY dataset
UNION ALL SELECT 'marts.genes' AS mart, dataset, count() AS n FROM marts.genes GROUP BY dataset
"""
MANIFEST_SQL = "SELECT dataset, nnz, n_cells, n_genes FROM marts.datasets ORDER BY dataset"
EXPECTED = {
    "marts.expression": "nnz",
    "marts.expression_by_gene": "nnz",
    "marts.cells": "n_cells",
    "marts.genes": "n_genes",
}
# Blueprints that answer without the marts: /health reports the check itself, /docs and /openapi.json.
EXEMPT_BLUEPRINTS = frozenset({"health", "docs"})


@dataclass(frozen=True)
class MartsStatus:
    """The result of one check: `problem` is None when the marts are whole."""

    problem: str | None
    datasets: tuple[str, ...]
    engine_version: str
    checked_at: float

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_marts(pool: ClientPool) -> MartsStatus:
    """Compare each mart's rows per dataset with the manifest's counts; one sentence naming what differs."""
    try:
        manifest = pool.fetch(MANIFEST_SQL)
        counts = pool.fetch(COUNTS_SQL)
        with pool.using("main") as client:
            version = client.server_version
    except GenostreamError as exc:
        return MartsStatus(getattr(exc, "message", str(exc)), (), "", time.monotonic())
    expected = {r["dataset"]: r for r in manifest}
    found = {(r["mart"], r["dataset"]): r["n"] for r in counts}
    problems = []
    for dataset, row in expected.items():
        for mart, column in EXPECTED.items():
            n = found.get((mart, dataset), 0)
            if n != row[column]:
                problems.append(f"{mart} has {n} rows for dataset {dataset!r}, the manifest {row[column]}")
    strays = sorted({(m, d) for m, d in found if d not in expected})
    problems += [f"{m} holds dataset {d!r}, which marts.datasets does not list" for m, d in strays]
    problem = None
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        problem = f"the marts are damaged or half-built ({shown}); rebuild them with `make dbt-build`"
    return MartsStatus(problem, tuple(sorted(expected)), version or "unknown", time.monotonic())


class MartsMonitor:
    """The last check's result, refreshed in the background (served) or on demand (used directly)."""

    def __init__(self, pool: ClientPool, interval_s: float) -> None:
        self.pool = pool
        self.interval_s = interval_s
        self._status: MartsStatus | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> MartsStatus:
        status = check_marts(self.pool)
        if status.problem and (self._status is None or self._status.problem != status.problem):
            log.warning("marts check: %s", status.problem)
        self._status = status
        return status

    def status(self) -> MartsStatus:
        """The last result; when no background thread keeps it fresh, refreshed once it is stale."""
        current = self._status
        if self._thread is None:
            with self._lock:
                current = self._status
                if current is None or time.monotonic() - current.checked_at >= self.interval_s:
                    current = self.refresh()
            return current
        assert current is not None  # start() checks once before it returns
        age = time.monotonic() - current.checked_at
        if age > max(3 * self.interval_s, 30.0):
            return MartsStatus(
                f"the marts check has not completed for {age:.0f} s; the engine is not answering",
                current.datasets,
                current.engine_version,
                current.checked_at,
            )
        return current

    def start(self) -> MartsStatus:
        """Check now (the gateway's start-up check), then keep checking every interval on a daemon thread."""
        first = self.refresh()
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="marts-check", daemon=True)
            self._thread.start()
        return first

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


def init_app(app: Flask, monitor: MartsMonitor) -> None:
    """Answer 503 with the reason, instead of from damaged marts, on every data endpoint."""

    @app.before_request
    def _refuse_damaged_marts() -> None:
        if request.blueprint in EXEMPT_BLUEPRINTS or request.endpoint in (None, "static"):
            return
        status = monitor.status()
        if not status.ok:
            raise Unavailable(status.problem or "the marts are not usable")
