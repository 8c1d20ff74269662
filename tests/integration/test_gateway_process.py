"""The gateway in a process of its own, as `python -m gateway` runs it — the engine started by the gateway,
with the gateway's server settings — on a copy of the session store: exports their clients give up on,
beside short questions (issue 24's merged soak), the time zone `/sql` and the ClickHouse port show, and a
stop while `/sql` runs (issue 21)."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import clickhouse_connect
import pytest
import requests

from bench.gateway_client import Gateway

pytestmark = pytest.mark.studies("pbmc", "demo")

PASSWORD = "process-test-password"


@pytest.fixture(scope="module")
def store_copy(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session store (which this process's engine holds): parts are immutable once written;
    the lock file and temporary directories are left out."""
    target = tmp_path_factory.mktemp("process") / "chdb"
    shutil.copytree(built_store, target, symlinks=True, ignore=shutil.ignore_patterns("status", "tmp*"))
    return target


def _gateway(store: Path, log: Path, **settings: object) -> Gateway:
    env = {f"GENOSTREAM_GATEWAY_{k.upper()}": str(v) for k, v in settings.items()}
    return Gateway(store, log, threads=4, env={"GENOSTREAM_GATEWAY_CATALOG_TTL_S": "0", **env})


# ----- issue 24: exports given up cannot exhaust the engine's memory ---------------------------------------

BUDGET = 1_000_000_000
GIVEN_UP = 16  # exports given up per run; before the change, the first 503 came after 8–12 of them
GIVE_UP_S = 90.0  # on a busy machine, fewer


