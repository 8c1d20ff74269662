"""Issue 21, gateway side: clients that never read, /sql the engine cannot interrupt, requests waitress
refuses, and other sites' pages — against the gateway served as `python -m gateway` serves it."""

from __future__ import annotations

import json
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest
import requests

from tests.helpers.serving import serving

pytestmark = pytest.mark.studies("pbmc")

# ----- 1. clients that never read their export --------------------------------------------------------------


def _export_without_reading(base: str, genes: list[str]) -> socket.socket:
    """POST a 500-gene dense JSON export through a 4 KiB receive buffer, and read nothing."""
    host, port = base.removeprefix("http://").split(":")
    payload = json.dumps({"gene_names": genes, "dataset": "pbmc", "dense": True}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        b"POST /expression-matrix HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(payload) + payload
    )
    return sock


def _closed_by_server(sock: socket.socket, timeout_s: float) -> bytes | None:
    """Everything the server sent, once it has closed the connection; None if still open after timeout_s."""
    sock.settimeout(timeout_s)
    data = bytearray()
    with suppress(ConnectionResetError):
        try:
            while chunk := sock.recv(1 << 20):
                data += chunk
        except TimeoutError:
            return None
    return bytes(data)


SHORT_QUESTION_S = 2.5  # before: every /datasets probe timed out (10 s) until the clients disconnected


def test_clients_that_never_read_cannot_hold_the_gateway(built_store, caplog) -> None:
    # Before: each writer waited for its client for ever, and eight of them held every worker (/datasets
    # timed out until the clients disconnected).
    limit_s = 3.0
    caplog.set_level(logging.INFO, logger="gateway.access")
    with serving({"export_timeout_s": limit_s}, threads=4) as base:
        genes = [
            g["gene"]
            for g in requests.get(base + "/genes?dataset=pbmc&limit=500", timeout=30).json()["genes"]
        ]
        assert len(genes) == 500
        with ThreadPoolExecutor(4) as pool:  # each worker opens its engine client on its first request
            assert set(
                pool.map(lambda _: requests.get(base + "/datasets", timeout=30).status_code, range(8))
            ) == {200}
        started = time.monotonic()
        stalled = [_export_without_reading(base, genes) for _ in range(8)]
        try:
            slowest, latencies = 0.0, []
            while time.monotonic() - started < 3 * limit_s:
                asked = time.monotonic()
                answer = requests.get(base + "/datasets", timeout=10)
                latencies.append(round(time.monotonic() - asked, 3))
                slowest = max(slowest, latencies[-1])
                assert answer.status_code == 200
                time.sleep(0.2)
            # Workers were free throughout; what remains is CPU: four dense exports starting at once on this
            # shared 2-core machine (load average ~21) gave worst probes of 1.0–2.3 s.
            assert slowest < SHORT_QUESTION_S, latencies
            # Eight exports on the exports lane's four workers: two rounds of `limit_s`, every one cut.
            bodies = [
                # (the probes may have run past 4 × limit_s on a busy machine: then only a last look)
                _closed_by_server(sock, timeout_s=max(0.1, started + 4 * limit_s - time.monotonic()))
                for sock in stalled
            ]
            assert all(body is not None for body in bodies), "an export outlived export_timeout_s"
            for body in bodies:  # cut half-way, or (the engine's clock ran out first) a JSON 504
                cut = body.startswith(b"HTTP/1.1 200 ") and not body.endswith(b"\r\n0\r\n\r\n")
                assert cut or body.startswith(b"HTTP/1.1 504 "), body[:200]
            logged = [r.getMessage() for r in caplog.records if r.name == "gateway.access"]
            logged = [line for line in logged if '"POST /expression-matrix"' in line]
            ended = [line for line in logged if "aborted" in line or '" 504 ' in line]
            assert len(logged) == len(ended) == 8, "\n".join(logged)
        finally:
            for sock in stalled:
                sock.close()


# ----- 2. /sql the engine cannot stop between blocks -------------------------------------------------------

