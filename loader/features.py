"""Genes (features) and barcodes files: small, read whole, checked line by line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from loader.errors import InputError
from loader.identifiers import describe, identifier_problem
from loader.textio import read_lines, require_file

DEFAULT_FEATURE_TYPE = "Gene Expression"


@dataclass(frozen=True)
class Genes:
    """One entry per matrix row, in file order."""

    gene_ids: list[str]
    symbols: list[str]
    unique: list[str]
    feature_types: list[str]

    def __len__(self) -> int:
        return len(self.symbols)


def _read_rows(path: Path, role: str, kinds: tuple[str, ...], max_lines: int | None) -> list[list[str]]:
    """Tab-separated fields of each line (at most `max_lines`); the first len(kinds) fields are identifiers,
    checked as such."""
    require_file(path, role)
    rows = [text.split("\t") for text in read_lines(path, max_lines)]
    if not rows:
        raise InputError(path, None, f"{role} file has no lines")
    for number, fields in enumerate(rows, start=1):
        for kind, value in zip(kinds, fields, strict=False):
            problem = identifier_problem(value)
            if problem:
                raise InputError(path, number, describe(kind, value, problem))
    return rows


def make_unique(names: list[str], join: str = "-") -> list[str]:
    """Like scanpy's `var_names_make_unique`: later repeats become NAME-1, NAME-2, … skipping taken names."""
    taken = set(names)
    counters: dict[str, int] = {}
    first_seen: set[str] = set()
    result: list[str] = []
    for name in names:
        if name not in first_seen:
            first_seen.add(name)
            result.append(name)
            continue
        while True:
            counters[name] = counters.get(name, 0) + 1
            candidate = f"{name}{join}{counters[name]}"
            if candidate not in taken:
                taken.add(candidate)
                result.append(candidate)
                break
    return result


def read_genes(path: Path, *, max_lines: int | None = None) -> Genes:
    """One column (symbol) or two or more (id, symbol[, feature type]), tab-separated; at most `max_lines`
    lines are read (one more than the matrix declares: a longer file is noticed without reading it all)."""
    rows = _read_rows(path, "genes", ("gene", "gene symbol", "feature type"), max_lines)
    width = len(rows[0])
    for number, fields in enumerate(rows, start=1):
        if len(fields) != width:
            problem = f"expected {width} tab-separated fields like line 1, found {len(fields)}"
            raise InputError(path, number, problem)
    if width == 1:
        symbols = [fields[0] for fields in rows]
        ids = [""] * len(rows)
    else:
        ids = [fields[0] for fields in rows]
        symbols = [fields[1] for fields in rows]
    types = [fields[2] for fields in rows] if width > 2 else [DEFAULT_FEATURE_TYPE] * len(rows)
    return Genes(ids, symbols, make_unique(symbols), types)


def first_duplicate(names: list[str]) -> tuple[int, int] | None:
    """0-based positions (first, repeat) of the first name given twice, or None."""
    first: dict[str, int] = {}
    for position, name in enumerate(names):
        previous = first.setdefault(name, position)
        if previous != position:
            return previous, position
    return None


def read_barcodes(path: Path, *, max_lines: int | None = None) -> list[str]:
    """First column of each line; duplicates are refused (a barcode names one matrix column).

    Parameters
    ----------
    path
        A barcodes file, plain or gzip-compressed.
    max_lines
        Read at most this many lines (give one more than the matrix declares: a longer file is noticed
        without reading it all); None reads every line.

    Returns
    -------
    list of str
        One barcode per matrix column, in file order.

    Raises
    ------
    InputError
        The file is missing or empty, a barcode breaks the identifier rules, or one is given twice.
    """
    rows = _read_rows(path, "barcodes", ("barcode",), max_lines)
    barcodes = [fields[0] for fields in rows]
    duplicate = first_duplicate(barcodes)
    if duplicate is not None:
        first, repeat = duplicate
        raise InputError(
            path, repeat + 1, f"duplicate barcode {barcodes[repeat]!r} (first on line {first + 1})"
        )
    return barcodes


def constant_column(value: str, n: int) -> pa.DictionaryArray:
    """A LowCardinality-friendly constant column (dataset, load_id) without n copies of the string."""
    return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int8()).fill_null(0), pa.array([value]))


def genes_table(genes: Genes, dataset: str, load_id: str) -> pa.Table:
    n = len(genes)
    return pa.table(
        {
            "dataset": constant_column(dataset, n),
            "load_id": constant_column(load_id, n),
            "gene_index": pa.array(range(1, n + 1), pa.uint32()),
            "gene_id": pa.array(genes.gene_ids, pa.string()),
            "gene": pa.array(genes.unique, pa.string()),
            "symbol": pa.array(genes.symbols, pa.string()),
            "feature_type": pa.array(genes.feature_types, pa.string()),
        }
    )


def barcodes_table(barcodes: list[str], dataset: str, load_id: str) -> pa.Table:
    n = len(barcodes)
    return pa.table(
        {
            "dataset": constant_column(dataset, n),
            "load_id": constant_column(load_id, n),
            "cell_index": pa.array(range(1, n + 1), pa.uint32()),
            "barcode": pa.array(barcodes, pa.string()),
        }
    )
