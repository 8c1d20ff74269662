"""Datasets and their cell types."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint

from gateway.http.endpoint import endpoint
from gateway.schemas import CellTypeCount, CellTypesResponse, DatasetItem, DatasetsResponse
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
