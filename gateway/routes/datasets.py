"""Datasets, their cell types and their cell metadata columns."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint

from gateway.analyses.cells import MetadataColumn, study_metadata
from gateway.http.endpoint import endpoint
from gateway.schemas import (
    CellTypeCount,
    CellTypesResponse,
    DatasetItem,
    DatasetsResponse,
    MetadataColumnItem,
    MetadataQuery,
    MetadataResponse,
    MetadataValue,
)
from gateway.state import get_dataset, get_gateway

bp = Blueprint("datasets", __name__)


@endpoint(
    bp,
    "/datasets",
    "GET",
    summary="Loaded datasets",
    tag="datasets",
    response=DatasetsResponse,
    errors=(503, 504),
)
def list_datasets():
    infos = get_gateway().catalog.datasets().values()
    return DatasetsResponse(datasets=[DatasetItem(**asdict(info)) for info in infos])


@endpoint(
    bp,
    "/datasets/<path:dataset>/cell-types",
    "GET",
    summary="Cell types of a dataset with cell counts",
    tag="datasets",
    response=CellTypesResponse,
    path_params={"dataset": "dataset name"},
)
def dataset_cell_types(dataset: str):
    _, catalog = get_dataset(dataset)
    return CellTypesResponse(
        dataset=catalog.name,
        cell_types=[CellTypeCount(cell_type=name, n_cells=n) for name, n in catalog.cell_types.items()],
    )


def _column_item(column: MetadataColumn, max_values: int) -> MetadataColumnItem:
    if column.kind == "numeric":
        return MetadataColumnItem(
            name=column.name,
            kind="numeric",
            cells=column.cells,
            values=None,
            n_more_values=None,
            min=column.low,
            max=column.high,
        )
    listed = list(column.values.items())[:max_values]
    return MetadataColumnItem(
        name=column.name,
        kind="group",
        cells=column.cells,
        values=[MetadataValue(value=value, cells=n) for value, n in listed],
        n_more_values=len(column.values) - len(listed),
        min=None,
        max=None,
    )


@endpoint(
    bp,
    "/datasets/<path:dataset>/metadata",
    "GET",
    summary="The cell metadata columns of a dataset: what `where`, `by` and `compare_by` can name",
    description="Group columns with their values (cells per value, the most frequent first, at most "
    "`max_values`, with how many more there are) and numeric columns with their range. `cell_type` and "
    "`sample` are the designated columns; the others are the study's own (metadata header or obs).",
    tag="datasets",
    query=MetadataQuery,
    response=MetadataResponse,
    path_params={"dataset": "dataset name"},
)
def dataset_metadata(dataset: str, query: MetadataQuery):
    gw, catalog = get_dataset(dataset)
    metadata = study_metadata(gw.pool, catalog)
    columns = [_column_item(column, query.max_values) for column in metadata.columns.values()]
    return MetadataResponse(dataset=catalog.name, columns=columns)
