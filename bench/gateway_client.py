"""Drive the gateway over HTTP: start it as a subprocess on the benchmark's store, time each question with a
keep-alive session, and measure correlation throughput with concurrent clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from bench.errors import BenchError
from bench.measure import percentiles_ms, stopwatch

HEALTH_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 300.0
WARMUP_REQUESTS = 3


class GatewayError(BenchError):
    """The gateway did not start, or answered a benchmark request with an error."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Call:
    """One HTTP request: method, path (already percent-encoded), query parameters, JSON body."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None


def _segment(name: str) -> str:
    return quote(name, safe="")


def build_call(kind: str, request: dict[str, Any], dataset: str) -> Call:
    """The HTTP request asking one workload question of the gateway."""
    if kind == "correlation":
        return Call("POST", "/gene-correlation", body={**request, "dataset": dataset})
    if kind == "variability":
        return Call("POST", "/gene-variability", body={**request, "dataset": dataset})
    if kind == "coexpression":
        params = {"dataset": dataset, "cell_types": request["cell_types"], "limit": request["limit"]}
        return Call("GET", f"/genes/{_segment(request['gene'])}/coexpression", params=params)
    if kind == "markers":
        params = {"dataset": dataset, "limit": request["limit"]}
        return Call("GET", f"/cell-types/{_segment(request['cell_type'])}/markers", params=params)
    if kind == "expression_matrix":
        return Call("POST", "/expression-matrix", body={**request, "dataset": dataset})
    if kind == "correlation_where":
        return Call("POST", "/gene-correlation", body={**request, "dataset": dataset})
    if kind == "dot_plot_compare":
        return Call("GET", "/dot-plot", params={**request, "dataset": dataset})
    if kind.startswith("de_"):
        return Call("POST", "/differential-expression", body={**request, "dataset": dataset})
    raise ValueError(f"unknown query kind {kind!r}")


def parse_answer(kind: str, payload: Any) -> Any:
    """The comparable part of a response: r, [[gene, cv]…], [[gene, r]…]; None for kinds not checked."""
    if kind == "correlation":
        return payload["correlation"]
    if kind == "variability":
        return [[item["gene"], item["cv"]] for item in payload]
    if kind == "coexpression":
        return [[item["gene"], item["pearson_correlation"]] for item in payload["results"]]
    if kind == "de_wilcoxon":
        return [[item["gene"], item["score"]] for item in payload["results"]]
    return None


class Gateway:
    """`python -m gateway` on 127.0.0.1:<free port> over `store`; a context manager that stops it."""

    def __init__(
        self, store: Path, log: Path, *, threads: int = 8, env: dict[str, str] | None = None
    ) -> None:
        self.extra_env = env or {}  # more settings of the gateway (GENOSTREAM_GATEWAY_*)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.store, self.log, self.threads = store, log, threads
        self.process: subprocess.Popen[bytes] | None = None
        self.start_s: float | None = None

    def __enter__(self) -> Gateway:
        env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(self.store)}
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--threads", str(self.threads)]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with stopwatch() as watch:
            with self.log.open("wb") as out:
                self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
            self._wait_healthy()
        self.start_s = watch.seconds  # process start until /health answers
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-3:])
                raise GatewayError(f"the gateway exited with {self.process.returncode}: {tail}")
            try:
                if requests.get(f"{self.base}/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise GatewayError(f"the gateway did not answer /health within {HEALTH_TIMEOUT_S:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def send(self, session: requests.Session, call: Call) -> Any:
        response = session.request(
            call.method, self.base + call.path, params=call.params, json=call.body, timeout=REQUEST_TIMEOUT_S
        )
        if response.status_code != 200:
            detail = response.text[:200]
            raise GatewayError(f"{call.method} {call.path} answered {response.status_code}: {detail}")
        return response.json()


def time_queries(
    gateway: Gateway, kind: str, requests_: list[dict[str, Any]], dataset: str
) -> dict[str, Any]:
    """Latency percentiles of one question over every workload request (after a few untimed warm-ups),
    plus the answers for the exactness check."""
    calls = [build_call(kind, request, dataset) for request in requests_]
    latencies: list[float] = []
    answers: list[Any] = []
    first_s = None
    with requests.Session() as session:
        for call in calls[:WARMUP_REQUESTS]:
            with stopwatch() as watch:
                gateway.send(session, call)
            first_s = watch.seconds if first_s is None else first_s
        for call in calls:
            with stopwatch() as watch:
                payload = gateway.send(session, call)
            latencies.append(watch.seconds)
            answers.append(parse_answer(kind, payload))
    latency = percentiles_ms(latencies)
    if first_s is not None:
        latency["first_ms"] = round(first_s * 1000.0, 3)  # the gateway's first answer to this question
    return {"latency": latency, "answers": answers, "warmup_requests": WARMUP_REQUESTS}


def http_floor(gateway: Gateway, n: int = 50) -> dict[str, float | int]:
    """Latency of GET /health: what HTTP, waitress and Flask cost before any query runs."""
    latencies = []
    with requests.Session() as session:
        for _ in range(n):
            with stopwatch() as watch:
                gateway.send(session, Call("GET", "/health"))
            latencies.append(watch.seconds)
    return percentiles_ms(latencies)


def throughput(
    gateway: Gateway, calls: list[Call], *, clients: int, duration_s: float
) -> dict[str, float | int]:
    """Requests/s with `clients` concurrent keep-alive clients cycling through `calls` for `duration_s`."""
    stop_at = time.monotonic() + duration_s
    lock = threading.Lock()
    done = {"ok": 0, "errors": 0}
    latencies: list[float] = []

    def client(offset: int) -> None:
        with requests.Session() as session:
            i = offset
            while time.monotonic() < stop_at:
                try:
                    with stopwatch() as watch:
                        gateway.send(session, calls[i % len(calls)])
                    key = "ok"
                except (GatewayError, requests.RequestException):
                    key = "errors"
                with lock:
                    done[key] += 1
                    latencies.append(watch.seconds)
                i += clients

    with stopwatch() as total, ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, k) for k in range(clients)]:
            future.result()
    return {
        "clients": clients,
        "duration_s": round(total.seconds, 3),
        "requests": done["ok"],
        "errors": done["errors"],
        "rps": round(done["ok"] / total.seconds, 2),
        **{f"latency_{k}": v for k, v in percentiles_ms(latencies).items() if k.endswith("_ms")},
    }
