"""The genostream HTTP gateway: a thin Flask app over the marts (ClickHouse does the math)."""

from __future__ import annotations

from gateway.app import create_app
from gateway.config import GatewayConfig

__all__ = ["GatewayConfig", "create_app"]
