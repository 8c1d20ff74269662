"""What is loaded: datasets, their genes and cell types — cached briefly, used to resolve user names.

Resolving names here (rather than letting a query come back empty) is what turns a typo into a 404 with
suggestions, and an omitted `dataset` into the only loaded one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.clients import ClientPool
from gateway.errors import BadRequest, NotFound, unknown
from gateway.gene_names import GeneNames, Resolution, Unknown

T = TypeVar("T")
DATASETS_SQL = """
SELECT dataset, value_kind, n_genes, n_cells, nnz, toString(loaded_at) AS loaded_at,
       (SELECT toString(max(modification_time)) FROM system.parts WHERE active AND database = 'marts')
           AS marts_version
FROM marts.datasets
ORDER BY dataset
"""


@dataclass(frozen=True)
class DatasetInfo:
    """One row of marts.datasets, and when the marts were last written."""

    dataset: str
    value_kind: str
    n_genes: int
    n_cells: int
    nnz: int
    loaded_at: str
    # The newest part of any mart: a server rebuilt while the gateway runs writes marts.datasets before
    # marts.genes and marts.cells, so details cached in between must not outlive the build. (Gene indices
    # from an older marts.genes would read other genes' rows of marts.expression_by_gene.)
    marts_version: str = ""


@dataclass
class DatasetCatalog:
    """The names inside one dataset."""

    info: DatasetInfo
    cell_types: dict[str, int]  # cell type → number of cells
    samples: dict[str, int]
    genes: list[str]
    gene_ids: dict[str, str] = field(default_factory=dict)  # gene_id → gene symbol
    # gene symbol → gene_idx, the sort key of marts.expression_by_gene (two-gene reads filter on it)
    gene_index: dict[str, int] = field(default_factory=dict)
    # (cell type, sample) → number of cells: every group size a query needs, without scanning marts.cells
    group_sizes: dict[tuple[str, str], int] = field(default_factory=dict)
    names: GeneNames = field(init=False)
    # Results derived from this load of the dataset alone (e.g. a cell type's ranked markers); a reload
    # replaces the whole DatasetCatalog, and with it these.
    _memo: dict[Hashable, Any] = field(default_factory=dict)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.names = GeneNames(self.genes, self.gene_ids)

    @property
    def name(self) -> str:
        return self.info.dataset

    def gene(self, name: str, *, field_name: str = "gene") -> str:
        """The gene symbol for `name`: a symbol or gene id, exact or (when only one gene matches) in any case;
        404 with suggestions otherwise."""
        found = self.names.lookup(name)
        if isinstance(found, str):
            return found
        if found is None:
            missing = Unknown(name, self.names.suggest(name))
        else:
            missing = Unknown(name, found, ambiguous=True)
        raise self._unknown_genes([missing], field_name)

    def resolve_genes(self, names: Iterable[str], *, field_name: str = "genes") -> Resolution:
        """Every name of a list resolved or reported unknown at once; 404 (listing them all) when none
        resolves."""
        resolution = self.names.resolve(names)
        if not resolution.genes:
            raise self._unknown_genes(resolution.unknown, field_name)
        return resolution

    def _unknown_genes(self, missing: list[Unknown], field_name: str) -> NotFound:
        first = missing[0]
        if first.ambiguous:
            hint = f" matches {len(first.suggestions)} genes that differ only in case; name one exactly: "
        else:
            hint = "; did you mean " if first.suggestions else ""
        listed = ", ".join(repr(s) for s in first.suggestions)
        end = "?" if first.suggestions and not first.ambiguous else ""
        more = f" (and {len(missing) - 1} more unknown)" if len(missing) > 1 else ""
        return NotFound(
            f"unknown gene {first.given!r} in dataset {self.name!r}{hint}{listed}{end}{more}",
            value=first.given,
            suggestions=first.suggestions,
            unknown=[{"given": m.given, "suggestions": m.suggestions} for m in missing],
            field=field_name,
        )

    def cell_type(self, name: str, *, field_name: str = "cell_type") -> str:
        if name in self.cell_types:
            return name
        raise unknown("cell type", name, self.cell_types, dataset=self.name).with_field(field_name)

    def cell_type_list(self, names: Iterable[str], *, field_name: str = "cell_types") -> list[str]:
        """Validated, de-duplicated cell types; empty means every cell of the dataset."""
        return list(dict.fromkeys(self.cell_type(n, field_name=field_name) for n in names))

    def n_cells_of(self, cell_types: list[str]) -> int:
        return sum(self.cell_types[c] for c in cell_types) if cell_types else self.info.n_cells

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per key for this load of the dataset (concurrent first calls may both compute)."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            return self._memo.setdefault(key, value)

    def sizes(self, cell_types: list[str], by: str | None) -> dict[str, int]:
        """Cells per group of `by` (None: one group named '') among the chosen cell types (all when empty)."""
        chosen = set(cell_types)
        sizes: dict[str, int] = {}
        for (cell_type, sample), n in self.group_sizes.items():
            if chosen and cell_type not in chosen:
                continue
            name = {None: "", "cell_type": cell_type, "sample": sample}[by]
            sizes[name] = sizes.get(name, 0) + n
        return dict(sorted(sizes.items()))


def resolve_dataset_name(requested: str | None, loaded: Iterable[str]) -> str:
    """`requested`, or the only loaded dataset when it is omitted; 400/404 naming the choices otherwise."""
    names = sorted(loaded)
    if requested is None or requested == "":
        if len(names) == 1:
            return names[0]
        if not names:
            raise NotFound("no dataset is loaded yet; load one (python -m loader load) and run dbt build")
        raise BadRequest(
            f"dataset: required because {len(names)} datasets are loaded ({', '.join(names)})",
            field="dataset",
            datasets=names,
        )
    if requested in names:
        return requested
    raise unknown("dataset", requested, names).with_field("dataset")


class Catalog:
    """Cached lists of datasets, genes and cell types; refreshed after `ttl_s` when a dataset was reloaded or
    any mart rewritten."""

    def __init__(self, pool: ClientPool, ttl_s: float) -> None:
        self.pool = pool
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._datasets: dict[str, DatasetInfo] = {}
        self._fetched_at = float("-inf")
        self._details: dict[str, DatasetCatalog] = {}

    def datasets(self) -> dict[str, DatasetInfo]:
        with self._lock:
            if time.monotonic() - self._fetched_at >= self.ttl_s:
                rows = self.pool.fetch(DATASETS_SQL)
                self._datasets = {r["dataset"]: DatasetInfo(**r) for r in rows}
                self._fetched_at = time.monotonic()
            return self._datasets

    def dataset(self, requested: str | None) -> DatasetCatalog:
        datasets = self.datasets()
        info = datasets[resolve_dataset_name(requested, datasets)]
        with self._lock:
            cached = self._details.get(info.dataset)
            if cached is not None and cached.info == info:
                return cached
        details = self._load(info)
        with self._lock:
            self._details[info.dataset] = details
        return details

    def _load(self, info: DatasetInfo) -> DatasetCatalog:
        params: dict[str, Any] = {"dataset": info.dataset}
        groups = self.pool.fetch(
            "SELECT cell_type, sample, count() AS n FROM marts.cells "
            "WHERE dataset = {dataset:String} GROUP BY cell_type, sample ORDER BY cell_type, sample",
            params,
        )
        genes = self.pool.fetch(
            "SELECT gene, gene_id, gene_idx FROM marts.genes WHERE dataset = {dataset:String} ORDER BY gene",
            params,
        )
        group_sizes = {(r["cell_type"], r["sample"]): r["n"] for r in groups}
        cell_types: dict[str, int] = {}
        samples: dict[str, int] = {}
        for (cell_type, sample), n in group_sizes.items():
            cell_types[cell_type] = cell_types.get(cell_type, 0) + n
            samples[sample] = samples.get(sample, 0) + n
        return DatasetCatalog(
            info=info,
            cell_types=dict(sorted(cell_types.items())),
            samples=dict(sorted(samples.items())),
            genes=[r["gene"] for r in genes],
            gene_ids={r["gene_id"]: r["gene"] for r in genes if r["gene_id"]},
            gene_index={r["gene"]: r["gene_idx"] for r in genes},
            group_sizes=group_sizes,
        )
