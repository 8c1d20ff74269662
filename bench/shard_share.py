"""One shard's share of a study, cut as the cluster would cut it: the cells whose raw sharding key
(genostream.cluster.SHARDING_KEYS, evaluated by the engine) sends them to shard 1 of N, with all their
entries.

The share is written as a study of its own (cells renumbered in their original order, so a gene-sorted matrix
stays gene-sorted; genes unchanged; metadata rows of the share's cells), so the loader, dbt and the gateway
run on it exactly as on any study. Every N is cut in one pass over the matrix.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from genostream.cluster import SHARDING_KEYS
from loader import MatrixReader, detect_study, read_barcodes, read_header

SIZE_LINE_WIDTH = 48  # the size line is written padded, then filled in once the entries are counted


@dataclass(frozen=True)
class Share:
    """What one share holds."""

    shards: int
    directory: Path
    n_cells: int
    nnz: int


def shard_of_cells(client, dataset: str, n_cells: int, shards: int) -> np.ndarray:
    """0-based shard of every cell (by 0-based index) as a Distributed table with N equal-weight shards
    places it: the raw matrix's sharding key modulo N, computed by the engine itself."""
    key = SHARDING_KEYS["raw.matrix"]
    sql = (
        f"SELECT toUInt32(({key}) % {int(shards)}) FROM (SELECT {{dataset:String}} AS dataset, "
        f"toUInt32(number + 1) AS cell_index FROM numbers({int(n_cells)})) ORDER BY cell_index"
    )
    column = client.query_np(sql, parameters={"dataset": dataset})
    return np.asarray(column, dtype=np.uint32).reshape(-1)


def _write_metadata(source: Path, target: Path, keep: set[str]) -> None:
    with source.open() as lines, target.open("w") as out:
        for number, line in enumerate(lines):
            if number < 2 or line.split("\t", 1)[0] in keep:  # NAME and TYPE header lines, then rows
                out.write(line)


def write_shares(
    client, study_dir: Path, out_dir: Path, shard_counts: list[int], dataset: str
) -> list[Share]:
    """Write shard 1's share of `study_dir` for every N in `shard_counts` under out_dir/share-<N>."""
    files = detect_study(study_dir)
    header = read_header(files.matrix)
    barcodes = read_barcodes(files.barcodes)
    n_cells = len(barcodes)
    kept: dict[int, np.ndarray] = {}
    renumber: dict[int, np.ndarray] = {}
    outputs = {}
    size_offsets: dict[int, int] = {}
    for shards in shard_counts:
        mine = shard_of_cells(client, dataset, n_cells, shards) == 0
        kept[shards] = mine
        numbers = np.zeros(
            n_cells + 1, dtype=np.uint32
        )  # 1-based old index → 1-based new index (0: not ours)
        numbers[1:][mine] = np.arange(1, int(mine.sum()) + 1, dtype=np.uint32)
        renumber[shards] = numbers
        directory = out_dir / f"share-{shards}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        shutil.copy(files.genes, directory / files.genes.name)
        ours = [code for code, keep in zip(barcodes, mine, strict=True) if keep]
        (directory / files.barcodes.name).write_text("".join(f"{code}\n" for code in ours))
        if files.metadata is not None:
            _write_metadata(files.metadata, directory / files.metadata.name, set(ours))
        handle = (directory / files.matrix.name).open("wb")
        handle.write(f"%%MatrixMarket matrix coordinate {header.field} general\n".encode())
        handle.write(f"% shard 1 of {shards}: cells by {SHARDING_KEYS['raw.matrix']}\n".encode())
        size_offsets[shards] = handle.tell()
        handle.write(b" " * (SIZE_LINE_WIDTH - 1) + b"\n")
        outputs[shards] = handle
    counts = dict.fromkeys(shard_counts, 0)
    value_type = pa.int64() if header.field == "integer" else pa.float64()
    options = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
    for batch in MatrixReader(header).batches():
        cells = batch.column(1).to_numpy()
        for shards, handle in outputs.items():
            new_cells = renumber[shards][cells]
            mine = new_cells > 0
            if not mine.any():
                continue
            table = pa.table(
                [
                    pa.array(batch.column(0).to_numpy()[mine]),
                    pa.array(new_cells[mine]),
                    pa.array(batch.column(2).to_numpy()[mine]).cast(value_type),
                ],
                names=["row", "col", "value"],
            )
            pacsv.write_csv(table, handle, write_options=options)
            counts[shards] += int(mine.sum())
    shares = []
    for shards, handle in outputs.items():
        n_share = int(kept[shards].sum())
        size = f"{header.n_rows} {n_share} {counts[shards]}".ljust(SIZE_LINE_WIDTH - 1).encode()
        handle.seek(size_offsets[shards])
        handle.write(size)
        handle.close()
        shares.append(Share(shards, out_dir / f"share-{shards}", n_share, counts[shards]))
    return shares
