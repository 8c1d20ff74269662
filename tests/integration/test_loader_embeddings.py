"""Cell embeddings through the loader: .h5ad obsm keys, Single Cell Portal cluster files and Cell Ranger
projections land in raw.embeddings exactly, with the load; bad coordinate files are refused in one line and
the previous version stays."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from loader import LoaderError, load_dataset
from loader.synth import SynthSpec, write_study
from tests.helpers.hdf5_inputs import pbmc_umap, write_h5ad
from tests.helpers.paths import PBMC_DIR, TENX_DIR, TENX_H5_DIR, TENX_V3_DIR


def embeddings_of(client, dataset: str) -> dict[str, pd.DataFrame]:
    """The dataset's current raw.embeddings rows, by embedding, indexed by barcode."""
    rows = client.query(
        "SELECT embedding, barcode, x, y FROM raw.embeddings WHERE dataset = {d:String} "
        "AND load_id IN (SELECT load_id FROM raw.current_loads) ORDER BY embedding, barcode",
        parameters={"d": dataset},
    ).result_rows
    frame = pd.DataFrame(rows, columns=["embedding", "barcode", "x", "y"])
    return {name: part.set_index("barcode")[["x", "y"]] for name, part in frame.groupby("embedding")}


def _pbmc_barcodes() -> list[str]:
    return (PBMC_DIR / "pbmc.barcodes.tsv").read_text().split("\n")[:-1]


def _cluster(path: Path, rows: list[str], header: str = "NAME\tX\tY", types: str = "TYPE\tnumeric\tnumeric"):
    path.write_text("\n".join([header, types, *rows]) + "\n")
    return path


def test_a_portal_cluster_file_beside_the_study_is_kept_exactly(engine_client) -> None:
    result = load_dataset(engine_client, PBMC_DIR, dataset="emb_pbmc")
    assert result.embeddings == ("pbmc.umap",)
    kept = embeddings_of(engine_client, "emb_pbmc")["pbmc.umap"]
    expected = pbmc_umap()
    order = [kept.index.get_loc(b) for b in _pbmc_barcodes()]
    np.testing.assert_array_equal(kept.to_numpy()[order], expected)  # float64 text round trip: exact


def test_h5ad_obsm_keys_of_two_or_more_columns_are_embeddings(engine_client, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 7
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(["a", "b"] * 3 + ["a"])}, index=[f"C{i}" for i in range(n)]
    )
    var = pd.DataFrame(index=["G1", "G2"])
    obsm = {
        "X_umap": rng.normal(size=(n, 2)),
        "X_pca": rng.normal(size=(n, 5)),  # first two columns
        "X_tsne": rng.integers(-5, 5, size=(n, 2)),  # integers are coordinates too
        "one": rng.normal(size=(n, 1)),  # not an embedding: skipped
    }
    path = write_h5ad(tmp_path / "o.h5ad", sp.csr_matrix(np.ones((n, 2))), obs, var, obsm=obsm)
    result = load_dataset(engine_client, path, dataset="emb_obsm")
    assert result.embeddings == ("pca", "tsne", "umap")
    kept = embeddings_of(engine_client, "emb_obsm")
    assert set(kept) == {"pca", "tsne", "umap"}
    for name, key in (("umap", "X_umap"), ("pca", "X_pca"), ("tsne", "X_tsne")):
        np.testing.assert_array_equal(kept[name].loc[obs.index].to_numpy(), obsm[key][:, :2].astype(float))
    sources = engine_client.query(
        "SELECT source_files FROM raw.current_loads WHERE dataset = 'emb_obsm'"
    ).result_rows[0][0]
    assert "o.h5ad" in sources


def test_cluster_files_given_with_the_option_cover_some_cells(engine_client, tmp_path: Path) -> None:
    barcodes = _pbmc_barcodes()
    tsne = _cluster(
        tmp_path / "tsne.csv",
        [f"{b},{i}.5,{-i}" for i, b in enumerate(barcodes[:50])],
        header="NAME,X,Y,Z,Category",
        types="TYPE,numeric,numeric,numeric,group",
    )
    result = load_dataset(engine_client, PBMC_DIR, dataset="emb_given", clusters=[tsne])
    assert result.embeddings == ("pbmc.umap", "tsne")
    kept = embeddings_of(engine_client, "emb_given")["tsne"]
    assert len(kept) == 50
    assert kept.loc[barcodes[3]].tolist() == [3.5, -3.0]
    sources = engine_client.query(
        "SELECT source_files FROM raw.current_loads WHERE dataset = 'emb_given'"
    ).result_rows[0][0]
    assert '"role": "cluster"' in sources and '"embedding": "tsne"' in sources


