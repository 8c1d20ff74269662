"""Synthetic studies in Single Cell Portal layout, realistic enough for the demo and the benchmarks.

Cells belong to 11 cell types (with real marker genes) and 10 donors, each donor in one of three
treatment conditions; counts are gamma-Poisson (negative binomial) around a mean built from a gene's base
level, its cell type, its donor, its donor's condition (a few response genes move), the cell's library size
and shared gene-module factors — so markers separate types, conditions differ in a handful of genes and
module genes really are correlated (EPCAM and KRT18 in `Epithelial`). The metadata carries what real studies
do (CELLxGENE's `donor_id`, a `condition`, `sex` and QC numbers such as `pct_mito`), so filters and
compare-by have something to work on. Generation is vectorised gene block by gene block, so memory stays
bounded; the body is written by pyarrow's CSV writer. The metadata lists some extra cells that are not in
the matrix. A Single Cell Portal cluster file, `umap.txt`, gives every matrix cell UMAP-like coordinates: one
island per cell type, shaped by the cell's own module factor and library size (so neighbouring cells are
alike), drawn from a random stream of its own (the matrix does not change with it).
"""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from loader.errors import LoaderError

PREFIX = "synth"
DONORS = tuple(f"D{i:02d}" for i in range(1, 11))
# A donor's treatment phase (donor i is in CONDITIONS[i % 3]); each moves its own few response genes.
CONDITIONS = ("treatment-naive", "neoadjuvant chemo", "recurrent")
N_RESPONSE_GENES = 12
RESPONSE_LOG_FOLD = 1.0
CELL_TYPES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Epithelial": (
        0.30,
        ("EPCAM", "KRT18", "KRT8", "KRT7", "KRT19", "MUC16", "PAX8", "WT1", "CLDN4", "MSLN"),
    ),
    "T cell": (0.14, ("CD3D", "CD3E", "CD2", "TRAC", "IL7R", "CD3G")),
    "NK cell": (0.05, ("NKG7", "GNLY", "KLRD1", "PRF1", "GZMB")),
    "B cell": (0.05, ("MS4A1", "CD79A", "CD79B", "CD19", "BANK1")),
    "Plasma cell": (0.04, ("JCHAIN", "MZB1", "IGHG1", "IGKC", "XBP1")),
    "Macrophage": (0.12, ("CD68", "CD163", "LYZ", "C1QA", "C1QB", "AIF1")),
    "Dendritic cell": (0.03, ("CD1C", "FCER1A", "CLEC10A", "HLA-DQA1")),
    "Mast cell": (0.02, ("TPSAB1", "CPA3", "KIT", "MS4A2")),
    "Fibroblast": (0.12, ("COL1A1", "COL1A2", "DCN", "LUM", "COL3A1", "PDGFRA")),
    "Endothelial": (0.08, ("PECAM1", "VWF", "CDH5", "CLDN5", "ENG")),
    "Smooth muscle": (0.05, ("ACTA2", "MYH11", "TAGLN", "DES", "CNN1")),
}
HOUSEKEEPING = ("GAPDH", "ACTB", "B2M", "MALAT1", "TMSB4X", "FTL", "EEF1A1", "TPT1", "RPLP0")
CYCLING = ("MKI67", "TOP2A")
MARKER_LOG_FOLD = 3.2
MODULE_SD = 0.9
MARKER_DISPERSION = 10.0
BACKGROUND_DISPERSION = 1.5
N_BACKGROUND_MODULES = 30
MODULE_SIZE = 15
EXTRA_METADATA_FRACTION = 0.1
TARGET_BLOCK_PAIRS = 8_000_000

PRESETS: dict[str, dict[str, int]] = {
    "demo": {"cells": 4_000, "genes": 2_000, "nnz": 1_500_000, "seed": 7},
    "seed": {"cells": 60_000, "genes": 25_000, "nnz": 170_000_000, "seed": 42},
}


