"""The gateway as users run it: a real waitress server under concurrent clients, the CLI, and a fuzz run."""

from __future__ import annotations

import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.helpers.paths import REPO

pytestmark = pytest.mark.studies("pbmc")

TREG = "CD4%2B%2FCD25%20T%20Reg"
REQUESTS = [
    (
        "POST",
        "/gene-correlation",
        {"gene_a": "CD74", "gene_b": "HLA-DRA", "cell_types": ["Dendritic"], "dataset": "pbmc"},
    ),
    (
        "POST",
        "/gene-correlation",
        {"gene_a": "NKG7", "gene_b": "GNLY", "dataset": "pbmc", "method": "spearman"},
    ),
    ("POST", "/gene-variability", {"cell_type": "Dendritic", "limit": 5, "dataset": "pbmc"}),
    ("GET", "/genes/CD74/coexpression?dataset=pbmc&cell_types=Dendritic&limit=5", None),
    ("GET", f"/cell-types/{TREG}/markers?dataset=pbmc&limit=5", None),
    ("GET", "/genes/CD3D/cell-types?dataset=pbmc", None),
    ("POST", "/expression-matrix", {"gene_names": ["CD74", "CD3D"], "dataset": "pbmc"}),
    (
        "POST",
        "/sql",
        {"query": "SELECT cell_type, count() FROM cells WHERE dataset = 'pbmc' GROUP BY 1 ORDER BY 1"},
    ),
    ("GET", "/health", None),
]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def server_url(gateway_app):
    """The gateway served by waitress on an ephemeral port, in a thread of this process."""
    from waitress import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # 16 clients on 8 threads queue, by design
    server = create_server(gateway_app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def _call(session: requests.Session, base: str, method: str, path: str, body: dict | None) -> tuple[int, Any]:
    response = session.request(method, base + path, json=body, timeout=60)
    return response.status_code, response.json()


def _same(a: Any, b: Any) -> bool:
    """Equal to the promised 1e-6: parallel summation order varies the last bits (far-tail p-values more)."""
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_sixteen_concurrent_clients_get_the_serial_answers(server_url) -> None:
    with requests.Session() as session:
        expected = [_call(session, server_url, *r) for r in REQUESTS]
    assert all(status == 200 for status, _ in expected), expected

    def client(k: int) -> list[str]:
        problems = []
        with requests.Session() as session:
            for i in range(3 * len(REQUESTS)):
                index = (i + k) % len(REQUESTS)
                got = _call(session, server_url, *REQUESTS[index])
                if not _same(got, expected[index]):
                    problems.append(f"client {k}: {REQUESTS[index][1]} → {got[0]}")
        return problems

    with ThreadPoolExecutor(16) as pool:
        problems = [p for result in pool.map(client, range(16)) for p in result]
    assert problems == []


def test_http_errors_are_json(server_url) -> None:
    response = requests.post(
        server_url + "/gene-correlation", data=b"{", timeout=30, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"] == "request body is not valid JSON"
    response = requests.get(
        server_url + "/cell-types/CD4+%2FCD25 T Reg/markers?dataset=pbmc&limit=1", timeout=30
    )
    assert response.status_code == 200 and response.json()["cell_type"] == "CD4+/CD25 T Reg"


def test_cli_refuses_a_store_held_by_another_process(built_store: Path) -> None:
    # This test process holds the session store's engine, so for the CLI it is held by another process.
    env = {**_env(), "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(built_store)}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--port", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use by another process" in lines[0] and "Traceback" not in result.stderr


def test_cli_serves_and_stops_cleanly(tmp_path: Path) -> None:
    from genostream.engine import store_locked_by_other_process

    store = tmp_path / "empty"
    env = {**_env(), "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
        env=env,
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 120
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line, "the gateway exited before serving"
            match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
            port = match and int(match.group(1))
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=30)
        assert health.status_code == 503 and "dbt-build" in health.json()["error"]
        access = process.stderr.readline()
        assert re.search(r'"GET /health" 503 \d+B [\d.]+ms', access), access
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not store_locked_by_other_process(store)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_fuzz_finds_no_server_error(gateway_app) -> None:
    """Schemathesis cases from /openapi.json, a few per operation: every answer is < 500."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", gateway_app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        check()
    assert failures == []
