"""The ClickHouse port with the stock clients — clickhouse-connect, its SQLAlchemy dialect with pandas, plain
HTTP requests — against a running gateway on the embedded store, the HTTP API answering beside it.

Answers are compared with numpy; every refusal is one the client raises as a ClickHouse error, after which
the same client answers the next query correctly.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Iterator

import clickhouse_connect
import numpy as np
import pandas as pd
import pytest
import requests
import sqlalchemy as sa
from clickhouse_connect.driver.exceptions import DatabaseError

from gateway import create_app
from gateway.clickhouse_http.app import ClickHousePort
from gateway.http.accesslog import AccessLog
from gateway.http.server import add_listener, make_server
from gateway.state import get_gateway

pytestmark = pytest.mark.studies("pbmc")


PASSWORD = "correct horse"
GENE_TOTALS = (
    "SELECT gene, sum(value) AS total, count() AS stored FROM expression WHERE dataset = {dataset:String} "
    "GROUP BY gene ORDER BY gene"
)


@pytest.fixture(scope="module")
def urls(built_store) -> Iterator[tuple[str, str]]:
    """(API URL, ClickHouse port URL), served by one waitress loop in a thread as `python -m gateway` does."""
    app = create_app({"catalog_ttl_s": 0.0, "clickhouse_port": 0, "analyst_password": PASSWORD})
    state = get_gateway(app)
    socket_map: dict = {}
    server = make_server(app, state.config, host="127.0.0.1", port=0, threads=4, map=socket_map)
    port_app = AccessLog(ClickHousePort(state), query_string=False)
    listener = add_listener(server, socket_map, port_app, state.config, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", f"http://127.0.0.1:{listener.effective_port}"
    listener.close()
    server.close()
    thread.join(timeout=10)
    state.close()


@pytest.fixture(scope="module")
def port_url(urls) -> str:
    return urls[1]


@pytest.fixture(scope="module")
def client(port_url):
    """One clickhouse-connect client for the whole module: refusals must not spoil it."""
    host, port = port_url.removeprefix("http://").split(":")
    ch = clickhouse_connect.get_client(host=host, port=int(port), username="analyst", password=PASSWORD)
    yield ch
    ch.close()


def _gene_totals(dense) -> dict[str, tuple[float, int]]:
    return {
        g: (float(row.sum()), int(np.count_nonzero(row)))
        for g, row in zip(dense.genes, dense.matrix, strict=True)
    }


def _assert_totals(rows, dense) -> None:
    expected = {g: t for g, t in _gene_totals(dense).items() if t[1]}
    got = {gene: (float(total), int(stored)) for gene, total, stored in rows}
    assert got.keys() == expected.keys()
    for gene, (total, stored) in got.items():
        assert stored == expected[gene][1], gene
        assert total == pytest.approx(expected[gene][0], rel=1e-9, abs=1e-9), gene


def test_connect_reads_version_timezone_and_settings(client) -> None:
    assert client.server_version.count(".") >= 2
    assert client.command("SELECT currentDatabase()") == "marts"


def test_query_with_bound_parameters_matches_numpy(client, pbmc_dense) -> None:
    result = client.query(GENE_TOTALS, parameters={"dataset": "pbmc"})
    assert result.column_names == ("gene", "total", "stored")
    _assert_totals(result.result_rows, pbmc_dense)
    assert "query_id" in result.summary


def test_query_df_and_query_arrow_match_numpy(client, pbmc_dense) -> None:
    cd74 = pbmc_dense.gene_row("CD74")
    by_barcode = dict(zip(pbmc_dense.barcodes, cd74, strict=True))
    sql = (
        "SELECT c.barcode AS barcode, e.value AS value FROM expression AS e"
        " INNER JOIN cells AS c ON e.dataset = c.dataset AND e.cell = c.cell"
        " WHERE e.dataset = 'pbmc' AND e.gene = %(gene)s ORDER BY e.cell"
    )
    frame = client.query_df(sql, parameters={"gene": "CD74"})
    assert len(frame) == np.count_nonzero(cd74)
    assert np.allclose(frame["value"].to_numpy(), [by_barcode[b] for b in frame["barcode"]], rtol=1e-12)
    table = client.query_arrow(GENE_TOTALS, parameters={"dataset": "pbmc"})
    _assert_totals(zip(*(table.column(i).to_pylist() for i in range(3)), strict=True), pbmc_dense)


def test_command_answers_a_scalar(client, pbmc_dense) -> None:
    assert client.command("SELECT count() FROM cells WHERE dataset = 'pbmc'") == len(pbmc_dense.barcodes)


def test_sqlalchemy_engine_with_pandas(port_url, pbmc_dense) -> None:
    engine = sa.create_engine(f"clickhousedb://analyst:{PASSWORD.replace(' ', '%20')}@{port_url[7:]}/marts")
    try:
        frame = pd.read_sql(
            sa.text("SELECT cell_type, count() AS n FROM cells WHERE dataset = :d GROUP BY cell_type"),
            engine,
            params={"d": "pbmc"},
        )
        types, counts = np.unique(pbmc_dense.cell_types, return_counts=True)
        assert dict(zip(frame["cell_type"], frame["n"], strict=True)) == dict(zip(types, counts, strict=True))
        inspector = sa.inspect(engine)
        assert inspector.get_schema_names() == ["marts"]
        assert "expression" in inspector.get_table_names(schema="marts")
        columns = [c["name"] for c in inspector.get_columns("cells", schema="marts")]
        assert columns[:3] == ["dataset", "cell", "barcode"]
        assert inspector.has_table("cells", schema="marts")
    finally:
        engine.dispose()


def test_the_api_answers_beside_the_port(urls, client, pbmc_dense) -> None:
    api_url, _ = urls
    errors: list[str] = []

    def port_queries() -> None:
        for _ in range(5):
            rows = client.query(GENE_TOTALS, parameters={"dataset": "pbmc"}).result_rows
            if len(rows) != sum(1 for t in _gene_totals(pbmc_dense).values() if t[1]):
                errors.append("port")

    thread = threading.Thread(target=port_queries)
    thread.start()
    for _ in range(5):
        body = {"gene_a": "CD74", "gene_b": "HLA-DRA", "dataset": "pbmc"}
        response = requests.post(f"{api_url}/gene-correlation", json=body, timeout=60)
        expected = np.corrcoef(pbmc_dense.gene_row("CD74"), pbmc_dense.gene_row("HLA-DRA"))[0, 1]
        assert response.status_code == 200
        assert response.json()["pearson_correlation"] == pytest.approx(expected, abs=1e-6)
    thread.join()
    assert not errors


# --- curl-style requests ---


def _get(port_url: str, **params: str) -> requests.Response:
    return requests.get(port_url, params={"user": "analyst", "password": PASSWORD, **params}, timeout=60)


def test_plain_http_query_in_url_body_or_both(port_url, pbmc_dense) -> None:
    n = str(len(pbmc_dense.barcodes))
    sql = "SELECT count() FROM cells WHERE dataset = 'pbmc'"
    assert _get(port_url, query=sql).text == n + "\n"
    auth = ("analyst", PASSWORD)
    assert requests.post(port_url, data=sql, auth=auth, timeout=60).text == n + "\n"
    head, tail = "SELECT count() FROM cells", "WHERE dataset = 'pbmc'"
    assert requests.post(port_url, params={"query": head}, data=tail, auth=auth, timeout=60).text == n + "\n"


def test_headers_formats_and_parameters(port_url, pbmc_dense) -> None:
    response = _get(
        port_url,
        query="SELECT barcode, cell_type FROM cells WHERE dataset = {d:String} ORDER BY cell LIMIT 3",
        param_d="pbmc",
        default_format="JSONEachRow",
        query_id="my-query",
    )
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["barcode"] for r in rows] == pbmc_dense.barcodes[:3]
    headers = response.headers
    assert headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert headers["X-ClickHouse-Query-Id"] == "my-query"
    assert headers["X-ClickHouse-Timezone"]
    assert headers["X-ClickHouse-Server-Display-Name"]
    assert json.loads(headers["X-ClickHouse-Summary"])["written_rows"] == "0"
    csv = _get(port_url, query="SELECT 1 AS a, 'x' AS b FORMAT CSVWithNames")
    assert csv.text == '"a","b"\n1,"x"\n'
    assert csv.headers["X-ClickHouse-Format"] == "CSVWithNames"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-ClickHouse-User": "analyst", "X-ClickHouse-Key": PASSWORD},
        {"Authorization": requests.auth._basic_auth_str("analyst", PASSWORD)},
    ],
)
def test_credentials_in_headers(port_url, headers) -> None:
    response = requests.get(port_url, params={"query": "SELECT 41 + 1"}, headers=headers, timeout=60)
    assert response.text == "42\n"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "zstd", "lz4"])
def test_compressed_answers_and_request_bodies(port_url, encoding) -> None:
    sql = "SELECT number FROM numbers(1000)"
    response = requests.post(
        port_url,
        data=gzip.compress(sql.encode()),
        auth=("analyst", PASSWORD),
        headers={"Accept-Encoding": encoding, "Content-Encoding": "gzip"},
        stream=True,
        timeout=60,
    )
    assert response.headers["Content-Encoding"] == encoding
    raw = response.raw.read(decode_content=False)
    if encoding == "gzip":
        body = gzip.decompress(raw)
    elif encoding == "deflate":
        body = zlib.decompress(raw)
    elif encoding == "zstd":
        from clickhouse_connect.driver.compression import _zstd_decompress

        body = _zstd_decompress(raw)
    else:
        import lz4.frame

        body = lz4.frame.decompress(raw)
    assert body.decode().split() == [str(i) for i in range(1000)]


def test_ping_root_and_unknown_handlers(port_url) -> None:
    assert requests.get(f"{port_url}/ping", timeout=60).text == "Ok.\n"
    assert requests.get(f"{port_url}/", timeout=60).text == "Ok.\n"
    unknown = requests.get(f"{port_url}/play", timeout=60)
    assert unknown.status_code == 404
    assert unknown.text.startswith("There is no handle /play")


# --- refusals ---

REFUSED = {
    "INSERT INTO cells (dataset) VALUES ('x')": "READONLY",
    "ALTER TABLE genes DELETE WHERE 1": "READONLY",
    "DROP TABLE gene_stats": "READONLY",
    "CREATE TABLE evil (a UInt8) ENGINE = Memory": "READONLY",
    "SET max_result_rows = 0": "READONLY",
    "SELECT 1 SETTINGS readonly = 0": "READONLY",
    "SELECT 1 INTO OUTFILE '/tmp/x'": "READONLY",
    "SELECT * FROM raw.matrix": "ACCESS_DENIED",
    "SELECT * FROM staging.stg_raw__genes": "ACCESS_DENIED",
    "SELECT * FROM system.users": "ACCESS_DENIED",
    "SELECT name FROM system.tables WHERE (database, name) IN system.tables": "ACCESS_DENIED",
    "SELECT hostName()": "ACCESS_DENIED",
    "SELECT getSetting('max_result_rows')": "ACCESS_DENIED",
    "SELECT * FROM file('/etc/hostname', 'LineAsString')": "ACCESS_DENIED",
    "SELECT file('/etc/hostname')": "ACCESS_DENIED",
    "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')": "ACCESS_DENIED",
    "SHOW TABLES FROM raw": "ACCESS_DENIED",
    "DESCRIBE TABLE raw.matrix": "ACCESS_DENIED",
    "SELECT 1 FORMAT Template": "UNKNOWN_FORMAT",
    "SELECT 1; SELECT 2": "SYNTAX_ERROR",
    "SELECT count() FROM numbers(1000000)": None,  # the control: answers
}


@pytest.mark.parametrize("sql", list(REFUSED))
def test_refusals_are_clickhouse_errors_and_the_client_goes_on(client, sql) -> None:
    name = REFUSED[sql]
    if name is None:
        assert client.command(sql) == 1000000
        return
    with pytest.raises(DatabaseError) as caught:
        client.command(sql)
    assert f"({name})" in str(caught.value)
    assert client.query("SELECT count() FROM genes WHERE dataset = 'pbmc'").result_rows[0][0] > 0


def test_identifier_parameters_are_checked_after_binding(client) -> None:
    sql = "SELECT count() FROM {t:Identifier}"
    assert client.query(sql, parameters={"t": "datasets"}).result_rows[0][0] > 0
    for table in ("system.users", "raw.matrix"):
        with pytest.raises(DatabaseError, match="ACCESS_DENIED"):
            client.query(sql, parameters={"t": table})


def test_result_limits_hold_and_the_next_query_answers(client) -> None:
    with pytest.raises(DatabaseError, match="TOO_MANY_ROWS_OR_BYTES"):
        client.query("SELECT number FROM numbers(1000000)")
    assert client.command("SELECT 1") == 1


def test_settings_cannot_be_changed(port_url) -> None:
    response = _get(port_url, query="SELECT 1", max_result_rows="0")
    assert response.status_code == 403
    assert response.headers["X-ClickHouse-Exception-Code"] == "164"
    assert "(READONLY)" in response.text


def test_catalog_shows_the_marts_without_paths(client) -> None:
    databases = client.query("SELECT * FROM system.databases").named_results()
    assert [(d["name"], d["data_path"], d["metadata_path"]) for d in databases] == [("marts", "", "")]
    tables = client.query("SELECT database, data_paths, metadata_path FROM system.tables").result_rows
    assert tables and all(t == ("marts", [], "") for t in tables)
    columns = client.query("SELECT DISTINCT database FROM system.columns").result_rows
    assert columns == [("marts",)]
    assert client.command("SHOW DATABASES") == "marts"


@pytest.mark.parametrize(
    ("auth", "user"),
    [
        (None, "default"),
        (("analyst", "wrong"), "analyst"),
        (("default", ""), "default"),
        (("root", PASSWORD), "root"),
    ],
)
def test_wrong_or_missing_credentials(port_url, auth, user) -> None:
    response = requests.post(port_url, data="SELECT 1", auth=auth, timeout=60)
    assert response.status_code == 403
    assert response.headers["X-ClickHouse-Exception-Code"] == "516"
    assert response.text.startswith(f"Code: 516. DB::Exception: {user}: Authentication failed")
    host, port = port_url.removeprefix("http://").split(":")
    with pytest.raises(DatabaseError, match="AUTHENTICATION_FAILED"):
        clickhouse_connect.get_client(host=host, port=int(port), username="analyst", password="wrong")


def _query_without_reading(port_url: str, query: str) -> socket.socket:
    """POST `query` to the port through a 4 KiB receive buffer, and read nothing of the answer."""
    host, port = port_url.removeprefix("http://").split(":")
    credentials = base64.b64encode(f"analyst:{PASSWORD}".encode())
    body = query.encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n"
        % (credentials, len(body))
        + body
    )
    return sock


def test_port_clients_that_never_read_hold_only_the_sql_lane(urls) -> None:
    # Before: the port's requests ran on the short questions' workers with waitress's unbounded writers, so
    # six clients that never read their (20 MB) answers held all four of them and /datasets timed out.
    # Last in this module: the stalled writers keep the sql lane until the sockets close.
    api_url, port_url = urls
    stalled = [
        _query_without_reading(port_url, "SELECT repeat('x', 1000) FROM numbers(20000) FORMAT TSV")
        for _ in range(6)
    ]
    try:
        time.sleep(3)  # the answers are computed and their writers stall
        for _ in range(5):
            asked = time.monotonic()
            answer = requests.get(api_url + "/datasets", timeout=10)
            assert answer.status_code == 200
            assert time.monotonic() - asked < 2.5
            time.sleep(0.2)
    finally:
        for sock in stalled:
            sock.close()
