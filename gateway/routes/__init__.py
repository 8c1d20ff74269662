"""Blueprints by resource."""

from __future__ import annotations

from gateway.routes.analysis import bp as analysis
from gateway.routes.cell_types import bp as cell_types
from gateway.routes.datasets import bp as datasets
from gateway.routes.differential import bp as differential
from gateway.routes.docs import bp as docs
from gateway.routes.embedding import bp as embedding
from gateway.routes.expression import bp as expression
from gateway.routes.genes import bp as genes
from gateway.routes.health import bp as health
from gateway.routes.sql import bp as sql

BLUEPRINTS = (health, datasets, genes, cell_types, analysis, embedding, differential, expression, sql, docs)
