"""Hostile inputs through the real loader (issue 21): HDF5 files that reach outside themselves or loop, tiny
files that declare little and hold much, and files that change while they load. Each is refused in one line
with a non-zero exit, and the loader process's peak memory stays bounded whatever the file holds."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

from loader import InputError, list_datasets
from tests.helpers.hdf5_inputs import pbmc_h5ad
from tests.helpers.loader_inputs import ScpStudy
from tests.helpers.loader_process import MB, LoaderRun, run_loader
from tests.helpers.paused_load import PausedLoad

PEAK_BOUND = 1024 * MB  # a bound, generous: the loader with the engine in-process idles near a few 100 MB
MANY_LINES = 4_000_000  # unbounded reading of this many names peaks near 2 GB
LONG_LINE = 50 * MB


def refusal(run: LoaderRun) -> str:
    """The single line a refused load prints (non-zero exit, no traceback)."""
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    return lines[0]


# --- HDF5: only data stored inside the given file; soft-link loops end in one line ---------------------


def _external_storage(path: Path) -> None:
    """X/data's bytes declared to live in another file (HDF5 external storage): a host file read back."""
    secret = path.parent / "secret.bin"
    with h5py.File(path, "a") as handle:
        n = len(handle["X/data"])
        secret.write_bytes(np.ones(n, dtype=np.float64).tobytes())
        del handle["X/data"]
        handle.create_dataset("X/data", shape=(n,), dtype=np.float64, external=[(str(secret), 0, n * 8)])


def _virtual(path: Path) -> None:
    """X/data a virtual dataset mapping a dataset of another file."""
    other = path.parent / "other.h5"
    with h5py.File(path, "a") as handle:
        values = handle["X/data"][()]
        with h5py.File(other, "w") as source:
            source["data"] = values
        layout = h5py.VirtualLayout(shape=values.shape, dtype=values.dtype)
        layout[:] = h5py.VirtualSource(str(other), "data", shape=values.shape)
        del handle["X/data"]
        handle.create_virtual_dataset("X/data", layout)


def _external_link_in_obs(path: Path) -> None:
    """An obs column that is an external link into another file."""
    other = path.parent / "other.h5"
    with h5py.File(path, "a") as handle, h5py.File(other, "w") as source:
        handle.copy(handle["obs/Cluster"], source, "Cluster")
        del handle["obs/Cluster"]
        handle["obs/Cluster"] = h5py.ExternalLink("other.h5", "/Cluster")


def _soft_loop(first: str, second: str) -> Callable[[Path], None]:
    """`first` → `second` → `first` (soft links), replacing what `first` was."""

    def change(path: Path) -> None:
        with h5py.File(path, "a") as handle:
            del handle[first]
            handle[first] = h5py.SoftLink(f"/{second}")
            handle[second] = h5py.SoftLink(f"/{first}")

    return change


@dataclass(frozen=True)
class Crafted:
    id: str
    change: Callable[[Path], None]
    problem: str  # regex on the message after the file name


CRAFTED = [
    Crafted(
        "external_storage",
        _external_storage,
        r"X/data: stored outside this file \(HDF5 external storage in .*secret\.bin; the loader reads only "
        r"data stored inside the file it is given\)$",
    ),
    Crafted("virtual_dataset", _virtual, r"X/data: a virtual dataset \(its data is mapped from other"),
    Crafted(
        "external_link",
        _external_link_in_obs,
        r"obs/Cluster links to data that cannot be opened: an external link to 'other\.h5':/Cluster",
    ),
    Crafted(
        "soft_loop_x",
        _soft_loop("X", "Y"),
        r"X: a soft link to /Y that does not resolve \(a loop of links, or a missing target\)$",
    ),
    Crafted(
        "soft_loop_obs", _soft_loop("obs/Cluster", "obs/again"), r"obs/Cluster: a soft link to /obs/again"
    ),
]


@pytest.mark.parametrize("case", CRAFTED, ids=[c.id for c in CRAFTED])
def test_hdf5_reading_outside_itself_or_looping_is_refused(tmp_path: Path, case: Crafted) -> None:
    h5ad = pbmc_h5ad(tmp_path / "study" / "crafted.h5ad")
    case.change(h5ad)
    run = run_loader(tmp_path / "store", "load", str(h5ad), "--no-progress", work=tmp_path)
    assert re.fullmatch(rf"error: {re.escape(str(h5ad))}: {case.problem}.*", refusal(run))


# --- every declared size checked before the data it governs, every read bounded -----------------------------


def _gzip_lines(path: Path, line: Callable[[int], bytes], n: int) -> None:
    """`n` lines written through gzip in blocks (the test itself stays small too)."""
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for start in range(0, n, 100_000):
            handle.write(b"".join(line(i) for i in range(start, min(n, start + 100_000))))


NAMES = ScpStudy().names


def _text_study(tmp: Path) -> Path:
    return ScpStudy().write(tmp / "study")


def _many_genes(tmp: Path) -> Path:
    study = _text_study(tmp)
    _gzip_lines(study / NAMES["genes"], lambda i: b"ENSG\tGENE\n", MANY_LINES)
    return study


def _many_barcodes(tmp: Path) -> Path:
    study = _text_study(tmp)
    _gzip_lines(study / NAMES["barcodes"], lambda i: b"B%d-1\n" % i, MANY_LINES)
    return study


