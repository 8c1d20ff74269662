"""The soak's clients of the gateway's ClickHouse port: clickhouse-connect asking exact questions (checked
against the study), and plain HTTP requests that should all be refused (checked for their ClickHouse error).

Statuses go into the soak's tally like every other request's, so a 5xx here fails the run too.
"""

from __future__ import annotations

import gzip
from typing import Any, Protocol

import clickhouse_connect
import numpy as np
import requests
from clickhouse_connect.driver.exceptions import DatabaseError

PASSWORD = "soak-analyst"
# (what is sent, the ClickHouse error name expected back)
HOSTILE = [
    ({"query": "INSERT INTO cells (dataset) VALUES ('x')"}, "READONLY"),
    ({"query": "SET max_result_rows = 0"}, "READONLY"),
    ({"query": "SELECT 1", "max_result_rows": "0"}, "READONLY"),
    ({"query": "SELECT hostName()"}, "ACCESS_DENIED"),
    ({"query": "SELECT * FROM file('/etc/hostname', 'LineAsString')"}, "ACCESS_DENIED"),
    ({"query": "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')"}, "ACCESS_DENIED"),
    ({"query": "SELECT count() FROM cells WHERE barcode IN raw.barcodes"}, "ACCESS_DENIED"),
    ({"query": "SELECT * FROM system.users"}, "ACCESS_DENIED"),
    ({"query": "SELECT count() FROM {t:Identifier}", "param_t": "raw.barcodes"}, "ACCESS_DENIED"),
    ({"query": "SELECT number FROM numbers(10000000) FORMAT Native"}, "TOO_MANY_ROWS_OR_BYTES"),
    ({"query": "SELECT 1 FORMAT Template"}, "UNKNOWN_FORMAT"),
]


class Run(Protocol):
    """What the clients need of the soak run: its study, its tally and whether to go on."""

    study: Any
    tally: Any
    rng: Any

    def running(self) -> bool: ...


def _expected(run: Run, gene: str) -> tuple[int, float]:
    row = run.study.values.getrow(run.study.gene_index(gene))
    return int(row.nnz), float(row.sum())


def valid(run: Run, url: str, dataset: str, genes: list[str]) -> None:
    """clickhouse-connect on one connection: bound parameters, query_df and command, checked exactly."""
    host, port = url.removeprefix("http://").split(":")
    client = clickhouse_connect.get_client(host=host, port=int(port), username="analyst", password=PASSWORD)
    sql = (
        "SELECT count() AS n, sum(value) AS s FROM expression "
        "WHERE dataset = {d:String} AND gene = {g:String}"
    )
    try:
        while run.running():
            gene = run.rng.choice(genes)
            n, total = _expected(run, gene)
            try:
                got = client.query(sql, parameters={"d": dataset, "g": gene}).result_rows[0]
                frame = client.query_df(sql, parameters={"d": dataset, "g": gene})
                cells = client.command(f"SELECT count() FROM cells WHERE dataset = '{dataset}'")
            except DatabaseError as exc:
                run.tally.count("port", 500 if "status 5" in str(exc) else 400, str(exc))
                run.tally.mistake(f"port query of {gene} failed: {str(exc)[:200]}")
                continue
            for _ in range(3):
                run.tally.count("port", 200)
            if got[0] != n or not np.isclose(got[1], total, rtol=1e-9):
                run.tally.mistake(f"port count/sum of {gene}: {got}, exact {(n, total)}")
            if int(frame["n"][0]) != n or cells != run.study.values.shape[1]:
                run.tally.mistake(f"port query_df/command of {gene}: {frame.to_dict()}, {cells}")
    finally:
        client.close()


def hostile(run: Run, url: str) -> None:
    """Refused requests (writes, settings, host functions, files, URLs, other databases, limits, bad
    credentials, a compressed body too large): each a 4xx with the ClickHouse error expected."""
    bomb = gzip.compress(b"SELECT 1 -- " + b" " * 20_000_000)  # 20 MB of query in 20 kB
    with requests.Session() as session:
        while run.running():
            for params, name in HOSTILE:
                response = session.post(url, params=params, auth=("analyst", PASSWORD), timeout=120)
                _check(run, response, name)
            response = session.post(url, data="SELECT 1", auth=("analyst", "wrong"), timeout=60)
            _check(run, response, "AUTHENTICATION_FAILED")
            response = session.post(
                url, data=bomb, auth=("analyst", PASSWORD), headers={"Content-Encoding": "gzip"}, timeout=60
            )
            _check(run, response, "QUERY_IS_TOO_LARGE")


def _check(run: Run, response: requests.Response, name: str) -> None:
    run.tally.count("port", response.status_code, response.text)
    if not 400 <= response.status_code < 500 or f"({name})" not in response.text:
        run.tally.mistake(f"port refusal {name}: {response.status_code} {response.text[:160]}")
