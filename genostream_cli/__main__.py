"""`python -m genostream_cli`: the same as the installed `genostream` command."""

from __future__ import annotations

import sys

from genostream_cli.main import main

if __name__ == "__main__":
    sys.exit(main())
