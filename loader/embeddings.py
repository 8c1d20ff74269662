"""Cell embeddings (UMAP, t-SNE, …): the 2-D coordinates a study ships, landed as `raw.embeddings` rows.

Three sources, every one optional:
- AnnData `obsm`: every dense key of shape cells × k with k ≥ 2 (its first two columns). The embedding is
  named after the key without scanpy's `X_` prefix (`X_umap` → `umap`, as `sc.pl.embedding(basis="umap")`),
  unless that name is itself a key. Sparse or dataframe keys and 1-column arrays are skipped.
- Single Cell Portal cluster files (`--cluster FILE`, or found beside a Portal study): a `NAME` header with
  `X` and `Y` columns (`Z` and annotation columns are ignored) and a `TYPE` row where X and Y are `numeric`;
  tab-separated (comma-separated when the header has no tab). Named after the file (`cluster_umap.tsv` →
  `cluster_umap`).
- Cell Ranger `analysis/umap|tsne/<n>/projection.csv` beside the matrix directory or .h5 file (in `outs/`):
  `Barcode,UMAP-1,UMAP-2`. Named `umap` / `tsne` (`umap_<n>` when there are several).

Every coordinate must be finite and every cell named in a file must be a cell of the study, listed once; a
file may cover only some of the cells. Files stream in blocks (memory follows the block and the study's cell
count, not the file). Refusals are one line naming the file and line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loader.errors import InputError
from loader.features import constant_column
from loader.identifiers import describe, identifier_problem
from loader.textio import READ_ERRORS, bounded_lines, decode_line, is_gzip, read_failure, require_file

log = logging.getLogger(__name__)

BLOCK_ROWS = 100_000
PROJECTION_KINDS = ("umap", "tsne")
CLUSTER_SUFFIXES = re.compile(r"(\.(txt|tsv|csv|dat))?(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class CoordinateBlock:
    """Up to BLOCK_ROWS cells of one embedding: their names (or positions), x, y, and the file lines."""

    x: np.ndarray
    y: np.ndarray
    names: pa.Array | None = None  # cell names as written (text files)
    positions: np.ndarray | None = None  # 0-based cell positions in the study (obsm rows)
    lines: np.ndarray | None = None  # 1-based line of each row (text files)


@dataclass(frozen=True)
class Embedding:
    """One embedding to land: its name, where it comes from (for messages and the manifest) and its rows."""

    name: str
    path: Path
    where: str  # e.g. `obsm/X_umap`, `cluster file`, `Cell Ranger projection`
    blocks: Callable[[], Iterator[CoordinateBlock]]
    file_role: str | None = None  # a separate input file's manifest role (None: inside the study file)


# --- AnnData obsm -------------------------------------------------------------------------------------------


def obsm_embeddings(handle, path: Path, n_obs: int) -> list[Embedding]:
    """The embeddings of an open .h5ad's `obsm` (see the module docstring for which keys count)."""
    import h5py

    group = handle.get("obsm")
    if not isinstance(group, h5py.Group):
        return []
    keys = sorted(str(k) for k in group)
    found: list[Embedding] = []
    for key in keys:
        node = group[key]
        where = f"obsm/{key}"
        if not isinstance(node, h5py.Dataset):
            log.info("%s: %s is not a dense array; not an embedding", path, where)
            continue
        if node.dtype.kind not in "fiu" or node.ndim != 2 or node.shape[1] < 2:
            log.info("%s: %s is not a cells × 2+ numeric array; not an embedding", path, where)
            continue
        if node.shape[0] != n_obs:
            raise InputError(path, None, f"{where} has {node.shape[0]} rows but obs has {n_obs} cells")
        name = key[2:] if key.startswith("X_") and len(key) > 2 and key[2:] not in keys else key
        _check_name(path, None, name)
        found.append(Embedding(name, path, where, _obsm_blocks(node, n_obs)))
    return found


def _obsm_blocks(node, n_obs: int) -> Callable[[], Iterator[CoordinateBlock]]:
    def blocks() -> Iterator[CoordinateBlock]:
        for start in range(0, n_obs, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, n_obs)
            values = np.asarray(node[start:stop, :2], dtype=np.float64)
            yield CoordinateBlock(values[:, 0], values[:, 1], positions=np.arange(start, stop))

    return blocks


# --- text files: Single Cell Portal cluster files, Cell Ranger projections ---------------------------------


def _head(path: Path, n: int = 2) -> list[str]:
    """The first `n` lines (decoded strictly); unreadable → InputError."""
    import gzip

    try:
        with gzip.open(path, "rb") if is_gzip(path) else path.open("rb") as handle:
            lines = []
            for number, raw in bounded_lines(handle, path):
                lines.append(decode_line(path, number, raw))
                if number >= n:
                    break
    except READ_ERRORS as exc:
        raise read_failure(path, exc) from None
    return lines


