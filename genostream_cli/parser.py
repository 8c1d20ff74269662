"""The `genostream` command line: one command, a verb per job (like `cellxgene launch`, `dbt build`, `git`).

load, list, drop, detect and synth are the loader's own subcommands (`python -m loader`), so both commands
take the same arguments; launch, build, serve and sql are added here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genostream import __version__
from loader.cli import add_commands as add_loader_commands

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_THREADS = 8
# The loader's subcommands that open the store (detect and synth only read or write study files).
STORE_COMMANDS = ("launch", "load", "build", "serve", "list", "drop", "sql")


def port_number(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not within 0..65535")
    return port


def positive(text: str) -> int:
    """A whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not ≥ 1")
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse, except that a usage error is one line (`genostream launch: error: …`), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse types it NoReturn
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _serving_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})"
    )
    command.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0: any free)",
    )
    command.add_argument(
        "--threads",
        type=positive,
        default=DEFAULT_THREADS,
        help=f"worker threads (default {DEFAULT_THREADS})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="genostream",
        description="Exact single-cell expression analytics on ClickHouse: load a study, build the marts, "
        "serve the explorer and the HTTP API.",
        epilog="Start with: genostream launch your.h5ad",
    )
    parser.add_argument("--version", action="version", version=f"genostream {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )

    launch = commands.add_parser(
        "launch",
        help="load a study if it is new or changed, build the marts, serve the explorer and open it",
        description="Detect the study's format (AnnData .h5ad, Cell Ranger .h5, 10x or Single Cell Portal "
        "directory), load it, build the marts and serve the explorer; a study already loaded from the same "
        "content is served at once. Ctrl-C stops.",
    )
    launch.add_argument("path", type=Path, metavar="PATH", help="the study: a file or a directory")
    launch.add_argument("--dataset", help="dataset name (default: the file's stem, or the directory's name)")
    _serving_options(launch)
    launch.add_argument("--no-browser", action="store_true", help="do not open a browser")

    build = commands.add_parser("build", help="build the marts from what is loaded (dbt build)")
    build.add_argument("--full-refresh", action="store_true", help="rebuild every mart from scratch")

    serve = commands.add_parser("serve", help="serve the explorer and the HTTP API until Ctrl-C")
    _serving_options(serve)

    sql = commands.add_parser(
        "sql",
        help="run one read-only SELECT over the marts (the /sql guard and limits) and print a table",
    )
    sql.add_argument("query", metavar="QUERY", help='e.g. "SELECT dataset, n_cells FROM datasets"')

    add_loader_commands(commands)
    for name in STORE_COMMANDS:
        commands.choices[name].add_argument(
            "--store",
            type=Path,
            metavar="DIR",
            help="the embedded store's directory (default: GENOSTREAM_CHDB_PATH, else the user's data "
            "directory)",
        )
    return parser
