"""From a path to an opened study: find its files by content (and name patterns) — Single Cell Portal or 10x
Cell Ranger text directories, AnnData .h5ad or Cell Ranger .h5 files (known by the HDF5 signature and layout,
not by name) — then open it with its format's reader (`loader.formats`) as a `StudySource`."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from loader.embeddings import is_scp_cluster
from loader.errors import DetectError, InputError
from loader.formats.hdf5 import H5AD, Hdf5File, is_hdf5, open_hdf5, sniff_layout
from loader.formats.mtx import read_header
from loader.formats.text import Study, StudyFiles, TextSource, open_text_study, read_study
from loader.source import StudySource
from loader.textio import BOM, READ_ERRORS, bounded_lines, is_gzip, open_text

GENES_PATTERN = re.compile(r"(genes|features)", re.IGNORECASE)
BARCODES_PATTERN = re.compile(r"barcodes", re.IGNORECASE)
METADATA_PATTERN = re.compile(r"meta", re.IGNORECASE)
MTX_NAME = re.compile(r"\.mtx(\.gz)?$", re.IGNORECASE)
TENX_MATRIX = re.compile(r"^matrix\.mtx(\.gz)?$")
TENX_GENES = re.compile(r"^(features|genes)\.tsv(\.gz)?$")
MAX_COUNTED_BYTES = 256 << 20


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
            return sum(1 for _ in bounded_lines(handle, path))
    except (*READ_ERRORS, InputError):  # unreadable, or a line over the limit: not a candidate
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
    or a directory holding one HDF5 study is that study). Reads only what recognising the files needs.

    Parameters
    ----------
    data_dir
        The study directory or HDF5 file, or None when `matrix`, `genes` and `barcodes` are all given.
    matrix, genes, barcodes, metadata
        A file for that role, instead of the one found in `data_dir`.

    Returns
    -------
    StudyFiles or Hdf5File
        Which file plays which role, and the layout.

    Raises
    ------
    DetectError
        No recognisable study, several candidates for a role, or role files given for an HDF5 study.
    InputError
        The matrix is missing, or a file given as the study is not a loadable HDF5 file.
    """
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
    clusters = tuple(p for p in pool if is_scp_cluster(p))  # NAME, X, Y and TYPE: cell coordinates
    pool = [p for p in pool if p not in clusters]
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
    return StudyFiles("10x" if tenx else "scp", matrix, genes, barcodes, metadata, clusters)


def _as_path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None


def find_study(
    data_dir: Path | str | None,
    *,
    matrix: Path | str | None = None,
    genes: Path | str | None = None,
    barcodes: Path | str | None = None,
    metadata: Path | str | None = None,
) -> StudyFiles | Hdf5File:
    """`detect_study` for paths given as strings too (what the open functions and the load start from)."""
    return detect_study(
        _as_path(data_dir),
        matrix=_as_path(matrix),
        genes=_as_path(genes),
        barcodes=_as_path(barcodes),
        metadata=_as_path(metadata),
    )


def open_files(
    files: StudyFiles | Hdf5File,
    *,
    data_dir: Path | str | None = None,
    layer: str | None = None,
    cell_type_column: str | None = None,
    sample_column: str | None = None,
) -> StudySource:
    """Open detected files with their format's reader (options as for `open_source`)."""
    if layer is not None and not (isinstance(files, Hdf5File) and files.layout == H5AD):
        raise DetectError(f"{files.matrix}: --layer applies to AnnData (.h5ad) files only")
    if isinstance(files, Hdf5File):
        # imported here: anndata and pandas load only when an HDF5 study does
        from loader.formats.h5ad import open_h5ad
        from loader.formats.tenx_h5 import open_tenx_h5

        if files.layout == H5AD:
            return open_h5ad(
                files.matrix, layer=layer, cell_type_column=cell_type_column, sample_column=sample_column
            )
        return open_tenx_h5(files.matrix, cell_type_column=cell_type_column, sample_column=sample_column)
    return open_text_study(
        _as_path(data_dir), files, cell_type_column=cell_type_column, sample_column=sample_column
    )


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
    files = find_study(data_dir, matrix=matrix, genes=genes, barcodes=barcodes, metadata=metadata)
    if isinstance(files, Hdf5File):
        raise DetectError(f"{files.matrix}: a {files.layout} study, not a MatrixMarket one (use open_source)")
    return read_study(_as_path(data_dir), files)


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
    files = find_study(data_dir, matrix=matrix, genes=genes, barcodes=barcodes, metadata=metadata)
    return open_files(
        files,
        data_dir=data_dir,
        layer=layer,
        cell_type_column=cell_type_column,
        sample_column=sample_column,
    )


def files_of(source: StudySource) -> StudyFiles | Hdf5File:
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
        return files_of(source)
    finally:
        source.close()
