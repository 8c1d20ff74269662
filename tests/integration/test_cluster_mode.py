"""What of cluster mode can run on the embedded engine: the gateway with the cluster session settings gives
the same exact answers (the settings are harmless on local tables), the raw and mart sharding keys put a
cell's rows on one shard, and the cluster images are the embedded engine's release. (No cluster runs here.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from genostream.cluster import QUERY_SETTINGS, SHARDING_KEYS
from tests.helpers.paths import REPO

pytestmark = pytest.mark.studies("pbmc")

TREG = "CD4+/CD25 T Reg"
MONO = ["CD14+ Monocyte", "Dendritic"]
REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    (
        "post",
        "/gene-correlation",
        {"gene_a": "CD74", "gene_b": "HLA-DRA", "cell_types": MONO, "dataset": "pbmc"},
    ),
    (
        "post",
        "/gene-correlation",
        {"gene_a": "NKG7", "gene_b": "GNLY", "dataset": "pbmc", "method": "spearman"},
    ),
    ("post", "/gene-variability", {"cell_type": TREG, "limit": 25, "dataset": "pbmc"}),
    ("get", "/genes/CD74/cell-types?dataset=pbmc", None),
    ("get", "/genes/HLA-DRB1/coexpression?dataset=pbmc&limit=15", None),
    ("get", f"/genes/CD74/coexpression?dataset=pbmc&limit=15&cell_types={quote(MONO[0])}", None),
    ("get", f"/cell-types/{quote(TREG, safe='')}/markers?dataset=pbmc&limit=50", None),
    ("post", "/expression-matrix", {"gene_names": ["CD74", "NKG7", "GNLY"], "dataset": "pbmc"}),
    ("get", "/dot-plot?genes=CD74&genes=NKG7&genes=HLA-DRA&dataset=pbmc&gene_order=clustered", None),
    ("post", "/gene-pair", {"dataset": "pbmc", "gene_a": "CD74", "gene_b": "HLA-DRA"}),
    ("get", "/datasets", None),
    ("get", "/datasets/pbmc/cell-types", None),
    ("get", "/genes?prefix=hla-d&dataset=pbmc&limit=4", None),
    (
        "post",
        "/sql",
        {
            "query": "SELECT e.gene AS gene, count() AS n, sum(e.lognorm * t.lognorm) AS sxy "
            "FROM marts.expression AS e INNER JOIN (SELECT cell, lognorm FROM marts.expression "
            "WHERE dataset = 'pbmc' AND gene = 'CD74') AS t ON e.cell = t.cell "
            "WHERE e.dataset = 'pbmc' AND e.cell IN (SELECT cell FROM marts.cells WHERE dataset = 'pbmc' "
            "AND cell_type = 'Dendritic') GROUP BY e.gene ORDER BY e.gene"
        },
    ),
]


@pytest.fixture(scope="module")
def cluster_app(built_store: Path) -> Iterator[Any]:
    """A second gateway on the session store whose every engine session carries the cluster settings."""
    import genostream.engine
    from gateway import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(genostream.engine, "session_settings", lambda engine: dict(QUERY_SETTINGS))
        app = create_app({"catalog_ttl_s": 0.0})
        yield app
        app.extensions["genostream"].close()


def _answer(client, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
    response = client.post(path, json=body) if method == "post" else client.get(path)
    return response.status_code, response.get_json() if response.is_json else response.data


def test_cluster_settings_are_in_effect_on_every_kind_of_session(cluster_app) -> None:
    pool = cluster_app.extensions["genostream"].pool
    names = ", ".join(f"getSetting('{name}') AS {name}" for name in QUERY_SETTINGS)
    for client in (pool.main(), pool.stream(), pool.sql()):
        row = client.query(f"SELECT {names}").first_item
        # boolean settings read back as bool
        assert {name: int(v) if isinstance(v, bool) else v for name, v in row.items()} == QUERY_SETTINGS
    assert str(pool.sql().query("SELECT getSetting('readonly')").first_row[0]) == "1"


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_answers_are_identical_with_the_cluster_settings(api, cluster_app, method, path, body) -> None:
    expected = _answer(api, method, path, body)
    assert expected[0] == 200, expected
    assert _answer(cluster_app.test_client(), method, path, body) == expected


def test_raw_rows_hash_to_the_shard_of_their_mart_rows(built_store: Path, engine_client) -> None:
    """The raw key hashes the 1-based cell_index, the marts' keys the 0-based cell: the same shard for every
    cell (compared modulo 8 shards, through the keys as configured)."""
    marts = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["models"]["genostream"]
    cells_key = marts["marts"]["cells"]["+sharding_key"]
    expression_key = marts["marts"]["expression"]["+sharding_key"]
    assert cells_key == expression_key

    def placed(sql: str) -> set[tuple[str, int, int]]:
        return {(str(d), int(c), int(s)) for d, c, s in engine_client.query(sql).result_rows}

    current = "load_id IN (SELECT load_id FROM staging.stg_raw__loads)"
    raw_matrix = placed(
        f"SELECT dataset, cell_index - 1, ({SHARDING_KEYS['raw.matrix']}) % 8 FROM raw.matrix "
        f"WHERE {current} GROUP BY ALL"
    )
    raw_barcodes = placed(
        f"SELECT dataset, cell_index - 1, ({SHARDING_KEYS['raw.barcodes']}) % 8 FROM raw.barcodes "
        f"WHERE {current} GROUP BY ALL"
    )
    expression = placed(f"SELECT dataset, cell, ({expression_key}) % 8 FROM marts.expression GROUP BY ALL")
    cells = placed(f"SELECT dataset, cell, ({cells_key}) % 8 FROM marts.cells")
    assert len({shard for _, _, shard in cells}) == 8  # the key spreads the cells
    assert raw_barcodes == cells
    assert raw_matrix == expression
    assert expression <= cells


def test_cluster_images_are_the_embedded_engine_release(engine_client) -> None:
    version = engine_client.query("SELECT version()").first_row[0]
    release = ".".join(version.split(".")[:2])
    spec = yaml.safe_load((REPO / "deploy" / "cluster" / "docker-compose.yml").read_text())
    tags = {s["image"].partition(":")[2] for s in spec["services"].values() if "image" in s}
    assert tags == {release}
