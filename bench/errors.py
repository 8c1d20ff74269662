"""The benchmark's errors: a stage the rest depends on failed; the message (one line) says which."""

from __future__ import annotations

from genostream.errors import GenostreamError


class BenchError(GenostreamError):
    """A stage the rest depends on failed (the study, the load, the build); the message says which."""
