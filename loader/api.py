"""Public Python API of the loader: load, list and drop datasets in the engine's `raw` tables.

A load never touches what readers see until it is complete and valid: it writes its own (dataset, load_id)
partitions, checks them, then publishes with one manifest insert (see `loader.manifest`). Every layout —
MatrixMarket directories, AnnData .h5ad, Cell Ranger .h5 — goes through the same steps as a `StudySource`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from genostream.engine import engine_errors, is_embedded
from loader import __version__, lease, manifest
from loader.detect import Hdf5File, StudyFiles, detect_study
from loader.entries import MatrixStats, value_kind
from loader.errors import (
    DatasetNameError,
    DetectError,
    InputError,
    LoadConflictError,
    LoadInterruptedError,
    StoreWriteError,
    UnknownDatasetError,
)
from loader.features import Genes, barcodes_table, constant_column, genes_table, read_barcodes, read_genes
from loader.hdf5 import H5AD
from loader.manifest import LoadRecord, literal
from loader.metadata import MetadataHeader, MetadataReader, read_metadata_header
from loader.mtx import MatrixReader, MtxHeader, find_entry_line, read_header
from loader.pipeline import prefetch
from loader.progress import LoadProgress
from loader.schema import CURRENT_LOADS_VIEW, ensure_raw_schema
from loader.source import StudySource
from loader.textio import iter_lines, require_file, sha256_of

log = logging.getLogger(__name__)

DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # the whole name must match (fullmatch)
DUPLICATE_ENTRY_SQL = """
    SELECT gene_index, cell_index FROM raw.matrix
    WHERE dataset = {dataset} AND load_id = {load_id}
    GROUP BY gene_index, cell_index
    HAVING count() > 1
    LIMIT 1
    SETTINGS optimize_aggregation_in_order = 1
"""
DUPLICATE_CELL_SQL = """
    SELECT barcode FROM raw.metadata
    WHERE dataset = {dataset} AND load_id = {load_id}
    GROUP BY dataset, load_id, barcode
    HAVING count() > 1
    LIMIT 1
