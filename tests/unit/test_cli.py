"""The `genostream` command without a store: arguments, one-line refusals, the "already loaded" decision, the
browser rule, the SQL table, and where the packaged dbt project is found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import genostream
from genostream.project import dbt_project_dir, profiles_dir
from genostream_cli.freshness import Plan, plan, sha256_of
from genostream_cli.launch import can_open_browser
from genostream_cli.main import COMMANDS, main
from genostream_cli.parser import build_parser
from genostream_cli.sql import format_table

SUBCOMMANDS = ("launch", "load", "build", "serve", "list", "drop", "detect", "synth", "sql")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: genostream {command}")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"genostream {genostream.__version__}\n"


def test_every_subcommand_runs_something() -> None:
    assert set(COMMANDS) == set(SUBCOMMANDS)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["open", "x.h5ad"], "invalid choice: 'open'"),
        (["launch"], "the following arguments are required: PATH"),
        (["launch", "x.h5ad", "--port", "70000"], "argument --port: 70000 is not within 0..65535"),
        (["launch", "x.h5ad", "--port", "web"], "argument --port: not a port number: 'web'"),
        (["serve", "--threads", "0"], "argument --threads: 0 is not ≥ 1"),
        (["sql"], "the following arguments are required: QUERY"),
        (["launch", "x.h5ad", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1, err


def test_launch_options_and_defaults(tmp_path: Path) -> None:
    args = build_parser().parse_args(["launch", "study.h5ad"])
    assert (args.path, args.dataset, args.host, args.port, args.no_browser) == (
        Path("study.h5ad"),
        None,
        "127.0.0.1",
        8000,
        False,
    )
    args = build_parser().parse_args(
        [
            "launch",
            "s.h5ad",
            "--dataset",
            "d",
            "--port",
            "0",
            "--host",
            "::1",
            "--no-browser",
            "--store",
            "st",
        ]
    )
    assert (args.dataset, args.port, args.host, args.no_browser, args.store) == (
        "d",
        0,
        "::1",
        True,
        Path("st"),
    )
    assert not hasattr(build_parser().parse_args(["detect", "dir"]), "store")


def test_a_missing_study_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENOSTREAM_CHDB_PATH", str(tmp_path / "elsewhere"))
    assert main(["launch", "missing.h5ad", "--no-browser", "--store", "store"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.h5ad" in err
    assert err.count("\n") == 1, err
    # --store wins over the variable, made absolute: the loader, dbt's profile and the gateway all read it.
    assert os.environ["GENOSTREAM_CHDB_PATH"] == str(tmp_path / "store")


def test_a_bad_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GENOSTREAM_TARGET", "mainframe")
    monkeypatch.delenv("GENOSTREAM_CHDB_PATH", raising=False)
    assert main(["list"]) == 1
    assert capsys.readouterr().err == (
        "error: GENOSTREAM_TARGET must be one of embedded, server, cluster, not 'mainframe'\n"
    )


# --- the "already loaded" decision -------------------------------------------------------------------------


def _recorded(path: Path, load_id: str = "L1") -> dict:
    return {
        "load_id": load_id,
        "source_files": [
            {"role": "matrix", "path": str(path), "size": path.stat().st_size, "sha256": sha256_of(path)}
        ],
    }


def _never(path: Path) -> str:
    raise AssertionError(f"{path} was read")


def test_same_content_under_another_name_is_served_at_once(tmp_path: Path) -> None:
    first = tmp_path / "a.h5ad"
    first.write_bytes(b"study bytes")
    loaded = _recorded(first)
    copy = tmp_path / "b" / "a.h5ad"
    copy.parent.mkdir()
    copy.write_bytes(b"study bytes")
    assert plan(loaded, "L1", [("matrix", copy)], sha256_of) is Plan.SERVE


def test_one_changed_byte_reloads(tmp_path: Path) -> None:
    study = tmp_path / "a.h5ad"
    study.write_bytes(b"study bytes")
    loaded = _recorded(study)
    study.write_bytes(b"study bytez")  # same size, same name: only the checksum tells
    assert plan(loaded, "L1", [("matrix", study)], sha256_of) is Plan.LOAD


def test_a_different_size_reloads_without_reading_the_file(tmp_path: Path) -> None:
    study = tmp_path / "a.h5ad"
    study.write_bytes(b"study bytes")
    loaded = _recorded(study)
    study.write_bytes(b"more study bytes")
    assert plan(loaded, "L1", [("matrix", study)], _never) is Plan.LOAD


def test_unbuilt_or_stale_marts_are_built(tmp_path: Path) -> None:
    study = tmp_path / "a.h5ad"
    study.write_bytes(b"study bytes")
    loaded = _recorded(study, "L2")
    assert plan(loaded, None, [("matrix", study)], sha256_of) is Plan.BUILD
    assert plan(loaded, "L1", [("matrix", study)], sha256_of) is Plan.BUILD


def test_not_loaded_or_other_files_load(tmp_path: Path) -> None:
    study = tmp_path / "matrix.mtx"
    study.write_bytes(b"%%MatrixMarket")
    assert plan(None, None, [("matrix", study)], _never) is Plan.LOAD
    genes = tmp_path / "genes.tsv"
    genes.write_bytes(b"G1\n")
    # The study gained a file (or lost one) since it was loaded.
    assert plan(_recorded(study), "L1", [("matrix", study), ("genes", genes)], _never) is Plan.LOAD


# --- the browser, the table, the packaged project ----------------------------------------------------------


def test_a_browser_opens_only_where_one_can_be_shown() -> None:
    assert not can_open_browser({}, "linux")
    assert can_open_browser({"DISPLAY": ":0"}, "linux")
    assert can_open_browser({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert can_open_browser({}, "darwin")
    assert can_open_browser({}, "win32")


def test_sql_results_print_as_a_table() -> None:
    table = format_table(["cell_type", "n", "note"], [("B cell", 12, None), ("NK", 3, "x" * 80)])
    lines = table.splitlines()
    assert lines[0] == "cell_type   n  note"
    assert lines[1] == "---------  --  " + "-" * 60
    assert lines[2] == "B cell     12  NULL"
    assert lines[3] == "NK          3  " + "x" * 59 + "…"
    assert lines[4] == "(2 rows)"
    assert format_table(["x"], []).splitlines() == ["x", "-", "(0 rows)"]


def test_the_dbt_project_and_profile_are_found_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (dbt_project_dir() / "dbt_project.yml").is_file()
    assert (profiles_dir() / "profiles.yml").is_file()
    assert dbt_project_dir().is_absolute()