def _abandoned_export(port: int, payload: bytes) -> str:
    """Ask for a dense export through a 4 KiB buffer, read nothing while the engine sorts it and the gateway
    starts sending, then go away: the gateway gives the stream up half-way. Its status code ('' if none)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            b"POST /expression-matrix HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(payload) + payload
        )
        time.sleep(2.5)
        sock.settimeout(10)
        try:
            head = sock.recv(12, socket.MSG_PEEK)
        except OSError:
            head = b""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return head[9:12].decode(errors="replace")


def test_exports_given_up_cannot_exhaust_the_engines_memory(store_copy: Path, tmp_path: Path) -> None:
    # Before: the engine frees a given-up stream outside its per-user memory tracker, which resets only when
    # no query runs; with questions always running it drifted up to max_memory_usage_for_user, and every
    # query answered 503 "the engine is at its memory limit" (the merged 180 s soak: 40 and 265 of them).
    # Now the cap is the engine's process-wide one (max_server_memory_usage), and each export holds at most
    # its share. Exports of the `demo` study (300 genes × 4,000 cells dense, sorted) given up one after the
    # other, while three clients ask short questions.
    log = tmp_path / "gateway.log"
    with _gateway(
        store_copy, log, engine_max_memory_bytes=BUDGET, bulk_threads=2, channel_timeout_s=1
    ) as gateway:
        base = gateway.base
        genes = requests.get(base + "/genes?dataset=demo&limit=500", timeout=30).json()["genes"]
        payload = json.dumps(
            {"gene_names": [g["gene"] for g in genes], "dataset": "demo", "dense": True}
        ).encode()
        questions: Counter[int] = Counter()
        failures: list[str] = []
        stop = threading.Event()
        lock = threading.Lock()

        def ask(method: str, path: str, body: dict | None = None) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    answer = session.request(method, base + path, json=body, timeout=60)
                    with lock:
                        questions[answer.status_code] += 1
                        if answer.status_code != 200:
                            failures.append(f"{path}: {answer.status_code} {answer.text[:200]}")

        askers = [
            threading.Thread(
                target=ask,
                args=(
                    "POST",
                    "/gene-correlation",
                    {"gene_a": "CD74", "gene_b": "HLA-DRA", "dataset": "pbmc"},
                ),
            ),
            threading.Thread(
                target=ask,
                args=("POST", "/expression-matrix", {"gene_names": ["CD74", "CD3D"], "dataset": "pbmc"}),
            ),
            threading.Thread(target=ask, args=("GET", "/datasets")),
        ]
        for thread in askers:
            thread.start()
        abandoned: Counter[str] = Counter()

        def give_up() -> None:
            status = _abandoned_export(gateway.port, payload)
            with lock:
                abandoned[status] += 1

        try:
            until = time.monotonic() + GIVE_UP_S
            while time.monotonic() < until and sum(abandoned.values()) < GIVEN_UP and not failures:
                pair = [threading.Thread(target=give_up) for _ in range(2)]
                for thread in pair:
                    thread.start()
                for thread in pair:
                    thread.join()
        finally:
            stop.set()
            for thread in askers:
                thread.join()
    assert not failures, failures[:3]
    assert abandoned["503"] == 0, abandoned
    assert abandoned["200"] >= 10, abandoned  # streams the gateway gave up half-way
    assert sum(questions.values()) > 50
    assert "the embedded engine runs with" not in log.read_text()


# ----- issue 21: the host's time zone ----------------------------------------------------------------------


def test_sql_and_the_port_do_not_show_the_hosts_time_zone(store_copy: Path, tmp_path: Path) -> None:
    # Before: formatDateTime(now(), '%z') answered +0530 on a host in India, and the port's
    # X-ClickHouse-Timezone header and timezone() named Asia/Kolkata.
    port = _free_port()
    gateway = _gateway(store_copy, tmp_path / "gateway.log", clickhouse_port=port, analyst_password=PASSWORD)
    gateway.extra_env["TZ"] = "Asia/Kolkata"
    query = (
        "SELECT formatDateTime(now(), '%z') AS offset, toDateTime('2024-01-01 12:00:00') AS t, "
        "toString(t) AS text, toUnixTimestamp(t) AS seconds, toDateTime(0) AS epoch"
    )
    with gateway:
        answer = requests.post(gateway.base + "/sql", json={"query": query}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == [
            ["+0000", "2024-01-01T12:00:00", "2024-01-01 12:00:00", 1704110400, "1970-01-01T00:00:00"]
        ]
        client = clickhouse_connect.get_client(
            host="127.0.0.1", port=port, username="analyst", password=PASSWORD
        )
        try:
            row = client.query(query).result_rows[0]
            raw = requests.post(
                f"http://127.0.0.1:{port}/",
                data="SELECT timezone()",
                auth=("analyst", PASSWORD),
                timeout=60,
            )
        finally:
            client.close()
    assert row[0] == "+0000" and row[2] == "2024-01-01 12:00:00" and row[3] == 1704110400
    assert row[1].replace(tzinfo=None).isoformat() == "2024-01-01T12:00:00"
    assert raw.status_code == 200 and raw.text.strip() == "UTC"
    assert raw.headers["X-ClickHouse-Timezone"] == "UTC"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----- issue 21: a stop while /sql runs --------------------------------------------------------------------


def test_a_stop_while_sql_runs_ends_within_its_limit(store_copy: Path, tmp_path: Path) -> None:
    limit_s = 3.0
    query = "SELECT sum(cityHash64(number, lower(toString(number)))) FROM numbers(1e12)"
    with _gateway(store_copy, tmp_path / "gateway.log", sql_timeout_s=limit_s) as gateway:
        assert gateway.process is not None
        answers: list[int] = []

        def run() -> None:
            try:
                answers.append(
                    requests.post(gateway.base + "/sql", json={"query": query}, timeout=60).status_code
                )
            except requests.RequestException:
                answers.append(0)  # the connection closed by the stop

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.0)
        stopped = time.monotonic()
        gateway.process.send_signal(signal.SIGTERM)
        code = gateway.process.wait(timeout=60)
        elapsed = time.monotonic() - stopped
        thread.join()
    assert code == 0
    assert elapsed < limit_s + 1.5, elapsed
