"""The cell selection every analysis shares: chosen cell types and a `where` over the study's metadata.

One rule in one place. Without a `where`, the cell types are bound as the `cell_types` parameter and select
rows by the `cell_type` column every mart carries (the precomputed marts stay the fast path). A `where` names
the study's own metadata columns (marts.cells' `group_attributes` / `numeric_attributes`, plus the designated
`cell_type` and `sample`): a list of accepted values for a group column, an inclusive {min, max} range for a
numeric one; columns AND together, values OR. It becomes one WHERE term over marts.cells with every value a
bound parameter (never spliced into the SQL); the expression marts, whose rows carry no metadata, select
their cells with `cell IN (SELECT cell FROM marts.cells WHERE …)`. An embedding's name with
`{"polygon": [[x, y], …]}` is a region term: the cells of that embedding inside the polygon (ClickHouse's
pointInPolygon over marts.embeddings, the vertices one bound array), so a region drawn on the embedding view
is a group of cells for every question that takes a `where`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.analyses.embeddings import embedding_of
from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool
from gateway.errors import BadRequest, close_matches


def cell_filter(cell_types: list[str], column: str = "cell_type") -> str:
    """The WHERE term selecting the chosen cell types (all cells when none are chosen)."""
    return f"{column} IN {{cell_types:Array(String)}}" if cell_types else "1"


# The designated columns, named as in marts.cells: every study has them, whatever its metadata calls them.
DESIGNATED = ("cell_type", "sample")
METADATA_SQL = """
SELECT 'group' AS kind, key AS name, value, count() AS cells, 0.0 AS low, 0.0 AS high
FROM marts.cells
ARRAY JOIN mapKeys(group_attributes) AS key, mapValues(group_attributes) AS value
WHERE dataset = {dataset:String}
GROUP BY key, value
UNION ALL
SELECT 'numeric' AS kind, key AS name, '' AS value, count() AS cells, min(number) AS low, max(number) AS high
FROM marts.cells
ARRAY JOIN mapKeys(numeric_attributes) AS key, mapValues(numeric_attributes) AS number
WHERE dataset = {dataset:String} AND isFinite(number)
GROUP BY key
"""


@dataclass(frozen=True)
class MetadataColumn:
    """A column cells can be selected by: a group column with its values (cells per value, the most frequent
    first) or a numeric one with its range over the cells that have a value."""

    name: str
    kind: str  # "group" | "numeric"
    values: dict[str, int] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    cells: int = 0  # cells with a value


@dataclass(frozen=True)
class StudyMetadata:
    """One dataset's selectable columns: `cell_type` and `sample` first, then the study's own, by name."""

    dataset: str
    columns: dict[str, MetadataColumn]
    has_metadata: bool  # whether the study came with a metadata file / obs table at all

    def column(self, name: str, *, field_name: str = "where") -> MetadataColumn:
        if name in self.columns:
            return self.columns[name]
        raise BadRequest(
            f"{field_name}: unknown column {name!r} in dataset {self.dataset!r}; the columns are "
            f"{', '.join(self.columns)}",
            field=field_name,
            value=name,
            suggestions=close_matches(name, self.columns),
        )

    def group_column(self, name: str, *, field_name: str) -> MetadataColumn:
        """A column to group cells by (compare-by, breakdowns): 400 for a numeric one."""
        column = self.column(name, field_name=field_name)
        if column.kind != "group":
            raise BadRequest(
                f"{field_name}: {name!r} is a numeric column; group by a group column", field=field_name
            )
        return column


def _by_frequency(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def load_metadata(pool: ClientPool, catalog: DatasetCatalog) -> StudyMetadata:
    """Every selectable column of the dataset with its values or range (the designated ones: `catalog`)."""
    rows = pool.fetch(METADATA_SQL, {"dataset": catalog.name})
    columns = {
        "cell_type": MetadataColumn("cell_type", "group", _by_frequency(catalog.cell_types)),
        "sample": MetadataColumn("sample", "group", _by_frequency(catalog.samples)),
    }
    groups: dict[str, dict[str, int]] = {}
    own: dict[str, MetadataColumn] = {}
    for row in rows:
        if row["kind"] == "group":
            groups.setdefault(row["name"], {})[row["value"]] = row["cells"]
        else:
            own[row["name"]] = MetadataColumn(
                row["name"], "numeric", low=row["low"], high=row["high"], cells=row["cells"]
            )
    for name, values in groups.items():
        own.setdefault(name, MetadataColumn(name, "group", _by_frequency(values), cells=sum(values.values())))
    columns.update({name: own[name] for name in sorted(own) if name not in DESIGNATED})
    for name in DESIGNATED:
        columns[name] = MetadataColumn(name, "group", columns[name].values, cells=catalog.info.n_cells)
    return StudyMetadata(catalog.name, columns, has_metadata=bool(rows))


def study_metadata(pool: ClientPool, catalog: DatasetCatalog) -> StudyMetadata:
    """`load_metadata`, once per load of the dataset."""
    return catalog.memo(("metadata",), lambda: load_metadata(pool, catalog))


class Range(Protocol):
    """A numeric condition as the request schema gives it."""

    min: float | None
    max: float | None


@dataclass(frozen=True)
class Term:
    """One column of a `where`: accepted values (group) or an inclusive range (numeric)."""

    column: MetadataColumn
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def sql(self, name: str) -> tuple[str, dict[str, Any]]:
        """(the term over marts.cells' columns, its parameters named `<name>_…`)."""
        column = self.column.name
        if column in DESIGNATED:
            return f"{column} IN {{{name}_v:Array(String)}}", {f"{name}_v": list(self.values)}
        key = f"{{{name}_k:String}}"
        params: dict[str, Any] = {f"{name}_k": column}
        if self.column.kind == "group":
            params[f"{name}_v"] = list(self.values)
            values = f"{{{name}_v:Array(String)}}"
            return f"mapContains(group_attributes, {key}) AND group_attributes[{key}] IN {values}", params
        parts = [f"mapContains(numeric_attributes, {key})"]
        for bound, operator, suffix in ((self.low, ">=", "lo"), (self.high, "<=", "hi")):
            if bound is not None:
                parts.append(f"numeric_attributes[{key}] {operator} {{{name}_{suffix}:Float64}}")
                params[f"{name}_{suffix}"] = bound
        return " AND ".join(parts), params


class Polygon(Protocol):
    """A region as the request schema gives it."""

    polygon: list[tuple[float, float]]


@dataclass(frozen=True)
class RegionTerm:
    """The cells of an embedding inside a polygon (vertices in order; the polygon closes itself)."""

    embedding: str
    polygon: tuple[tuple[float, float], ...]

    def sql(self, name: str) -> tuple[str, dict[str, Any]]:
        """(the term over marts.cells' `cell`, its parameters named `<name>_…`)."""
        inside = (
            "SELECT cell FROM marts.embeddings WHERE dataset = {dataset:String} "
            f"AND embedding = {{{name}_e:String}} "
            f"AND pointInPolygon((x, y), {{{name}_p:Array(Tuple(Float64, Float64))}})"
        )
        return f"cell IN ({inside})", {f"{name}_e": self.embedding, f"{name}_p": list(self.polygon)}


Condition = list[str] | Range | Polygon  # one `where` entry: values, a range, or a region
AnyTerm = Term | RegionTerm


def _values_term(column: MetadataColumn, values: list[str], at: str) -> Term:
    if column.kind != "group":
        raise BadRequest(
            f'{at}: {column.name!r} is a numeric column; give a range {{"min": a, "max": b}}, not a list',
            field=at,
        )
    if not values:
        raise BadRequest(f"{at}: give at least one value", field=at)
    for value in values:
        if value not in column.values:
            suggestions = close_matches(value, column.values)
            hint = f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
            raise BadRequest(
                f"{at}: unknown value {value!r}{hint}", field=at, value=value, suggestions=suggestions
            )
    return Term(column, values=tuple(dict.fromkeys(values)))


def _range_term(column: MetadataColumn, condition: Range, at: str) -> Term:
    if column.kind != "numeric":
        raise BadRequest(
            f"{at}: {column.name!r} is a group column; give a list of its values, not a range", field=at
        )
    if condition.min is not None and condition.max is not None and condition.min > condition.max:
        raise BadRequest(f"{at}: min ({condition.min}) is above max ({condition.max})", field=at)
    return Term(column, low=condition.min, high=condition.max)


def resolve_where(
    metadata: StudyMetadata, where: Mapping[str, list[str] | Range], *, field_name: str = "where"
) -> tuple[Term, ...]:
    """The validated terms of a request's `where` (no region terms); a 400 naming the column and the problem
    otherwise."""
    if where and not metadata.has_metadata:
        raise BadRequest(
            f"{field_name}: dataset {metadata.dataset!r} has no cell metadata to select cells by",
            field=field_name,
        )
    terms = []
    for name, condition in where.items():
        column = metadata.column(name, field_name=field_name)
        at = f"{field_name}.{name}"
        terms.append(
            _values_term(column, condition, at)
            if isinstance(condition, list)
            else _range_term(column, condition, at)
        )
    return tuple(terms)


@dataclass(frozen=True)
class CellSelection:
    """A group of cells: the chosen cell types (none: all) AND every `where` term, less any excluded cell
    types (a cell type's "rest")."""

    cell_types: tuple[str, ...] = ()
    terms: tuple[AnyTerm, ...] = ()
    excluded_cell_types: tuple[str, ...] = ()

    @property
    def has_where(self) -> bool:
        return bool(self.terms)

    def predicate(self, prefix: str, table: str = "") -> tuple[str, dict[str, Any]]:
        """(a WHERE term over marts.cells' columns — of `table` when given —, its parameters, all named
        `<prefix>_…`)."""
        parts: list[str] = []
        params: dict[str, Any] = {}
        column = f"{table}.cell_type" if table else "cell_type"
        if self.cell_types:
            parts.append(f"{column} IN {{{prefix}_types:Array(String)}}")
            params[f"{prefix}_types"] = list(self.cell_types)
        if self.excluded_cell_types:
            parts.append(f"{column} NOT IN {{{prefix}_excluded:Array(String)}}")
            params[f"{prefix}_excluded"] = list(self.excluded_cell_types)
        for i, term in enumerate(self.terms):
            sql, term_params = term.sql(f"{prefix}_{i}")
            parts.append(f"({sql})")
            params.update(term_params)
        return " AND ".join(parts) or "1", params

    def cells_sql(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """(`SELECT cell FROM marts.cells …` of this selection, its parameters), for the `cell IN (…)` terms
        over the expression marts."""
        predicate, params = self.predicate(prefix)
        return f"SELECT cell FROM marts.cells WHERE dataset = {{dataset:String}} AND {predicate}", params

    def row_filter(self, prefix: str = "sel", table: str = "") -> tuple[str, dict[str, Any]]:
        """(a WHERE term over rows of any mart with `cell_type` and `cell` columns — of `table` when given;
        the expression marts' rows carry no other metadata, so a `where` selects them by cell —, params)."""
        if not self.has_where:
            return self.predicate(prefix, table)
        sql, params = self.cells_sql(prefix)
        return f"{table + '.' if table else ''}cell IN ({sql})", params


def select_cells(
    pool: ClientPool,
    catalog: DatasetCatalog,
    cell_types: Iterable[str],
    where: Mapping[str, Condition] | None,
    *,
    field_name: str = "where",
    cell_types_field: str = "cell_types",
) -> CellSelection:
    """The request's cell types and `where` resolved against the dataset (404/400 naming what is wrong)."""
    types = tuple(catalog.cell_type_list(cell_types, field_name=cell_types_field))
    columns: dict[str, list[str] | Range] = {}
    regions: list[AnyTerm] = []
    for name, condition in (where or {}).items():
        if isinstance(condition, list) or not hasattr(condition, "polygon"):
            columns[name] = condition
            continue
        embedding = embedding_of(pool, catalog, name, field_name=f"{field_name}.{name}").name
        vertices = tuple((float(x), float(y)) for x, y in condition.polygon)
        regions.append(RegionTerm(embedding, vertices))
    terms: tuple[AnyTerm, ...] = ()
    if columns:
        terms = resolve_where(study_metadata(pool, catalog), columns, field_name=field_name)
    return CellSelection(types, terms + tuple(regions))


def count_cells(pool: ClientPool, catalog: DatasetCatalog, selection: CellSelection) -> int:
    """How many cells the selection holds (the catalog knows it without a `where`)."""
    if not selection.has_where and not selection.excluded_cell_types:
        return catalog.n_cells_of(list(selection.cell_types))
    predicate, params = selection.predicate("sel")
    [row] = pool.fetch(
        f"SELECT count() AS n FROM marts.cells WHERE dataset = {{dataset:String}} AND {predicate}",
        {"dataset": catalog.name, **params},
    )
    return int(row["n"])