"""
# Reads every column of the load's partition back (ignore(*) keeps them all): the engine can commit a part
# whose files were cut short by a full disk or a file-size limit without raising, and only a read notices.
STORED_ROWS_SQL = (
    "SELECT count() FROM raw.{table} WHERE dataset = {dataset} AND load_id = {load_id} AND NOT ignore(*)"
)
WRITE_HINT = "disk full or a file-size limit?); nothing was published and the previous version stays"


@dataclass(frozen=True)
class LoadResult:
    """What a finished load published."""

    dataset: str
    load_id: str
    layout: str
    n_genes: int
    n_cells: int
    n_metadata_cells: int
    nnz: int
    value_kind: str
    seconds: float

    def summary(self) -> str:
        rate = self.nnz / self.seconds if self.seconds > 0 else 0.0
        return (
            f"loaded {self.dataset} ({self.layout}, {self.value_kind}): {self.n_genes:,} genes × "
            f"{self.n_cells:,} cells, {self.nnz:,} non-zeros, {self.n_metadata_cells:,} metadata rows "
            f"in {self.seconds:.1f} s ({rate:,.0f} entries/s)"
        )


def dataset_name(dataset: str | None, data_dir: Path | None, files: StudyFiles | Hdf5File) -> str:
    """The name a study is loaded as: `dataset`, else its directory's name (a file's stem when the study
    was given as one .h5ad or .h5 file).

    Parameters
    ----------
    dataset
        The name asked for (`--dataset`), or None to use the directory's name.
    data_dir
        The study directory or file, or None when the files were given one by one (then the matrix's
        directory).
    files
        The study's files.

    Returns
    -------
    str
        The name: a letter or digit, then up to 99 letters, digits, `_`, `.` or `-`.

    Raises
    ------
    DatasetNameError
        The name has other characters.
    """
    if dataset is not None:
        name = dataset
    elif data_dir is not None and data_dir.is_file():
        name = data_dir.stem
    else:
        name = (data_dir or files.matrix.parent).resolve().name
    if not DATASET_NAME.fullmatch(name):
        raise DatasetNameError(
            f"dataset name {name!r} must start with a letter or digit and use only letters, digits, "
            "'_', '.', '-'" + ("" if dataset is not None else " (choose one with --dataset)")
        )
    return name


def _check_dimensions(header: MtxHeader, files: StudyFiles, n_genes: int, n_cells: int) -> None:
    if header.n_rows != n_genes:
        raise InputError(
            files.matrix,
            header.size_line,
            f"header declares {header.n_rows} rows (genes) but {files.genes.name} has {n_genes} lines",
        )
    if header.n_cols != n_cells:
        raise InputError(
            files.matrix,
            header.size_line,
            f"header declares {header.n_cols} columns (cells) but {files.barcodes.name} has {n_cells} lines",
        )


def _matrix_table(batch, dataset: str, load_id: str):
    n = batch.num_rows
    return pa.Table.from_arrays(
        [constant_column(dataset, n), constant_column(load_id, n), *batch.columns],
        names=["dataset", "load_id", *batch.schema.names],
    )


def _duplicate_entry(client, keys: dict[str, str]) -> tuple[int, int] | None:
    """(gene_index, cell_index) of an entry stored twice in this load, if any."""
    rows = client.query(DUPLICATE_ENTRY_SQL.format(**keys)).result_rows
    return (int(rows[0][0]), int(rows[0][1])) if rows else None


def _insert(client, table: str, data, source: Path) -> None:
    """Insert an Arrow table; a write failing on the client side (its spool file) names the input."""
    try:
        client.insert_arrow(table, data)
    except OSError as exc:
        raise StoreWriteError(
            f"{source}: writing {table} failed ({exc.strerror or exc}; {WRITE_HINT}"
        ) from None


def _verify_stored(client, record: LoadRecord, expected: dict[str, tuple[int, Path]]) -> None:
    """Every table of the load reads back whole before it is published (after `_check_publishable`, which
    compares the row counts the parts record: a part cut short on disk still records them)."""
    keys = {"dataset": literal(record.dataset), "load_id": literal(record.load_id)}
    for table, (rows, source) in expected.items():
        try:
            stored = client.query(STORED_ROWS_SQL.format(table=table, **keys)).result_rows[0][0]
        except DatabaseError as exc:
            detail = str(exc).strip().splitlines()[0][:160]
            raise StoreWriteError(
                f"{source}: raw.{table} does not read back after writing ({detail}; {WRITE_HINT}"
            ) from None
        if stored != rows:
            raise StoreWriteError(f"{source}: raw.{table} kept {stored} of {rows} rows ({WRITE_HINT}")


def _source_files(source: StudySource, hashes: dict[str, Any]) -> list[dict[str, Any]]:
    extra = source.details()
    return [
        {
            "role": role,
            "path": str(path.resolve()),
            "size": path.stat().st_size,
            "sha256": hashes[role].result() if role in hashes else "",
            **(extra if role == "matrix" else {}),
        }
        for role, path in source.roles()
    ]


@dataclass(frozen=True)
class Study:
    """A study whose small files are read and consistent; only the matrix body is still to stream."""

    data_dir: Path | None
    files: StudyFiles
    header: MtxHeader
    genes: Genes
    barcodes: list[str]
    metadata: MetadataHeader | None


@dataclass
class TextSource:
    """A MatrixMarket study (Single Cell Portal or 10x directory) as a `StudySource`."""

    study: Study
    meta: MetadataReader | None
    reader: MatrixReader = field(init=False)
    layout: str = field(init=False)
    genes: Genes = field(init=False)
    barcodes: list[str] = field(init=False)
    cell_type_column: str = field(init=False)
    sample_column: str = field(init=False)
    integer_declared: bool = field(init=False)

    def __post_init__(self) -> None:
        self.reader = MatrixReader(self.study.header)
        self.layout = self.study.files.layout
        self.genes = self.study.genes
        self.barcodes = self.study.barcodes
        self.cell_type_column = self.meta.cell_type_column if self.meta else ""
        self.sample_column = (self.meta.sample_column or "") if self.meta else ""
        self.integer_declared = self.study.header.field == "integer"

    @property
    def stats(self) -> MatrixStats:
        return self.reader.stats

    def roles(self) -> list[tuple[str, Path]]:
        return self.study.files.roles()

    def details(self) -> dict[str, Any]:
        return {}

    def describe(self) -> str:
        return self.layout

    def metadata_tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        return self.meta.tables(dataset, load_id) if self.meta else iter(())

    @property
    def n_metadata_cells(self) -> int:
        return self.meta.rows if self.meta else 0

    def matrix_batches(self, on_progress: Callable[[int, int], None]) -> Iterator[pa.RecordBatch]:
        return self.reader.batches(on_progress)

    @property
    def matrix_bytes(self) -> int:
        return self.study.files.matrix.stat().st_size

    def duplicate_entry_error(self, gene: int, cell: int) -> InputError:
        line = find_entry_line(self.study.header, gene, cell)
        return InputError(self.study.header.path, line, f"duplicate entry for row {gene}, column {cell}")

    def check_landed(self, client: Any, keys: dict[str, str]) -> None:
        """Duplicate metadata NAMEs (the file is streamed, so the engine finds them)."""
        metadata = self.study.files.metadata
        if metadata is None:
            return
        rows = client.query(DUPLICATE_CELL_SQL.format(**keys)).result_rows
        if rows:
            barcode = rows[0][0]
            hits = (n for n, text in iter_lines(metadata, 3) if text.split("\t", 1)[0] == barcode)
            next(hits, None)
            raise InputError(metadata, next(hits, None), f"duplicate NAME {barcode!r} in the metadata")

    def close(self) -> None:
        """Nothing stays open between batches."""


def _as_path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None


def _read_study(directory: Path | None, files: StudyFiles) -> Study:
    for role, path in files.roles():
        require_file(path, role)
    header = read_header(files.matrix)
    gene_list = read_genes(files.genes)
    barcode_list = read_barcodes(files.barcodes)
    _check_dimensions(header, files, len(gene_list), len(barcode_list))
    meta = read_metadata_header(files.metadata) if files.metadata else None
    return Study(directory, files, header, gene_list, barcode_list, meta)


def open_study(
    data_dir: Path | str | None,
    *,
    matrix: Path | str | None = None,
    genes: Path | str | None = None,
    barcodes: Path | str | None = None,
    metadata: Path | str | None = None,
) -> Study:
    """Find a MatrixMarket study's files, read its genes and barcodes, check the matrix and metadata headers
    against them.

    Parameters
    ----------
    data_dir
        The study directory (Single Cell Portal or 10x; a single subdirectory holding the matrix is followed),
        or None when `matrix`, `genes` and `barcodes` are all given.
    matrix, genes, barcodes, metadata
        A file for that role, instead of the one detected in `data_dir` (relative paths are tried in
        `data_dir` too). `metadata` is optional: without one the cells have no cell type or sample.

    Returns
    -------
    Study
        The files and what was read of them; only the matrix body is left to stream.

    Raises
    ------
    DetectError
        `data_dir` holds no recognisable study, several candidates for a role, or an HDF5 study (see
        `open_source`).
    InputError
        A file is missing, empty or malformed, or the matrix's size disagrees with the genes or barcodes.
    """
    directory = _as_path(data_dir)
    files = detect_study(
        directory,
        matrix=_as_path(matrix),
        genes=_as_path(genes),
        barcodes=_as_path(barcodes),
        metadata=_as_path(metadata),
    )
    if isinstance(files, Hdf5File):
        raise DetectError(f"{files.matrix}: a {files.layout} study, not a MatrixMarket one (use open_source)")
    return _read_study(directory, files)


def open_source(
    data_dir: Path | str | None,
    *,
    matrix: Path | str | None = None,
    genes: Path | str | None = None,
    barcodes: Path | str | None = None,
    metadata: Path | str | None = None,
    layer: str | None = None,
    cell_type_column: str | None = None,
    sample_column: str | None = None,
) -> StudySource:
    """Detect a study's layout and open it: small parts read and checked, the matrix ready to stream.

    Parameters
    ----------
    data_dir
        A study directory (Single Cell Portal or 10x text layout, or a directory holding a single .h5ad or
        Cell Ranger .h5 file), or such a file itself; None when `matrix`, `genes` and `barcodes` are given.
    matrix, genes, barcodes, metadata
        Files of a MatrixMarket study, as for `open_study`.
    layer
        AnnData only: `X`, `raw` (raw/X) or a name in `layers/`. Default: the first of X, raw/X and
        layers/counts that holds counts, else X.
    cell_type_column, sample_column
        Metadata (obs) columns. Default: the first present of cell_type, Cluster, louvain, leiden — and of
        donor_id, sample, Subject.

    Returns
    -------
    StudySource
        The opened study (call its `close()` when done).

    Raises
    ------
    DetectError
        No recognisable study, several candidates, or options that do not apply to its layout.
    InputError
        A file is missing, not what it claims, truncated or inconsistent; or a column or layer asked for
        does not exist (the message lists those that do).
    """
    directory = _as_path(data_dir)
    files = detect_study(
        directory,
        matrix=_as_path(matrix),
        genes=_as_path(genes),
        barcodes=_as_path(barcodes),
        metadata=_as_path(metadata),
    )
    if isinstance(files, Hdf5File):
        # imported here: anndata and pandas load only when an HDF5 study does
        from loader.h5ad import open_h5ad
        from loader.tenx_h5 import open_tenx_h5

        if files.layout == H5AD:
            return open_h5ad(
                files.matrix, layer=layer, cell_type_column=cell_type_column, sample_column=sample_column
            )
        if layer is not None:
            raise DetectError(f"{files.matrix}: --layer applies to AnnData (.h5ad) files only")
        return open_tenx_h5(files.matrix, cell_type_column=cell_type_column, sample_column=sample_column)
    if layer is not None:
        raise DetectError(f"{files.matrix}: --layer applies to AnnData (.h5ad) files only")
    study = _read_study(directory, files)
    meta = (
        MetadataReader(study.metadata, cell_type_column, sample_column)
        if study.metadata is not None
        else None
    )
    return TextSource(study, meta)


def _files_of(source: StudySource) -> StudyFiles | Hdf5File:
    """The detected files behind an opened source (what `loader detect` prints)."""
    if isinstance(source, TextSource):
        return source.study.files
    (_, path), *_ = source.roles()
    return Hdf5File(source.layout, path)


def check_study(data_dir: Path | str) -> StudyFiles | Hdf5File:
    """The files of the loadable study in `data_dir` (`loader detect`); reads no matrix body.

    Parameters
    ----------
    data_dir
        The study directory, or an .h5ad / Cell Ranger .h5 file.

    Returns
    -------
    StudyFiles or Hdf5File
        Which file plays which role, and the layout (`scp`, `10x`, `h5ad` or `10x-h5`).

    Raises
    ------
    DetectError, InputError
        As `open_source`.
    """
    source = open_source(data_dir)
    try:
        return _files_of(source)
    finally:
        source.close()


@engine_errors()
def load_dataset(
    client: Client,
    data_dir: Path | str | None,
    *,
    dataset: str | None = None,
    matrix: Path | str | None = None,
    genes: Path | str | None = None,
    barcodes: Path | str | None = None,
    metadata: Path | str | None = None,
    layer: str | None = None,
    cell_type_column: str | None = None,
    sample_column: str | None = None,
    progress: bool | None = None,
) -> LoadResult:
    """Load one study as a dataset; its previous version is replaced only once this one is whole and valid.

    Parameters
    ----------
    client
        A client on the store (`genostream.engine.get_client()`); the `raw` tables are created if missing.
    data_dir, matrix, genes, barcodes, metadata
        Where the study is: a directory or an .h5ad / Cell Ranger .h5 file, or MatrixMarket files one by
        one, as for `open_source`.
    dataset
        The dataset's name (default: the directory's name or the file's stem, see `dataset_name`).
    layer
        AnnData only: which matrix (`X`, `raw`, a `layers/` name); default as for `open_source`.
    cell_type_column, sample_column
        The metadata (obs) columns holding each cell's type and sample; default as for `open_source`.
    progress
        Show a progress bar on stderr: True, False, or None for "when stderr is a terminal".

    Returns
    -------
    LoadResult
        What was published: sizes, layout, value kind (`counts` or `real`), load id and time taken.

    Raises
    ------
    DetectError, InputError, DatasetNameError
        The study cannot be loaded; nothing was written.
    LoadConflictError
        Another load of the same dataset, or a drop, got in the way; this load published nothing.
    LoadInterruptedError
        Interrupted (Ctrl-C); its partial data was removed and the previous version kept.
    genostream.errors.EngineError
        The engine refused a statement (ClickHouse's error code and name are kept).
    """
    started = time.perf_counter()
    source = open_source(
        data_dir,
        matrix=matrix,
        genes=genes,
        barcodes=barcodes,
        metadata=metadata,
        layer=layer,
        cell_type_column=cell_type_column,
        sample_column=sample_column,
    )
    try:
        name = dataset_name(dataset, _as_path(data_dir), _files_of(source))
        record = _load(client, source, name, started, progress)
    finally:
        source.close()
    _retire_older(client, record)
    seconds = time.perf_counter() - started
    log.info("FINISH load %s (%s) in %.1f s", name, record.load_id, seconds)
    return LoadResult(
        record.dataset,
        record.load_id,
        source.describe(),
        record.n_genes,
        record.n_cells,
        record.n_metadata_cells,
        record.nnz,
        record.value_kind,
        seconds,
    )


def _load(
    client: Client, source: StudySource, name: str, started: float, progress: bool | None
) -> LoadRecord:
    """Write the load's partitions, validate them and publish them with one manifest insert."""
    ensure_raw_schema(client)
    record = LoadRecord(
        load_id=manifest.new_load_id(),
        dataset=name,
        status="loading",
        layout=source.layout,
        n_genes=len(source.genes),
        n_cells=len(source.barcodes),
        cell_type_column=source.cell_type_column,
        sample_column=source.sample_column,
        source_files=_source_files(source, {}),
        loader_version=__version__,
        owner=lease.OWNER,
    )
    keys = {"dataset": literal(record.dataset), "load_id": literal(record.load_id)}
    with (
        manifest.running(client, record) as heartbeat,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher,
    ):
        try:
            baseline = _claim(client, record)
            manifest.garbage_collect(client)
            log.info("START load %s (%s) from %s", name, record.load_id, source.roles()[0][1])
            hashes = {role: hasher.submit(sha256_of, path) for role, path in source.roles()}
            log.debug("prepared in %.2f s", time.perf_counter() - started)
            paths = dict(source.roles())
            genes_path = paths.get("genes", paths["matrix"])
            barcodes_path = paths.get("barcodes", paths["matrix"])
            metadata_path = paths.get("metadata", paths["matrix"])
            _insert(client, "raw.genes", genes_table(source.genes, name, record.load_id), genes_path)
            _insert(
                client, "raw.barcodes", barcodes_table(source.barcodes, name, record.load_id), barcodes_path
            )
            for table in source.metadata_tables(name, record.load_id):
                _insert(client, "raw.metadata", table, metadata_path)
            log.debug("metadata done at %.2f s", time.perf_counter() - started)
            bar = LoadProgress(f"loading {name}", source.matrix_bytes, progress)
            try:
                for batch in prefetch(lambda: source.matrix_batches(bar.update)):
                    _insert(client, "raw.matrix", _matrix_table(batch, name, record.load_id), paths["matrix"])
            finally:
                bar.close()
            log.debug("matrix done at %.2f s", time.perf_counter() - started)
            duplicate = None if source.stats.strictly_sorted else _duplicate_entry(client, keys)
            if duplicate is not None:
                raise source.duplicate_entry_error(*duplicate)
            source.check_landed(client, keys)
            log.debug("validated at %.2f s", time.perf_counter() - started)
            record = replace(
                record,
                status="loaded",
                value_kind=value_kind(source.integer_declared, source.stats),
                nnz=source.stats.nnz,
                n_metadata_cells=source.n_metadata_cells,
                source_files=_source_files(source, hashes),
            )
            heartbeat.stop()  # from here on the publish insert is this row's last version
            _check_publishable(client, record, baseline)
            stored = {
                "genes": (len(source.genes), genes_path),
                "barcodes": (len(source.barcodes), barcodes_path),
                "matrix": (source.stats.nnz, paths["matrix"]),
            }
            if source.n_metadata_cells:
                stored["metadata"] = (source.n_metadata_cells, metadata_path)
            _verify_stored(client, record, stored)
            record = replace(record, finished_at=lease.engine_now(client))
            manifest.write(client, record)  # the atomic publish
        except BaseException as exc:
            heartbeat.stop()  # so that no renewal lands after the `failed` row
            _abandon(client, record, exc)
            if isinstance(exc, KeyboardInterrupt):
                raise LoadInterruptedError(
                    f"load of {name} interrupted; its partial data was removed and the previous version kept"
                ) from None
            raise
    return record


def _claim(client, record: LoadRecord) -> str | None:
    """Refuse to run beside an earlier live load of the same dataset; the load readers see now (or None).

    Every load writes its `loading` row before this check, so of two overlapping loads at least one sees the
    other: the later-started one (greater load_id) gives way, here or at its publish check.
    """
    _refuse_if_overtaken(client, record, manifest.all_loads(client, record.dataset))
    return manifest.current_load_ids(client).get(record.dataset)


def _refuse_if_overtaken(client, record: LoadRecord, loads: list[LoadRecord]) -> None:
    earlier = [r for r in manifest.live_loads(client, loads) if r.load_id < record.load_id]
    if earlier:
        other = earlier[0]
        raise LoadConflictError(
            f"dataset {record.dataset!r} is already being loaded (load {other.load_id} by {other.owner}, "
            f"started {other.started_at:%Y-%m-%d %H:%M:%S} UTC): nothing was published — wait for it "
            f"(a crashed load is cleared once its lease of {lease.LEASE.total_seconds():.0f} s runs out)"
        )


def _check_publishable(client, record: LoadRecord, baseline: str | None) -> None:
    """Just before publishing: the load still owns its row, no other load of the dataset won meanwhile, and
    its partitions hold exactly what it wrote (nothing dropped under it)."""
    loads = manifest.all_loads(client, record.dataset)
    mine = next((r for r in loads if r.load_id == record.load_id), None)
    name = record.dataset
    if mine is None or mine.status != "loading":
        dropped = mine is not None and mine.status == "dropped"
        why = "the dataset was dropped" if dropped else "it was collected as crashed"
        raise LoadConflictError(f"load {record.load_id} of {name!r} published nothing: {why} while it ran")
    if not is_embedded(client) and mine.lease_until <= lease.engine_now(client):
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: its lease expired (no heartbeat for "
            f"{lease.LEASE.total_seconds():.0f} s), so other loaders may have collected its data"
        )
    _refuse_if_overtaken(client, record, loads)
    published = manifest.current_load_ids(client).get(name)
    if published != baseline:
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: another load ({published}) was published "
            "while it ran — load again to replace that one"
        )
    expected = {
        "genes": record.n_genes,
        "barcodes": record.n_cells,
        "metadata": record.n_metadata_cells,
        "matrix": record.nnz,
    }
    stored = manifest.partition_rows(client, name, record.load_id)
    short = [f"raw.{t}: {stored[t]:,} of {n:,} rows" for t, n in expected.items() if stored[t] != n]
    if short:
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: its stored data does not match what it "
            f"wrote ({', '.join(short)})"
        )


