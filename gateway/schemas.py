"""Declared request and response models: they validate requests and generate /openapi.json."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel


def _encodable(text: str) -> str:
    """Reject strings that cannot travel as UTF-8 (lone surrogates from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


Name = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_encodable)]
DatasetName = Annotated[
    Name | None,
    Field(description="dataset name; may be omitted when exactly one dataset is loaded"),
]
CellTypes = Annotated[
    list[Name],
    Field(max_length=10_000, description="cell types to pool; empty or omitted means every cell"),
]


class Request(BaseModel):
    """Requests refuse unknown fields: a misspelt field must not silently widen a query."""

    model_config = ConfigDict(extra="forbid")


class NumericRange(Request):
    """An inclusive range of a numeric metadata column; either bound may be omitted."""

    min: float | None = Field(None, allow_inf_nan=False)
    max: float | None = Field(None, allow_inf_nan=False)


Coordinate = Annotated[float, Field(allow_inf_nan=False)]


class Region(Request):
    """A polygon drawn on an embedding (its name is the `where` key): the cells inside it."""

    polygon: list[tuple[Coordinate, Coordinate]] = Field(
        min_length=3, max_length=10_000, description="vertices [[x, y], …] in the embedding's coordinates"
    )


def _json_object(value: Any) -> Any:
    """A GET endpoint's `where` arrives as JSON text; a POST body's is already an object."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            raise ValueError("must be a JSON object (column → list of values or {min, max})") from None
    return value


def _fraction(value: Any) -> Any:
    """Fractions are 0–1 everywhere in the API; a percentage (the page's "10") gets a message saying so."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # pydantic's own message
    if number > 1:
        raise ValueError(f"must be a fraction from 0 to 1, not a percentage: {value} % is {number / 100:g}")
    return value


Fraction = Annotated[float, BeforeValidator(_fraction), Field(ge=0, le=1, allow_inf_nan=False)]


WhereObject = Annotated[dict[Name, list[Name] | NumericRange | Region], Field(max_length=100)]
Where = Annotated[
    WhereObject | None,
    BeforeValidator(_json_object),
    Field(
        description="cells whose metadata match: column → accepted values (a group column) or "
        '{"min": a, "max": b} (a numeric column, inclusive). Columns AND together, values OR. '
        "`cell_type` and `sample` name the designated columns; GET endpoints take it JSON-encoded. See "
        '/datasets/{dataset}/metadata. An embedding\'s name with {"polygon": [[x, y], …]} selects the cells '
        "inside that polygon of the embedding (/datasets/{dataset}/embeddings)",
    ),
]


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="null")


# ----- requests -----------------------------------------------------------------------------------------


class GeneCorrelationRequest(Request):
    gene_a: Name = Field(description="gene symbol (or gene id)")
    gene_b: Name
    cell_types: CellTypes = []
    dataset: DatasetName = None
    method: Literal["pearson", "spearman"] = "pearson"
    where: Where = None
    by: Name | None = Field(
        None,
        description="add a per-group breakdown by any group column (`cell_type`, `sample` or the study's "
        "own); with exactly two groups also Fisher's z test that their correlations differ",
    )


class GeneVariabilityRequest(Request):
    cell_type: Name
    limit: int = Field(10, ge=1, le=1000)
    dataset: DatasetName = None
    where: Where = None
    min_mean: float | None = Field(None, allow_inf_nan=False, description="keep genes with mean ≥ this")
    min_pct_expressing: Fraction | None = Field(
        None, description="keep genes expressed in at least this fraction of the cells (0–1: 10 % is 0.1)"
    )


class HighlyVariableGenesRequest(Request):
    dataset: DatasetName = None
    flavor: Literal["seurat", "cell_ranger"] = Field(
        "seurat", description="scanpy's dispersion-based flavours (sc.pp.highly_variable_genes)"
    )
    cell_types: CellTypes = []
    where: Where = None
    n_top_genes: int | None = Field(
        None, ge=1, le=1_000_000, description="keep this many genes (ties kept); no cutoffs then"
    )
    min_mean: float | None = Field(None, allow_inf_nan=False, description="scanpy's cutoff; default 0.0125")
    max_mean: float | None = Field(None, allow_inf_nan=False, description="default 3")
    min_disp: float | None = Field(None, allow_inf_nan=False, description="default 0.5")
    max_disp: float | None = Field(None, allow_inf_nan=False, description="default: unbounded")
    n_bins: int = Field(20, ge=1, le=1000, description="seurat: equal-width bins of the means")
    subset: bool = Field(False, description="list only the highly variable genes")


