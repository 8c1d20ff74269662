"""Engine configuration from environment variables (and a `.env` file), shared by every entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import find_dotenv, load_dotenv
from platformdirs import user_data_path

from genostream.errors import ConfigurationError

TARGETS = ("embedded", "server", "cluster")
DEFAULT_CLUSTER = "genostream"


def default_chdb_path() -> str:
    """The embedded store of an installed tool when GENOSTREAM_CHDB_PATH is unset: the user's data directory
    (~/.local/share/genostream/chdb on Linux), the same whatever directory a command runs from. The
    repository's Makefile sets its own (.genostream/chdb)."""
    return str(user_data_path("genostream") / "chdb")


def _env_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class EngineSettings:
    """Where the data lives: an embedded chDB directory, a ClickHouse server, or a cluster reached through one
    of its servers (`cluster` names it in the servers' remote_servers)."""

    target: str = "embedded"
    chdb_path: str = field(default_factory=default_chdb_path)
    host: str = "localhost"
    port: int = 8123
    user: str = "default"
    password: str = ""
    secure: bool = False
    cluster: str = DEFAULT_CLUSTER

    @property
    def embedded(self) -> bool:
        return self.target == "embedded"

    @property
    def clustered(self) -> bool:
        """Tables are sharded over `cluster`: DDL runs ON CLUSTER, queries need the cluster settings."""
        return self.target == "cluster"

    @property
    def location(self) -> str:
        """A human-readable name of the store, for messages."""
        if self.embedded:
            return str(Path(self.chdb_path).resolve())
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> EngineSettings:
        """Read GENOSTREAM_* and CLICKHOUSE_* variables; a `.env` file fills in what is unset."""
        if environ is None:
            load_dotenv(find_dotenv(usecwd=True), override=False)
            environ = dict(os.environ)
        target = environ.get("GENOSTREAM_TARGET", "embedded").strip().lower() or "embedded"
        if target not in TARGETS:
            raise ConfigurationError(f"GENOSTREAM_TARGET must be one of {', '.join(TARGETS)}, not {target!r}")
        secure = _env_bool(environ.get("CLICKHOUSE_SECURE"))
        port_text = environ.get("CLICKHOUSE_PORT") or ("8443" if secure else "8123")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigurationError(f"CLICKHOUSE_PORT must be a number, not {port_text!r}") from None
        return cls(
            target=target,
            chdb_path=environ.get("GENOSTREAM_CHDB_PATH") or default_chdb_path(),
            host=environ.get("CLICKHOUSE_HOST") or "localhost",
            port=port,
            user=environ.get("CLICKHOUSE_USER") or "default",
            password=environ.get("CLICKHOUSE_PASSWORD") or "",
            secure=secure,
            cluster=environ.get("GENOSTREAM_CLUSTER") or DEFAULT_CLUSTER,
        )
