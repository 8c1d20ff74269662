"""The routes stay thin: no SQL of their own (each question's SQL lives in gateway/analyses/), and a request's
dataset is resolved in one place (`gateway.state.get_dataset`), never by reaching into the catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers.paths import REPO

ROUTES = sorted((REPO / "gateway" / "routes").glob("*.py"))
SQL = re.compile(r"\bFROM\s+(marts|system|raw)\.|\bSELECT\s+\w+\s*,")  # SQL here is upper case


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def test_routes_hold_no_sql() -> None:
    assert len(ROUTES) >= 8
    found = [
        f"{path.name}:{node.lineno}"
        for path in ROUTES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)
    ]
    assert found == [], f"SQL inline in a route (move it to gateway/analyses/): {found}"


def test_routes_resolve_the_dataset_through_get_dataset() -> None:
    direct = [
        f"{path.name}:{node.lineno}"
        for path in ROUTES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute)
        and node.attr == "dataset"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "catalog"
    ]
    assert direct == [], f"use gateway.state.get_dataset: {direct}"
    users = [path.name for path in ROUTES if "get_dataset(" in path.read_text()]
    assert {"analysis.py", "genes.py", "cell_types.py", "expression.py", "datasets.py"} <= set(users)


def test_the_sql_pattern_finds_inline_sql() -> None:
    assert SQL.search("SELECT gene, gene_id FROM marts.genes WHERE dataset = {dataset:String}")
    assert not SQL.search("One SELECT (WITH and UNION allowed) over marts.*")
    assert not SQL.search("From marts.gene_stats: mean, standard deviation")
