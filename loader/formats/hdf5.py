"""HDF5 studies (AnnData .h5ad, Cell Ranger .h5): recognise them by content, open them, stream their matrices.

h5py decodes the format; this module only walks a compressed-sparse (CSR/CSC) or dense matrix in blocks of
entries — so memory stays bounded by the block, not the matrix — checks indices and values with the same
rules as the text layouts (`loader.entries`), and yields the same 1-based Arrow batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa

from loader.entries import MatrixStats, entries_batch, first_fraction, value_problem
from loader.errors import InputError
from loader.identifiers import describe, first_problem

SIGNATURE = b"\x89HDF\r\n\x1a\n"
# HDF5 puts its superblock at 0 or, after a user block, at 512, 1024, 2048, … bytes.
SIGNATURE_OFFSETS = (0, 512, 1024, 2048, 4096, 8192)
# Entries per block: larger inserts are faster, but the engine's memory per insert grows with them; at
# 170M non-zeros 1M keeps the loader under 1 GB within ~1.1x of the MatrixMarket load (bench/README.md).
BLOCK_ENTRIES = 1 << 20
SPARSE_PARTS = ("data", "indices", "indptr")
TENX_V3_PARTS = frozenset({"barcodes", "data", "indices", "indptr", "shape", "features"})
TENX_V2_PARTS = frozenset({"barcodes", "data", "indices", "indptr", "shape", "genes"})
H5AD = "h5ad"
TENX_H5 = "10x-h5"
INSIDE_ONLY = "the loader reads only data stored inside the file it is given"


@dataclass(frozen=True)
class Hdf5File:
    """A study in one HDF5 file: `h5ad` (AnnData) or `10x-h5` (Cell Ranger); `matrix` is the file."""

    layout: str
    matrix: Path

    def roles(self) -> list[tuple[str, Path]]:
        return [("matrix", self.matrix)]


def is_hdf5(path: Path) -> bool:
    """True when the file carries the HDF5 signature (whatever its name says)."""
    try:
        with path.open("rb") as handle:
            for offset in SIGNATURE_OFFSETS:
                handle.seek(offset)
                head = handle.read(len(SIGNATURE))
                if len(head) < len(SIGNATURE):
                    return False
                if head == SIGNATURE:
                    return True
    except OSError:
        return False
    return False


def _outside_problem(
    handle: h5py.File, name: str, link: h5py.HardLink | h5py.SoftLink | h5py.ExternalLink
) -> str | None:
    """Why the object at `name` would make h5py read outside the file or loop, or None."""
    if isinstance(link, h5py.ExternalLink):
        return (
            f"{name} links to data that cannot be opened: an external link to {link.filename!r}:{link.path} "
            f"({INSIDE_ONLY})"
        )
    try:
        node = handle[name]  # a soft link resolves here, or fails (a loop, a missing target)
    except (KeyError, RuntimeError, OSError, ValueError):
        target = link.path if isinstance(link, h5py.SoftLink) else name
        return f"{name}: a soft link to {target} that does not resolve (a loop of links, or a missing target)"
    if isinstance(link, h5py.SoftLink) or not isinstance(node, h5py.Dataset):
        return None  # a soft link's target is checked where it is stored
    if node.is_virtual:
        return f"{name}: a virtual dataset (its data is mapped from other datasets or files; {INSIDE_ONLY})"
    if node.external:
        files = ", ".join(sorted({str(entry[0]) for entry in node.external}))
        return f"{name}: stored outside this file (HDF5 external storage in {files}; {INSIDE_ONLY})"
    return None


def check_self_contained(handle: h5py.File, path: Path) -> None:
    """Refuse a file whose objects would make h5py read other files (external links, external storage,
    virtual datasets) or loop (soft links that do not resolve): the loader reads only the file it is given,
    so a crafted file cannot copy a host file into the served data. Links are walked without following
    them, so a loop is found, not entered."""
    found: list[str] = []

    def visit(name: str, link: h5py.HardLink | h5py.SoftLink | h5py.ExternalLink) -> bool | None:
        problem = _outside_problem(handle, name, link)
        if problem is not None:
            found.append(problem)
            return True  # stop the walk
        return None

    try:
        handle.visititems_links(visit)
    except (KeyError, RuntimeError, OSError) as exc:
        raise InputError(path, None, f"cannot walk the HDF5 file (corrupt?): {_first_line(exc)}") from None
    if found:
        raise InputError(path, None, found[0])


def open_hdf5(path: Path) -> h5py.File:
    """Open read-only, refusing what is not self-contained (`check_self_contained`); a truncated or corrupt
    file is one InputError, not an h5py traceback."""
    if not is_hdf5(path):
        raise InputError(
            path, None, "not an HDF5 file (no HDF5 signature): expected AnnData .h5ad or Cell Ranger .h5"
        )
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(
            path, None, f"cannot open the HDF5 file (truncated or corrupt?): {_first_line(exc)}"
        ) from None
    try:
        check_self_contained(handle, path)
    except BaseException:
        handle.close()
        raise
    return handle


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _tenx_groups(handle: h5py.File) -> list[str]:
    if isinstance(handle.get("matrix"), h5py.Group) and set(handle["matrix"].keys()) >= TENX_V3_PARTS:
        return ["matrix"]
    return [
        name
        for name, item in handle.items()
        if isinstance(item, h5py.Group) and set(item.keys()) >= TENX_V2_PARTS
    ]


def hdf5_layout(handle: h5py.File) -> str | None:
    """`h5ad` (AnnData), `10x-h5` (Cell Ranger v2 or v3+) or None, from the file's own structure."""
    if handle.attrs.get("encoding-type") == "anndata" or {"obs", "var"} <= set(handle.keys()):
        return H5AD
    if _tenx_groups(handle):
        return TENX_H5
    return None