def _long_gene_line(tmp: Path) -> Path:
    """A 50 MB first line, gzip-compressed to a few kB."""
    study = _text_study(tmp)
    _gzip_lines(study / NAMES["genes"], lambda i: b"A" * LONG_LINE + b"\n" if i == 0 else b"G%d\n" % i, 5)
    return study


def _long_barcode(tmp: Path) -> Path:
    study = _text_study(tmp)
    (study / NAMES["barcodes"]).write_text("A" * 2000 + "-1\nAAAG-1\nAACT-1\nAAGT-1\n")
    return study


def _long_header_comment(tmp: Path) -> Path:
    study = _text_study(tmp)
    lines = (study / NAMES["matrix"]).read_bytes().split(b"\n")
    with gzip.open(study / NAMES["matrix"], "wb", compresslevel=1) as handle:
        handle.write(b"\n".join([lines[0], b"%" + b" " * LONG_LINE, *lines[1:]]))
    return study


def _long_metadata_row(tmp: Path) -> Path:
    study = _text_study(tmp)
    with (study / NAMES["metadata"]).open("ab") as handle:
        handle.write(b"AAGT-1\t" + b"x" * LONG_LINE + b"\tp1\t30\n")
    return study


def _never_written(element: str, length: int, dtype: np.dtype) -> Callable[[Path], Path]:
    """An .h5ad whose `element` is `length` values that were never written (the fill value, zeros or empty
    names): a file of a few MB, GBs once read."""

    def write(tmp: Path) -> Path:
        h5ad = pbmc_h5ad(tmp / "study.h5ad")
        with h5py.File(h5ad, "a") as handle:
            del handle[element]
            handle.create_dataset(
                element, shape=(length,), dtype=dtype, chunks=(1 << 20,), compression="gzip"
            )
        assert h5ad.stat().st_size < 4 * MB
        return h5ad

    return write


@dataclass(frozen=True)
class Costly:
    id: str
    write: Callable[[Path], Path]  # the study to load, written under the given directory
    problem: str  # regex on the whole message


COSTLY = [
    Costly(
        "features_longer_than_declared",
        _many_genes,
        r".*tiny\.matrix\.mtx:3: header declares 5 rows \(genes\) but tiny\.genes\.tsv has more than 5 lines",
    ),
    Costly(
        "barcodes_longer_than_declared",
        _many_barcodes,
        r".*tiny\.matrix\.mtx:3: header declares 4 columns \(cells\) but tiny\.barcodes\.tsv has more than 4 "
        r"lines",
    ),
    Costly("long_line", _long_gene_line, r".*tiny\.genes\.tsv:1: line longer than 1,048,576 bytes .*"),
    Costly(
        "long_name",
        _long_barcode,
        r".*tiny\.barcodes\.tsv:1: barcode 'A{80}'… is longer than 1,024 characters \(2,002\); .*",
    ),
    Costly(
        "long_header_line", _long_header_comment, r".*tiny\.matrix\.mtx:2: line longer than 1,048,576 bytes.*"
    ),
    Costly("long_metadata_row", _long_metadata_row, r".*tiny\.meta\.txt: line longer than 1,048,576 bytes.*"),
    Costly(
        "indptr_longer_than_declared",
        _never_written("X/indptr", 200_000_001, np.dtype(np.int64)),
        r".*study\.h5ad: X: indptr has 200000001 values, expected 701 for shape \(700, 765\)$",
    ),
    Costly(
        "obs_longer_than_declared",
        _never_written("obs/_index", 60_000_000, h5py.string_dtype()),
        r".*study\.h5ad: X has 700 rows \(cells\) but obs has 60000000$",
    ),
    Costly(
        "categories_far_more_than_rows",
        _never_written("obs/Cluster/categories", 50_000_000, h5py.string_dtype()),
        r".*study\.h5ad: obs/Cluster/categories has 50,000,000 categories for 700 rows \(at most 10,000 more "
        r"categories than rows: a subset may keep unused ones\)$",
    ),
]


@pytest.mark.parametrize("case", COSTLY, ids=[c.id for c in COSTLY])
def test_tiny_inputs_declaring_little_are_refused_with_bounded_memory(tmp_path: Path, case: Costly) -> None:
    study = case.write(tmp_path)
    run = run_loader(tmp_path / "store", "load", str(study), "--no-progress", work=tmp_path)
    message = refusal(run)
    assert re.fullmatch(case.problem, message), message
    assert run.peak_rss < PEAK_BOUND, f"peak {run.peak_rss / MB:.0f} MB"


# --- the recorded checksum describes what was loaded -----------------------------------------------


def test_a_file_changed_during_its_load_is_refused(
    engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = ScpStudy().write(tmp_path / "study")
    matrix = study / ScpStudy().names["matrix"]
    paused = PausedLoad(monkeypatch, store_path, study, "changed_mid_load").start()
    matrix.write_bytes(matrix.read_bytes().replace(b"\n1 1 3\n", b"\n1 1 4\n"))  # same size, same inode
    with pytest.raises(InputError, match=rf"^{re.escape(str(matrix))}: changed while it was being loaded"):
        paused.finish()
    assert "changed_mid_load" not in {d["name"] for d in list_datasets(engine_client)}
