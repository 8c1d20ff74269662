"""`python -m bench.soak [--duration S] [--out DIR]`: the gateway under minutes of mixed, partly hostile load.

A synthetic study is loaded and built into a fresh store, the gateway is started on it (its default limits,
8 threads, loopback only), and for `--duration` seconds clients ask correlation, variability and
co-expression questions, export matrices (some reading slowly, some never reading), run /sql (exact counts
and sums, CPU-bound queries, queries the time limit could not stop, over-limit queries, the once-leaking
injection), query the ClickHouse port (clickhouse-connect's exact answers and refused requests,
bench/soak_port.py), hold idle half-sent connections, and probe /health. Every answer is
checked against numpy/scipy on the study; the run fails on any 5xx, any wrong answer or a /health slower than
1 s. It reports the requests, the errors, the slowest /health and the gateway's peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import requests

from bench import soak_port
from bench.errors import BenchError
from bench.exact import ExactOracle, check_coexpression, check_correlation, check_variability
from bench.gateway_client import Gateway, build_call, free_port, parse_answer
from bench.measure import peak_rss_mb
from bench.study import StudyFiles, read_study
from bench.workload import make_workload

REPO = Path(__file__).resolve().parent.parent
DATASET = "soak"
STUDY = {"cells": 8000, "genes": 4000, "nnz": 2_000_000, "seed": 13}
MAX_REQUESTS = 200_000  # the run also stops at this many requests, whatever the duration
IDLE_CONNECTIONS = 120
STALLED_EXPORTS = 2  # clients that do not read their export (half the exports lane's workers)
# How long they do not read: the gateway's channel_timeout_s (30 s) counts from the last byte the socket took,
# which is when the export has filled the socket's and waitress's buffers (tens of seconds on a busy machine).
STALL_S = 90
CPU_BOUND_ROWS = 50_000_000
UNSTOPPABLE = (  # issue 21: each once ran many times longer than the /sql time limit; now refused at once
    "SELECT max(editDistance(randomString(65000), randomString(65000) || toString(number))) FROM numbers(8)",
    "SELECT match('a', repeat('(?:a', 100000) || repeat(')', 100000))",
)
UNSTOPPABLE_ANSWER_S = 5.0  # refused before it runs; the bound leaves room for a busy machine
HEALTH_LIMIT_S = 1.0
SQL_CLIENTS = 4  # two on /sql, two on the ClickHouse port
INJECTION = "SELECT 'SELECT 42 AS injected' AS s FROM numbers(150000)"
HEALTH_PROBE = """
import json, sys, time, urllib.request
url, until = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < until:
    started = time.monotonic()
    try:
        status = urllib.request.urlopen(url, timeout=10).status
    except OSError as exc:
        status = getattr(exc, "code", 0)
    print(json.dumps([status, time.monotonic() - started]), flush=True)
    time.sleep(0.5)
