"""Cells on an embedding: a dataset's embeddings, and one of them coloured by a gene or a metadata column."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint

from gateway.analyses.cells import select_cells, study_metadata
from gateway.analyses.embedding_view import embedding_values
from gateway.analyses.embeddings import dataset_embeddings, embedding_of
from gateway.errors import BadRequest
from gateway.http.endpoint import endpoint
from gateway.schemas import EmbeddingItem, EmbeddingRequest, EmbeddingResponse, EmbeddingsResponse
from gateway.state import get_dataset

bp = Blueprint("embedding", __name__)


@endpoint(
    bp,
    "/datasets/<path:dataset>/embeddings",
    "GET",
    summary="The embeddings of a dataset (UMAP, t-SNE, …): cells placed and x/y ranges",
    description="From marts.embeddings: what the study shipped (.h5ad obsm, Single Cell Portal cluster "
    "files, Cell Ranger projections). An embedding's name is what POST /embedding and a `where` polygon "
    "term take.",
    tag="datasets",
    response=EmbeddingsResponse,
    path_params={"dataset": "dataset name"},
)
def list_embeddings(dataset: str):
    gw, catalog = get_dataset(dataset)
    found = dataset_embeddings(gw.pool, catalog).values()
    return EmbeddingsResponse(dataset=catalog.name, embeddings=[EmbeddingItem(**asdict(e)) for e in found])


@endpoint(
    bp,
    "/embedding",
    "POST",
    summary="Cells on an embedding, coloured by a gene or a metadata column",
    description="Every cell of the selection that the embedding places: up to `max_points` as points "
    "(x, y and the colour value: a gene's lognorm with 0 where it is not detected, or the metadata value); "
    "more as a `bins` × `bins` grid over the embedding's ranges, computed in ClickHouse, each non-empty bin "
    "with its cell count and colour (a gene's mean lognorm over all its cells and how many express it, a "
    "numeric column's mean, a group column's most frequent value). Bins are numpy.histogram2d's on the "
    "returned edges.",
    tag="analysis",
    body=EmbeddingRequest,
    response=EmbeddingResponse,
)
def embedding(body: EmbeddingRequest):
    gw, catalog = get_dataset(body.dataset)
    if body.gene is not None and body.color_by is not None:
        raise BadRequest(
            "color_by: give a gene or a metadata column to colour by, not both", field="color_by"
        )
    info = embedding_of(gw.pool, catalog, body.embedding)
    gene = catalog.gene(body.gene) if body.gene is not None else None
    column = None
    if body.color_by is not None:
        column = study_metadata(gw.pool, catalog).column(body.color_by, field_name="color_by")
    selection = select_cells(gw.pool, catalog, body.cell_types, body.where)
    values = embedding_values(
        gw.pool,
        catalog,
        embedding=info,
        selection=selection,
        gene=gene,
        column=column,
        max_points=body.max_points,
        bins=body.bins,
    )
    return EmbeddingResponse(
        dataset=catalog.name,
        embedding=info.name,
        gene=gene,
        color_by=column.name if column is not None else None,
        cell_types=list(selection.cell_types),
        **values,
    )
