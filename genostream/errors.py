"""The error hierarchy every entry point turns into one clear sentence.

Callers branch on the class, or for engine failures on ClickHouse's error name (`EngineError.name`), never on
message text. Anything outside this hierarchy is a programming error and keeps its traceback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clickhouse_connect.driver.exceptions import ClickHouseError

# The ClickHouse error codes (src/Common/ErrorCodes.cpp) the project branches on: clickhouse-connect always
# fills an error's `code`, its `name` only when the engine's message is shown.
ERROR_CODES = {
    "UNKNOWN_TABLE": 60,
    "UNKNOWN_DATABASE": 81,
    "TIMEOUT_EXCEEDED": 159,
    "MEMORY_LIMIT_EXCEEDED": 241,
    "TOO_MANY_ROWS_OR_BYTES": 396,
}

_PREFIX = re.compile(r"^(Code: \d+\. )?(DB::Exception: )+(Code: \d+\. DB::Exception: )?")
_TRAILER = re.compile(r"\s*\((version [^)]*|[A-Z][A-Z0-9_]+)\)\.?\s*$")


class GenostreamError(Exception):
    """Base class: the message is one sentence meant for the user, never a traceback."""


class ConfigurationError(GenostreamError, ValueError):
    """A setting (environment variable, `.env`, app config) has a value that cannot be used."""


class StoreLockedError(GenostreamError):
    """The store is busy: its directory is held by another process (chDB allows one at a time)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the store at {path} is in use by another process — stop the gateway (or the running "
            "load / dbt build) first: the embedded engine allows one process at a time"
        )
        self.path = path


class StoreUnavailableError(GenostreamError):
    """The engine cannot be reached or opened."""


class EngineError(GenostreamError):
    """The engine refused or failed a statement.

    `code` and `name` are ClickHouse's (e.g. 159 and "TIMEOUT_EXCEEDED"); either may be None when the driver
    did not learn it (a transport failure). `message` is the engine's explanation on one line.
    """

    def __init__(self, message: str, *, code: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name

    @classmethod
    def from_clickhouse(cls, exc: ClickHouseError) -> EngineError:
        """The driver's exception with its code and name kept, and its text reduced to the explanation."""
        return cls(_explanation(exc), code=getattr(exc, "code", None), name=getattr(exc, "name", None))

    def is_one_of(self, *names: str) -> bool:
        """True when the engine's error is one of `names` (ClickHouse error names, e.g. "UNKNOWN_TABLE")."""
        return self.name in names or any(self.code == ERROR_CODES[name] for name in names)


def _explanation(exc: BaseException) -> str:
    """The engine's explanation, one line, without codes, version trailer or query echo."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _PREFIX.sub("", text)
    for _ in range(3):
        text = _TRAILER.sub("", text)
    text = re.sub(r"\s*In scope .*$", "", text)
    return text.rstrip(" .:") or type(exc).__name__
