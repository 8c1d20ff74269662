"""The loader: study files (Single Cell Portal or 10x Cell Ranger) into the engine's `raw` tables."""

from __future__ import annotations

from genostream import __version__

__all__ = ["__version__"]
