"""`dbt parse --target cluster` (no connection needed): every mart is configured as the cluster design says,
and the embedded target keeps its single-node materializations."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from genostream.cluster import QUERY_SETTINGS, REPLICATED_ENGINE_ARGS
from tests.helpers.cluster import CLUSTER_NAME, MART_SHARDING, dictionaries, models
from tests.helpers.dbt import parse_manifest
from tests.helpers.paths import REPO


@pytest.fixture(scope="module")
def cluster_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse_manifest("cluster", tmp_path_factory.mktemp("dbt-cluster"))


@pytest.fixture(scope="module")
def embedded_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse_manifest("embedded", tmp_path_factory.mktemp("dbt-embedded"))


def test_every_mart_has_its_designed_explicit_sharding_key(cluster_manifest: dict[str, Any]) -> None:
    marts = models(cluster_manifest, "marts")
    assert set(marts) == set(MART_SHARDING)
    for name, node in marts.items():
        key = node["config"]["sharding_key"]
        assert key == MART_SHARDING[name], name
        # the key hashes columns the mart's contract declares
        hashed = re.fullmatch(r"cityHash64\(([^()]*)\)", key)
        assert hashed, key
        for column in (part.strip() for part in hashed.group(1).split(",")):
            assert column in node["columns"], f"{name}: sharding key column {column} is not in the contract"


def test_marts_are_distributed_over_replicated_local_tables_with_uuid_paths(
    cluster_manifest: dict[str, Any],
) -> None:
    for name, node in models(cluster_manifest, "marts").items():
        config = node["config"]
        incremental = name in ("expression", "expression_by_gene")
        expected = "distributed_incremental" if incremental else "distributed_table"
        assert config["materialized"] == expected, name
        assert config["engine"] == f"ReplicatedMergeTree({REPLICATED_ENGINE_ARGS})", name
        assert "{uuid}" in config["engine"] and "{shard}" in config["engine"]
        assert config["contract"]["enforced"], name
        assert config["order_by"], name


@pytest.mark.parametrize("mart", ["expression", "expression_by_gene"])
def test_expression_overwrites_whole_dataset_partitions_on_the_cluster(
    cluster_manifest: dict[str, Any], mart: str
) -> None:
    config = models(cluster_manifest, "marts")[mart]["config"]
    assert config["incremental_strategy"] == "insert_overwrite"
    assert config["partition_by"] == "dataset"
    # partitions of loads no longer current go too, on every shard (drop_partition acts ON CLUSTER on the
    # local table)
    assert any("drop_stale_partitions" in hook["sql"] for hook in config["post-hook"])


def test_lookup_dictionaries_stay_dictionaries_on_every_target(
    cluster_manifest: dict[str, Any], embedded_manifest: dict[str, Any]
) -> None:
    # created ON CLUSTER, each node holds the whole lookup; no sharding applies
    lookups = {"cell_lookup", "gene_lookup"}
    assert set(dictionaries(cluster_manifest, "intermediate")) == lookups
    assert set(dictionaries(embedded_manifest, "intermediate")) == lookups


def test_staging_stays_views_on_the_cluster(cluster_manifest: dict[str, Any]) -> None:
    staging = models(cluster_manifest, "staging")
    assert staging
    assert {node["config"]["materialized"] for node in staging.values()} == {"view"}


def test_embedded_target_keeps_single_node_materializations(embedded_manifest: dict[str, Any]) -> None:
    for name, node in models(embedded_manifest, "marts").items():
        config = node["config"]
        incremental = name in ("expression", "expression_by_gene")
        assert config["materialized"] == ("incremental" if incremental else "table"), name
        assert config["engine"] == "MergeTree()", name


def _cluster_output() -> dict[str, Any]:
    return yaml.safe_load((REPO / "profiles.yml").read_text())["genostream"]["outputs"]["cluster"]


def test_cluster_profile_names_the_cluster_and_avoids_replicated_databases() -> None:
    output = _cluster_output()
    assert (output["type"], output["driver"]) == ("clickhouse", "http")
    assert f"'{CLUSTER_NAME}'" in output["cluster"] and "GENOSTREAM_CLUSTER" in output["cluster"]
    # dbt-clickhouse's distributed materializations refuse the Replicated database engine (#673)
    assert "replicated" not in output["database_engine"].lower()
    assert output["local_suffix"] == "_local"


def test_cluster_profile_sessions_carry_the_cluster_settings() -> None:
    settings = _cluster_output()["custom_settings"]
    for name, value in QUERY_SETTINGS.items():
        assert str(settings[name]) == str(value), name
    # dbt-clickhouse's distributed materializations check this (older) name of the synchronous insert
    assert settings["insert_distributed_sync"] == 1


def test_target_is_chosen_by_genostream_target() -> None:
    profile = yaml.safe_load((REPO / "profiles.yml").read_text())["genostream"]
    assert "env_var('GENOSTREAM_TARGET'" in profile["target"]
    assert set(profile["outputs"]) == {"embedded", "server", "cluster"}
