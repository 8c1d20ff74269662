"""What the numbers were measured on: cores, RAM, CPU model, OS and the versions of every tool compared."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "genostream",
    "chdb",
    "chdb-core",
    "clickhouse-connect",
    "dbt-core",
    "dbt-clickhouse",
    "numpy",
    "scipy",
    "pyarrow",
    "scanpy",
    "anndata",
    "duckdb",
    "tiledbsoma",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> float | None:
    """The 1-minute load average (how busy the shared machine was), None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info() -> dict[str, object]:
    """A JSON-ready description of this machine and the installed versions (None when not installed)."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(),
        "cores": len(cores) if cores else os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PACKAGES},
        "load_average": {"start": load_average()},
    }
