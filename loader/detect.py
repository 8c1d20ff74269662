"""Find a study's files by content (and name patterns): Single Cell Portal or 10x Cell Ranger text
directories, AnnData .h5ad or Cell Ranger .h5 files (known by the HDF5 signature and layout, not by name)."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from loader.errors import DetectError, InputError
from loader.hdf5 import is_hdf5, sniff_layout
from loader.mtx import read_header
from loader.textio import BOM, READ_ERRORS, is_gzip, open_text

GENES_PATTERN = re.compile(r"(genes|features)", re.IGNORECASE)
BARCODES_PATTERN = re.compile(r"barcodes", re.IGNORECASE)
METADATA_PATTERN = re.compile(r"meta", re.IGNORECASE)
MTX_NAME = re.compile(r"\.mtx(\.gz)?$", re.IGNORECASE)
TENX_MATRIX = re.compile(r"^matrix\.mtx(\.gz)?$")
TENX_GENES = re.compile(r"^(features|genes)\.tsv(\.gz)?$")
MAX_COUNTED_BYTES = 256 << 20


@dataclass(frozen=True)
class StudyFiles:
    """The files of one study; `metadata` is optional (10x output has none)."""

    layout: str
    matrix: Path
    genes: Path
    barcodes: Path
    metadata: Path | None

    def roles(self) -> list[tuple[str, Path]]:
        pairs = [("matrix", self.matrix), ("genes", self.genes), ("barcodes", self.barcodes)]
        return pairs + ([("metadata", self.metadata)] if self.metadata else [])


@dataclass(frozen=True)
class Hdf5File:
    """A study in one HDF5 file: `h5ad` (AnnData) or `10x-h5` (Cell Ranger); `matrix` is the file."""

    layout: str
    matrix: Path

    def roles(self) -> list[tuple[str, Path]]:
        return [("matrix", self.matrix)]


def _first_bytes(path: Path, n: int = 4096) -> bytes:
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as handle:
                return handle.read(n)
        with path.open("rb") as handle:
            return handle.read(n)
    except READ_ERRORS:
        return b""  # the reader of the file's role says what is wrong with it


def is_matrix_market(path: Path) -> bool:
    return _first_bytes(path, 14).lower() == b"%%matrixmarket"


def is_scp_metadata(path: Path) -> bool:
    lines = _first_bytes(path).removeprefix(BOM).split(b"\n")
    return (
        len(lines) > 1
        and lines[0].split(b"\t")[0].strip().upper() == b"NAME"
        and lines[1].split(b"\t")[0].strip().upper() == b"TYPE"
    )


def _count_lines(path: Path) -> int | None:
    if path.stat().st_size > MAX_COUNTED_BYTES:
        return None
    try:
        with open_text(path) as handle:
            return sum(1 for _ in handle)
    except READ_ERRORS:
        return None


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def _matrix_candidates(files: list[Path]) -> list[Path]:
    """Files with a MatrixMarket banner; failing that, files named *.mtx(.gz) (to say what is wrong)."""
    return [p for p in files if is_matrix_market(p)] or [p for p in files if MTX_NAME.search(p.name)]


def _hdf5_studies(directory: Path) -> list[Hdf5File]:
    found = []
    for path in _files(directory):
        layout = sniff_layout(path)
        if layout is not None:
            found.append(Hdf5File(layout, path))
    return found


def _hdf5_file(path: Path) -> Hdf5File:
    """A file given as the study: it must be HDF5 with an AnnData or Cell Ranger layout."""
    if not is_hdf5(path):
        raise InputError(
            path,
            None,
            "not an HDF5 file (no HDF5 signature): give an .h5ad or Cell Ranger .h5 file, or a directory",
        )
    layout = sniff_layout(path)
    if layout is None:
        from loader.hdf5 import open_hdf5

        open_hdf5(path).close()  # a truncated or corrupt file says so
        raise InputError(
            path,
            None,
            "HDF5 file is neither AnnData (obs, var, X) nor a Cell Ranger matrix (matrix/ or GENOME/)",
        )
    return Hdf5File(layout, path)


def _study_directory(data_dir: Path) -> Path | Hdf5File:
    """DATA_DIR itself, its single HDF5 study file, or its single subdirectory holding a matrix (e.g.
    filtered_feature_bc_matrix/)."""
    if not data_dir.exists():
        raise DetectError(f"{data_dir}: directory not found")
    if data_dir.is_file():
        return _hdf5_file(data_dir)
    if not data_dir.is_dir():
        raise DetectError(f"{data_dir}: not a directory")
    if _matrix_candidates(_files(data_dir)):
        return data_dir
    hdf5 = _hdf5_studies(data_dir)
    if len(hdf5) == 1:
        return hdf5[0]
    if hdf5:
        names = ", ".join(h.matrix.name for h in hdf5)
        raise DetectError(f"{data_dir}: several HDF5 studies ({names}); load one of them")
    nested = [d for d in sorted(data_dir.iterdir()) if d.is_dir() and _matrix_candidates(_files(d))]
    if len(nested) == 1:
        return nested[0]
    if nested:
        names = ", ".join(d.name for d in nested)
        raise DetectError(f"{data_dir}: several study directories ({names}); load one of them")
    raise DetectError(
        f"{data_dir}: no MatrixMarket (.mtx) file found, nor an AnnData .h5ad or Cell Ranger .h5 file"
    )


def _pick(candidates: list[Path], role: str, flag: str, directory: Path | None) -> Path | None:
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise DetectError(f"{directory}: several {role} files ({names}); choose one with {flag}")
    return candidates[0] if candidates else None


def _by_line_count(candidates: list[Path], expected: int) -> list[Path]:
    return [p for p in candidates if _count_lines(p) == expected]


def _resolve(path: Path | None, directory: Path | None) -> Path | None:
    if path is None:
        return None
    if not path.exists() and directory is not None and (directory / path).exists():
        return directory / path
    return path


def detect_study(
    data_dir: Path | None,
    *,
    matrix: Path | None = None,
    genes: Path | None = None,
    barcodes: Path | None = None,
    metadata: Path | None = None,
) -> StudyFiles | Hdf5File:
    """Work out which file plays which role; explicit paths win, the rest is found in `data_dir` (a file
    or a directory holding one HDF5 study is that study)."""
    found = _study_directory(data_dir) if data_dir is not None else None
    if isinstance(found, Hdf5File):
        explicit = [
            flag
            for flag, v in (
                ("--matrix", matrix),
                ("--genes", genes),
                ("--barcodes", barcodes),
                ("--metadata", metadata),
            )
            if v is not None
        ]
        if explicit:
            raise DetectError(f"{found.matrix}: {', '.join(explicit)} apply to MatrixMarket studies only")
        return found
    directory = found
    matrix, genes, barcodes, metadata = (_resolve(p, directory) for p in (matrix, genes, barcodes, metadata))
    if directory is None and None in (matrix, genes, barcodes):
        raise DetectError("give a study directory, or --matrix, --genes and --barcodes")
    pool = [p for p in _files(directory) if p not in (matrix, genes, barcodes, metadata)] if directory else []
    if matrix is None:
        matrix = _pick(_matrix_candidates(pool), "MatrixMarket", "--matrix", directory)
        if matrix is None:  # the directory's only matrix was given as another role
            raise DetectError(f"{directory}: no MatrixMarket (.mtx) file found")
        pool = [p for p in pool if p != matrix]
    if not matrix.exists():
        raise InputError(matrix, None, "matrix file not found")
    if metadata is None and directory is not None:
        candidates = [p for p in pool if is_scp_metadata(p)] or [
            p for p in pool if METADATA_PATTERN.search(p.name) and not BARCODES_PATTERN.search(p.name)
        ]  # a *meta* file that does not look right is still taken, so the user learns why
        metadata = _pick(candidates, "metadata", "--metadata", directory)
        pool = [p for p in pool if p != metadata]
    pool = [p for p in pool if p not in _matrix_candidates(pool)]
    if genes is None:
        genes = _pick([p for p in pool if GENES_PATTERN.search(p.name)], "genes", "--genes", directory)
    if barcodes is None:
        named = [p for p in pool if BARCODES_PATTERN.search(p.name)]
        barcodes = _pick(named, "barcodes", "--barcodes", directory)
    if genes is None or barcodes is None:
        header = read_header(matrix)
        rest = [p for p in pool if p not in (genes, barcodes)]
        if genes is None:
            genes = _pick(_by_line_count(rest, header.n_rows), "genes", "--genes", directory)
        if barcodes is None:
            barcodes = _pick(_by_line_count(rest, header.n_cols), "barcodes", "--barcodes", directory)
    if genes is None:
        raise DetectError(f"{directory}: no genes/features file found (name it *genes* or pass --genes)")
    if barcodes is None:
        raise DetectError(f"{directory}: no barcodes file found (name it *barcodes* or pass --barcodes)")
    tenx = metadata is None and TENX_MATRIX.match(matrix.name) and TENX_GENES.match(genes.name)
    return StudyFiles("10x" if tenx else "scp", matrix, genes, barcodes, metadata)
