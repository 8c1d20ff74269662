"""The seed's ingest: `scipy.io.mmread` of the whole matrix into memory, TRUNCATE, then a per-triplet Python
loop building one row at a time, then an insert. The read is measured in full; the loop and the insert are
measured on the first SAMPLE_TRIPLETS triplets and extrapolated linearly to every non-zero (labelled so).
"""

from __future__ import annotations

import sys
from typing import Any

import scipy.io

from bench.measure import stopwatch
from bench.peers.protocol import PeerContext, peer_main
from bench.study import StudyFiles
from genostream.engine import get_client

SAMPLE_TRIPLETS = 1_000_000
SCRATCH_DATABASE = "bench_seed"
SCRATCH_TABLE = f"{SCRATCH_DATABASE}.matrix"


def run(context: PeerContext) -> dict[str, Any]:
    files = StudyFiles.find(context.study_dir)
    with stopwatch() as read:
        matrix = scipy.io.mmread(str(files.matrix)).tocoo()
    nnz = int(matrix.nnz)
    sample = min(nnz, context.max_samples.get("seed_ingest_triplets", SAMPLE_TRIPLETS))
    client = get_client()
    try:
        client.command(f"CREATE DATABASE IF NOT EXISTS {SCRATCH_DATABASE}")
        client.command(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} "
            "(gene_index UInt32, cell_index UInt32, value Float64) "
            "ENGINE = MergeTree ORDER BY (gene_index, cell_index)"
        )
        client.command(f"TRUNCATE TABLE {SCRATCH_TABLE}")
        rows, cols, values = matrix.row[:sample], matrix.col[:sample], matrix.data[:sample]
        with stopwatch() as loop:
            triplets = []
            for i, j, v in zip(rows, cols, values, strict=True):
                triplets.append((int(i) + 1, int(j) + 1, float(v)))
        with stopwatch() as insert:
            client.insert(SCRATCH_TABLE, triplets, column_names=["gene_index", "cell_index", "value"])
        inserted = client.query(f"SELECT count() FROM {SCRATCH_TABLE}").first_row[0]
        client.command(f"DROP DATABASE {SCRATCH_DATABASE}")
    finally:
        client.close()
    if inserted != sample:
        raise RuntimeError(f"the seed's insert wrote {inserted} of {sample} sampled triplets")
    scale = nnz / sample
    return {
        "mmread_s": round(read.seconds, 3),
        "sample_triplets": sample,
        "nnz": nnz,
        "loop_sample_s": round(loop.seconds, 3),
        "insert_sample_s": round(insert.seconds, 3),
        "extrapolated": sample < nnz,
        "total_s": round(read.seconds + (loop.seconds + insert.seconds) * scale, 3),
    }


if __name__ == "__main__":
    sys.exit(peer_main(run))
