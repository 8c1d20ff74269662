"""The `genostream` command: one installed tool from a study file to the explorer (`genostream launch`).

A top-level package of its own, above everything it drives: it imports the loader, the gateway and dbt, and
nothing imports it. It cannot live in `genostream/` — the lowest layer (engine configuration) that the loader
and the gateway import — without making that package depend on the two packages that depend on it. Here
the package graph stays acyclic: genostream_cli -> loader, gateway -> genostream
(tests/unit/test_import_cycles.py).
"""

from __future__ import annotations
