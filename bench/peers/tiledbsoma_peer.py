"""TileDB-SOMA: ingest the study into a SOMA experiment on disk, then per question an axis query for the two
genes in the chosen cell types and numpy for the correlation (how SOMA users ask it).

The experiment is written with the core SOMA API (obs, ms/RNA/var, ms/RNA/X/data) rather than
`tiledbsoma.io.from_anndata`: tiledbsoma 2.2 (the last release that installs beside pandas 3) loses the
`soma_joinid` index when converting obs with pandas 3, and 2.3 requires pandas < 3.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench.measure import stopwatch
from bench.peers.protocol import PeerContext, pearson_or_none, peer_main, timed_answers
from bench.study import Study

WRITE_CHUNK_NNZ = 20_000_000


def _frame(collection, key: str, columns: dict[str, pa.Array]) -> None:
    n = len(next(iter(columns.values())))
    table = pa.table({"soma_joinid": pa.array(np.arange(n, dtype=np.int64)), **columns})
    frame = collection.add_new_dataframe(key, schema=table.schema, domain=[[0, max(n - 1, 0)]])
    frame.write(table)
    frame.close()


def ingest(uri: Path, study: Study) -> None:
    """obs (obs_id, cell_type), var (var_id) and X/data (cells × genes lognorm), written in bounded chunks."""
    import tiledbsoma

    cells_by_genes = study.lognorm().T.tocsr()
    n_obs, n_vars = cells_by_genes.shape
    with tiledbsoma.Experiment.create(str(uri)) as experiment:
        _frame(
            experiment,
            "obs",
            {"obs_id": pa.array(study.barcodes), "cell_type": pa.array(study.cell_types.astype(str))},
        )
        measurements = experiment.add_new_collection("ms")
        rna = measurements.add_new_collection("RNA", tiledbsoma.Measurement)
        _frame(rna, "var", {"var_id": pa.array(study.genes)})
        x = rna.add_new_collection("X")
        data = x.add_new_sparse_ndarray("data", type=pa.float64(), shape=(n_obs, n_vars))
        indptr = cells_by_genes.indptr
        start = 0
        while start < n_obs:
            stop = int(np.searchsorted(indptr, indptr[start] + WRITE_CHUNK_NNZ, side="right")) - 1
            stop = min(max(stop, start + 1), n_obs)
            chunk = cells_by_genes[start:stop].tocoo()
            data.write(
                pa.table(
                    {
                        "soma_dim_0": pa.array(chunk.row.astype(np.int64) + start),
                        "soma_dim_1": pa.array(chunk.col.astype(np.int64)),
                        "soma_data": pa.array(chunk.data),
                    }
                )
            )
            start = stop
        data.close()


def _quoted(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values) + "]"


def run(context: PeerContext) -> dict[str, Any]:
    import tiledbsoma

    uri = context.work_dir / "soma"
    shutil.rmtree(uri, ignore_errors=True)
    with stopwatch() as read:
        study = context.read_study()
    with stopwatch() as write:
        ingest(uri, study)
    del study
    experiment = tiledbsoma.Experiment.open(str(uri))

    def correlation(request: dict[str, Any]) -> float | None:
        genes = [request["gene_a"], request["gene_b"]]
        query = experiment.axis_query(
            "RNA",
            obs_query=tiledbsoma.AxisQuery(value_filter=f"cell_type in {_quoted(request['cell_types'])}"),
            var_query=tiledbsoma.AxisQuery(value_filter=f"var_id in {_quoted(genes)}"),
        )
        with query:
            table = query.X("data").tables().concat()
            var_ids = query.var(column_names=["var_id"]).concat().column("var_id").to_pylist()
            dense = np.zeros((query.n_obs, len(var_ids)))
            rows = query.indexer.by_obs(table.column("soma_dim_0"))
            columns = query.indexer.by_var(table.column("soma_dim_1"))
            dense[rows, columns] = table.column("soma_data").to_numpy()
        return pearson_or_none(dense[:, var_ids.index(genes[0])], dense[:, var_ids.index(genes[1])])

    try:
        answers = timed_answers(context.requests("correlation"), correlation)
    finally:
        experiment.close()
    size_mb = sum(p.stat().st_size for p in uri.rglob("*") if p.is_file()) / 2**20
    return {
        "read_s": round(read.seconds, 3),
        "ingest_s": round(write.seconds, 3),
        "disk_mb": round(size_mb, 1),
        "correlation": answers,
    }


if __name__ == "__main__":
    sys.exit(peer_main(run))
