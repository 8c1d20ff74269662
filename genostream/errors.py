"""The error hierarchy every entry point turns into one clear sentence."""

from __future__ import annotations


class GenostreamError(Exception):
    """Base class: the message is one sentence meant for the user, never a traceback."""


class StoreLockedError(GenostreamError):
    """The embedded store's directory is held by another process (chDB allows one at a time)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the store at {path} is in use by another process — stop the gateway (or the running "
            "load / dbt build) first: the embedded engine allows one process at a time"
        )
        self.path = path


class StoreUnavailableError(GenostreamError):
    """The engine cannot be reached or opened."""
