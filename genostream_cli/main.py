"""`genostream COMMAND …`: the installed command's entry point ([project.scripts] in pyproject.toml).

Every command runs through the loader's `run`, so a failure is one line on stderr and a non-zero exit, the
same as `python -m loader`; Ctrl-C while serving is a clean stop (exit 0), while loading exit 130.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable

from gateway.serving import start
from genostream.config import EngineSettings
from genostream_cli.build import build_marts
from genostream_cli.launch import launch
from genostream_cli.parser import build_parser
from genostream_cli.sql import format_table, run_query
from loader.cli import COMMANDS as LOADER_COMMANDS
from loader.cli import run

STORE_VARIABLE = "GENOSTREAM_CHDB_PATH"


def use_store(args: argparse.Namespace) -> None:
    """Point every part (loader, dbt's profile, gateway) at one store: --store, else GENOSTREAM_CHDB_PATH,
    else the default, as an absolute path (dbt's profile requires the variable)."""
    store = getattr(args, "store", None)
    path = store if store is not None else EngineSettings.from_env().chdb_path
    os.environ[STORE_VARIABLE] = os.path.abspath(path)


def _launch(args: argparse.Namespace) -> None:
    launch(
        args.path,
        dataset=args.dataset,
        host=args.host,
        port=args.port,
        threads=args.threads,
        browser=not args.no_browser,
    )


def _build(args: argparse.Namespace) -> None:
    print(build_marts(full_refresh=args.full_refresh).summary())


def _serve(args: argparse.Namespace) -> None:
    service = start(host=args.host, port=args.port, threads=args.threads)
    print(f"serving at {service.url}/ (Ctrl-C stops)", flush=True)
    service.run()


def _sql(args: argparse.Namespace) -> None:
    print(format_table(*run_query(args.query)))


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "launch": _launch,
    "build": _build,
    "serve": _serve,
    "sql": _sql,
    **LOADER_COMMANDS,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = COMMANDS[args.command]

    def with_store(args: argparse.Namespace) -> None:
        use_store(args)
        command(args)

    return run(with_store, args)
