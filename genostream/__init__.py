"""Shared configuration and engine access for the loader, dbt plugin, gateway and benchmark."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genostream")  # the one version number: pyproject.toml's
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
