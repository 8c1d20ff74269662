"""`dbt parse` (no connection needed): the project declares its public interface — who owns each model, which
models others may read (`access`), and what HTTP depends on (`exposures`) — and the deployment grants analysts
exactly what it declares public."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.helpers.dbt import parse_manifest
from tests.helpers.paths import REPO

EXPLORER_JS = REPO / "gateway" / "static" / "explorer"
ANALYST_XML = REPO / "docker" / "clickhouse" / "users.d" / "analyst.xml"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse_manifest("embedded", tmp_path_factory.mktemp("dbt-interface"))


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def _gateway_exposures(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The HTTP endpoints' exposures by path (the explorer page aside)."""
    return {e["url"]: e for e in manifest["exposures"].values() if e["type"] == "application"}


def test_only_the_marts_are_public_and_every_model_has_an_owner(manifest: dict[str, Any]) -> None:
    for node in _models(manifest):
        expected = "public" if node["schema"] == "marts" else "private"
        assert node["access"] == expected, node["name"]
        assert node["group"], node["name"]
    groups = manifest["groups"].values()
    assert groups
    for group in groups:
        assert group["owner"]["name"] or group["owner"]["email"], group["name"]


def test_build_only_lookups_sit_in_the_intermediate_schema(manifest: dict[str, Any]) -> None:
    lookups = {n["name"]: n for n in _models(manifest) if n["config"]["materialized"] == "dictionary"}
    assert set(lookups) == {"cell_lookup", "gene_lookup"}
    for node in lookups.values():
        assert (node["schema"], node["access"]) == ("intermediate", "private"), node["name"]


def test_analysts_are_granted_exactly_the_public_schemas(manifest: dict[str, Any]) -> None:
    public = {node["schema"] for node in _models(manifest) if node["access"] == "public"}
    grants = [query.text for query in ET.parse(ANALYST_XML).getroot().iterfind("users/analyst/grants/query")]
    assert sorted(grants) == sorted(f"GRANT SELECT ON {schema}.*" for schema in public)


def test_every_gateway_endpoint_is_an_exposure_on_public_marts(manifest: dict[str, Any]) -> None:
    from gateway import create_app
    from gateway.http.openapi import build_openapi

    paths = set(build_openapi(create_app({"catalog_ttl_s": 0.0}))["paths"])
    exposures = _gateway_exposures(manifest)
    assert set(exposures) == paths
    models = manifest["nodes"]
    for exposure in manifest["exposures"].values():
        assert exposure["owner"]["name"], exposure["name"]
        assert exposure["depends_on"]["nodes"], exposure["name"]
        for unique_id in exposure["depends_on"]["nodes"]:
            assert models[unique_id]["access"] == "public", (exposure["name"], unique_id)


def _explorer_paths() -> set[str]:
    """The gateway paths the explorer's JavaScript calls, parameters as `{}`."""
    literal = re.compile(r"""["'`](/(?:[\w-]+|\$\{[^}]*\})(?:/(?:[\w-]+|\$\{[^}]*\}))*)["'`]""")
    found = set()
    for script in EXPLORER_JS.rglob("*.js"):
        for path in literal.findall(script.read_text()):
            found.add(re.sub(r"\$\{[^}]*\}", "{}", path))
    return found


def test_the_explorer_depends_on_what_its_endpoints_read(manifest: dict[str, Any]) -> None:
    by_shape = {re.sub(r"\{[^}]*\}", "{}", url): e for url, e in _gateway_exposures(manifest).items()}
    called = _explorer_paths() & set(by_shape)
    assert {"/datasets", "/dot-plot", "/gene-correlation", "/cell-types/{}/markers"} <= called
    read = {unique_id for path in called for unique_id in by_shape[path]["depends_on"]["nodes"]}
    explorer = manifest["exposures"]["exposure.genostream.explorer"]
    assert (explorer["type"], explorer["url"]) == ("dashboard", "/")
    assert set(explorer["depends_on"]["nodes"]) == read
