"""`target` for sqlfluff's jinja templater: the embedded target, which names no cluster."""

from __future__ import annotations

from typing import Any

name = "embedded"
schema = "marts"


def get(key: str, default: Any = None) -> Any:
    return {"name": name, "schema": schema}.get(key, default)
