"""Sizes of the benchmark runs: the synthetic study and how many samples each measurement takes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    """A study size (passed to `python -m loader synth`) and the sampling of every measurement."""

    name: str
    cells: int
    genes: int
    nnz: int
    seed: int
    queries: int = 200  # HTTP requests per question (≥ 200 at small and seed)
    coexpression: int = 200  # genome-wide, so fewer where it is slow
    differential: int = 5  # each comparison of two groups tests every gene (seconds at the reference size)
    throughput_s: float = 15.0
    throughput_clients: int = 16
    # Per question, how many requests each peer answers (in-memory peers can be slow at the reference size).
    peer_samples: dict[str, int] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        "tiny",
        cells=300,
        genes=200,
        nnz=15_000,
        seed=3,
        queries=20,
        coexpression=5,
        differential=2,
        throughput_s=1.0,
        throughput_clients=4,
        peer_samples={"correlation": 10, "variability": 5, "seed_ingest_triplets": 5_000},
    ),
    "small": Preset(
        "small",
        cells=20_000,
        genes=12_000,
        nnz=5_000_000,
        seed=11,
        queries=200,
        coexpression=200,
        throughput_s=15.0,
        peer_samples={"correlation": 200, "variability": 50},
    ),
    "seed": Preset(
        "seed",
        cells=60_000,
        genes=25_000,
        nnz=170_000_000,
        seed=42,
        queries=200,
        coexpression=50,
        throughput_s=30.0,
        # scanpy's Wilcoxon over every gene takes minutes per call at this size: two calls give its p50.
        peer_samples={"correlation": 100, "variability": 20, "de_wilcoxon": 2},
    ),
}