def _delimiter(header: str) -> str:
    return "\t" if "\t" in header else ","


def is_scp_cluster(path: Path) -> bool:
    """A Single Cell Portal cluster file: a NAME header with X and Y columns, then a TYPE row."""
    try:
        lines = _head(path)
    except InputError:
        return False
    if len(lines) < 2:
        return False
    sep = _delimiter(lines[0])
    columns = [c.strip().upper() for c in lines[0].split(sep)]
    return (
        columns[0] == "NAME"
        and {"X", "Y"} <= set(columns)
        and lines[1].split(sep)[0].strip().upper() == "TYPE"
    )


@dataclass(frozen=True)
class _TextLayout:
    """Where a coordinate file's columns are and where its data rows start."""

    sep: str
    x: int
    y: int
    first_data_line: int


def _cluster_layout(path: Path) -> _TextLayout:
    require_file(path, "cluster")
    lines = _head(path)
    if not lines:
        raise InputError(path, 1, "cluster file has no lines")
    sep = _delimiter(lines[0])
    columns = [c.strip() for c in lines[0].split(sep)]
    upper = [c.upper() for c in columns]
    if upper[0] != "NAME":
        raise InputError(path, 1, "cluster file header must start with NAME (Single Cell Portal layout)")
    for axis in ("X", "Y"):
        if upper.count(axis) != 1:
            found = "no" if axis not in upper else "more than one"
            raise InputError(path, 1, f"cluster file header has {found} {axis} column (NAME, X, Y[, Z])")
    if len(lines) < 2 or lines[1].split(sep)[0].strip().upper() != "TYPE":
        raise InputError(path, 2, "the second line of a cluster file must be the TYPE row")
    types = [t.strip().lower() for t in lines[1].split(sep)]
    if len(types) != len(columns):
        raise InputError(path, 2, f"TYPE row has {len(types)} fields but the header has {len(columns)}")
    x, y = upper.index("X"), upper.index("Y")
    for axis, at in (("X", x), ("Y", y)):
        if types[at] != "numeric":
            raise InputError(path, 2, f"TYPE of {axis} is {types[at]!r}; coordinates must be numeric")
    return _TextLayout(sep, x, y, 3)


def _projection_layout(path: Path) -> _TextLayout:
    require_file(path, "projection")
    lines = _head(path, 1)
    if not lines:
        raise InputError(path, 1, "projection file has no lines")
    columns = [c.strip() for c in lines[0].split(",")]
    if len(columns) < 3 or columns[0].lower() != "barcode":
        raise InputError(path, 1, "projection header must be Barcode,<X>,<Y> (Cell Ranger projection.csv)")
    return _TextLayout(",", 1, 2, 2)