class ExpressionMatrixRequest(Request):
    gene_names: list[Name] = Field(min_length=1, description="at most 500 genes")
    cell_types: CellTypes = []
    where: Where = None
    dataset: DatasetName = None
    layer: Literal["lognorm", "value"] = Field("value", description="`value` as loaded, or `lognorm`")
    dense: bool = Field(False, description="also list the zeros (every cell × gene)")


class SqlRequest(Request):
    query: Annotated[str, Field(min_length=1, max_length=100_000), AfterValidator(_encodable)] = Field(
        description="one SELECT over the marts (unqualified tables are marts tables)"
    )
    format: Literal["json", "csv", "arrow"] | None = Field(
        None,
        description="default: from Accept, else json. In csv, a text cell starting with =, +, -, @, tab or "
        "CR gets a leading ' so spreadsheets show it as text (numbers unchanged; json and arrow are exact)",
    )


class DatasetQuery(Request):
    dataset: DatasetName = None


class GenesQuery(Request):
    prefix: Annotated[str, Field(max_length=1000), AfterValidator(_encodable)] = Field(
        "", description="case-insensitive prefix of the gene symbol"
    )
    dataset: DatasetName = None
    limit: int = Field(100, ge=1, le=100_000)


class CoexpressionQuery(Request):
    dataset: DatasetName = None
    cell_types: CellTypes = []
    where: Where = None
    limit: int = Field(20, ge=1, le=1000)


class DistributionQuery(Request):
    dataset: DatasetName = None
    cell_types: CellTypes = []
    where: Where = None
    bins: int = Field(40, ge=1, le=200, description="equal-width bins of the non-zero values")


MAX_DOT_PLOT_GENES = 5000


class DotPlotQuery(Request):
    genes: list[Name] = Field(
        min_length=1,
        max_length=MAX_DOT_PLOT_GENES,
        description="gene symbols or ids (any case when unique), 1–5,000; unknown ones are listed in "
        "`unknown` and the others drawn",
    )
    dataset: DatasetName = None
    cell_order: Literal["clustered", "name", "size"] = Field(
        "clustered",
        description="`clustered`: cell types with similar profiles over the genes side by side (one gene: "
        "highest mean first); `name`; `size` (most cells first)",
    )
    gene_order: Literal["given", "clustered"] = Field("given", description="`given` or `clustered`")
    where: Where = None
    compare_by: Name | None = Field(
        None,
        description="a group column: one row per gene × cell type × value of it, each with `compare_value` "
        "(CELLxGENE Gene Expression's compare)",
    )


class GenePairRequest(Request):
    gene_a: Name = Field(description="gene symbol (or gene id), the x axis")
    gene_b: Name = Field(description="the y axis")
    cell_types: CellTypes = []
    where: Where = None
    dataset: DatasetName = None
    max_points: int = Field(
        5000, ge=0, le=50_000, description="at most this many cells come back as points, more as bins"
    )
    bins: int = Field(60, ge=4, le=200, description="bins per axis of the 2-D histogram")


class DotPlotRequest(DotPlotQuery):
    """POST /dot-plot's body: GET /dot-plot's arguments, for lists too long for a URL."""


class EmbeddingRequest(Request):
    dataset: DatasetName = None
    embedding: Name = Field(description="an embedding of the dataset (/datasets/{dataset}/embeddings)")
    gene: Name | None = Field(None, description="colour by this gene's lognorm (zeros apart)")
    color_by: Name | None = Field(
        None, description="or colour by a metadata column (/datasets/{dataset}/metadata); neither: no colour"
    )
    cell_types: CellTypes = []
    where: Where = None
    max_points: int = Field(
        5000, ge=0, le=50_000, description="at most this many cells come back as points, more as a grid"
    )
    bins: int = Field(100, ge=4, le=400, description="bins per axis of the grid")


class MarkersQuery(Request):
    dataset: DatasetName = None
    limit: int = Field(20, ge=1, le=100_000)
    method: Literal["t-test", "wilcoxon"] = Field(
        "t-test", description="Welch's t-test, or the tie-corrected Wilcoxon rank-sum test (zeros one tie)"
    )
    where: Where = None


class CellGroup(Request):
    cell_types: CellTypes = []
    where: Where = None


class DifferentialExpressionRequest(Request):
    dataset: DatasetName = None
    group_a: CellGroup
    group_b: CellGroup | None = Field(None, description="omitted: every other cell of the dataset")
    method: Literal["wilcoxon", "t-test"] = "wilcoxon"
    tie_correct: bool = Field(True, description="Wilcoxon: correct the variance for ties (zeros are one tie)")
    genes: Annotated[list[Name], Field(min_length=1, max_length=100_000)] | None = Field(
        None, description="test only these genes (default: every gene)"
    )
    limit: int = Field(100, ge=1, le=100_000, description="how many genes come back, highest score first")


