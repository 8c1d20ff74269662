"""Gateway settings: engine location plus the limits that keep requests and queries bounded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from genostream.config import EngineSettings
from genostream.errors import ConfigurationError

ENV_PREFIX = "GENOSTREAM_GATEWAY_"


class GatewayConfig(BaseModel):
    """Everything `create_app` needs; fields can be set from GENOSTREAM_GATEWAY_<FIELD> variables."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    engine: EngineSettings = Field(default_factory=EngineSettings.from_env)
    max_request_bytes: int = Field(1_000_000, gt=0, description="larger request bodies get 413")
    query_timeout_s: float = Field(30.0, gt=0, description="max_execution_time of the gateway's own queries")
    sql_timeout_s: float = Field(10.0, gt=0, description="max_execution_time of POST /sql queries")
    sql_max_rows: int = Field(100_000, gt=0, description="max_result_rows of POST /sql")
    sql_max_bytes: int = Field(100_000_000, gt=0, description="max_result_bytes of POST /sql")
    sql_max_memory_bytes: int = Field(2_000_000_000, gt=0, description="max_memory_usage of POST /sql")
    max_matrix_genes: int = Field(500, gt=0, description="gene_names limit of /expression-matrix")
    max_dense_values: int = Field(20_000_000, gt=0, description="cells × genes limit of a dense matrix")
    catalog_ttl_s: float = Field(5.0, ge=0, description="how long dataset/gene/cell-type lists are cached")
    engine_max_memory_bytes: int = Field(
        4_000_000_000,
        gt=0,
        description="max_server_memory_usage of the embedded engine: every query of the gateway together",
    )
    sql_max_concurrent: int = Field(2, gt=0, description="POST /sql queries run at once; others wait")
    sql_queue_timeout_s: float = Field(5.0, ge=0, description="how long /sql waits for a turn, then 503")
    spool_memory_bytes: int = Field(
        8_000_000, gt=0, description="a /sql answer beyond this is spooled to a temporary file, not RAM"
    )
    export_timeout_s: float = Field(
        600.0, gt=0, description="wall-clock limit of a streamed export, slow client included"
    )
    bulk_threads: int = Field(
        4, gt=0, description="workers for exports, and as many for /sql, apart from those of short questions"
    )
    allowed_hosts: tuple[str, ...] = Field(
        ("localhost", "127.0.0.1", "[::1]"),
        description="Host header names served (comma-separated in the environment), besides the address "
        "the server binds to; other names get 400 (DNS rebinding)",
    )
    connection_limit: int = Field(1000, gt=0, description="open connections waitress accepts at once")
    channel_timeout_s: int = Field(
        30, gt=0, description="an idle or half-sent connection is closed after this long"
    )
    clickhouse_port: int | None = Field(
        None, ge=0, le=65535, description="serve ClickHouse's HTTP interface (read-only, marts) on this port"
    )
    analyst_password: SecretStr | None = Field(
        None, description="password of the ClickHouse port's one user, `analyst` (the port needs one)"
    )
    marts_check_interval_s: float = Field(
        60.0, ge=0, description="how often the marts' row counts are checked against the manifest"
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        return tuple(n.strip() for n in value.split(",") if n.strip()) if isinstance(value, str) else value

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None) -> GatewayConfig:
        """Defaults, then GENOSTREAM_GATEWAY_* variables, then `overrides` (e.g. a test's config)."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            text = os.environ.get(ENV_PREFIX + name.upper())
            if text is not None and name != "engine":
                values[name] = text
        values.update(overrides or {})
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ConfigurationError(f"gateway setting {field}: {first['msg']}") from None
