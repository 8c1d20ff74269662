"""The scale-out simulation's share of a study is exactly what shard 1 of an N-shard cluster would hold: the
cells the marts' sharding key sends there, with all their entries and metadata, renumbered in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import yaml

from bench.shard_share import write_shares
from loader import detect_study
from tests.helpers.paths import PBMC_DIR, REPO

pytestmark = pytest.mark.studies("pbmc")


def _cells_on_first_shard(client, shards: int) -> list[int]:
    """0-based cells of pbmc that the marts' key (not the raw key the share is cut by) puts on shard 1."""
    marts = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["models"]["genostream"]
    key = marts["marts"]["cells"]["+sharding_key"]
    rows = client.query(
        f"SELECT cell FROM marts.cells WHERE dataset = 'pbmc' AND ({key}) % {shards} = 0 ORDER BY cell"
    ).result_rows
    return [int(row[0]) for row in rows]


@pytest.mark.parametrize("shards", [2, 3])
def test_share_holds_exactly_shard_ones_cells(
    built_store, engine_client, tmp_path: Path, shards: int
) -> None:
    (share,) = write_shares(engine_client, PBMC_DIR, tmp_path, [shards], "pbmc")
    cells = _cells_on_first_shard(engine_client, shards)
    assert 0 < share.n_cells == len(cells) < 700

    full, part = detect_study(PBMC_DIR), detect_study(share.directory)
    matrix = scipy.io.mmread(full.matrix).tocsc()
    expected = matrix[:, cells]
    got = scipy.io.mmread(part.matrix).tocsc()
    assert got.shape == expected.shape
    assert (got != expected).nnz == 0
    assert share.nnz == expected.nnz

    barcodes = full.barcodes.read_text().split()
    assert part.barcodes.read_text().split() == [barcodes[c] for c in cells]
    meta = part.metadata.read_text().splitlines()
    assert meta[:2] == full.metadata.read_text().splitlines()[:2]
    assert {line.split("\t")[0] for line in meta[2:]} == {barcodes[c] for c in cells}
    assert np.array_equal(
        np.loadtxt(part.genes, dtype=str, delimiter="\t"), np.loadtxt(full.genes, dtype=str, delimiter="\t")
    )
