"""The benchmark: speed, memory and exactness of genostream side by side with the tools users pick instead.

`python -m bench --preset small|seed --out DIR` writes DIR/results.json, DIR/results.md and DIR/results.png.
"""
