"""Synthetic studies: deterministic, loadable, with real markers and really co-expressed EPCAM/KRT18."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loader import LoaderError, load_dataset
from loader.synth import CELL_TYPES, CONDITIONS, DONORS, PRESETS, SynthSpec, gene_symbols, write_study
from tests.helpers.oracle import read_dense

SPEC = SynthSpec(cells=600, genes=300, nnz=50_000, seed=5)


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write_study(out, SPEC)
    return out


def dense(out: Path):
    return read_dense(
        out / "gene_sorted-synth.matrix.mtx",
        out / "synth.genes.tsv",
        out / "synth.barcodes.tsv",
        out / "synth.meta.txt",
        sample_column="donor_id",
    )


def test_sizes_and_metadata(small_study: Path) -> None:
    study = dense(small_study)
    assert study.matrix.shape == (SPEC.genes, SPEC.cells)
    nnz = int((study.matrix > 0).sum())
    assert abs(nnz - SPEC.nnz) / SPEC.nnz < 0.1
    assert np.array_equal(study.matrix, np.round(study.matrix))  # integer counts
    assert set(study.genes) <= set(gene_symbols())
    assert set(study.cell_types) == set(CELL_TYPES)
    lines = (small_study / "synth.meta.txt").read_text().splitlines()
    assert lines[0] == "NAME\tCluster\tdonor_id\tcondition\tsex\tn_genes\tn_counts\tpct_mito"
    assert lines[1] == "TYPE\tgroup\tgroup\tgroup\tgroup\tnumeric\tnumeric\tnumeric"
    rows = [line.split("\t") for line in lines[2:]]
    names = {row[0] for row in rows}
    assert set(study.barcodes) < names and len(names) == SPEC.cells + SPEC.cells // 10
    assert set(study.samples) == set(DONORS) and 8 <= len(DONORS) <= 12
    assert {row[3] for row in rows} == set(CONDITIONS) and 2 <= len(CONDITIONS) <= 3
    assert len({(row[2], row[3]) for row in rows}) == len(DONORS)  # a donor has one condition
    pct_mito = np.array([float(row[7]) for row in rows])
    assert pct_mito.min() >= 0 and pct_mito.max() < 100 and len(np.unique(pct_mito)) > 100


def test_conditions_move_their_response_genes(small_study: Path) -> None:
    study = dense(small_study)
    lognorm = study.lognorm()
    rows = [line.split("\t") for line in (small_study / "synth.meta.txt").read_text().splitlines()[2:]]
    condition = dict((row[0], row[3]) for row in rows)
    labels = np.array([condition[b] for b in study.barcodes])
    naive = labels == CONDITIONS[0]
    difference = lognorm[:, naive].mean(axis=1) - lognorm[:, ~naive].mean(axis=1)
    assert difference.max() > 0.3  # some genes differ between conditions, most do not
    assert np.median(np.abs(difference)) < 0.1


def test_markers_and_coexpression(small_study: Path) -> None:
    study = dense(small_study)
    lognorm = study.lognorm()
    epithelial = study.cells_of(["Epithelial"])
    epcam, krt18 = (lognorm[study.genes.index(g)][epithelial] for g in ("EPCAM", "KRT18"))
    assert np.corrcoef(epcam, krt18)[0, 1] > 0.3
    difference = lognorm[:, epithelial].mean(axis=1) - lognorm[:, ~epithelial].mean(axis=1)
    top5 = {study.genes[i] for i in np.argsort(-difference)[:5]}
    assert top5 <= set(CELL_TYPES["Epithelial"][1])


def test_deterministic(small_study: Path, tmp_path: Path) -> None:
    write_study(tmp_path, SPEC)
    for name in ("gene_sorted-synth.matrix.mtx", "synth.meta.txt", "synth.genes.tsv", "synth.barcodes.tsv"):
        assert (tmp_path / name).read_bytes() == (small_study / name).read_bytes()


def test_gzip_study_loads(engine_client, tmp_path: Path) -> None:
    spec = SynthSpec(cells=100, genes=200, nnz=3_000, seed=1, gzip=True)
    write_study(tmp_path, spec)
    result = load_dataset(engine_client, tmp_path, dataset="ld_synth_gz")
    assert (result.n_genes, result.n_cells, result.value_kind) == (200, 100, "counts")
    assert result.n_metadata_cells == 110


def test_options() -> None:
    assert SynthSpec.from_options(preset="demo") == SynthSpec(**PRESETS["demo"])
    assert SynthSpec.from_options(preset="demo", cells=3000).cells == 3000
    assert PRESETS["seed"]["nnz"] >= 170_000_000
    with pytest.raises(LoaderError, match="--genes must be between"):
        SynthSpec.from_options(cells=100, genes=10, nnz=10)
    with pytest.raises(LoaderError, match="--nnz"):
        SynthSpec.from_options(cells=100, genes=200, nnz=100 * 200)