def _cellranger_outs(tmp: Path, matrix_dir: Path) -> Path:
    """A Cell Ranger `outs/`: the filtered matrix directory and `analysis/umap|tsne/2_components`."""
    outs = tmp / "outs"
    shutil.copytree(matrix_dir, outs / "filtered_feature_bc_matrix")
    names = outs / "filtered_feature_bc_matrix" / "barcodes.tsv.gz"
    opener = gzip.open if names.exists() else open
    path = names if names.exists() else outs / "filtered_feature_bc_matrix" / "barcodes.tsv"
    with opener(path, "rt") as handle:
        barcodes = handle.read().split()
    for kind, label in (("umap", "UMAP"), ("tsne", "TSNE")):
        target = outs / "analysis" / kind / "gene_expression_2_components" / "projection.csv"
        target.parent.mkdir(parents=True)
        lines = [f"Barcode,{label}-1,{label}-2"] + [
            f"{b},{i * 0.25},{i * -2.0}" for i, b in enumerate(barcodes)
        ]
        target.write_text("\n".join(lines) + "\n")
    return outs


@pytest.mark.parametrize("matrix_dir", [TENX_DIR, TENX_V3_DIR], ids=["v2", "v3"])
def test_cell_ranger_projections_beside_the_matrix(engine_client, tmp_path: Path, matrix_dir: Path) -> None:
    outs = _cellranger_outs(tmp_path, matrix_dir)
    result = load_dataset(engine_client, outs, dataset="emb_cr")
    assert result.embeddings == ("umap", "tsne")
    kept = embeddings_of(engine_client, "emb_cr")
    assert len(kept["umap"]) == result.n_cells
    assert sorted(kept["tsne"]["x"].tolist()) == [i * 0.25 for i in range(result.n_cells)]


def test_synth_studies_carry_a_umap(engine_client, tmp_path: Path) -> None:
    write_study(tmp_path / "s", SynthSpec(cells=300, genes=200, nnz=6000, seed=1))
    result = load_dataset(engine_client, tmp_path / "s", dataset="emb_synth")
    assert result.embeddings == ("umap",)
    kept = embeddings_of(engine_client, "emb_synth")["umap"]
    assert len(kept) == 300 and np.isfinite(kept.to_numpy()).all()


def _bad_cluster(rows: list[str] | None = None, **kw: str):
    def write(tmp: Path) -> Path:
        first = _pbmc_barcodes()[0]
        body = [line.replace("{0}", first) for line in rows or ["{0}\t1\t2"]]
        return _cluster(tmp / "bad.txt", body, **{k: v.replace("{0}", first) for k, v in kw.items()})

    return write


def _empty(tmp: Path) -> Path:
    (tmp / "bad.txt").write_bytes(b"")
    return tmp / "bad.txt"


BAD_CLUSTERS = {
    "unknown cell": (
        _bad_cluster(["{0}\t1\t2", "NOT-A-CELL\t1\t2"]),
        r"bad.txt:4: cell 'NOT-A-CELL' is not a cell",
    ),
    "duplicate cell": (
        _bad_cluster(["{0}\t1\t2", "{0}\t3\t4"]),
        r"bad.txt:4: cell .* is listed twice \(first at line 3\)",
    ),
    "NaN": (_bad_cluster(["{0}\tnan\t2"]), r"bad.txt:3: X value 'nan' is not finite"),
    "inf": (_bad_cluster(["{0}\t1\t-inf"]), r"bad.txt:3: Y value '-inf' is not finite"),
    "text": (_bad_cluster(["{0}\tleft\t2"]), r"bad.txt:3: X value 'left' is not a number"),
    "short row": (_bad_cluster(["{0}\t1"]), r"bad.txt:3: 2 fields; expected at least 3"),
    "no Y": (_bad_cluster(header="NAME\tX\tZ"), r"bad.txt:1: cluster file header has no Y column"),
    "no TYPE": (
        _bad_cluster(types="{0}\t1\t2"),
        r"bad.txt:2: the second line of a cluster file must be the TYPE",
    ),
    "group X": (_bad_cluster(types="TYPE\tgroup\tnumeric"), r"bad.txt:2: TYPE of X is 'group'"),
    "empty": (_empty, r"bad.txt: cluster file is empty"),
}