class MetadataQuery(Request):
    max_values: int = Field(100, ge=1, le=100_000, description="values listed per group column")


# ----- responses ----------------------------------------------------------------------------------------


class ResolvedGene(Response):
    given: str = Field(description="the name as given")
    gene: str = Field(description="the gene symbol it was read as (by case, or a gene id)")


class UnknownGene(Response):
    given: str
    suggestions: list[str] = Field(
        description="best first: same name in another case, the prefix family (CD3 → CD3D, CD3E, CD3G), "
        "then look-alikes (CD63)"
    )


def _resolved() -> Any:
    return Field(
        default_factory=list, description="names that were read as another gene symbol (case, gene id)"
    )


def _unknown() -> Any:
    return Field(
        default_factory=list, description="every name that is not a gene of the dataset, with suggestions"
    )


class ErrorResponse(Response):
    error: str = Field(description="one sentence")
    field: str | None = None
    value: str | None = Field(None, description="the unknown name, when a name was not found")
    suggestions: list[str] | None = None
    unknown: list[UnknownGene] | None = Field(
        None, description="genes: every unknown name of the request with its suggestions"
    )


class HealthResponse(Response):
    status: Literal["ok"]
    engine: str = Field(description="embedded (chDB), server or cluster")
    version: str = Field(description="genostream version")
    engine_version: str
    datasets: list[str]


class DatasetItem(Response):
    dataset: str
    value_kind: str
    n_genes: int
    n_cells: int
    nnz: int
    loaded_at: str


class DatasetsResponse(Response):
    datasets: list[DatasetItem]


class CellTypeCount(Response):
    cell_type: str
    n_cells: int


class CellTypesResponse(Response):
    dataset: str
    cell_types: list[CellTypeCount]


class GeneItem(Response):
    gene: str
    gene_id: str
    n_cells_expressing: int
    match: Literal["exact", "prefix", "id", "similar"] = Field(
        "prefix",
        description="how it matches `prefix`: the gene itself (any case, or its id), its symbol's prefix "
        "(the family first: CD3 → CD3D before CD36), its id's prefix, or a look-alike",
    )


class GenesResponse(Response):
    dataset: str
    prefix: str
    genes: list[GeneItem]


class MetadataValue(Response):
    value: str
    cells: int


class MetadataColumnItem(Response):
    name: str
    kind: Literal["group", "numeric"]
    cells: int = Field(description="cells with a value in this column")
    values: list[MetadataValue] | None = Field(description="group columns: the most frequent values first")
    n_more_values: int | None = Field(description="group columns: values not listed (over `max_values`)")
    min: float | None
    max: float | None


class MetadataResponse(Response):
    dataset: str
    columns: list[MetadataColumnItem]


class DotPlotRow(Response):
    cell_type: str
    n_cells: int
    n_expressing: int
    mean: float = Field(description="mean over every cell of the type, zeros included")
    pct_expressing: float = Field(description="fraction of the cells expressing the gene (0–1)")
    mean_expressing: float | None = Field(description="mean over the expressing cells only; null if none")


class DotPlotCell(DotPlotRow):
    gene: str
    compare_value: str | None = Field(None, description="the `compare_by` column's value of these cells")


class DotPlotResponse(Response):
    dataset: str
    compare_by: str | None = None
    genes: list[str] = Field(description="resolved symbols in display order (rows)")
    cell_types: list[str] = Field(description="cell types in display order (columns)")
    rows: list[DotPlotCell]
    resolved: list[ResolvedGene] = _resolved()
    unknown: list[UnknownGene] = _unknown()


class GenePairPoints(Response):
    barcode: list[str]
    cell_type: list[str]
    x: list[float] = Field(description="gene_a lognorm per cell (0 where not detected)")
    y: list[float] = Field(description="gene_b lognorm per cell")


class GenePairBins(Response):
    x_step: float = Field(description="bin width on x: bin i is centred on i × x_step")
    y_step: float
    x_bin: list[int] = Field(description="0 holds exactly the cells where gene_a is 0")
    y_bin: list[int]
    n_cells: list[int]


