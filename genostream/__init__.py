"""Shared configuration and engine access for the loader, dbt plugin, gateway and benchmark."""

from __future__ import annotations

__version__ = "0.1.0"