def sniff_layout(path: Path) -> str | None:
    """The layout of an HDF5 study file, or None (not HDF5, unreadable, or another HDF5 content); a file
    that is not self-contained is refused here already (`check_self_contained`)."""
    if not is_hdf5(path):
        return None
    try:
        with h5py.File(path, "r") as handle:
            check_self_contained(handle, path)
            return hdf5_layout(handle)
    except OSError:
        return None


def tenx_groups(handle: h5py.File) -> list[str]:
    """The group(s) holding a Cell Ranger matrix: `matrix` (v3+) or one per genome (v2)."""
    return _tenx_groups(handle)


def check_length(node: h5py.Dataset, path: Path, expected: int, declared_by: str) -> None:
    """Refuse a dataset that is not 1-d of `expected` values, from its metadata alone (before any read)."""
    if node.ndim != 1 or node.shape[0] != expected:
        where = node.name.lstrip("/")
        raise InputError(path, None, f"{where} has shape {node.shape} but {declared_by} declares {expected}")


def refuse_bad_names(path: Path, where: str, kind: str, names: list[str]) -> None:
    """Hold names read from an HDF5 file to the identifier rules of every reader (`loader.identifiers`)."""
    bad = first_problem(names)
    if bad is not None:
        position, problem = bad
        raise InputError(path, None, f"{where}: {describe(kind, names[position], problem)} (#{position + 1})")


def read_names(node: h5py.Dataset, path: Path, kind: str, expected: int, declared_by: str) -> list[str]:
    """A 1-d dataset of names: its length checked against what the matrix declares before it is read, each
    name decoded as strict UTF-8 (never U+FFFD: a changed name would no longer match) and checked."""
    check_length(node, path, expected, declared_by)
    where = node.name.lstrip("/")
    names = []
    for position, value in enumerate(node[()]):
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = f"byte 0x{value[exc.start]:02x} at {exc.start + 1}"
                raise InputError(
                    path, None, f"{where}: {kind} #{position + 1} is not valid UTF-8 ({byte})"
                ) from None
        names.append(str(value))
    refuse_bad_names(path, where, kind, names)
    return names