def _abandon(client, record: LoadRecord, exc: BaseException) -> None:
    """Mark a failed load and remove its partitions; if even that fails, the next run's GC does it."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        manifest.set_status(client, [record], "failed", message)
        manifest.drop_partitions(client, record.dataset, record.load_id)
    except Exception:  # cleanup is best effort; garbage_collect() finishes it on the next run
        log.warning("could not clean up failed load %s; the next run will", record.load_id, exc_info=True)


def _retire_older(client, record: LoadRecord) -> None:
    older = [
        r
        for r in manifest.all_loads(client, record.dataset)
        if r.status == "loaded" and r.load_id != record.load_id
    ]
    manifest.set_status(client, older, "replaced")
    for r in older:
        manifest.drop_partitions(client, r.dataset, r.load_id)


def _iso(value) -> str | None:
    return lease.as_utc(value).isoformat() if value is not None else None


LIST_SQL = f"""
    SELECT
        dataset AS name, n_genes, n_cells, n_metadata_cells, nnz, value_kind, layout, loaded_at, started_at,
        load_id, loader_version, cell_type_column, sample_column, source_files
    FROM {CURRENT_LOADS_VIEW}
    ORDER BY dataset
"""


@engine_errors()
def list_datasets(client: Client) -> list[dict[str, Any]]:
    """The datasets readers see now, one entry each (its current load: `raw.current_loads`), by name.

    Parameters
    ----------
    client
        A client on the store.

    Returns
    -------
    list of dict
        Per dataset: name, sizes (n_genes, n_cells, n_metadata_cells, nnz), value_kind, layout, loaded_at and
        started_at (ISO 8601, UTC), load_id, loader_version, the metadata columns used and the source files
        (role, path, size, sha256).

    Raises
    ------
    genostream.errors.EngineError
        The engine refused a statement.
    """
    ensure_raw_schema(client)
    result = client.query(LIST_SQL)
    entries = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    for entry in entries:
        entry["loaded_at"] = _iso(entry["loaded_at"])
        entry["started_at"] = _iso(entry["started_at"])
        entry["source_files"] = json.loads(entry["source_files"] or "[]")
        entry["value_kind"] = str(entry["value_kind"])
        entry["layout"] = str(entry["layout"])
    return entries


@engine_errors()
def drop_dataset(client: Client, name: str) -> None:
    """Remove a dataset: one manifest insert hides it, then its partitions are dropped.

    A load of it still in flight then publishes nothing.

    Parameters
    ----------
    client
        A client on the store.
    name
        The dataset's name.

    Raises
    ------
    UnknownDatasetError
        No dataset of that name is loaded.
    genostream.errors.EngineError
        The engine refused a statement.
    """
    ensure_raw_schema(client)
    if name not in manifest.current_load_ids(client):
        raise UnknownDatasetError(f"no dataset named {name!r} is loaded")
    loads = [r for r in manifest.all_loads(client, name) if r.status != "dropped"]
    manifest.set_status(client, loads, "dropped")
    for r in loads:
        manifest.drop_partitions(client, r.dataset, r.load_id)