class GenePairResponse(Response):
    gene_a: str
    gene_b: str
    dataset: str
    cell_types: list[str]
    layer: Literal["lognorm"] = "lognorm"
    mode: Literal["points", "bins"]
    observation_count: int = Field(description="every cell of the chosen cell types")
    n_expressing_a: int
    n_expressing_b: int
    n_expressing_both: int
    n_zero_both: int = Field(description="cells where neither gene is detected")
    points: GenePairPoints | None = Field(description="one entry per cell (mode `points`)")
    bins: GenePairBins | None = Field(description="non-empty bins (mode `bins`)")
    resolved: list[ResolvedGene] = _resolved()


class EmbeddingItem(Response):
    name: str
    n_cells: int = Field(description="cells the embedding places (a study's file may cover only some)")
    x_min: float
    x_max: float
    y_min: float
    y_max: float


class EmbeddingsResponse(Response):
    dataset: str
    embeddings: list[EmbeddingItem]


class EmbeddingPoints(Response):
    barcode: list[str]
    cell_type: list[str]
    x: list[float]
    y: list[float]
    value: list[float | None] | None = Field(
        description="the gene's lognorm (0 where not detected) or the numeric column's value (null: none)"
    )
    label: list[str] | None = Field(description="the group column's value ('' where the cell has none)")


class EmbeddingBins(Response):
    x_edges: list[float] = Field(
        description="bins + 1 edges: bin i is [x_edges[i], x_edges[i+1]), the last closed"
    )
    y_edges: list[float]
    x_bin: list[int]
    y_bin: list[int]
    n_cells: list[int]
    mean: list[float | None] | None = Field(
        description="gene: mean lognorm over the bin's cells, zeros included; numeric column: mean value"
    )
    n_expressing: list[int] | None = Field(description="gene: the bin's cells where it is detected")
    top_value: list[str] | None = Field(description="group column: the bin's most frequent value")
    top_count: list[int] | None = Field(description="group column: cells of the bin with that value")


class EmbeddingResponse(Response):
    dataset: str
    embedding: str
    gene: str | None
    color_by: str | None
    colour_kind: Literal["gene", "group", "numeric", "none"]
    cell_types: list[str]
    layer: Literal["lognorm"] = "lognorm"
    mode: Literal["points", "bins"]
    n_cells: int = Field(description="cells of the selection on the embedding")
    n_expressing: int | None = Field(description="gene: of those, the cells where it is detected")
    points: EmbeddingPoints | None = Field(description="one entry per cell, in matrix order (mode `points`)")
    bins: EmbeddingBins | None = Field(description="non-empty bins (mode `bins`)")


class GeneCellTypesResponse(Response):
    gene: str
    dataset: str
    cell_types: list[DotPlotRow]
    resolved: list[ResolvedGene] = _resolved()


class CorrelationStats(Response):
    correlation: float | None = Field(
        description="the coefficient of the request's `method` (Pearson r or Spearman ρ); null when undefined"
    )
    pearson_correlation: float | None = Field(
        None,
        description="the seed's field name, kept for Pearson requests only (equal to `correlation`); absent "
        "from Spearman answers, so a Spearman ρ never arrives under a Pearson name",
    )
    observation_count: int = Field(description="every cell of the chosen cell types, zeros included")
    p_value: float | None
    n_expressing_a: int
    n_expressing_b: int
    n_expressing_both: int
    note: str | None = None


class CorrelationGroup(CorrelationStats):
    group: str


class CorrelationDifference(Response):
    test: Literal["fisher_z"] = Field(
        "fisher_z", description="Fisher's z test of two independent correlations (atanh, SE √(1/(n−3)))"
    )
    groups: list[str]
    z: float | None
    p_value: float | None = Field(description="two-sided")


class GeneCorrelationResponse(CorrelationStats):
    gene_a: str
    gene_b: str
    cell_types: list[str]
    dataset: str
    method: str
    by: str | None = None
    groups: list[CorrelationGroup] | None = None
    difference: CorrelationDifference | None = Field(
        None, description="with `by` and exactly two groups: whether their correlations differ"
    )
    resolved: list[ResolvedGene] = _resolved()


class GeneVariabilityItem(Response):
    gene: str
    mean_expression: float
    stddev: float | None
    cv: float | None
    pct_expressing: float


class GeneVariabilityResponse(RootModel[list[GeneVariabilityItem]]):
    pass


class HighlyVariableGeneItem(Response):
    gene: str
    means: float = Field(description="seurat: log1p of the mean of expm1(lognorm); cell_ranger: mean lognorm")
    dispersions: float | None = Field(description="variance / mean (seurat: its log); null when undefined")
    dispersions_norm: float | None = Field(description="normalised within the gene's mean bin")
    highly_variable: bool
    pct_expressing: float = Field(description="fraction of the chosen cells expressing the gene (0–1)")


