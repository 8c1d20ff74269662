"""Entry point of `python -m loader`."""

from __future__ import annotations

import sys

from loader.cli import main

if __name__ == "__main__":
    sys.exit(main())
