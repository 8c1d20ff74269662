"""Errors of the `genostream` command (each is one sentence for the user, exit status 1).

GenostreamError
└── CommandError      a command cannot do what was asked
    └── BuildError    dbt build failed (a model or test, or dbt itself)
"""

from __future__ import annotations

from genostream.errors import GenostreamError


class CommandError(GenostreamError):
    """A command cannot do what was asked (bad input, a port in use, a failed stage)."""


class BuildError(CommandError):
    """dbt build failed: the message names the first failing node or dbt's own error."""