@dataclass
class StoredMatrix:
    """One matrix in an HDF5 file: `encoding` csr, csc or dense, `shape` as stored, cells along `cells_axis`.

    For csr the compressed (indptr) axis is 0, for csc it is 1. `gene_map`, when given, maps each position on
    the gene axis to its 1-based gene index, 0 for a feature that is not loaded.
    """

    path: Path
    name: str
    node: h5py.Group | h5py.Dataset
    encoding: str
    shape: tuple[int, int]
    cells_axis: int
    cell_names: list[str]
    gene_names: list[str]
    gene_map: np.ndarray | None = None
    hint: str = ""
    stats: MatrixStats = field(default_factory=MatrixStats)

    @property
    def n_cells(self) -> int:
        return self.shape[self.cells_axis]

    @property
    def n_genes(self) -> int:
        return self.shape[1 - self.cells_axis]

    @property
    def n_loaded_genes(self) -> int:
        return self.n_genes if self.gene_map is None else int((self.gene_map > 0).sum())

    @property
    def dtype(self) -> np.dtype:
        data = self.node if self.encoding == "dense" else self.node["data"]
        return data.dtype

    @property
    def integer_declared(self) -> bool:
        return self.dtype.kind in "iub"

    def fail(self, problem: str) -> InputError:
        return InputError(self.path, None, f"{self.name}: {problem}{self.hint}")

    def check_layout(self) -> None:
        """Refuse what cannot be streamed: wrong parts, a non-numeric dtype, inconsistent index arrays."""
        if self.encoding == "dense":
            if len(self.node.shape) != 2 or tuple(self.node.shape) != self.shape:
                raise self.fail(f"dense matrix of shape {self.node.shape}, expected {self.shape}")
        else:
            missing = [part for part in SPARSE_PARTS if not isinstance(self.node.get(part), h5py.Dataset)]
            if missing:
                raise self.fail(f"compressed sparse matrix without {', '.join(missing)}")
            self._check_sparse_parts()
        if self.dtype.kind not in "iubf":
            raise self.fail(f"values of type {self.dtype} are not numbers")

    def _check_sparse_parts(self) -> None:
        """What the metadata of data, indices and indptr must say before any of them is read: 1-d, integer
        indices (a float index would be truncated), as many indices as values, one indptr per major + 1."""
        parts = {part: self.node[part] for part in SPARSE_PARTS}
        for part, node in parts.items():
            if node.ndim != 1:
                raise self.fail(f"{part} is {node.ndim}-d, expected 1-d")
        for part in ("indices", "indptr"):
            if parts[part].dtype.kind not in "iu":
                raise self.fail(f"{part} of type {parts[part].dtype}: indices must be integers")
        n_data, n_indices = len(parts["data"]), len(parts["indices"])
        if n_data != n_indices:
            raise self.fail(f"data has {n_data} values but indices has {n_indices}")
        n_major = self.shape[0 if self.encoding == "csr" else 1]
        if len(parts["indptr"]) != n_major + 1:
            raise self.fail(
                f"indptr has {len(parts['indptr'])} values, expected {n_major + 1} for shape {self.shape}"
            )

    def sample_values(self, n: int = 1 << 16) -> np.ndarray:
        """The first stored values (a cheap look at what the matrix holds)."""
        if self.encoding == "dense":
            rows = max(1, n // max(1, self.shape[1]))
            return np.asarray(self.node[:rows]).ravel()
        return np.asarray(self.node["data"][:n])

    def batches(self, on_progress: Callable[[float], None] | None = None) -> Iterator[pa.RecordBatch]:
        """Checked (gene_index, cell_index, value) batches; `on_progress(fraction done)` after each one."""
        try:
            if self.encoding == "dense":
                yield from self._dense_batches(on_progress)
            else:
                yield from self._sparse_batches(on_progress)
        except OSError as exc:
            raise self.fail(f"cannot read (truncated or corrupt file?): {_first_line(exc)}") from None

    # --- compressed sparse -------------------------------------------------------------------------------

    def _indptr(self) -> np.ndarray:
        """indptr, whose length `check_layout` has checked against the declared shape."""
        indptr = np.asarray(self.node["indptr"][()], dtype=np.int64)
        n_data = len(self.node["data"])
        if indptr[0] != 0 or (np.diff(indptr) < 0).any() or indptr[-1] != n_data:
            raise self.fail(f"indptr must rise from 0 to the {n_data} stored values")
        return indptr

    def _sparse_batches(self, on_progress: Callable[[float], None] | None) -> Iterator[pa.RecordBatch]:
        indptr = self._indptr()
        major_axis = 0 if self.encoding == "csr" else 1
        n_minor = self.shape[1 - major_axis]
        data, indices = self.node["data"], self.node["indices"]
        total = int(indptr[-1])
        for start in range(0, total, BLOCK_ENTRIES):
            stop = min(start + BLOCK_ENTRIES, total)
            first = int(np.searchsorted(indptr, start, side="right")) - 1
            last = int(np.searchsorted(indptr, stop - 1, side="right")) - 1
            lows = np.maximum(indptr[first : last + 1], start)
            highs = np.minimum(indptr[first + 1 : last + 2], stop)
            majors = np.repeat(np.arange(first, last + 1, dtype=np.int32), highs - lows)
            minors = np.asarray(indices[start:stop])
            values = np.asarray(data[start:stop])
            bad = (minors < 0) | (minors >= n_minor)
            if bad.any():
                i = int(bad.argmax())
                raise self.fail(f"index {minors[i]} out of range 0..{n_minor - 1} (stored value {start + i})")
            minors = minors.astype(np.int32, copy=False)  # in range, so it fits
            rows, cols = (majors, minors) if major_axis == 0 else (minors, majors)
            yield self._batch(rows, cols, values)
            if on_progress is not None:
                on_progress(stop / total)

    # --- dense ---------------------------------------------------------------------------------------------

    def _dense_batches(self, on_progress: Callable[[float], None] | None) -> Iterator[pa.RecordBatch]:
        n_rows, n_cols = self.shape
        step = max(1, BLOCK_ENTRIES // max(1, n_cols))
        for start in range(0, n_rows, step):
            block = np.asarray(self.node[start : start + step])
            rows, cols = np.nonzero(block)
            values = block[rows, cols]
            yield self._batch((rows + start).astype(np.int32), cols.astype(np.int32), values)
            if on_progress is not None:
                on_progress(min(start + step, n_rows) / max(1, n_rows))

    # --- shared --------------------------------------------------------------------------------------------

    def _batch(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> pa.RecordBatch:
        """Stored (row, col) positions → checked 1-based (gene, cell) entries."""
        cells, genes = (rows, cols) if self.cells_axis == 0 else (cols, rows)
        if self.gene_map is not None:
            mapped = self.gene_map[genes]
            keep = mapped > 0
            cells, genes, values = cells[keep], mapped[keep], values[keep]
        else:
            genes = genes + 1
        cells = cells + 1
        problem = value_problem(values)
        if problem is not None:
            i, text = problem
            raise self.fail(f"{self.describe_entry(int(genes[i]), int(cells[i]))}: {text}")
        if self.stats.all_integral and first_fraction(values) is not None:
            self.stats.all_integral = False
        self.stats.track_order(genes, cells, self.n_loaded_genes, self.n_cells)
        return entries_batch(genes, cells, values, self.stats)

    def _cell(self, index: int) -> str:
        return f"{self.cell_names[index - 1]!r} (#{index})"

    def _gene(self, index: int) -> str:
        return f"{self.gene_names[index - 1]!r} (#{index})"

    def describe_entry(self, gene: int, cell: int) -> str:
        return f"cell {self._cell(cell)}, gene {self._gene(gene)}"


class Hdf5Source:
    """What the .h5ad and Cell Ranger .h5 sources share: one open file whose stored matrix streams in blocks.

    Subclasses set `path`, `handle`, `matrix` and `element` (its place in the file, named in messages).
    """

    path: Path
    handle: h5py.File
    matrix: StoredMatrix
    element: str

    @property
    def stats(self) -> MatrixStats:
        return self.matrix.stats

    @property
    def matrix_bytes(self) -> int:
        return self.path.stat().st_size

    def matrix_batches(self, on_progress: Callable[[int, int], None]) -> Iterator[pa.RecordBatch]:
        size = self.matrix_bytes

        def report(fraction: float) -> None:
            on_progress(int(fraction * size), self.stats.entries)

        return self.matrix.batches(report)

    def duplicate_entry_error(self, gene: int, cell: int) -> InputError:
        return InputError(
            self.path, None, f"{self.element}: duplicate entry for {self.matrix.describe_entry(gene, cell)}"
        )

    def close(self) -> None:
        self.handle.close()
