"""No Docker engine runs here, so the server-mode compose file is checked for structure."""

from __future__ import annotations

import yaml

from tests.helpers.paths import REPO


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_clickhouse_is_the_official_image_pinned_with_healthcheck_and_volume() -> None:
    spec = compose()
    clickhouse = spec["services"]["clickhouse"]
    image, _, tag = clickhouse["image"].partition(":")
    assert image == "clickhouse/clickhouse-server"
    assert tag and tag != "latest"
    assert "test" in clickhouse["healthcheck"]
    named = [v.split(":")[0] for v in clickhouse["volumes"] if not v.startswith(".")]
    assert named and all(name in spec["volumes"] for name in named)


def test_analyst_user_is_read_only_and_mounted() -> None:
    clickhouse = compose()["services"]["clickhouse"]
    mounts = [v for v in clickhouse["volumes"] if "users.d" in v]
    assert mounts
    source = REPO / mounts[0].split(":")[0]
    text = source.read_text()
    assert "<readonly>1</readonly>" in text
    assert "GRANT SELECT ON marts.*" in text


def test_pipeline_runs_loader_then_dbt_on_server_and_gateway_waits_for_it() -> None:
    services = compose()["services"]
    pipeline = services["pipeline"]
    command = " ".join(pipeline["command"])
    assert command.index("python -m loader load") < command.index("dbt build --target server")
    assert pipeline["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    gateway = services["gateway"]
    assert gateway["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"
    for service in (pipeline, gateway):
        assert service["environment"]["GENOSTREAM_TARGET"] == "server"
        assert service["environment"]["CLICKHOUSE_HOST"] == "clickhouse"
        assert service["build"] == "."
    assert (REPO / "Dockerfile").exists()


def test_profiles_have_embedded_default_and_server_targets() -> None:
    profile = yaml.safe_load((REPO / "profiles.yml").read_text())["genostream"]
    assert "'embedded'" in profile["target"]
    assert profile["outputs"]["embedded"]["type"] == "chdb"
    server = profile["outputs"]["server"]
    assert (server["type"], server["driver"]) == ("clickhouse", "http")
    for key in ("host", "port", "user", "password"):
        assert "env_var('CLICKHOUSE_" in str(server[key])