@dataclass(frozen=True)
class SynthSpec:
    """Sizes and seed of a synthetic study; `nnz` is a target the generator calibrates to (±~2%)."""

    cells: int
    genes: int
    nnz: int
    seed: int = 0
    gzip: bool = False

    @classmethod
    def from_options(
        cls,
        *,
        preset: str | None = None,
        cells: int | None = None,
        genes: int | None = None,
        nnz: int | None = None,
        seed: int | None = None,
        gzip: bool = False,
    ) -> SynthSpec:
        values: dict[str, int] = dict(PRESETS[preset]) if preset else {"seed": 0}
        for key, value in {"cells": cells, "genes": genes, "nnz": nnz, "seed": seed}.items():
            if value is not None:
                values[key] = value
        missing = [k for k in ("cells", "genes", "nnz") if k not in values]
        if missing:
            raise LoaderError(f"synth needs --{', --'.join(missing)} (or --preset demo|seed)")
        spec = cls(values["cells"], values["genes"], values["nnz"], values["seed"], gzip)
        spec.validate()
        return spec

    def validate(self) -> None:
        n_symbols = len(gene_symbols())
        minimum = sum(len(m) for _, m in CELL_TYPES.values()) + len(HOUSEKEEPING) + len(CYCLING)
        if not minimum <= self.genes <= n_symbols:
            raise LoaderError(f"--genes must be between {minimum} and {n_symbols} (the gene symbol list)")
        if self.cells < len(CELL_TYPES):
            raise LoaderError(f"--cells must be at least {len(CELL_TYPES)} (one per cell type)")
        if not 0 < self.nnz <= 0.6 * self.cells * self.genes:
            raise LoaderError("--nnz must be positive and at most 60% of cells × genes")


@dataclass(frozen=True)
class SynthResult:
    out_dir: Path
    cells: int
    genes: int
    nnz: int
    metadata_cells: int
    seconds: float

    def summary(self) -> str:
        return (
            f"wrote {self.out_dir}: {self.genes:,} genes × {self.cells:,} cells, {self.nnz:,} non-zeros, "
            f"{self.metadata_cells:,} metadata rows in {self.seconds:.1f} s"
        )