EDIT_DISTANCE = (
    "SELECT max(editDistance(randomString(65000), randomString(65000) || toString(number))) FROM numbers(8)"
)
REGEX = "SELECT match('a', repeat('(?:a', 100000) || repeat(')', 100000))"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (EDIT_DISTANCE, "editDistance() is not allowed"),
        (REGEX, "must be a string literal"),
        ("WITH repeat('(?:a', 100000) AS p SELECT match('a', p)", "must be a string literal"),
        ("SELECT splitByRegexp(repeat('(?:a', 100000), 'a')", "must be a string literal"),
        ("SELECT multiMatchAny('a', [repeat('(?:a', 100000)])", "must be a string literal"),
        ("SELECT arrayFold((acc, x) -> arrayPushBack(acc, x), range(100000), [0])", "arrayFold() is not"),
    ],
)
def test_sql_the_time_limit_cannot_stop_is_refused_at_once(built_store, query, reason) -> None:
    # Before: the editDistance query ran 41–87 s with a 5–10 s limit, the regular expression 19 s.
    with serving({"sql_timeout_s": 2.0}) as base:
        started = time.monotonic()
        answer = requests.post(base + "/sql", json={"query": query}, timeout=120)
        assert time.monotonic() - started < 3.0
    assert answer.status_code == 400 and reason in answer.json()["error"], answer.text


def test_sql_regular_expressions_as_literals_still_answer(built_store) -> None:
    query = (
        "SELECT countIf(match(cell_type, '^CD4')) AS m, countIf(cell_type LIKE 'CD4%') AS l, "
        "countIf(multiMatchAny(cell_type, ['^CD4', 'T Reg$'])) AS h FROM cells WHERE dataset = 'pbmc'"
    )
    with serving() as base:
        answer = requests.post(base + "/sql", json={"query": query}, timeout=60)
    assert answer.status_code == 200, answer.text
    matched, like, multi = answer.json()["data"][0]
    assert matched == like > 0 and multi >= matched


def test_sql_stops_within_a_second_of_its_limit(built_store) -> None:
    query = "SELECT sum(cityHash64(number, lower(toString(number)))) FROM numbers(1e12)"
    with serving({"sql_timeout_s": 1.0}) as base:
        started = time.monotonic()
        answer = requests.post(base + "/sql", json={"query": query}, timeout=120)
        elapsed = time.monotonic() - started
    assert answer.status_code == 504 and elapsed < 2.0, (answer.text, elapsed)


ONE_ROW_SHAPES = [  # arrays and strings built inside one row: once 1–20 s past a 1 s limit, bounded by memory
    "SELECT length(arrayMap(x -> x * x, range(100000000)))",
    "SELECT sum(length(arrayMap(x -> x * x, range(number)))) FROM numbers(100000)",
    "SELECT length(arraySort(arrayMap(x -> rand(x), range(30000000))))",
    "SELECT length(replicate(1, range(100000000)))",
    "SELECT length(arrayWithConstant(200000000, 1))",
    "SELECT sum(length(arrayWithConstant(number, 1))) FROM numbers(100000)",
    "SELECT length(arrayResize([1], 200000000))",
    "SELECT length(arraySort(arrayResize([rand()], 100000000, 7)))",
    "SELECT length(repeat('a', 1000000000))",
    "SELECT length(randomString(1000000000))",
    "SELECT length(randomPrintableASCII(1000000000))",
    "SELECT sum(length(randomStringUTF8(number))) FROM numbers(100000)",
    "SELECT length(leftPad('a', 1000000000))",
    "SELECT length(arrayStringConcat(arrayMap(x -> toString(x), range(30000000))))",
    # aggregated from many rows into one value, with a size beyond the bound or always as long as the rows
    "SELECT length(arraySort(groupArray(200000000)(rand()))) FROM numbers(100000000)",
    "SELECT length(arraySort(groupUniqArray(200000000)(rand()))) FROM numbers(100000000)",
    "SELECT length(groupArrayMovingSum(rand())) FROM numbers(100000000)",
]


