"""The cluster deployment files and dbt manifests that the cluster tests read (no cluster runs here)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.paths import REPO

CLUSTER_DIR = REPO / "deploy" / "cluster"
CLUSTER_NAME = "genostream"

# The design of docs/scale-out.md, stated independently of the configuration that implements it.
MART_SHARDING = {
    "cells": "cityHash64(dataset, cell)",
    "embeddings": "cityHash64(dataset, cell)",
    "expression": "cityHash64(dataset, cell)",
    "expression_by_gene": "cityHash64(dataset, cell)",
    "datasets": "cityHash64(dataset)",
    "genes": "cityHash64(dataset, gene)",
    "gene_stats": "cityHash64(dataset, gene)",
    "marker_genes": "cityHash64(dataset, gene)",
    "pseudobulk": "cityHash64(dataset, gene)",
}


def compose() -> dict[str, Any]:
    return yaml.safe_load((CLUSTER_DIR / "docker-compose.yml").read_text())


def xml_root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def models(manifest: dict[str, Any], folder: str) -> dict[str, dict[str, Any]]:
    """Model nodes under models/<folder>/ that are tables or views (not dictionaries), by name."""
    return {
        name: node
        for name, node in _nodes(manifest, folder).items()
        if node["config"]["materialized"] != "dictionary"
    }


def dictionaries(manifest: dict[str, Any], folder: str) -> dict[str, dict[str, Any]]:
    """Dictionary models under models/<folder>/ (in-memory lookups every node builds for itself)."""
    return {
        name: node
        for name, node in _nodes(manifest, folder).items()
        if node["config"]["materialized"] == "dictionary"
    }


def _nodes(manifest: dict[str, Any], folder: str) -> dict[str, dict[str, Any]]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == folder
    }
