"""The contenders users would pick instead, each run in its own process (`python -m bench.peers.<name>`) so
its wall time and peak RSS are its own and a crash or a missing package cannot take the benchmark down."""
