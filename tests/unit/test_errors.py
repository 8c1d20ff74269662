"""One error vocabulary: engine errors recognised by ClickHouse's code/name, configuration errors by class,
and entry points that print one line for those but let a programming error keep its traceback."""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, StreamFailureError

from gateway.clients import api_error_for
from gateway.config import GatewayConfig
from gateway.errors import BadRequest, InternalError, QueryTimeout, Unavailable
from genostream.config import EngineSettings
from genostream.engine import engine_errors
from genostream.errors import ConfigurationError, EngineError, GenostreamError

TIMEOUT_TEXT = (
    "Code: 159. DB::Exception: Timeout exceeded: elapsed 1000.127 ms, maximum: 1000.000 ms. "
    "(TIMEOUT_EXCEEDED) (version 26.9.1.1)"
)


def test_engine_error_keeps_code_and_name_and_explains_in_one_line() -> None:
    error = EngineError.from_clickhouse(DatabaseError(TIMEOUT_TEXT, code=159, name="TIMEOUT_EXCEEDED"))
    assert isinstance(error, GenostreamError)
    assert (error.code, error.name) == (159, "TIMEOUT_EXCEEDED")
    assert str(error) == error.message == "Timeout exceeded: elapsed 1000.127 ms, maximum: 1000.000 ms"
    assert error.is_one_of("TIMEOUT_EXCEEDED") and not error.is_one_of("UNKNOWN_TABLE")


def test_engine_error_is_recognised_by_code_when_the_driver_hides_the_name() -> None:
    # show_clickhouse_errors=False: a generic message and no name, but the code is always there.
    error = EngineError.from_clickhouse(DatabaseError("The ClickHouse server returned an error", code=60))
    assert error.name is None and error.is_one_of("UNKNOWN_DATABASE", "UNKNOWN_TABLE")


def test_engine_error_is_not_recognised_by_message_text() -> None:
    error = EngineError.from_clickhouse(DatabaseError("Code: 1. DB::Exception: Timeout exceeded", code=1))
    assert not error.is_one_of("TIMEOUT_EXCEEDED")


def test_engine_errors_block_reraises_driver_errors_only() -> None:
    with pytest.raises(EngineError) as raised, engine_errors():
        raise DatabaseError(
            "Code: 81. DB::Exception: Database nope does not exist. (UNKNOWN_DATABASE)", code=81
        )
    assert raised.value.code == 81 and raised.value.message == "Database nope does not exist"
    with pytest.raises(KeyError), engine_errors():
        raise KeyError("a programming error passes through unchanged")


@pytest.mark.parametrize(
    ("exc", "user_sql", "expected", "status"),
    [
        (DatabaseError(TIMEOUT_TEXT, code=159, name="TIMEOUT_EXCEEDED"), False, QueryTimeout, 504),
        (StreamFailureError(TIMEOUT_TEXT, code=159, name="TIMEOUT_EXCEEDED"), True, QueryTimeout, 504),
        (
            DatabaseError("Limit for result exceeded", code=396, name="TOO_MANY_ROWS_OR_BYTES"),
            True,
            BadRequest,
            400,
        ),
        (DatabaseError("Code: 62. Syntax error", code=62, name="SYNTAX_ERROR"), True, BadRequest, 400),
        (DatabaseError("Unknown table", code=60, name="UNKNOWN_TABLE"), False, Unavailable, 503),
        (DatabaseError("Code: 62. Syntax error", code=62, name="SYNTAX_ERROR"), False, InternalError, 500),
        (StreamFailureError("connection closed by server"), False, Unavailable, 503),
        (
            DatabaseError("User memory limit exceeded", code=241, name="MEMORY_LIMIT_EXCEEDED"),
            False,
            Unavailable,
            503,
        ),
        (
            StreamFailureError(
                "Code: 396. Limit for result exceeded", code=396, name="TOO_MANY_ROWS_OR_BYTES"
            ),
            True,
            BadRequest,
            400,
        ),
    ],
)
def test_gateway_maps_engine_errors_by_name(exc, user_sql: bool, expected: type, status: int) -> None:
    error = api_error_for(exc, user_sql=user_sql, timeout_s=2)
    assert type(error) is expected and error.status == status


def test_query_failed_body_carries_the_engine_code() -> None:
    error = api_error_for(DatabaseError("Code: 62. DB::Exception: Syntax error", code=62), user_sql=True)
    assert error.body() == {"error": "query failed: Syntax error", "code": 62}


def test_configuration_errors_have_their_own_class(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="GENOSTREAM_TARGET"):
        EngineSettings.from_env({"GENOSTREAM_TARGET": "cloud"})
    monkeypatch.setenv("GENOSTREAM_GATEWAY_SQL_MAX_ROWS", "many")
    with pytest.raises(ConfigurationError, match="sql_max_rows"):
        GatewayConfig.from_env()


def test_loader_cli_prints_one_line_for_our_errors_but_not_for_a_bug(monkeypatch, capsys) -> None:
    from loader import cli

    def refused(_args: object) -> None:
        raise DatabaseError(
            "Code: 81. DB::Exception: Database raw does not exist. (UNKNOWN_DATABASE)", code=81
        )

    def bug(_args: object) -> None:
        raise ValueError("a programming error")

    monkeypatch.setitem(cli.COMMANDS, "list", refused)
    assert cli.main(["list"]) == cli.EXIT_ERROR
    assert capsys.readouterr().err == "error: the engine refused: Database raw does not exist\n"
    monkeypatch.setitem(cli.COMMANDS, "list", bug)
    with pytest.raises(ValueError, match="a programming error"):
        cli.main(["list"])


def test_gateway_cli_prints_one_line_for_bad_settings_but_not_for_a_bug(monkeypatch, capsys) -> None:
    from gateway import __main__ as gateway_cli

    monkeypatch.setenv("GENOSTREAM_TARGET", "cloud")
    assert gateway_cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gateway: GENOSTREAM_TARGET must be one of") and err.count("\n") == 1

    def bug(*_args: object, **_kwargs: object) -> None:
        raise ValueError("a programming error")

    monkeypatch.setattr(gateway_cli, "create_app", bug)
    with pytest.raises(ValueError, match="a programming error"):
        gateway_cli.main([])


def test_bench_cli_prints_one_line_for_our_errors_but_not_for_a_bug(monkeypatch, capsys, tmp_path) -> None:
    from bench import __main__ as bench_cli
    from bench.errors import BenchError

    class Failing:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def execute(self) -> None:
            raise self.error

    monkeypatch.setattr(bench_cli, "Run", Failing)
    Failing.error = BenchError("dbt build failed")
    assert bench_cli.main(["--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "bench: dbt build failed\n"
    Failing.error = ValueError("a programming error")
    with pytest.raises(ValueError, match="a programming error"):
        bench_cli.main(["--out", str(tmp_path)])