@pytest.mark.parametrize("case", list(BAD_CLUSTERS))
def test_bad_cluster_files_are_refused_in_one_line_and_the_previous_version_stays(
    engine_client, tmp_path: Path, case: str
) -> None:
    write, message = BAD_CLUSTERS[case]
    load_dataset(engine_client, PBMC_DIR, dataset="emb_bad")
    before = embeddings_of(engine_client, "emb_bad")
    with pytest.raises(LoaderError, match=message) as refused:
        load_dataset(engine_client, PBMC_DIR, dataset="emb_bad", clusters=[write(tmp_path)])
    assert "\n" not in str(refused.value)
    after = embeddings_of(engine_client, "emb_bad")
    assert set(after) == set(before) and all(after[k].equals(before[k]) for k in before)


def test_bad_obsm_shapes_and_values_are_refused(engine_client, tmp_path: Path) -> None:
    import h5py

    n = 4
    obs = pd.DataFrame(index=[f"C{i}" for i in range(n)])
    var = pd.DataFrame(index=["G1"])
    umap = np.arange(2.0 * n).reshape(n, 2)
    umap[2, 1] = np.nan
    path = write_h5ad(tmp_path / "nan.h5ad", sp.csr_matrix(np.ones((n, 1))), obs, var, obsm={"X_umap": umap})
    with pytest.raises(
        LoaderError, match=r"obsm/X_umap: row 3 \(cell 'C2'\) has a coordinate that is not finite"
    ):
        load_dataset(engine_client, path, dataset="emb_nan")
    path = write_h5ad(tmp_path / "rows.h5ad", sp.csr_matrix(np.ones((n, 1))), obs, var)
    with h5py.File(path, "a") as handle:
        handle["obsm"].create_dataset("X_umap", data=np.zeros((n + 3, 2)))
    with pytest.raises(LoaderError, match=r"obsm/X_umap has 7 rows but obs has 4 cells"):
        load_dataset(engine_client, path, dataset="emb_rows")


def test_two_embeddings_of_one_name_are_refused(engine_client, tmp_path: Path) -> None:
    barcodes = _pbmc_barcodes()
    again = _cluster(tmp_path / "pbmc.umap.tsv", [f"{barcodes[0]}\t1\t2"])
    with pytest.raises(LoaderError, match=r"embedding 'pbmc.umap' is given twice"):
        load_dataset(engine_client, PBMC_DIR, dataset="emb_twice", clusters=[again])


def test_cell_ranger_projections_beside_an_h5(engine_client, tmp_path: Path) -> None:
    import h5py

    outs = tmp_path / "outs"
    outs.mkdir()
    h5 = outs / "filtered_feature_bc_matrix.h5"
    shutil.copy(TENX_H5_DIR / "v3_filtered_feature_bc_matrix.h5", h5)
    with h5py.File(h5) as handle:
        barcodes = [b.decode() for b in handle["matrix/barcodes"][()]]
    target = outs / "analysis" / "umap" / "2_components" / "projection.csv"
    target.parent.mkdir(parents=True)
    rows = [f"{b},{i},{-i * 0.5}" for i, b in enumerate(barcodes)]
    target.write_text("\n".join(["Barcode,UMAP-1,UMAP-2", *rows]) + "\n")
    result = load_dataset(engine_client, h5, dataset="emb_cr_h5")
    assert result.embeddings == ("umap",)
    kept = embeddings_of(engine_client, "emb_cr_h5")["umap"]
    assert kept.loc[barcodes[2]].tolist() == [2.0, -1.0] and len(kept) == len(barcodes)


def test_a_gzipped_cluster_file_is_named_without_its_suffixes(engine_client, tmp_path: Path) -> None:
    barcodes = _pbmc_barcodes()
    path = tmp_path / "tsne_2d.txt.gz"
    lines = ["NAME\tX\tY", "TYPE\tnumeric\tnumeric", *(f"{b}\t{i}\t1e-3" for i, b in enumerate(barcodes[:5]))]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    result = load_dataset(engine_client, PBMC_DIR, dataset="emb_gz", clusters=[path])
    assert "tsne_2d" in result.embeddings
    assert embeddings_of(engine_client, "emb_gz")["tsne_2d"].loc[barcodes[4]].tolist() == [4.0, 0.001]


def test_detect_lists_the_cluster_files_beside_a_portal_study(capsys) -> None:
    from loader.cli import main

    assert main(["detect", str(PBMC_DIR)]) == 0
    shown = capsys.readouterr().out
    assert f"cluster: {PBMC_DIR / 'pbmc.umap.txt'}" in shown
    assert f"metadata: {PBMC_DIR / 'pbmc.meta.txt'}" in shown  # the cluster file is not taken for metadata
