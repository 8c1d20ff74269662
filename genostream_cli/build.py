"""`genostream build`: dbt build of the packaged project in this process (dbtRunner), nodes done / total.

In-process on purpose: on the embedded store the loader, dbt and the gateway of one `launch` share the one
engine this process opened (chDB allows one process per store). dbt's own output is silenced; progress is a
bar on a terminal, and a failure is one sentence naming the node (dbt's full log is in the work directory).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_cache_path
from tqdm import tqdm

from genostream.project import dbt_project_dir, profiles_dir
from genostream_cli.errors import BuildError

FAILED = ("error", "fail", "runtime error")


@dataclass(frozen=True)
class BuildResult:
    """What a finished build did."""

    nodes: int
    seconds: float

    def summary(self) -> str:
        return f"built the marts: {self.nodes} models and tests passed in {self.seconds:.1f} s"


def work_dir() -> Path:
    """dbt's target and log directories: the user's cache, not the (possibly read-only) installed package."""
    return user_cache_path("genostream") / "dbt"


class BuildProgress:
    """A bar over dbt's nodes (models and tests), fed by dbt's events; silent when stderr is no terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self._bar = tqdm(
            desc="building marts",
            unit=" nodes",
            disable=not (sys.stderr.isatty() if enabled is None else enabled),
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )

    def on_event(self, event: Any) -> None:
        """dbt callback: `LogStartLine` says how many nodes there are, `NodeFinished` that one is done."""
        name = event.info.name
        if name == "LogStartLine" and self._bar.total is None:
            self._bar.total = event.data.total
            self._bar.refresh()
        elif name == "NodeFinished":
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def dbt_args(command: str, *extra: str) -> list[str]:
    """A dbt command line on the packaged project and profile, with dbt's files in `work_dir()`."""
    work = work_dir()
    return [
        command,
        *extra,
        "--project-dir",
        str(dbt_project_dir()),
        "--profiles-dir",
        str(profiles_dir()),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--log-level",
        "none",
        "--no-send-anonymous-usage-stats",
    ]


def failure(result: Any) -> str:
    """The first failing node of a dbt result, or dbt's own error, on one line."""
    for node in result.result or []:
        if str(node.status) in FAILED:
            message = (node.message or str(node.status)).strip().splitlines()[0]
            return f"{node.node.resource_type} {node.node.name}: {message}"
    text = str(result.exception or "dbt stopped without saying why").strip()
    return text.splitlines()[0] if text else type(result.exception).__name__


def build_marts(*, full_refresh: bool = False, progress: bool | None = None) -> BuildResult:
    """Run `dbt build` on the store GENOSTREAM_TARGET / GENOSTREAM_CHDB_PATH name.

    Raises
    ------
    BuildError
        A model or test failed, or dbt could not start (the message says which; dbt's log has the rest).
    """
    from dbt.cli.main import dbtRunner  # imported here: commands that never build do not pay for dbt

    started = time.perf_counter()
    bar = BuildProgress(progress)
    try:
        result = dbtRunner(callbacks=[bar.on_event]).invoke(
            dbt_args("build", *(["--full-refresh"] if full_refresh else []))
        )
    finally:
        bar.close()
    if isinstance(result.exception, KeyboardInterrupt):  # dbtRunner returns what it caught
        raise result.exception
    if not result.success:
        log = work_dir() / "logs" / "dbt.log"
        raise BuildError(f"dbt build failed: {failure(result)} (details: {log})")
    nodes = result.result or []
    return BuildResult(len(nodes), time.perf_counter() - started)  # type: ignore[arg-type]  # a build's results
