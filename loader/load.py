"""Load one study as a dataset: write its own (dataset, load_id) partitions, validate them, publish.

A load never touches what readers see until it is complete and valid: every layout — MatrixMarket
directories, AnnData .h5ad, Cell Ranger .h5 — is opened as a `StudySource` (`loader.study`) and goes through
the same write and validation steps here, then the publish protocol of `loader.publish`.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from clickhouse_connect.driver.client import Client

from genostream import __version__
from genostream.engine import engine_errors
from loader import lease, manifest, publish
from loader.embeddings import Embedding, embedding_tables, find_embeddings
from loader.entries import value_kind
from loader.errors import DatasetNameError, LoadInterruptedError, StoreWriteError
from loader.features import barcodes_table, constant_column, genes_table
from loader.filestate import FileState, refuse_changed, snapshot
from loader.formats.hdf5 import Hdf5File
from loader.formats.text import StudyFiles
from loader.manifest import LoadRecord, literal
from loader.pipeline import prefetch
from loader.progress import LoadProgress
from loader.schema import ensure_raw_schema
from loader.source import StudySource
from loader.study import find_study, open_files
from loader.textio import sha256_of

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
    embeddings: tuple[str, ...] = ()

    def summary(self) -> str:
        rate = self.nnz / self.seconds if self.seconds > 0 else 0.0
        kept = f", embeddings: {', '.join(self.embeddings)}" if self.embeddings else ""
        return (
            f"loaded {self.dataset} ({self.layout}, {self.value_kind}): {self.n_genes:,} genes × "
            f"{self.n_cells:,} cells, {self.nnz:,} non-zeros, {self.n_metadata_cells:,} metadata rows{kept} "
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
            f"{source}: writing {table} failed ({exc.strerror or exc}; {publish.WRITE_HINT}"
        ) from None


def _embedding_files(embeddings: list[Embedding]) -> list[tuple[str, Path, str]]:
    """(manifest key, path, embedding) of every embedding kept in a file of its own."""
    return [(f"{e.file_role}:{e.name}", e.path, e.name) for e in embeddings if e.file_role]


def _source_files(
    source: StudySource, hashes: dict[str, Any], embeddings: list[Embedding]
) -> list[dict[str, Any]]:
    extra = source.details()
    files = [
        {
            "role": role,
            "path": str(path.resolve()),
            "size": path.stat().st_size,
            "sha256": hashes[role].result() if role in hashes else "",
            **(extra if role == "matrix" else {}),
        }
        for role, path in source.roles()
    ]
    for key, path, name in _embedding_files(embeddings):
        files.append(
            {
                "role": key.split(":")[0],
                "path": str(path.resolve()),
                "size": path.stat().st_size,
                "sha256": hashes[key].result() if key in hashes else "",
                "embedding": name,
            }
        )
    return files


def _cluster_paths(files: StudyFiles | Hdf5File, clusters: list[Path | str] | None) -> list[Path]:
    """Cluster files found beside a Portal study and those given (`--cluster`), each once."""
    found = list(getattr(files, "clusters", ()))
    seen = {p.resolve() for p in found}
    for given in clusters or []:
        path = Path(given)
        if path.resolve() not in seen:
            seen.add(path.resolve())
            found.append(path)
    return found


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
    clusters: list[Path | str] | None = None,
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
    clusters
        Single Cell Portal cluster files (cell coordinates, `--cluster`), besides those found in the study
        directory; with the .h5ad's obsm and Cell Ranger projections they land in `raw.embeddings`
        (`loader.embeddings`).
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
    files = find_study(data_dir, matrix=matrix, genes=genes, barcodes=barcodes, metadata=metadata)
    cluster_paths = _cluster_paths(files, clusters)
    states = snapshot([path for _, path in files.roles()] + cluster_paths)  # before the load reads them
    source = open_files(
        files,
        data_dir=data_dir,
        layer=layer,
        cell_type_column=cell_type_column,
        sample_column=sample_column,
    )
    try:
        name = dataset_name(dataset, Path(data_dir) if data_dir is not None else None, files)
        embeddings = find_embeddings(source, cluster_paths)
        states.update(snapshot([e.path for e in embeddings if e.file_role and e.path not in states]))
        record = _load(client, source, name, started, progress, states, embeddings)
    finally:
        source.close()
    publish.retire_older(client, record)
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
        tuple(e.name for e in embeddings),
    )


def _load(
    client: Client,
    source: StudySource,
    name: str,
    started: float,
    progress: bool | None,
    states: dict[Path, FileState | None],
    embeddings: list[Embedding],
) -> LoadRecord:
    """Write the load's partitions, validate them and publish them with one manifest insert; `states`, the
    input files as they were before the load read them, must still hold once everything is read."""
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
        source_files=_source_files(source, {}, embeddings),
        loader_version=__version__,
        owner=lease.OWNER,
    )
    keys = {"dataset": literal(record.dataset), "load_id": literal(record.load_id)}
    with (
        manifest.running(client, record) as heartbeat,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher,
    ):
        try:
            baseline = publish.claim(client, record)
            manifest.garbage_collect(client)
            log.info("START load %s (%s) from %s", name, record.load_id, source.roles()[0][1])
            hashes = {role: hasher.submit(sha256_of, path) for role, path in source.roles()}
            hashes.update({key: hasher.submit(sha256_of, p) for key, p, _ in _embedding_files(embeddings)})
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
            n_embedded = 0
            for embedding, table in embedding_tables(embeddings, source.barcodes, name, record.load_id):
                _insert(client, "raw.embeddings", table, embedding.path)
                n_embedded += table.num_rows
            log.debug("metadata and embeddings done at %.2f s", time.perf_counter() - started)
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
                source_files=_source_files(source, hashes, embeddings),
            )
            refuse_changed(states)  # the checksums and the rows describe the same bytes
            heartbeat.stop()  # from here on the publish insert is this row's last version
            stored = {
                "genes": (len(source.genes), genes_path),
                "barcodes": (len(source.barcodes), barcodes_path),
                "matrix": (source.stats.nnz, paths["matrix"]),
            }
            if source.n_metadata_cells:
                stored["metadata"] = (source.n_metadata_cells, metadata_path)
            if n_embedded:
                stored["embeddings"] = (n_embedded, embeddings[0].path)
            record = publish.publish(client, record, baseline, stored)
        except BaseException as exc:
            heartbeat.stop()  # so that no renewal lands after the `failed` row
            publish.abandon(client, record, exc)
            if isinstance(exc, KeyboardInterrupt):
                raise LoadInterruptedError(
                    f"load of {name} interrupted; its partial data was removed and the previous version kept"
                ) from None
            raise
    return record