@pytest.mark.parametrize("query", ONE_ROW_SHAPES)
def test_sql_built_inside_one_row_ends_within_its_limit(built_store, query) -> None:
    limit_s = 2.0
    with serving({"sql_timeout_s": limit_s}) as base:
        started = time.monotonic()
        answer = requests.post(base + "/sql", json={"query": query}, timeout=120)
        elapsed = time.monotonic() - started
    assert answer.status_code in (400, 504), answer.text
    assert elapsed < limit_s + 1.5, (elapsed, answer.text)


def test_sql_sized_functions_within_the_bound_still_answer(built_store) -> None:
    query = (
        "SELECT length(arrayWithConstant(1000, 'x')) AS a, length(arrayResize([1, 2], 10)) AS b, "
        "length(randomString(16)) AS c, sum(length(range(number))) AS d, "
        "length(groupArray(1000)(number)) AS e, groupConcat('', 3)(toString(number)) AS f FROM numbers(100)"
    )
    with serving() as base:
        answer = requests.post(base + "/sql", json={"query": query}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == [[1000, 10, 16, 4950, 100, "012"]]


# ----- 7. every request gets an HTTP answer, errors as JSON ------------------------------------------------


def _raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = bytearray()
        with suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return bytes(answer)


MALFORMED = [
    (b"get /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-\x00Name: 1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n", 400),
    (b"GET /\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /datasets HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"GET /static//x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
    (b"GET /datasets HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 300_000 + b"\r\n\r\n", 431),
]


@pytest.mark.parametrize(("request_bytes", "status"), MALFORMED, ids=lambda v: repr(v)[:40])
def test_malformed_requests_get_a_json_error(built_store, request_bytes, status) -> None:
    # Before: no reply at all for the first four, plain text for 501/431, an HTML 308 for /static//x.
    with serving() as base:
        answer = _raw(base, request_bytes)
        assert requests.get(base + "/health", timeout=10).status_code == 200
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].split(" ")[1] == str(status), answer[:300]
    assert "Content-Type: application/json" in lines[1:]
    assert json.loads(body)["error"]


# ----- 11. other sites' pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"query": "SELECT 1"}'),
        ("application/x-www-form-urlencoded", "query=SELECT+1"),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="q"\r\n\r\n1\r\n--b--',
        ),
        (None, '{"query": "SELECT 1"}'),
    ],
)
def test_post_bodies_must_be_json(built_store, content_type, body) -> None:
    # Before: /sql ran a text/plain body, which any page can send cross-site without a preflight.
    headers = {"Content-Type": content_type} if content_type else {}
    with serving() as base:
        for path in ("/sql", "/gene-correlation", "/expression-matrix"):
            answer = requests.post(base + path, data=body.encode(), headers=headers, timeout=30)
            assert answer.status_code == 415 and "application/json" in answer.json()["error"], answer.text
        answer = requests.post(
            base + "/sql",
            data=b'{"query": "SELECT 1 AS v"}',
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["data"] == [[1]]


def _get_with_host(base: str, host: str) -> requests.Response:
    return requests.get(base + "/datasets", headers={"Host": host}, timeout=30)


def test_only_the_gateways_own_names_are_served(built_store) -> None:
    # Before: any Host was served, so a page whose DNS name was rebound to 127.0.0.1 could read the gateway.
    with serving() as base:
        port = base.rsplit(":", 1)[1]
        for host in (
            "127.0.0.1",
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"LOCALHOST:{port}",
            f"[::1]:{port}",
        ):
            assert _get_with_host(base, host).status_code == 200, host
        for host in (f"attacker.example:{port}", "127.0.0.1.attacker.example", "[::2]"):
            answer = _get_with_host(base, host)
            assert answer.status_code == 400 and "allowed_hosts" in answer.json()["error"], host
    with serving({"allowed_hosts": "genostream.lab, other.lab"}) as base:
        assert _get_with_host(base, "genostream.lab").status_code == 200
        assert _get_with_host(base, "localhost").status_code == 400


def test_pages_carry_security_headers(built_store) -> None:
    with serving() as base:
        for path in ("/", "/docs", "/datasets"):
            headers = requests.get(base + path, timeout=30).headers
            policy = headers["Content-Security-Policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "script-src 'self';" in policy and "unsafe-eval" not in policy
            assert (
                headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
            )