def gene_symbols() -> list[str]:
    """Real gene symbols kept in the repository (`loader/data/gene_symbols.txt`)."""
    text = resources.files("loader").joinpath("data/gene_symbols.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@dataclass
class _Model:
    """Everything that defines the mean of every (gene, cell), kept as per-gene and per-cell vectors."""

    symbols: list[str]
    cell_type: np.ndarray  # per cell, index into CELL_TYPES
    donor: np.ndarray  # per cell
    log_library: np.ndarray  # per cell
    module_factor: np.ndarray  # modules × cells, log scale
    base: np.ndarray  # per gene, log scale
    type_effect: np.ndarray  # types × genes, log scale
    donor_effect: np.ndarray  # donors × genes, the donor's condition included
    module_of: np.ndarray  # per gene, -1 when none
    dispersion: np.ndarray  # per gene
    offset: float = 0.0

    def log_mean(self, genes: slice, cells: np.ndarray | slice = slice(None)) -> np.ndarray:
        """log μ for a block of genes × cells (float64)."""
        t, d = self.cell_type[cells], self.donor[cells]
        value = (
            self.offset
            + self.base[genes, None]
            + self.type_effect[:, genes].T[:, t]
            + self.donor_effect[:, genes].T[:, d]
            + self.log_library[None, cells]
        )
        modules = self.module_of[genes]
        member = modules >= 0
        if member.any():
            value[member] += self.module_factor[modules[member]][:, cells]
        return value


def condition_of(donor: int) -> int:
    """The condition (index into CONDITIONS) of a donor (index into DONORS)."""
    return donor % len(CONDITIONS)


def _choose_genes(spec: SynthSpec, rng: np.random.Generator) -> list[str]:
    symbols = gene_symbols()
    required = {g for _, markers in CELL_TYPES.values() for g in markers} | set(HOUSEKEEPING) | set(CYCLING)
    others = [i for i, s in enumerate(symbols) if s not in required]
    picked = set(rng.choice(others, size=spec.genes - len(required), replace=False).tolist())
    return [s for i, s in enumerate(symbols) if s in required or i in picked]


def _build_model(spec: SynthSpec, rng: np.random.Generator) -> _Model:
    symbols = _choose_genes(spec, rng)
    index = {s: i for i, s in enumerate(symbols)}
    names = list(CELL_TYPES)
    n_types, n_genes, n_cells = len(names), len(symbols), spec.cells
    weights = np.array([w for w, _ in CELL_TYPES.values()])
    cell_type = rng.choice(n_types, size=n_cells, p=weights / weights.sum())
    cell_type[:n_types] = np.arange(n_types)  # every type present, however few cells
    donor = rng.integers(0, len(DONORS), size=n_cells)
    log_library = rng.normal(0.0, 0.4, size=n_cells)

    base = rng.normal(-1.0, 1.3, size=n_genes)
    type_effect = rng.normal(0.0, 0.25, size=(n_types, n_genes))
    dispersion = np.full(n_genes, BACKGROUND_DISPERSION)
    module_of = np.full(n_genes, -1)
    for t, (_, markers) in enumerate(CELL_TYPES.values()):
        ids = [index[g] for g in markers]
        type_effect[t, ids] += MARKER_LOG_FOLD
        base[ids] = rng.normal(0.3, 0.3, size=len(ids))
        dispersion[ids] = MARKER_DISPERSION
        module_of[ids] = t  # one co-expression module per cell type's markers
    for g in HOUSEKEEPING:
        base[index[g]] = rng.normal(3.5, 0.5)
        dispersion[index[g]] = MARKER_DISPERSION
    background = rng.permutation(np.flatnonzero(module_of < 0))
    n_modules = min(N_BACKGROUND_MODULES, len(background) // (2 * MODULE_SIZE))
    for m in range(n_modules):
        module_of[background[m * MODULE_SIZE : (m + 1) * MODULE_SIZE]] = n_types + m
    module_of[[index[g] for g in CYCLING]] = n_types + n_modules
    module_factor = rng.normal(0.0, MODULE_SD, size=(n_types + n_modules + 1, n_cells))
    donor_effect = rng.normal(0.0, 0.15, size=(len(DONORS), n_genes))
    response = rng.choice(
        np.flatnonzero(module_of < 0), size=(len(CONDITIONS), N_RESPONSE_GENES), replace=False
    )
    for d in range(len(DONORS)):
        donor_effect[d, response[condition_of(d)]] += RESPONSE_LOG_FOLD
    return _Model(
        symbols,
        cell_type,
        donor,
        log_library,
        module_factor,
        base,
        type_effect,
        donor_effect,
        module_of,
        dispersion,
    )


def _expected_nnz(model: _Model, cells: np.ndarray, scale: float) -> float:
    """Expected non-zeros over all genes for a sample of cells, scaled to all cells (NB: 1 − (1+μ/r)^−r)."""
    total = 0.0
    step = max(1, TARGET_BLOCK_PAIRS // max(len(cells), 1))
    for start in range(0, len(model.symbols), step):
        genes = slice(start, start + step)
        mu = np.exp(model.log_mean(genes, cells))
        r = model.dispersion[genes, None]
        total += float((1.0 - (1.0 + mu / r) ** -r).sum())
    return total * scale


def _calibrate(model: _Model, spec: SynthSpec, rng: np.random.Generator) -> None:
    """Find the global offset of log μ that gives about `spec.nnz` non-zeros (bisection on a cell sample)."""
    sample = np.sort(rng.choice(spec.cells, size=min(spec.cells, 600), replace=False))
    scale = spec.cells / len(sample)
    low, high = -15.0, 15.0
    for _ in range(40):
        model.offset = (low + high) / 2
        if _expected_nnz(model, sample, scale) < spec.nnz:
            low = model.offset
        else:
            high = model.offset
        if high - low < 1e-3:
            break


def _barcodes(n: int, rng: np.random.Generator) -> list[str]:
    """Unique 10x-style barcodes (16 bases + '-1')."""
    letters = np.frombuffer(b"ACGT", dtype="S1")
    result: list[str] = []
    seen: set[str] = set()
    while len(result) < n:
        draws = letters[rng.integers(0, 4, size=(n - len(result), 16))]
        for row in draws.view("S16").ravel():
            code = row.decode() + "-1"
            if code not in seen:
                seen.add(code)
                result.append(code)
    return result


def _open_out(path: Path, compress: bool) -> gzip.GzipFile | io.BufferedWriter:
    return gzip.open(path, "wb", compresslevel=1) if compress else path.open("wb")


def _write_lines(path: Path, lines: list[str], compress: bool) -> None:
    with _open_out(path, compress) as handle:
        handle.write(("\n".join(lines) + "\n").encode())


def _write_body(model: _Model, spec: SynthSpec, rng: np.random.Generator, body: IO[bytes]):
    """Gene-sorted entries into `body`; returns (nnz, per-cell detected genes, per-cell totals)."""
    n_cells = spec.cells
    detected = np.zeros(n_cells, dtype=np.int64)
    totals = np.zeros(n_cells, dtype=np.int64)
    nnz = 0
    options = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
    schema = pa.schema([("row", pa.int32()), ("col", pa.int32()), ("value", pa.int32())])
    sink = pa.PythonFile(body, mode="w")
    step = max(1, TARGET_BLOCK_PAIRS // n_cells)
    with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
        for start in range(0, len(model.symbols), step):
            genes = slice(start, start + step)
            mu = np.exp(model.log_mean(genes))
            r = model.dispersion[genes, None]
            counts = rng.poisson(rng.gamma(r, mu / r))
            gene_offsets, cells = np.nonzero(counts)
            values = counts[gene_offsets, cells]
            nnz += len(values)
            detected += np.bincount(cells, minlength=n_cells)
            totals += np.bincount(cells, weights=values, minlength=n_cells).astype(np.int64)
            writer.write_batch(
                pa.record_batch(
                    [
                        pa.array((gene_offsets + start + 1).astype(np.int32)),
                        pa.array((cells + 1).astype(np.int32)),
                        pa.array(values.astype(np.int32)),
                    ],
                    schema=schema,
                )
            )
    return nnz, detected, totals


def _metadata_lines(
    model: _Model, barcodes: list[str], detected: np.ndarray, totals: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """NAME/TYPE header, the matrix cells and extra cells not in the matrix, in shuffled order."""
    names = list(CELL_TYPES)
    n_cells = len(model.cell_type)
    n_extra = len(barcodes) - n_cells
    extra_types = rng.integers(0, len(names), size=n_extra)
    cell_types = np.concatenate([model.cell_type, extra_types])
    donors = np.concatenate([model.donor, rng.integers(0, len(DONORS), size=n_extra)])
    n_genes = np.concatenate([detected, rng.integers(200, 3000, size=n_extra)])
    n_counts = np.concatenate([totals, rng.integers(500, 20000, size=n_extra)])
    mito = np.round(rng.beta(2, 40, size=len(barcodes)) * 100, 3)
    sexes = ("female", "male")
    lines = [
        "NAME\tCluster\tdonor_id\tcondition\tsex\tn_genes\tn_counts\tpct_mito",
        "TYPE\tgroup\tgroup\tgroup\tgroup\tnumeric\tnumeric\tnumeric",
    ]
    for i in rng.permutation(len(barcodes)):
        d = int(donors[i])
        lines.append(
            f"{barcodes[i]}\t{names[cell_types[i]]}\t{DONORS[d]}\t{CONDITIONS[condition_of(d)]}\t"
            f"{sexes[d % 2]}\t{n_genes[i]}\t{n_counts[i]}\t{mito[i]}"
        )
    return lines


EMBEDDING_FILE = "umap.txt"


def _embedding_lines(model: _Model, barcodes: list[str], seed: int) -> list[str]:
    """A UMAP-like layout of the matrix cells: an island per cell type around centres spread over a disc,
    each island stretched along its cells' module factor and library size."""
    rng = np.random.default_rng([seed, 1])
    n_types = len(CELL_TYPES)
    angles = np.linspace(0.0, 2 * np.pi, n_types, endpoint=False) + rng.uniform(0, 0.3, n_types)
    radii = rng.uniform(6.0, 12.0, n_types)
    centres = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    t = model.cell_type
    cells = np.arange(len(t))
    spread = rng.uniform(0.6, 1.4, n_types)[t]
    x = centres[t, 0] + spread * (0.9 * model.module_factor[t, cells] + rng.normal(0, 0.35, len(t)))
    y = centres[t, 1] + spread * (1.2 * model.log_library + rng.normal(0, 0.35, len(t)))
    lines = ["NAME\tX\tY", "TYPE\tnumeric\tnumeric"]
    lines += [f"{b}\t{a:.4f}\t{c:.4f}" for b, a, c in zip(barcodes, x.tolist(), y.tolist(), strict=True)]
    return lines


def write_study(out_dir: Path, spec: SynthSpec) -> SynthResult:
    """Write matrix, genes, barcodes and metadata files of a synthetic study into `out_dir`."""
    started = time.perf_counter()
    spec.validate()
    rng = np.random.default_rng(spec.seed)
    model = _build_model(spec, rng)
    _calibrate(model, spec, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if spec.gzip else ""
    n_extra = max(1, int(spec.cells * EXTRA_METADATA_FRACTION))
    barcodes = _barcodes(spec.cells + n_extra, rng)

    matrix_path = out_dir / f"gene_sorted-{PREFIX}.matrix.mtx{suffix}"
    with tempfile.TemporaryFile(dir=out_dir) as body:
        nnz, detected, totals = _write_body(model, spec, rng, body)
        body.seek(0)
        with _open_out(matrix_path, spec.gzip) as out:
            out.write(b"%%MatrixMarket matrix coordinate integer general\n")
            out.write(f"% synthetic study: seed {spec.seed}, genes x cells, gene-sorted\n".encode())
            out.write(f"{len(model.symbols)} {spec.cells} {nnz}\n".encode())
            shutil.copyfileobj(body, out, length=16 << 20)
    _write_lines(out_dir / f"{PREFIX}.genes.tsv{suffix}", model.symbols, spec.gzip)
    _write_lines(out_dir / f"{PREFIX}.barcodes.tsv{suffix}", barcodes[: spec.cells], spec.gzip)
    meta = _metadata_lines(model, barcodes, detected, totals, rng)
    _write_lines(out_dir / f"{PREFIX}.meta.txt{suffix}", meta, spec.gzip)
    umap = _embedding_lines(model, barcodes[: spec.cells], spec.seed)
    _write_lines(out_dir / f"{EMBEDDING_FILE}{suffix}", umap, spec.gzip)
    return SynthResult(
        out_dir, spec.cells, len(model.symbols), nnz, len(meta) - 2, time.perf_counter() - started
    )
