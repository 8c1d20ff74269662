"""No Docker runs here, so the cluster deployment (deploy/cluster/) is checked for structure: one
remote_servers for every node, unique macros and Keeper ids, the Keeper list matching the services, a shared
secret, the analyst user on every node, images pinned to the engine release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from genostream.cluster import READ_SETTINGS
from tests.helpers.cluster import CLUSTER_DIR, CLUSTER_NAME, compose, xml_root
from tests.helpers.paths import REPO

SERVER_IMAGE = "clickhouse/clickhouse-server"
KEEPER_IMAGE = "clickhouse/clickhouse-keeper"
CLUSTER_XML = "/etc/clickhouse-server/config.d/cluster.xml"
ANALYST_XML = REPO / "docker" / "clickhouse" / "users.d" / "analyst.xml"


def services_of(image: str) -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in compose()["services"].items()
        if spec.get("image", "").partition(":")[0] == image
    }


def mounts(spec: dict[str, Any]) -> dict[str, Path]:
    """container path → host file (relative to the compose file) of a service's bind mounts."""
    found = {}
    for volume in spec.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (CLUSTER_DIR / source).resolve()
    return found


def server_tag() -> str:
    main = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return main["services"]["clickhouse"]["image"].partition(":")[2]


def cluster_xml() -> Path:
    return CLUSTER_DIR / "config.d" / "cluster.xml"


def test_two_servers_and_three_keepers_on_images_pinned_to_the_engine_release() -> None:
    servers, keepers = services_of(SERVER_IMAGE), services_of(KEEPER_IMAGE)
    assert len(servers) == 2
    assert len(keepers) == 3
    tag = server_tag()
    assert tag and tag != "latest"
    for spec in [*servers.values(), *keepers.values()]:
        assert spec["image"].partition(":")[2] == tag


def test_every_server_mounts_the_one_cluster_config_and_no_other_file_defines_remote_servers() -> None:
    for name, spec in services_of(SERVER_IMAGE).items():
        assert mounts(spec)[CLUSTER_XML] == cluster_xml().resolve(), name
    defining = [p for p in CLUSTER_DIR.rglob("*.xml") if xml_root(p).find("remote_servers") is not None]
    assert defining == [cluster_xml()]


def test_remote_servers_list_every_server_once_with_internal_replication_and_a_secret() -> None:
    root = xml_root(cluster_xml())
    cluster = root.find(f"remote_servers/{CLUSTER_NAME}")
    assert cluster is not None
    secret = cluster.find("secret")
    assert secret is not None and secret.get("from_env") == "CLUSTER_SECRET"
    assert not (secret.text or "").strip()  # no secret value in the repository
    shards = cluster.findall("shard")
    hosts = [replica.findtext("host") for shard in shards for replica in shard.findall("replica")]
    assert sorted(hosts) == sorted(services_of(SERVER_IMAGE))
    for shard in shards:
        assert shard.findtext("internal_replication") == "true"
        assert all(replica.findtext("port") == "9000" for replica in shard.findall("replica"))
    assert (root.findtext("distributed_ddl/path") or "").strip()


def test_each_server_has_unique_macros_matching_its_place_in_remote_servers() -> None:
    root = xml_root(cluster_xml())
    macros = root.find("macros")
    assert macros is not None
    assert macros.findtext("cluster") == CLUSTER_NAME
    shard_env, replica_env = macros.find("shard").get("from_env"), macros.find("replica").get("from_env")
    servers = services_of(SERVER_IMAGE)
    shards = root.findall(f"remote_servers/{CLUSTER_NAME}/shard")
    for number, shard in enumerate(shards, start=1):
        for replica in shard.findall("replica"):
            env = servers[replica.findtext("host")]["environment"]
            assert env[shard_env] == f"{number:02d}"
            assert env[replica_env] == replica.findtext("host")
    pairs = [(s["environment"][shard_env], s["environment"][replica_env]) for s in servers.values()]
    assert len(set(pairs)) == len(pairs)


def test_every_server_gets_the_shared_secret_from_the_environment_without_a_default() -> None:
    for name, spec in services_of(SERVER_IMAGE).items():
        value = spec["environment"]["CLUSTER_SECRET"]
        assert value.startswith("${CLUSTER_SECRET:?"), name


def test_keeper_nodes_have_unique_ids_and_one_raft_configuration_matching_the_services() -> None:
    keepers = services_of(KEEPER_IMAGE)
    ids: dict[str, str] = {}
    rafts = set()
    for name, spec in keepers.items():
        config = mounts(spec)["/etc/clickhouse-keeper/keeper_config.xml"]
        server = xml_root(config).find("keeper_server")
        assert server is not None
        ids[name] = server.findtext("server_id") or ""
        raft = tuple(
            (entry.findtext("id"), entry.findtext("hostname"), entry.findtext("port"))
            for entry in server.findall("raft_configuration/server")
        )
        rafts.add(raft)
        assert server.findtext("tcp_port") == "9181"
    assert len(set(ids.values())) == len(ids) == 3
    assert len(rafts) == 1
    (raft,) = rafts
    # each node's own id names its own hostname in the shared raft configuration
    assert {hostname: node_id for node_id, hostname, _ in raft} == ids


def test_servers_use_every_keeper_node() -> None:
    nodes = xml_root(cluster_xml()).findall("zookeeper/node")
    assert sorted(node.findtext("host") for node in nodes) == sorted(services_of(KEEPER_IMAGE))
    assert {node.findtext("port") for node in nodes} == {"9181"}


def test_analyst_user_is_the_server_mode_file_on_every_node_plus_the_cluster_settings() -> None:
    overlay = CLUSTER_DIR / "users.d" / "analyst-cluster.xml"
    for name, spec in services_of(SERVER_IMAGE).items():
        mounted = set(mounts(spec).values())
        assert ANALYST_XML.resolve() in mounted, name
        assert overlay.resolve() in mounted, name
    root = xml_root(overlay)
    assert root.find("users") is None  # the user itself is not copied, only its profile extended
    profile = root.find("profiles/analyst")
    assert profile is not None
    assert {child.tag: child.text for child in profile} == {k: str(v) for k, v in READ_SETTINGS.items()}
    assert "readonly" not in {child.tag for child in profile}  # readonly stays as analyst.xml sets it


def test_pipeline_and_gateway_run_in_cluster_mode_against_a_server_of_the_cluster() -> None:
    services = compose()["services"]
    servers = services_of(SERVER_IMAGE)
    for name in ("pipeline", "gateway"):
        env = services[name]["environment"]
        assert env["GENOSTREAM_TARGET"] == "cluster"
        assert env["GENOSTREAM_CLUSTER"] == CLUSTER_NAME
        assert env["CLICKHOUSE_HOST"] in servers
        assert set(services[name]["depends_on"]) >= set(servers)
    command = " ".join(services["pipeline"]["command"])
    assert command.index("python -m loader load") < command.index("dbt build --target cluster")
    assert services["gateway"]["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"


def test_every_mounted_file_exists() -> None:
    for name, spec in compose()["services"].items():
        for target, source in mounts(spec).items():
            if target.startswith("/data"):
                continue
            assert source.is_file(), f"{name}: {source}"


def test_default_replica_path_is_the_one_models_and_loader_spell() -> None:
    from genostream.cluster import REPLICATED_ENGINE_ARGS

    root = xml_root(cluster_xml())
    path, replica = (part.strip().strip("'") for part in REPLICATED_ENGINE_ARGS.split(","))
    assert root.findtext("default_replica_path") == path
    assert root.findtext("default_replica_name") == replica
    assert "{uuid}" in path
