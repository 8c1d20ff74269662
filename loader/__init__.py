"""The loader: study files (Single Cell Portal or 10x Cell Ranger) into the engine's `raw` tables."""

from __future__ import annotations

__version__ = "1.0.0"
