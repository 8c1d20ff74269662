"""The ClickHouse port's pieces without an engine (compression, request reading, catalog rewriting, errors),
and the .h5ad matrix blocks."""

from __future__ import annotations

import gzip
import itertools

import numpy as np
import pytest
from scipy import sparse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import create_app
from gateway.clickhouse_http import codecs
from gateway.clickhouse_http.app import ClickHousePort
from gateway.clickhouse_http.errors import ClickHouseException
from gateway.clickhouse_http.request import credentials, read
from gateway.http.h5ad import csr_blocks
from gateway.sqlguard import introspection
from gateway.sqlguard.guard import Refused
from gateway.state import get_gateway
from genostream.errors import ConfigurationError


def _request(**kwargs) -> Request:
    return Request(EnvironBuilder(**kwargs).get_environ())


@pytest.mark.parametrize("encoding", codecs.ENCODINGS)
def test_each_encoding_round_trips(encoding) -> None:
    chunks = [b"a" * 1000, b"", b"b" * 70000, b"c"]
    encoded = b"".join(codecs.encode(iter(chunks), encoding))
    assert codecs.decode(encoded, encoding, 1 << 20) == b"".join(chunks)
    with pytest.raises(codecs.BodyTooLarge):
        codecs.decode(encoded, encoding, 1000)


def test_negotiation_takes_the_first_known_encoding() -> None:
    assert codecs.negotiate("br, gzip;q=0.5, deflate") == "gzip"
    assert codecs.negotiate("gzip;q=0, lz4") == "lz4"
    assert codecs.negotiate("br") is None
    assert codecs.negotiate(None) is None
    with pytest.raises(ValueError, match="not valid gzip"):
        codecs.decode(b"not gzip", "gzip", 100)


def test_credentials_three_ways() -> None:
    assert credentials(_request(query_string={"user": "analyst", "password": "pw"})) == ("analyst", "pw")
    headers = {"X-ClickHouse-User": "analyst", "X-ClickHouse-Key": "pw"}
    assert credentials(_request(headers=headers)) == ("analyst", "pw")
    assert credentials(_request(headers={"Authorization": "Basic YW5hbHlzdDpwdw=="})) == ("analyst", "pw")
    assert credentials(_request()) == ("default", "")


def test_read_joins_url_and_body_and_takes_parameters() -> None:
    request = _request(
        method="POST",
        query_string={"query": "SELECT 1", "param_x": "a\\tb", "default_format": "CSV", "session_id": "s"},
        data=gzip.compress(b"FROM numbers(2)"),
        headers={"Content-Encoding": "gzip", "Accept-Encoding": "zstd"},
    )
    got = read(request, max_bytes=1000)
    assert got.query == "SELECT 1\nFROM numbers(2)"
    assert got.parameters == {"x": "a\\tb"}
    assert got.default_format == "CSV"
    assert got.compression == "zstd"
    off = read(_request(query_string={"query": "SELECT 1", "enable_http_compression": "0"}), max_bytes=10)
    assert off.compression is None


@pytest.mark.parametrize(
    ("query_string", "name"),
    [
        ({"max_result_rows": "0"}, "READONLY"),
        ({"readonly": "0"}, "READONLY"),
        ({"database": "raw"}, "UNKNOWN_DATABASE"),
    ],
)
def test_read_refuses_settings_and_other_databases(query_string, name) -> None:
    with pytest.raises(ClickHouseException) as caught:
        read(_request(query_string={"query": "SELECT 1", **query_string}), max_bytes=1000)
    assert caught.value.name == name


def test_exception_body_is_what_clients_parse() -> None:
    error = ClickHouseException.named("READONLY", "only a single SELECT statement is allowed, not SET.")
    assert error.status == 403
    assert error.body("26.9.2.1") == (
        b"Code: 164. DB::Exception: only a single SELECT statement is allowed, not SET. (READONLY) "
        b"(version 26.9.2.1)\n"
    )
    refusal = ClickHouseException.from_api_error(Refused("table raw.x is outside the marts"))
    assert (refusal.code, refusal.name, refusal.text) == (
        497,
        "ACCESS_DENIED",
        "table raw.x is outside the marts",
    )


def test_show_describe_and_exists_become_selects_of_the_marts() -> None:
    assert introspection.as_select("SHOW DATABASES") == "SELECT name FROM system.databases ORDER BY name"
    assert "database = 'marts'" in (introspection.as_select("SHOW TABLES FROM marts") or "")
    describe = introspection.as_select("DESCRIBE TABLE marts.cells") or ""
    assert "FROM system.columns WHERE table = 'cells'" in describe
    assert "name = 'it\\'s'" in (introspection.as_select("EXISTS TABLE `it's`") or "")
    assert introspection.as_select("SELECT 1") is None
    for statement in ("SHOW TABLES FROM raw", "DESCRIBE TABLE system.users", "EXISTS TABLE staging.x"):
        with pytest.raises(Refused):
            introspection.as_select(statement)


def test_catalog_tables_are_read_through_views() -> None:
    rewritten = (
        introspection.with_views("SELECT name FROM system.tables AS t INNER JOIN system.columns ON 1") or ""
    )
    assert f"FROM ({introspection.VIEWS['tables']}) AS t" in rewritten
    assert f"JOIN ({introspection.VIEWS['columns']}) AS columns" in rewritten
    assert introspection.with_views("SELECT 1 WHERE (1, 'a') IN system.tables") is None
    assert introspection.with_views("SELECT system.tables.name FROM system.tables") is None


def test_the_port_needs_a_password() -> None:
    app = create_app({"clickhouse_port": 8123})
    with pytest.raises(ConfigurationError, match="GENOSTREAM_GATEWAY_ANALYST_PASSWORD"):
        ClickHousePort(get_gateway(app))


def test_csr_blocks_complete_rows_cut_across_engine_blocks() -> None:
    dense = np.array([[0, 1.5, 0], [0, 0, 0], [2, 0, 3], [0, 0, 0], [4, 5, 6], [0, 0, 0]], dtype=float)
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    cuts = [0, 2, 3, 3, 4, len(values)]  # rows 2 and 4 are split between blocks; one block is empty
    blocks = [(rows[a:b], cols[a:b], values[a:b]) for a, b in itertools.pairwise(cuts)]
    matrix = sparse.vstack(list(csr_blocks(iter(blocks), 6, 3)))
    assert np.array_equal(matrix.toarray(), dense)
