"""Public Python API of the loader: load, list and drop datasets in the engine's `raw` tables.

A load never touches what readers see until it is complete and valid: it writes its own (dataset, load_id)
partitions, checks them, then publishes with one manifest insert (see `loader.manifest`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from genostream.engine import engine_errors, is_embedded
from loader import __version__, lease, manifest
from loader.detect import StudyFiles, detect_study
from loader.errors import (
    DatasetNameError,
    InputError,
    LoadConflictError,
    LoadInterruptedError,
    StoreWriteError,
    UnknownDatasetError,
)
from loader.features import Genes, barcodes_table, constant_column, genes_table, read_barcodes, read_genes
from loader.manifest import LoadRecord, literal
from loader.metadata import MetadataHeader, MetadataReader, read_metadata_header
from loader.mtx import MatrixReader, MtxHeader, find_entry_line, read_header
from loader.pipeline import prefetch
from loader.progress import LoadProgress
from loader.schema import CURRENT_LOADS_VIEW, ensure_raw_schema
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


def dataset_name(dataset: str | None, data_dir: Path | None, files: StudyFiles) -> str:
    """The name a study is loaded as: `dataset`, else its directory's name.

    Parameters
    ----------
    dataset
        The name asked for (`--dataset`), or None to use the directory's name.
    data_dir
        The study directory, or None when the files were given one by one (then the matrix's directory).
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
    name = dataset if dataset is not None else (data_dir or files.matrix.parent).resolve().name
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
    import pyarrow as pa

    n = batch.num_rows
    return pa.Table.from_arrays(
        [constant_column(dataset, n), constant_column(load_id, n), *batch.columns],
        names=["dataset", "load_id", *batch.schema.names],
    )


def _check_duplicates(client, record: LoadRecord, reader: MatrixReader, metadata: Path | None) -> None:
    """Duplicate entries (possible only if the file is not strictly sorted) and duplicate metadata NAMEs."""
    keys = {"dataset": literal(record.dataset), "load_id": literal(record.load_id)}
    header = reader.header
    rows = (
        [] if reader.stats.strictly_sorted else client.query(DUPLICATE_ENTRY_SQL.format(**keys)).result_rows
    )
    if rows:
        gene, cell = (int(v) for v in rows[0])
        line = find_entry_line(header, gene, cell)
        raise InputError(header.path, line, f"duplicate entry for row {gene}, column {cell}")
    if metadata is not None:
        rows = client.query(DUPLICATE_CELL_SQL.format(**keys)).result_rows
        if rows:
            barcode = rows[0][0]
            hits = (n for n, text in iter_lines(metadata, 3) if text.split("\t", 1)[0] == barcode)
            next(hits, None)
            raise InputError(metadata, next(hits, None), f"duplicate NAME {barcode!r} in the metadata")


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


def _source_files(files: StudyFiles, hashes: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "role": role,
            "path": str(path.resolve()),
            "size": path.stat().st_size,
            "sha256": hashes[role].result() if role in hashes else "",
        }
        for role, path in files.roles()
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


def _as_path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None


def open_study(
    data_dir: Path | str | None,
    *,
    matrix: Path | str | None = None,
    genes: Path | str | None = None,
    barcodes: Path | str | None = None,
    metadata: Path | str | None = None,
) -> Study:
    """Find a study's files, read its genes and barcodes, check the matrix and metadata headers against them.

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
        `data_dir` holds no recognisable study, or several candidates for a role.
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
    for role, path in files.roles():
        require_file(path, role)
    header = read_header(files.matrix)
    gene_list = read_genes(files.genes)
    barcode_list = read_barcodes(files.barcodes)
    _check_dimensions(header, files, len(gene_list), len(barcode_list))
    meta = read_metadata_header(files.metadata) if files.metadata else None
    return Study(directory, files, header, gene_list, barcode_list, meta)


def check_study(data_dir: Path | str) -> StudyFiles:
    """The files of the loadable study in `data_dir` (`loader detect`); reads no matrix body.

    Parameters
    ----------
    data_dir
        The study directory.

    Returns
    -------
    StudyFiles
        Which file plays which role, and the layout (`scp` or `10x`).

    Raises
    ------
    DetectError, InputError
        As `open_study`.
    """
    return open_study(data_dir).files


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
    cell_type_column: str = "Cluster",
    sample_column: str = "Subject",
    progress: bool | None = None,
) -> LoadResult:
    """Load one study as a dataset; its previous version is replaced only once this one is whole and valid.

    Parameters
    ----------
    client
        A client on the store (`genostream.engine.get_client()`); the `raw` tables are created if missing.
    data_dir, matrix, genes, barcodes, metadata
        Where the study is, as for `open_study`.
    dataset
        The dataset's name (default: the directory's name, see `dataset_name`).
    cell_type_column, sample_column
        The metadata columns holding each cell's type and sample.
    progress
        Show a progress bar on stderr: True, False, or None for "when stderr is a terminal".

    Returns
    -------
    LoadResult
        What was published: sizes, value kind (`counts` or `real`), load id and time taken.

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
    study = open_study(data_dir, matrix=matrix, genes=genes, barcodes=barcodes, metadata=metadata)
    files, header, gene_list, barcode_list = study.files, study.header, study.genes, study.barcodes
    name = dataset_name(dataset, study.data_dir, files)
    meta = (
        MetadataReader(study.metadata, cell_type_column, sample_column)
        if study.metadata is not None
        else None
    )

    ensure_raw_schema(client)
    record = LoadRecord(
        load_id=manifest.new_load_id(),
        dataset=name,
        status="loading",
        layout=files.layout,
        n_genes=len(gene_list),
        n_cells=len(barcode_list),
        cell_type_column=cell_type_column if meta else "",
        sample_column=(meta.sample_column or "") if meta else "",
        source_files=_source_files(files, {}),
        loader_version=__version__,
        owner=lease.OWNER,
    )
    with (
        manifest.running(client, record) as heartbeat,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher,
    ):
        try:
            baseline = _claim(client, record)
            manifest.garbage_collect(client)
            log.info("START load %s (%s) from %s", name, record.load_id, files.matrix)
            hashes = {role: hasher.submit(sha256_of, path) for role, path in files.roles()}
            log.debug("prepared in %.2f s", time.perf_counter() - started)
            _insert(client, "raw.genes", genes_table(gene_list, name, record.load_id), files.genes)
            _insert(
                client, "raw.barcodes", barcodes_table(barcode_list, name, record.load_id), files.barcodes
            )
            if meta:
                for table in meta.tables(name, record.load_id):
                    _insert(client, "raw.metadata", table, meta.header.path)
            log.debug("metadata done at %.2f s", time.perf_counter() - started)
            reader = MatrixReader(header)
            bar = LoadProgress(f"loading {name}", files.matrix.stat().st_size, progress)
            try:
                for batch in prefetch(lambda: reader.batches(bar.update)):
                    _insert(client, "raw.matrix", _matrix_table(batch, name, record.load_id), files.matrix)
            finally:
                bar.close()
            log.debug("matrix done at %.2f s", time.perf_counter() - started)
            _check_duplicates(client, record, reader, files.metadata)
            log.debug("validated at %.2f s", time.perf_counter() - started)
            counts = header.field == "integer" or reader.stats.all_integral
            record = replace(
                record,
                status="loaded",
                value_kind="counts" if counts else "real",
                nnz=reader.stats.nnz,
                n_metadata_cells=meta.rows if meta else 0,
                source_files=_source_files(files, hashes),
            )
            heartbeat.stop()  # from here on the publish insert is this row's last version
            _check_publishable(client, record, baseline)
            stored = {
                "genes": (len(gene_list), files.genes),
                "barcodes": (len(barcode_list), files.barcodes),
                "matrix": (reader.stats.nnz, files.matrix),
            }
            if meta:
                stored["metadata"] = (meta.rows, meta.header.path)
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
    _retire_older(client, record)
    seconds = time.perf_counter() - started
    log.info("FINISH load %s (%s) in %.1f s", name, record.load_id, seconds)
    return LoadResult(
        record.dataset,
        record.load_id,
        record.layout,
        record.n_genes,
        record.n_cells,
        record.n_metadata_cells,
        record.nnz,
        record.value_kind,
        seconds,
    )


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