def _number(path: Path, line: int, axis: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise InputError(path, line, f"{axis} value {shown!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(
            path, line, f"{axis} value {text.strip()!r} is not finite; coordinates must be finite"
        )
    return value


def _text_blocks(path: Path, layout: _TextLayout) -> Callable[[], Iterator[CoordinateBlock]]:
    import gzip

    width = max(layout.x, layout.y) + 1

    def blocks() -> Iterator[CoordinateBlock]:
        names: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        lines: list[int] = []

        def flush() -> CoordinateBlock:
            block = CoordinateBlock(
                np.array(xs, dtype=np.float64),
                np.array(ys, dtype=np.float64),
                names=pa.array(names, pa.string()),
                lines=np.array(lines, dtype=np.int64),
            )
            names.clear()
            xs.clear()
            ys.clear()
            lines.clear()
            return block

        number = 0
        try:
            with gzip.open(path, "rb") if is_gzip(path) else path.open("rb") as handle:
                for number, raw in bounded_lines(handle, path):
                    if number < layout.first_data_line:
                        continue
                    text = decode_line(path, number, raw)
                    if not text.strip():
                        continue
                    fields = text.split(layout.sep)
                    if len(fields) < width:
                        raise InputError(path, number, f"{len(fields)} fields; expected at least {width}")
                    problem = identifier_problem(fields[0])
                    if problem:
                        raise InputError(path, number, describe("cell name", fields[0], problem))
                    names.append(fields[0])
                    xs.append(_number(path, number, "X", fields[layout.x]))
                    ys.append(_number(path, number, "Y", fields[layout.y]))
                    lines.append(number)
                    if len(names) >= BLOCK_ROWS:
                        yield flush()
        except READ_ERRORS as exc:
            raise read_failure(path, exc, number or None) from None
        if names:
            yield flush()

    return blocks


def cluster_embedding(path: Path) -> Embedding:
    """A Single Cell Portal cluster file, its header and TYPE row checked."""
    path = Path(path)
    layout = _cluster_layout(path)
    name = CLUSTER_SUFFIXES.sub("", path.name) or path.name
    _check_name(path, None, name)
    return Embedding(name, path, "cluster file", _text_blocks(path, layout), file_role="cluster")


def projection_embeddings(matrix: Path) -> list[Embedding]:
    """Cell Ranger `analysis/umap|tsne/*/projection.csv` in the matrix's directory, beside it or its parent
    (`outs/analysis` next to `outs/filtered_feature_bc_matrix/` or `outs/filtered_feature_bc_matrix.h5`)."""
    base = matrix.parent
    candidates = [base / "analysis", base.parent / "analysis"]
    analysis = next((d for d in candidates if d.is_dir()), None)
    if analysis is None:
        return []
    found: list[Embedding] = []
    for kind in PROJECTION_KINDS:
        files = sorted((analysis / kind).glob("*/projection.csv")) if (analysis / kind).is_dir() else []
        for path in files:
            name = kind if len(files) == 1 else f"{kind}_{path.parent.name}"
            _check_name(path, None, name)
            layout = _projection_layout(path)
            found.append(
                Embedding(name, path, "Cell Ranger projection", _text_blocks(path, layout), "projection")
            )
    return found


def _check_name(path: Path, line: int | None, name: str) -> None:
    problem = identifier_problem(name)
    if problem:
        raise InputError(path, line, describe("embedding name", name, problem))


def refuse_repeated_names(embeddings: list[Embedding]) -> None:
    """Two embeddings of one study cannot share a name."""
    seen: dict[str, Embedding] = {}
    for embedding in embeddings:
        other = seen.get(embedding.name)
        if other is not None:
            raise InputError(
                embedding.path,
                None,
                f"embedding {embedding.name!r} is given twice ({other.where} {other.path.name} and "
                f"{embedding.where}); rename one of the files",
            )
        seen[embedding.name] = embedding


# --- landing ------------------------------------------------------------------------------------------------


def embedding_tables(
    embeddings: list[Embedding], barcodes: list[str], dataset: str, load_id: str
) -> Iterator[tuple[Embedding, pa.Table]]:
    """`raw.embeddings` rows of every embedding, block by block, each checked: finite coordinates, cells of
    the study, none listed twice."""
    study = pa.array(barcodes, pa.string()) if embeddings else None
    for embedding in embeddings:
        first_line = np.zeros(len(barcodes), dtype=np.int64)  # 0: not seen yet
        for block in embedding.blocks():
            positions = _positions(embedding, block, study, first_line)
            bad = ~(np.isfinite(block.x) & np.isfinite(block.y))
            if bad.any():
                at = int(positions[int(np.flatnonzero(bad)[0])])
                raise InputError(
                    embedding.path,
                    None,
                    f"{embedding.where}: row {at + 1} (cell {barcodes[at]!r}) has a coordinate that is not "
                    "finite (NaN or inf)",
                )
            n = len(positions)
            cells = pc.take(study, pa.array(positions)) if block.names is None else block.names
            yield (
                embedding,
                pa.Table.from_arrays(
                    [
                        constant_column(dataset, n),
                        constant_column(load_id, n),
                        constant_column(embedding.name, n),
                        cells,
                        pa.array(block.x, pa.float64()),
                        pa.array(block.y, pa.float64()),
                    ],
                    names=["dataset", "load_id", "embedding", "barcode", "x", "y"],
                ),
            )


def _positions(
    embedding: Embedding, block: CoordinateBlock, study: pa.Array | None, first_line: np.ndarray
) -> np.ndarray:
    """The study positions of a text block's cells, refusing unknown and repeated ones."""
    if block.positions is not None:
        return block.positions
    assert block.names is not None and block.lines is not None and study is not None
    found = pc.index_in(block.names, value_set=study)
    unknown = pc.is_null(found)
    if pc.any(unknown).as_py():
        row = int(pc.index(unknown, True).as_py())
        raise InputError(
            embedding.path,
            int(block.lines[row]),
            f"cell {block.names[row].as_py()!r} is not a cell of the study (not among its barcodes)",
        )
    positions = found.to_numpy(zero_copy_only=False).astype(np.int64)
    for row, position in enumerate(positions):
        if first_line[position]:
            raise InputError(
                embedding.path,
                int(block.lines[row]),
                f"cell {block.names[row].as_py()!r} is listed twice (first at line {first_line[position]})",
            )
        first_line[position] = block.lines[row]
    return positions


def find_embeddings(source, clusters: list[Path]) -> list[Embedding]:
    """Every embedding of an opened study (`loader.source.StudySource`): its .h5ad's obsm, Cell Ranger
    projections beside a 10x matrix, and the given cluster files; names must not repeat."""
    found: list[Embedding] = []
    if source.layout == "h5ad":
        found += obsm_embeddings(source.handle, source.path, len(source.barcodes))
    if source.layout in ("10x", "10x-h5"):
        found += projection_embeddings(dict(source.roles())["matrix"])
    found += [cluster_embedding(path) for path in clusters]
    refuse_repeated_names(found)
    return found