"""


@dataclass
class Tally:
    """What every client saw, shared by the client threads."""

    statuses: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    health_s: list[float] = field(default_factory=list)
    answers: dict[str, list[tuple[dict, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str, status: int, detail: str = "") -> None:
        with self.lock:
            self.statuses[f"{status // 100}xx"] += 1
            if status >= 500:
                self.server_errors.append(f"{kind}: {status} {detail[:200]}")

    def mistake(self, text: str) -> None:
        with self.lock:
            self.wrong.append(text)

    def total(self) -> int:
        return sum(self.statuses.values())


def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        code = subprocess.run(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise BenchError(f"{' '.join(cmd[:4])} failed; see {log}")


def prepare(out: Path, env: dict[str, str]) -> None:
    """The study (reused when complete), loaded and built into a fresh store."""
    study = out / "study"
    if not (study / ".complete").exists():
        shutil.rmtree(study, ignore_errors=True)
        cmd = [sys.executable, "-m", "loader", "synth", str(study)]
        cmd += [arg for k, v in STUDY.items() for arg in (f"--{k}", str(v))]
        _run(cmd, env, out / "logs" / "synth.log")
        (study / ".complete").touch()
    shutil.rmtree(out / "store", ignore_errors=True)
    _run(
        [sys.executable, "-m", "loader", "load", str(study), "--dataset", DATASET, "--no-progress"],
        env,
        out / "logs" / "load.log",
    )
    dbt = str(Path(sys.executable).with_name("dbt"))
    cmd = [dbt, "build", "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO)]
    cmd += ["--target-path", str(out / "dbt" / "target"), "--log-path", str(out / "dbt" / "logs")]
    _run(cmd, env, out / "logs" / "dbt_build.log")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Soak:
    def __init__(self, base: str, study: Any, oracle: ExactOracle, workload: dict, deadline: float) -> None:
        self.base, self.study, self.oracle, self.workload = base, study, oracle, workload
        self.deadline = deadline
        self.tally = Tally()
        self.rng = random.Random(7)

    def running(self) -> bool:
        return time.monotonic() < self.deadline and self.tally.total() < MAX_REQUESTS

    # ----- question clients: answers kept and checked against the oracle at the end ---------------------

    def questions(self, kind: str) -> Callable[[], None]:
        def client() -> None:
            items = list(self.workload[kind])
            with requests.Session() as session:
                while self.running():
                    request = self.rng.choice(items)
                    call = build_call(kind, request, DATASET)
                    response = session.request(
                        call.method, self.base + call.path, params=call.params, json=call.body, timeout=120
                    )
                    self.tally.count(kind, response.status_code, response.text)
                    if response.status_code != 200:
                        self.tally.mistake(f"{kind}: {response.status_code} {response.text[:200]}")
                        continue
                    with self.tally.lock:
                        self.tally.answers.setdefault(kind, []).append((request, response.json()))

        return client

    def check_questions(self) -> dict[str, Any]:
        checks = {"correlation": check_correlation, "coexpression": check_coexpression}
        checks["variability"] = check_variability
        report = {}
        for kind, pairs in self.tally.answers.items():
            requests_ = [r for r, _ in pairs]
            answers = [parse_answer(kind, payload) for _, payload in pairs]
            comparison = checks[kind](self.oracle, requests_, answers)
            report[kind] = comparison.as_dict()
            if not comparison.exact:
                self.tally.mistake(f"{kind}: {comparison.n_wrong} wrong, {comparison.n_missing} missing")
        return report

    # ----- exports, checked as they arrive ----------------------------------------------------------------

    def _expected_export(self, genes: list[str], cell_types: list[str]) -> tuple[int, float]:
        mask = self.oracle.mask(cell_types)
        rows = [self.study.values.getrow(self.study.gene_index(g)).toarray().ravel()[mask] for g in genes]
        return sum(int(np.count_nonzero(r)) for r in rows), float(sum(r.sum() for r in rows))

    def exports(self) -> None:
        genes = [r["gene_a"] for r in self.workload["correlation"]]
        with requests.Session() as session:
            while self.running():
                chosen = sorted(set(self.rng.sample(genes, 3)))
                cell_types = self.rng.choice(self.workload["correlation"])["cell_types"]
                body = {"gene_names": chosen, "cell_types": cell_types, "dataset": DATASET}
                response = session.post(
                    self.base + "/expression-matrix", json=body, headers={"Accept": "text/csv"}, timeout=120
                )
                self.tally.count("export", response.status_code, response.text)
                if response.status_code != 200:
                    self.tally.mistake(f"export: {response.status_code}")
                    continue
                table = pacsv.read_csv(io.BytesIO(response.content))
                n, total = self._expected_export(chosen, cell_types)
                got = float(np.sum(table.column("value").to_numpy())) if table.num_rows else 0.0
                if table.num_rows != n or not np.isclose(got, total, rtol=1e-9):
                    self.tally.mistake(f"export {chosen}: {table.num_rows} rows sum {got}, exact {n} {total}")

    def slow_exports(self) -> None:
        """A client reading a large dense export through a small buffer, 64 KiB per 20 ms."""
        genes = self.study.genes[:200]
        payload = json.dumps({"gene_names": genes, "dataset": DATASET, "dense": True}).encode()
        host, port = self.base.removeprefix("http://").split(":")
        while self.running():
            with socket.create_connection((host, int(port)), timeout=120) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                sock.sendall(
                    b"POST /expression-matrix HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/csv\r\n"
                    b"Connection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % len(payload)
                    + payload
                )
                data = bytearray()
                while (chunk := sock.recv(65536)) and time.monotonic() < self.deadline + 60:
                    data += chunk
                    time.sleep(0.02)
            status = int(bytes(data[9:12]) or b"0")
            self.tally.count("slow export", status, bytes(data[:200]).decode(errors="replace"))
            if status == 200 and not bytes(data).endswith(b"\r\n0\r\n\r\n"):
                self.tally.mistake("slow export: a 200 body without its terminating chunk")

    def stalled_exports(self) -> None:
        """A client that asks for a large dense JSON export through a 4 KiB buffer and reads nothing for
        STALL_S: by then the gateway must have given up on it (its idle limit, then the connection closed
        half-way), while every other client went on being answered."""
        payload = json.dumps(
            {"gene_names": self.study.genes[:500], "dataset": DATASET, "dense": True}
        ).encode()
        host, port = self.base.removeprefix("http://").split(":")
        while self.running():
            data = bytearray()
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((host, int(port)))
                sock.sendall(
                    b"POST /expression-matrix HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
                )
                time.sleep(STALL_S)
                sock.settimeout(10)
                with suppress(ConnectionResetError, TimeoutError):
                    while chunk := sock.recv(1 << 20):
                        data += chunk
            status = int(bytes(data[9:12]) or b"0")
            self.tally.count("stalled export", status, bytes(data[:200]).decode(errors="replace"))
            if bytes(data).endswith(b"\r\n0\r\n\r\n"):
                self.tally.mistake(f"stalled export: the gateway still waited for it after {STALL_S} s")

    # ----- /sql: exact answers, refusals, limits -----------------------------------------------------------

    def sql(self) -> None:
        genes = [r["gene_a"] for r in self.workload["correlation"]]
        with requests.Session() as session:

            def post(query: str) -> requests.Response:
                response = session.post(self.base + "/sql", json={"query": query}, timeout=120)
                self.tally.count("sql", response.status_code, response.text)
                return response

            while self.running():
                gene = self.rng.choice(genes)
                row = self.study.values.getrow(self.study.gene_index(gene))
                expected = [row.nnz, float(row.sum())]
                for query in UNSTOPPABLE:
                    started = time.monotonic()
                    response = post(query)
                    took = time.monotonic() - started
                    if response.status_code != 400 or took > UNSTOPPABLE_ANSWER_S:
                        self.tally.mistake(f"sql {query[:40]}: {response.status_code} after {took:.1f} s")
                response = post(f"SELECT sum(number % 7) AS s FROM numbers({CPU_BOUND_ROWS})")
                cycles, rest = divmod(CPU_BOUND_ROWS, 7)
                exact = 21 * cycles + rest * (rest - 1) // 2
                got = response.json().get("data") if response.status_code == 200 else None
                if got != [[exact]]:
                    self.tally.mistake(f"sql CPU-bound sum: {response.status_code} {got}, exact {exact}")
                for query, wanted in (
                    (INJECTION, 400),
                    ("SELECT * FROM expression", 400),
                    ("SELECT hostName()", 400),
                    ("SELECT count() FROM cells WHERE barcode IN raw.barcodes", 400),
                ):
                    response = post(query)
                    if response.status_code != wanted:
                        self.tally.mistake(f"sql {query[:40]}: {response.status_code}, expected {wanted}")
                response = post(
                    f"SELECT count() AS n, sum(value) AS s FROM expression WHERE dataset = {_quote(DATASET)} "
                    f"AND gene = {_quote(gene)}"
                )
                got = response.json().get("data", [[None, None]])[0] if response.status_code == 200 else None
                if got is None or got[0] != expected[0] or not np.isclose(got[1], expected[1], rtol=1e-9):
                    self.tally.mistake(f"sql count/sum of {gene}: {got}, exact {expected}")

    # ----- idle connections and /health --------------------------------------------------------------------

    def idle(self) -> None:
        host, port = self.base.removeprefix("http://").split(":")
        held: list[socket.socket] = []
        while self.running():
            held = [s for s in held if s.fileno() != -1]
            while len(held) < IDLE_CONNECTIONS:
                sock = socket.create_connection((host, int(port)), timeout=10)
                sock.sendall(b"POST /sql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{")
                sock.setblocking(False)
                held.append(sock)
            for sock in held:  # the server drops them after its channel timeout; open new ones
                try:
                    if sock.recv(1) == b"":
                        sock.close()
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
            time.sleep(1.0)
        for sock in held:
            sock.close()

    def health(self) -> None:
        """/health every 0.5 s from a process of its own (this one's client threads would delay it)."""
        remaining = max(0.0, self.deadline - time.monotonic())
        probe = subprocess.run(
            [sys.executable, "-c", HEALTH_PROBE, self.base + "/health", str(remaining)],
            capture_output=True,
            text=True,
            timeout=remaining + 60,
        )
        for line in probe.stdout.splitlines():
            status, elapsed = json.loads(line)
            self.tally.count("health", status)
            with self.tally.lock:
                self.tally.health_s.append(elapsed)
            if status != 200:
                self.tally.mistake(f"/health answered {status}")


def soak(out: Path, duration_s: float) -> dict[str, Any]:
    out = out.resolve()
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(out / "store")}
    started = time.monotonic()
    prepare(out, env)
    study = read_study(StudyFiles.find(out / "study"), cell_type_column="Cluster", value_kind="counts")
    oracle = ExactOracle(study.lognorm(), study.genes, study.cell_types)
    workload = make_workload(study, dataset=DATASET, n=200, n_coexpression=20)
    os.environ.update({"GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(out / "store")})
    port_url = f"http://127.0.0.1:{free_port()}"
    port_env = {
        "GENOSTREAM_GATEWAY_CLICKHOUSE_PORT": port_url.rpartition(":")[2],
        "GENOSTREAM_GATEWAY_ANALYST_PASSWORD": soak_port.PASSWORD,
        # /sql's two clients and the port's two share the SQL turns: one turn each, as with /sql alone.
        "GENOSTREAM_GATEWAY_SQL_MAX_CONCURRENT": str(SQL_CLIENTS),
    }
    with Gateway(out / "store", out / "logs" / "gateway.log", threads=8, env=port_env) as gateway:
        assert gateway.process is not None
        run = Soak(gateway.base, study, oracle, workload, time.monotonic() + duration_s)
        clients: list[Callable[[], None]] = [run.questions("correlation") for _ in range(6)]
        clients += [
            run.questions("variability"),
            run.questions("coexpression"),
            run.questions("coexpression"),
        ]
        clients += [run.exports, run.exports, run.slow_exports, run.slow_exports, run.sql, run.sql]
        clients += [run.stalled_exports for _ in range(STALLED_EXPORTS)]
        genes = [r["gene_a"] for r in workload["correlation"]]
        clients += [
            lambda: soak_port.valid(run, port_url, DATASET, genes),
            lambda: soak_port.hostile(run, port_url),
        ]
        clients += [run.idle, run.health]
        threads = [threading.Thread(target=c, daemon=True) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=duration_s + 180)
        gateway_peak_mb = peak_rss_mb(gateway.process.pid) or float("nan")
    checks = run.check_questions()
    tally = run.tally
    health = sorted(tally.health_s)
    return {
        "duration_s": duration_s,
        "wall_s": round(time.monotonic() - started, 1),
        "study": {**STUDY, "nnz_stored": study.nnz},
        "requests": tally.total(),
        "statuses": dict(tally.statuses),
        "server_errors": tally.server_errors[:20],
        "n_server_errors": len(tally.server_errors),
        "wrong_answers": tally.wrong[:20],
        "n_wrong_answers": len(tally.wrong),
        "checked": {k: v["n_compared"] for k, v in checks.items()},
        "health_max_s": round(health[-1], 3) if health else None,
        "health_p50_s": round(health[len(health) // 2], 3) if health else None,
        "gateway_peak_rss_mb": round(gateway_peak_mb, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load (default 180)")
    parser.add_argument("--out", type=Path, default=Path("bench_results") / "soak", help="output directory")
    args = parser.parse_args(argv)
    try:
        result = soak(args.out, args.duration)
    except BenchError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    (args.out / "soak.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    failed = (
        result["n_server_errors"]
        or result["n_wrong_answers"]
        or (result["health_max_s"] or 0) > HEALTH_LIMIT_S
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
