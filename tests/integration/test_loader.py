"""The loader against real studies, generated layouts and every refused input (previous version intact)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from loader import (
    DatasetNameError,
    DetectError,
    InputError,
    LoaderError,
    UnknownDatasetError,
    drop_dataset,
    list_datasets,
    load_dataset,
    manifest,
)
from loader.features import make_unique
from tests.helpers.loader_inputs import ScpStudy, tenx_v3_study, write_lines
from tests.helpers.oracle import read_dense
from tests.helpers.paths import PBMC_DIR, TENX_DIR


def matrix_of(client, dataset: str, load_id: str, shape: tuple[int, int]) -> np.ndarray:
    rows = client.query(
        "SELECT gene_index, cell_index, value FROM raw.matrix"
        " WHERE dataset = {d:String} AND load_id = {l:String}",
        parameters={"d": dataset, "l": load_id},
    ).result_rows
    dense = np.zeros(shape)
    for gene, cell, value in rows:
        dense[gene - 1, cell - 1] += value
    return dense


def current(client, dataset: str) -> dict:
    return next(d for d in list_datasets(client) if d["name"] == dataset)


def partitions_of(client, dataset: str) -> set[str]:
    return {lid for d, lid in manifest.stored_partitions(client) if d == dataset}


def assert_intact(client, before) -> None:
    """The dataset still serves exactly the load `before`, and nothing else of it is on disk."""
    entry = current(client, before.dataset)
    assert entry["load_id"] == before.load_id
    assert entry["nnz"] == before.nnz
    assert partitions_of(client, before.dataset) == {before.load_id}
    count = client.query(
        "SELECT count() FROM raw.matrix WHERE dataset = {d:String} AND load_id = {l:String}",
        parameters={"d": before.dataset, "l": before.load_id},
    ).result_rows[0][0]
    assert count == before.nnz
    statuses = {r.status for r in manifest.all_loads(client, before.dataset) if r.load_id != before.load_id}
    assert statuses <= {"failed", "replaced"}


def test_pbmc_lands_exactly(engine_client) -> None:
    result = load_dataset(engine_client, PBMC_DIR, dataset="ld_pbmc")
    oracle = read_dense(
        PBMC_DIR / "gene_sorted-pbmc.matrix.mtx",
        PBMC_DIR / "pbmc.genes.tsv",
        PBMC_DIR / "pbmc.barcodes.tsv",
        PBMC_DIR / "pbmc.meta.txt",
    )
    assert (result.n_genes, result.n_cells, result.nnz) == (765, 700, 174_400)
    assert result.value_kind == "real" and result.layout == "scp"
    assert result.n_metadata_cells == 700
    dense = matrix_of(engine_client, "ld_pbmc", result.load_id, oracle.matrix.shape)
    np.testing.assert_allclose(dense, oracle.matrix, rtol=0, atol=0)
    genes = engine_client.query(
        "SELECT gene FROM raw.genes WHERE dataset = 'ld_pbmc' ORDER BY gene_index"
    ).result_rows
    assert [g for (g,) in genes] == oracle.genes
    meta = engine_client.query(
        "SELECT barcode, cell_type, sample, numeric_attributes['n_counts'], group_attributes['phase']"
        " FROM raw.metadata WHERE dataset = 'ld_pbmc'"
    ).result_rows
    by_barcode = {b: (t, s) for b, t, s, _, _ in meta}
    assert [by_barcode[b][0] for b in oracle.barcodes] == list(oracle.cell_types)
    assert [by_barcode[b][1] for b in oracle.barcodes] == list(oracle.samples)
    first = next(row for row in meta if row[0] == "AAAGCCTGGCTAAC-1")
    assert first[3] == pytest.approx(2557.0) and first[4] == "G1"


def test_tenx_v2_counts_keep_gene_ids(engine_client) -> None:
    result = load_dataset(engine_client, TENX_DIR, dataset="ld_tenx")
    assert (result.layout, result.value_kind, result.n_genes, result.n_cells) == ("10x", "counts", 343, 12)
    assert result.n_metadata_cells == 0
    rows = engine_client.query(
        "SELECT gene_id, gene FROM raw.genes WHERE dataset = 'ld_tenx' ORDER BY gene_index LIMIT 1"
    ).result_rows
    assert rows == [("DSCAM", "DSCAM")]


def test_tenx_v3_gzip_cell_sorted_with_duplicate_symbols(engine_client, tmp_path: Path) -> None:
    _, dense = tenx_v3_study(tmp_path / "outs" / "filtered_feature_bc_matrix")
    result = load_dataset(engine_client, tmp_path / "outs", dataset="ld_v3")  # finds the nested directory
    assert result.layout == "10x" and result.value_kind == "counts"
    assert result.nnz == int((dense > 0).sum())
    np.testing.assert_array_equal(matrix_of(engine_client, "ld_v3", result.load_id, dense.shape), dense)
    genes = engine_client.query(
        "SELECT gene_id, gene, symbol, feature_type FROM raw.genes"
        " WHERE dataset = 'ld_v3' ORDER BY gene_index"
    ).result_rows
    assert [g[1] for g in genes] == ["MT-CO1", "TBCE", "TBCE-2", "TBCE-1", "TBCE-3", "CD3"]
    assert genes[2][0] == "ENSG03" and genes[2][2] == "TBCE"
    assert genes[5][3] == "Antibody Capture"


def test_make_unique_follows_scanpy() -> None:
    assert make_unique(["A", "A", "B", "A-1", "A", "B"]) == ["A", "A-2", "B", "A-1", "A-3", "B-1"]


def test_scp_gzip_metadata_with_extra_and_missing_cells(engine_client, tmp_path: Path) -> None:
    study = ScpStudy()
    result = load_dataset(engine_client, study.write(tmp_path / "tiny", gz=True), dataset="ld_tiny_gz")
    assert result.n_metadata_cells == 4  # XXXX-1 is not in the matrix, AAGT-1 has no metadata
    meta = dict(
        engine_client.query(
            "SELECT barcode, numeric_attributes FROM raw.metadata WHERE dataset = 'ld_tiny_gz'"
        ).result_rows
    )
    assert set(meta) == {"AAAC-1", "AAAG-1", "AACT-1", "XXXX-1"}
    assert meta["AAAG-1"] == {"age": 41.5}
    assert meta["AACT-1"] == {}  # NA is a missing number, not a zero
    entry = current(engine_client, "ld_tiny_gz")
    assert entry["value_kind"] == "counts" and entry["n_cells"] == 4 and entry["nnz"] == 7
    roles = {f["role"]: f for f in entry["source_files"]}
    assert set(roles) == {"matrix", "genes", "barcodes", "metadata"}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in roles.values())


def test_real_header_with_integral_values_is_counts(engine_client, tmp_path: Path) -> None:
    study = ScpStudy()
    study.matrix[0] = study.matrix[0].replace("integer", "real")
    study.matrix[3] = "1 1 3.0"
    assert (
        load_dataset(engine_client, study.write(tmp_path / "r"), dataset="ld_realint").value_kind == "counts"
    )
    study.matrix[3] = "1 1 3.25"
    assert load_dataset(engine_client, study.write(tmp_path / "r"), dataset="ld_realint").value_kind == "real"


def test_reload_replaces_only_that_dataset(engine_client, tmp_path: Path) -> None:
    a = load_dataset(engine_client, ScpStudy().write(tmp_path / "a"), dataset="ld_side_a")
    b = load_dataset(engine_client, ScpStudy().write(tmp_path / "b"), dataset="ld_side_b")
    study = ScpStudy()
    study.matrix[2] = "5 4 6"
    del study.matrix[-1]
    a2 = load_dataset(engine_client, study.write(tmp_path / "a2"), dataset="ld_side_a")
    assert a2.load_id != a.load_id and a2.nnz == 6
    assert_intact(engine_client, a2)
    assert_intact(engine_client, b)
    assert {r.status for r in manifest.all_loads(engine_client, "ld_side_a")} == {"loaded", "replaced"}


def test_drop_removes_dataset(engine_client, tmp_path: Path) -> None:
    load_dataset(engine_client, ScpStudy().write(tmp_path / "d"), dataset="ld_drop")
    drop_dataset(engine_client, "ld_drop")
    assert "ld_drop" not in {d["name"] for d in list_datasets(engine_client)}
    assert partitions_of(engine_client, "ld_drop") == set()
    with pytest.raises(UnknownDatasetError):
        drop_dataset(engine_client, "ld_drop")


def test_interrupted_leftovers_are_collected(engine_client, tmp_path: Path) -> None:
    """A `loading` row with partitions (a killed load) is cleaned by the next load of anything."""
    kept = load_dataset(engine_client, ScpStudy().write(tmp_path / "k"), dataset="ld_gc")
    ghost = manifest.LoadRecord(load_id=manifest.new_load_id(), dataset="ld_gc", status="loading")
    manifest.write(engine_client, ghost)
    engine_client.command(f"INSERT INTO raw.matrix VALUES ('ld_gc', '{ghost.load_id}', 1, 1, 9.0)")
    assert partitions_of(engine_client, "ld_gc") == {kept.load_id, ghost.load_id}
    assert current(engine_client, "ld_gc")["load_id"] == kept.load_id  # never visible
    load_dataset(engine_client, ScpStudy().write(tmp_path / "other"), dataset="ld_gc_other")
    assert_intact(engine_client, kept)
    assert {r.status for r in manifest.all_loads(engine_client, "ld_gc") if r.load_id == ghost.load_id} == {
        "failed"
    }


# --- refused inputs: each case breaks one thing; the previously loaded version must stay served ---------


@dataclass(frozen=True)
class Bad:
    id: str
    mutate: Callable[[ScpStudy], None]
    where: str  # "<file>:<line>" (or just the file)
    problem: str  # regex on the rest of the message


def _set(attr: str, index: int, value: str) -> Callable[[ScpStudy], None]:
    def mutate(study: ScpStudy) -> None:
        getattr(study, attr)[index] = value

    return mutate


def _replace(attr: str, lines: list[str] | None) -> Callable[[ScpStudy], None]:
    def mutate(study: ScpStudy) -> None:
        setattr(study, attr, lines)

    return mutate


def _append(attr: str, line: str) -> Callable[[ScpStudy], None]:
    def mutate(study: ScpStudy) -> None:
        getattr(study, attr).append(line)

    return mutate


def _drop_line(attr: str, index: int) -> Callable[[ScpStudy], None]:
    def mutate(study: ScpStudy) -> None:
        del getattr(study, attr)[index]

    return mutate


M, G, B, T = "gene_sorted-tiny.matrix.mtx", "tiny.genes.tsv", "tiny.barcodes.tsv", "tiny.meta.txt"
BANNER = "%%MatrixMarket matrix"
BAD_CASES = [
    Bad("not_mtx", _set("matrix", 0, "row col value"), f"{M}:1", "not a MatrixMarket file"),
    Bad("complex", _set("matrix", 0, f"{BANNER} coordinate complex general"), f"{M}:1", "complex"),
    Bad("pattern", _set("matrix", 0, f"{BANNER} coordinate pattern general"), f"{M}:1", "pattern"),
    Bad(
        "symmetric",
        _set("matrix", 0, f"{BANNER} coordinate real symmetric"),
        f"{M}:1",
        "symmetric",
    ),
    Bad("array", _set("matrix", 0, f"{BANNER} array real general"), f"{M}:1", "'array'"),
    Bad("size_line", _set("matrix", 2, "5 4"), f"{M}:3", "malformed size line"),
    Bad("rows_vs_genes", _set("matrix", 2, "6 4 7"), f"{M}:3", r"6 rows \(genes\) but tiny.genes.tsv has 5"),
    Bad("cols_vs_barcodes", _set("matrix", 2, "5 3 7"), f"{M}:3", r"3 columns \(cells\) but tiny.barcodes"),
    Bad("truncated", _drop_line("matrix", -1), f"{M}:3", "declares 7 entries but the file has only 6"),
    Bad("too_many", _append("matrix", "5 4 1"), f"{M}:11", "more entries than the 7 declared"),
    Bad("row_range", _set("matrix", 5, "6 2 4"), f"{M}:6", r"row index 6 out of range 1\.\.5"),
    Bad("row_zero", _set("matrix", 5, "0 2 4"), f"{M}:6", r"row index 0 out of range"),
    Bad("col_range", _set("matrix", 6, "3 5 2"), f"{M}:7", r"column index 5 out of range 1\.\.4"),
    Bad("non_numeric", _set("matrix", 4, "1 3 abc"), f"{M}:5", "value 'abc' is not a number"),
    Bad("index_not_int", _set("matrix", 4, "1 x 1"), f"{M}:5", "column index 'x' is not an integer"),
    Bad("two_fields", _set("matrix", 8, "4 1"), f"{M}:9", "expected 3 space-separated fields"),
    Bad("blank_line", _set("matrix", 8, ""), f"{M}:9", "empty line"),
    Bad("nan", _set("matrix", 4, "1 3 nan"), f"{M}:5", "not a finite number"),
    Bad("inf", _set("matrix", 4, "1 3 inf"), f"{M}:5", "not a finite number"),
    Bad("negative", _set("matrix", 4, "1 3 -2"), f"{M}:5", "negative value"),
    Bad("fraction_in_integer", _set("matrix", 4, "1 3 1.5"), f"{M}:5", "not an integer"),
    Bad("duplicate_entry", _set("matrix", 9, "1 3 2"), f"{M}:10", "duplicate entry for row 1, column 3"),
    Bad("duplicate_barcode", _set("barcodes", 2, "AAAC-1"), f"{B}:3", "duplicate barcode 'AAAC-1'"),
    Bad("genes_width", _replace("genes", ["G1\tA", "G2\tB", "G3", "G4\tD", "G5\tE"]), f"{G}:3", "expected 2"),
    Bad("no_name", _set("metadata", 0, "CELL\tCluster\tSubject\tage"), f"{T}:1", "NAME"),
    Bad("type_width", _set("metadata", 1, "TYPE\tgroup\tgroup"), f"{T}:2", "TYPE row has 3 fields"),
    Bad("type_kind", _set("metadata", 1, "TYPE\tgroup\tgroup\tinteger"), f"{T}:2", "expected 'group' or"),
    Bad("no_type", _drop_line("metadata", 1), f"{T}:2", "must start with TYPE"),
    Bad("meta_width", _set("metadata", 3, "AAAG-1\tEpithelial"), f"{T}:4", "expected 4 tab-separated"),
    Bad("meta_number", _set("metadata", 4, "AACT-1\tB cell\tp2\told"), f"{T}:5", "'old' in numeric column"),
    Bad("meta_duplicate", _set("metadata", 5, "AAAC-1\tT cell\tp1\t30"), f"{T}:6", "duplicate NAME 'AAAC-1'"),
    Bad("no_cell_type", _set("metadata", 0, "NAME\tcluster\tSubject\tage"), f"{T}:1", "no cell type column"),
    Bad("empty_matrix", _replace("matrix", []), M, "matrix file is empty"),
    Bad("empty_genes", _replace("genes", []), G, "genes file is empty"),
    Bad("empty_metadata", _replace("metadata", []), T, "metadata file is empty"),
    # identifiers are stored exactly as written: what would have to be altered is refused (loader.identifiers)
    Bad(
        "barcode_space", _set("barcodes", 1, "AAAG-1 "), f"{B}:2", "barcode 'AAAG-1 ' has leading or trailing"
    ),
    Bad("barcode_quoted", _set("barcodes", 0, '"AAAC-1"'), f"{B}:1", "barcode '\"AAAC-1\"' is in quotes"),
    Bad("barcode_empty", _set("barcodes", 3, ""), f"{B}:4", "barcode '' is empty"),
    Bad(
        "gene_space", _set("genes", 2, " KRT18"), f"{G}:3", "gene ' KRT18' has leading or trailing whitespace"
    ),
    Bad("gene_nul", _set("genes", 1, "EP\x00CAM"), f"{G}:2", r"control character U\+0000"),
    Bad(
        "feature_type_space",
        _replace("genes", [f"ENSG{i}\t{g}\tGene Expression " for i, g in enumerate(ScpStudy().genes)]),
        f"{G}:1",
        "feature type 'Gene Expression ' has leading or trailing whitespace",
    ),
    Bad(
        "meta_name_space", _set("metadata", 3, "AAAG-1 \tEpithelial\tp1\t41.5"), f"{T}:4", "NAME .*'AAAG-1 '"
    ),
    Bad("meta_name_quoted", _set("metadata", 2, '"AAAC-1"\tT cell\tp1\t30'), f"{T}:3", "is in quotes"),
    Bad("meta_cell_type_space", _set("metadata", 2, "AAAC-1\tT cell \tp1\t30"), f"{T}:3", "'Cluster' value"),
    Bad("meta_sample_nul", _set("metadata", 4, "AACT-1\tB cell\tp\x002\tNA"), f"{T}:5", "U\\+0000"),
    Bad("meta_column_space", _set("metadata", 0, "NAME\tCluster\tSubject \tage"), f"{T}:1", "'Subject '"),
    Bad("meta_column_quoted", _set("metadata", 0, 'NAME\t"Cluster"\tSubject\tage'), f"{T}:1", "in quotes"),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.id for c in BAD_CASES])
def test_bad_input_is_refused_and_previous_version_kept(engine_client, tmp_path: Path, case: Bad) -> None:
    dataset = f"ld_bad_{case.id}"
    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "good"), dataset=dataset)
    study = ScpStudy()
    case.mutate(study)
    bad_dir = study.write(tmp_path / "bad")
    with pytest.raises(LoaderError) as caught:
        load_dataset(engine_client, bad_dir, dataset=dataset)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(bad_dir / case.where.split(":")[0]))
    assert re.search(rf"{re.escape(case.where)}: .*{case.problem}", message), message
    assert_intact(engine_client, before)


def test_truncated_gzip_is_refused(engine_client, tmp_path: Path) -> None:
    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "good"), dataset="ld_bad_gz")
    directory = ScpStudy().write(tmp_path / "bad", gz=True)
    matrix = directory / "gene_sorted-tiny.matrix.mtx.gz"
    rng = np.random.default_rng(0)
    entries = [
        f"{r} {c} {v}"
        for r, c, v in zip(
            rng.integers(1, 6, 50_000),
            rng.integers(1, 5, 50_000),
            rng.integers(1, 10**6, 50_000),
            strict=True,
        )
    ]
    payload = gzip.compress(("\n".join([*ScpStudy().matrix[:2], "5 4 50000", *entries]) + "\n").encode())
    matrix.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(InputError, match=r"matrix\.mtx\.gz:\d+: "):
        load_dataset(engine_client, directory, dataset="ld_bad_gz")
    assert_intact(engine_client, before)


def test_missing_inputs(engine_client, tmp_path: Path) -> None:
    with pytest.raises(DetectError, match="directory not found"):
        load_dataset(engine_client, tmp_path / "nowhere", dataset="ld_missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DetectError, match=r"no MatrixMarket \(\.mtx\) file found"):
        load_dataset(engine_client, empty, dataset="ld_missing")
    directory = ScpStudy().write(tmp_path / "s")
    (directory / "tiny.barcodes.tsv").unlink()
    with pytest.raises(DetectError, match="no barcodes file found"):
        load_dataset(engine_client, directory, dataset="ld_missing")
    with pytest.raises(InputError, match="genes file not found"):
        load_dataset(
            engine_client, ScpStudy().write(tmp_path / "t"), dataset="ld_x", genes=tmp_path / "no.tsv"
        )


def test_explicit_files_and_columns(engine_client, tmp_path: Path) -> None:
    study = ScpStudy()
    study.names = {"matrix": "m.txt", "genes": "rows.txt", "barcodes": "cols.txt", "metadata": "cells.txt"}
    directory = study.write(tmp_path / "odd")
    # names match no pattern: genes and barcodes are told apart by their line counts
    result = load_dataset(engine_client, directory, dataset="ld_odd", sample_column="age")
    assert result.n_metadata_cells == 4
    samples = dict(
        engine_client.query("SELECT barcode, sample FROM raw.metadata WHERE dataset = 'ld_odd'").result_rows
    )
    assert samples["AAAG-1"] == "41.5"
    explicit = load_dataset(
        engine_client,
        None,
        dataset="ld_odd",
        matrix=directory / "m.txt",
        genes=directory / "rows.txt",
        barcodes=directory / "cols.txt",
    )
    assert explicit.n_metadata_cells == 0 and explicit.layout == "scp"


def test_list_json_shape(engine_client, tmp_path: Path) -> None:
    load_dataset(engine_client, ScpStudy().write(tmp_path / "j"), dataset="ld_json")
    entry = json.loads(json.dumps(list_datasets(engine_client)))
    row = next(d for d in entry if d["name"] == "ld_json")
    assert {"name", "n_genes", "n_cells", "nnz", "value_kind", "loaded_at"} <= set(row)
    assert (row["n_genes"], row["n_cells"], row["nnz"], row["value_kind"]) == (5, 4, 7, "counts")


def test_metadata_only_cells_in_header_order(tmp_path: Path) -> None:
    """The TYPE row must come second: a NAME file without it is not metadata, so detection ignores it."""
    from loader.study import is_scp_metadata

    path = write_lines(tmp_path / "m.txt", ["NAME\tCluster", "c1\tA"])
    assert not is_scp_metadata(path)


# --- bytes a line-level mutation cannot express: invalid UTF-8, damaged .gz ---------------------------------

UTF8_CASES = [
    ("barcodes", B, b"AAAG-1", b"AA\xffG-1", f"{B}:2", r"not valid UTF-8 \(byte 0xff at column 3\)"),
    ("genes", G, b"KRT18", b"KRT\xe918", f"{G}:3", r"not valid UTF-8 \(byte 0xe9 at column 4\)"),
    (
        "metadata_header",
        T,
        b"Subject",
        b"Subj\xe9ct",
        f"{T}:1",
        r"not valid UTF-8 \(byte 0xe9 at column 18\)",
    ),
    ("metadata_body", T, b"B cell", b"B c\xe9ll", f"{T}:5", r"not valid UTF-8 \(byte 0xe9 at column 11\)"),
]


@pytest.mark.parametrize("case", UTF8_CASES, ids=[c[0] for c in UTF8_CASES])
def test_invalid_utf8_is_refused_with_its_line(engine_client, tmp_path: Path, case) -> None:
    case_id, name, old, new, where, problem = case
    dataset = f"ld_utf8_{case_id}"
    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "good"), dataset=dataset)
    bad_dir = ScpStudy().write(tmp_path / "bad")
    path = bad_dir / name
    path.write_bytes(path.read_bytes().replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_dataset(engine_client, bad_dir, dataset=dataset)
    assert re.fullmatch(
        rf"{re.escape(str(bad_dir / where))}: {problem}; save the file as UTF-8", str(caught.value)
    )
    assert_intact(engine_client, before)


def _padded_study(role: str) -> ScpStudy:
    """The file of `role` long enough that a cut .gz still has a readable start (metadata NAMEs absent
    from the matrix are allowed; the matrix declares the padded genes or barcodes, so they are read on to
    the damage: a file longer than declared is refused one line past the declared size)."""
    study = ScpStudy()
    lines = [f"PAD{i * 7919 % 100003:06d}-{i}\tT cell\tp{i % 7}\t{i % 90}" for i in range(20_000)]
    if role == "metadata":
        assert study.metadata is not None
        study.metadata += lines
    else:
        getattr(study, role).extend(line.split("\t")[0] for line in lines)
        study.matrix[2] = f"{len(study.genes)} {len(study.barcodes)} 7"
    return study


GZ_ROLES = {"genes": G, "barcodes": B, "metadata": T}


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("role", list(GZ_ROLES))
def test_damaged_gzip_is_refused_naming_the_file(
    engine_client, tmp_path: Path, role: str, damage: str
) -> None:
    dataset = f"ld_gz_{role}_{damage}"
    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "good"), dataset=dataset)
    bad_dir = _padded_study(role).write(tmp_path / "bad", gz=True)
    path = bad_dir / (GZ_ROLES[role] + ".gz")
    payload = bytearray(path.read_bytes())
    if damage == "truncated":
        payload = payload[: len(payload) * 3 // 5]
    else:  # flip bytes in the middle of the deflate stream: a bad code, a bad distance or a CRC mismatch
        middle = len(payload) // 2
        payload[middle : middle + 64] = bytes(b ^ 0x5A for b in payload[middle : middle + 64])
    path.write_bytes(bytes(payload))
    with pytest.raises(InputError) as caught:
        load_dataset(engine_client, bad_dir, dataset=dataset)
    message = str(caught.value)
    assert message.startswith(f"{path}"), message
    assert "compressed data ends early or is corrupt" in message
    assert_intact(engine_client, before)


def test_byte_order_mark_is_skipped_like_pandas(engine_client, tmp_path: Path) -> None:
    """A UTF-8 BOM (as Excel writes) is no part of the first gene, barcode or metadata column name."""
    directory = ScpStudy().write(tmp_path / "bom")
    for name in (G, B, T):
        path = directory / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    from loader.study import is_scp_metadata

    assert is_scp_metadata(directory / T)
    load_dataset(engine_client, directory, dataset="ld_bom")
    first_gene = engine_client.query(
        "SELECT gene FROM raw.genes WHERE dataset = 'ld_bom' AND gene_index = 1"
    ).result_rows
    assert first_gene == [("GAPDH",)]
    cells = dict(
        engine_client.query(
            "SELECT barcode, cell_type FROM raw.metadata WHERE dataset = 'ld_bom'"
        ).result_rows
    )
    barcodes = engine_client.query(
        "SELECT barcode FROM raw.barcodes WHERE dataset = 'ld_bom' ORDER BY cell_index"
    ).result_rows
    assert barcodes[0] == ("AAAC-1",) and cells["AAAC-1"] == "T cell"


@pytest.mark.parametrize("name", ["abc\n", "abc ", "\nabc", "a/b", "-abc", "a" * 101])
def test_dataset_name_must_match_the_whole_pattern(engine_client, tmp_path: Path, name: str) -> None:
    with pytest.raises(DatasetNameError, match="must start with a letter or digit"):
        load_dataset(engine_client, ScpStudy().write(tmp_path / "n"), dataset=name)
    assert name not in {d["name"] for d in list_datasets(engine_client)}


class _CuttingClient:
    """The engine client, except that just before the load reads its matrix back, the biggest file of the
    newest raw.matrix part is cut in half: what chDB leaves, without an error, when a full disk or a
    file-size limit stops a write (the engine only notices when the part is read, or at its next start)."""

    def __init__(self, client) -> None:
        self._client = client
        self._cut = False

    def query(self, sql: str, *args, **kwargs):
        if "ignore(*)" in sql and "raw.matrix" in sql and not self._cut:
            self._cut = True
            load_id = re.search(r"load_id = '([^']+)'", sql).group(1)
            [[part]] = self._client.query(
                "SELECT path FROM system.parts WHERE database = 'raw' AND table = 'matrix' AND active"
                " AND position(partition, {l:String}) > 0 ORDER BY rows DESC LIMIT 1",
                parameters={"l": load_id},
            ).result_rows
            biggest = max(Path(part).glob("*.bin"), key=lambda p: p.stat().st_size)
            with biggest.open("r+b") as handle:
                handle.truncate(biggest.stat().st_size // 2)
        return self._client.query(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._client, name)


def test_data_that_does_not_read_back_refuses_the_load(engine_client, tmp_path: Path) -> None:
    from loader import StoreWriteError

    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "good"), dataset="ld_cut")
    study = ScpStudy()
    study.barcodes = [f"C{j}-1" for j in range(2000)]
    study.metadata = None
    study.matrix = [
        study.matrix[0],
        "5 2000 10000",
        *(f"{1 + k % 5} {1 + k // 5} {k % 97 + 1}" for k in range(10000)),
    ]
    directory = study.write(tmp_path / "again")
    with pytest.raises(StoreWriteError) as caught:
        load_dataset(_CuttingClient(engine_client), directory, dataset="ld_cut")
    message = str(caught.value)
    assert message.startswith(f"{directory / M}: raw.matrix does not read back after writing ("), message
    assert message.endswith(
        "disk full or a file-size limit?); nothing was published and the previous version stays"
    )
    assert_intact(engine_client, before)