class HighlyVariableGenesResponse(Response):
    dataset: str
    flavor: str
    cell_types: list[str]
    observation_count: int = Field(description="every chosen cell, zeros included")
    n_genes: int = Field(description="genes detected in at least one chosen cell (the genes ranked)")
    n_highly_variable: int
    genes: list[HighlyVariableGeneItem] = Field(
        description="highest normalised dispersion first, undefined last (only the chosen ones with `subset`)"
    )


class DistributionGroup(Response):
    cell_type: str
    n_cells: int = Field(description="every chosen cell of the type")
    n_zero: int = Field(description="cells where the gene is not detected (value exactly 0): the zero bin")
    n_expressing: int
    mean: float = Field(description="over every cell, zeros included")
    mean_expressing: float | None = Field(description="over the expressing cells; null if none")
    counts: list[int] = Field(
        description="non-zero cells per bin of `edges` (numpy.histogram: [edge i, edge i+1), the last closed)"
    )


class DistributionResponse(Response):
    gene: str
    dataset: str
    layer: Literal["lognorm"] = "lognorm"
    cell_types: list[str] = Field(description="the cell types asked for (empty: every cell type)")
    edges: list[float] = Field(
        description="bins + 1 edges over the non-zero values' range; empty when no chosen cell expresses it"
    )
    groups: list[DistributionGroup] = Field(description="per cell type, most cells first")


class CoexpressionItem(Response):
    gene: str
    pearson_correlation: float
    p_value: float | None
    n_expressing: int


class CoexpressionResponse(Response):
    gene: str
    dataset: str
    cell_types: list[str]
    observation_count: int
    results: list[CoexpressionItem]
    note: str | None = None
    resolved: list[ResolvedGene] = _resolved()


class MarkerItem(Response):
    gene: str
    score: float | None = Field(description="what the genes are ranked by: t (t-test) or the Wilcoxon z")
    log2_fold_change: float | None
    t_statistic: float | None
    p_value: float | None
    p_value_adj: float | None
    mean_in: float = Field(description="lognorm mean over the cell type's cells, zeros included")
    mean_out: float | None
    pct_in: float = Field(description="fraction of the cell type's cells expressing the gene (0–1)")
    pct_out: float | None
    expm1_mean_in: float = Field(
        description="expm1(mean_in): the fold change is "
        "log2((expm1_mean_in + 1e-9) / (expm1_mean_out + 1e-9)) (scanpy's rank_genes_groups)"
    )
    expm1_mean_out: float
    fold_change_bound: bool = Field(
        description="true when one side does not express the gene at all: only the 1e-9 pseudocount decides "
        "the fold change (about ±30), a bound rather than a measured ratio"
    )


class MarkersResponse(Response):
    cell_type: str
    dataset: str
    n_in: int = Field(description="cells of the cell type (within `where`)")
    n_out: int = Field(description="every other cell (within `where`)")
    min_group_size: int = Field(description="groups smaller than this are flagged `small_group`")
    small_group: bool = Field(
        description="the cell type has fewer than min_group_size cells: its p-values rest on few cells"
    )
    results: list[MarkerItem]


class DifferentialExpressionItem(Response):
    gene: str
    score: float | None = Field(description="Wilcoxon: tie-corrected z of group A; t-test: Welch's t")
    log2_fold_change: float
    p_value: float | None = Field(description="two-sided; null where the test is undefined (no variance)")
    p_value_adj: float = Field(description="Benjamini–Hochberg over every gene tested (undefined p as 1)")
    mean_a: float
    mean_b: float
    pct_a: float = Field(description="fraction of group A's cells expressing the gene (0–1)")
    pct_b: float
    expm1_mean_a: float = Field(
        description="expm1(mean_a): log2_fold_change = log2((expm1_mean_a + 1e-9) / (expm1_mean_b + 1e-9))"
    )
    expm1_mean_b: float
    fold_change_bound: bool = Field(
        description="one group does not express the gene: only the 1e-9 pseudocount decides the fold change"
    )


class DifferentialExpressionResponse(Response):
    dataset: str
    method: str
    n_a: int
    n_b: int
    min_group_size: int = Field(description="groups smaller than this are flagged `small_group`")
    small_group: bool = Field(description="group A or B has fewer than min_group_size cells")
    results: list[DifferentialExpressionItem]
    resolved: list[ResolvedGene] = _resolved()
    unknown: list[UnknownGene] = _unknown()


class SqlResponse(Response):
    columns: list[str]
    types: list[str]
    data: list[list[object]]
    rows: int
