"""Loader errors: each one a single line naming the file, the line where it applies and the problem."""

from __future__ import annotations

from pathlib import Path

from genostream.errors import GenostreamError


class LoaderError(GenostreamError):
    """Base class of everything the loader refuses; the message is shown as is, without a traceback."""


class InputError(LoaderError):
    """A study file is missing, malformed or inconsistent: `<file>:<line>: <problem>`."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


class DetectError(LoaderError):
    """The directory does not hold one recognisable study (or holds several)."""


class DatasetNameError(LoaderError):
    """The dataset name cannot be used (empty or unusual characters)."""


class UnknownDatasetError(LoaderError):
    """`drop` was asked for a dataset that is not loaded."""


class StoreWriteError(LoaderError):
    """The engine did not keep what the load wrote (disk full, a file-size limit); nothing was published."""


class LoadInterruptedError(LoaderError):
    """The load was interrupted (Ctrl-C); what was written has been removed, the previous version stays."""


class LoadConflictError(LoaderError):
    """Another load of the same dataset, or a drop, got in this load's way: it published nothing."""
