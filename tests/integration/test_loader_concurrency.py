"""Loads that overlap (the bug: a second load's garbage collection dropped the first one's in-flight data).

Two loads run truly at once in this process — a thread and client each, the first held after its first matrix
batch — since the embedded engine admits one process only. The server's rules (leases instead of the directory
lock) are exercised by judging the same store as a server would (`is_embedded` answering False)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from loader import (
    LoadConflictError,
    LoadResult,
    drop_dataset,
    lease,
    list_datasets,
    load_dataset,
    manifest,
    publish,
)
from tests.helpers.loader_inputs import ScpStudy
from tests.helpers.paused_load import PausedLoad


def listed(client) -> dict[str, dict]:
    return {d["name"]: d for d in list_datasets(client)}


def assert_whole(client, result: LoadResult) -> None:
    """The load is current, and every raw table holds exactly what it published."""
    entry = listed(client)[result.dataset]
    assert (entry["load_id"], entry["nnz"], entry["n_genes"]) == (result.load_id, result.nnz, result.n_genes)
    rows = manifest.partition_rows(client, result.dataset, result.load_id)
    assert rows == {
        "matrix": result.nnz,
        "genes": result.n_genes,
        "barcodes": result.n_cells,
        "metadata": result.n_metadata_cells,
        "embeddings": 0,  # these studies carry no coordinates
    }
    assert result.embeddings == ()
    assert {lid for d, lid in manifest.stored_partitions(client) if d == result.dataset} == {result.load_id}


def statuses(client, dataset: str) -> dict[str, str]:
    return {r.load_id: r.status for r in manifest.all_loads(client, dataset)}


def bigger_study() -> ScpStudy:
    study = ScpStudy()
    study.matrix[2] = "5 4 8"
    study.matrix.append("5 4 9")
    return study


@pytest.fixture
def server_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge liveness as on a server: another process's `loading` row lives while its lease does."""
    monkeypatch.setattr(manifest, "is_embedded", lambda client: False)
    monkeypatch.setattr(publish, "is_embedded", lambda client: False)


@pytest.mark.parametrize("rules", ["embedded", "server"])
def test_loads_of_two_datasets_at_once_both_land(
    request, engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str
) -> None:
    if rules == "server":
        request.getfixturevalue("server_rules")
    first = PausedLoad(monkeypatch, store_path, ScpStudy().write(tmp_path / "a"), f"cc_first_{rules}").start()
    second = load_dataset(engine_client, bigger_study().write(tmp_path / "b"), dataset=f"cc_second_{rules}")
    result = first.finish()
    assert_whole(engine_client, result)
    assert_whole(engine_client, second)
    assert (result.n_genes, result.nnz, second.nnz) == (5, 7, 8)


def test_second_load_of_a_dataset_is_refused_in_one_line(
    engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_dataset(engine_client, ScpStudy().write(tmp_path / "v1"), dataset="cc_same")
    first = PausedLoad(monkeypatch, store_path, bigger_study().write(tmp_path / "v2"), "cc_same").start()
    with pytest.raises(LoadConflictError) as refused:
        load_dataset(engine_client, ScpStudy().write(tmp_path / "v3"), dataset="cc_same")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("dataset 'cc_same' is already being loaded (load ")
    assert listed(engine_client)["cc_same"]["load_id"] == before.load_id  # nothing changed meanwhile
    winner = first.finish()
    assert_whole(engine_client, winner)
    loser = [lid for lid, status in statuses(engine_client, "cc_same").items() if status == "failed"]
    assert len(loser) == 1 and loser[0] > winner.load_id
    assert statuses(engine_client, "cc_same")[before.load_id] == "replaced"


def test_a_load_overtaken_before_its_publish_publishes_nothing(
    engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loader whose clock runs behind starts later with a smaller load_id: it wins, the other gives way at
    its publish check (the start checks alone cannot see every interleaving)."""
    load_dataset(engine_client, ScpStudy().write(tmp_path / "v1"), dataset="cc_race")
    first = PausedLoad(monkeypatch, store_path, ScpStudy().write(tmp_path / "v2"), "cc_race").start()
    monkeypatch.setattr(manifest, "new_load_id", lambda: "19990101T000000000000-behind")
    winner = load_dataset(engine_client, bigger_study().write(tmp_path / "v3"), dataset="cc_race")
    with pytest.raises(LoadConflictError, match=r"another load \(.*-behind\) was published while it ran"):
        first.finish()
    assert_whole(engine_client, winner)


def test_a_dataset_dropped_during_its_load_stays_dropped(
    engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_dataset(engine_client, ScpStudy().write(tmp_path / "v1"), dataset="cc_drop")
    first = PausedLoad(monkeypatch, store_path, ScpStudy().write(tmp_path / "v2"), "cc_drop").start()
    drop_dataset(engine_client, "cc_drop")
    with pytest.raises(LoadConflictError, match="the dataset was dropped while it ran"):
        first.finish()
    assert "cc_drop" not in listed(engine_client)
    assert {lid for d, lid in manifest.stored_partitions(engine_client) if d == "cc_drop"} == set()
    assert "loaded" not in statuses(engine_client, "cc_drop").values()


def _foreign_load(client, dataset: str, lease_for: timedelta) -> manifest.LoadRecord:
    """A `loading` row of another process (as a loader on another host writes it) with one matrix entry."""
    record = manifest.LoadRecord(
        load_id=manifest.new_load_id(),
        dataset=dataset,
        status="loading",
        owner="elsewhere:1:feedbeef",
        lease_until=lease.engine_now(client) + lease_for,
    )
    manifest.write(client, record)
    client.command(f"INSERT INTO raw.matrix VALUES ('{dataset}', '{record.load_id}', 1, 1, 9.0)")
    return record


def test_crashed_load_on_a_server_is_collected_once_its_lease_expires(
    engine_client, tmp_path: Path, server_rules
) -> None:
    client = engine_client
    other = _foreign_load(client, "cc_foreign", timedelta(seconds=60))
    load_dataset(client, ScpStudy().write(tmp_path / "x"), dataset="cc_bystander")  # runs the GC
    assert ("cc_foreign", other.load_id) in manifest.stored_partitions(client)
    assert statuses(client, "cc_foreign")[other.load_id] == "loading"
    with pytest.raises(LoadConflictError, match=r"already being loaded \(load .* by elsewhere:1:feedbeef"):
        load_dataset(client, ScpStudy().write(tmp_path / "y"), dataset="cc_foreign")

    manifest.write(client, replace(other, lease_until=lease.engine_now(client) - timedelta(seconds=1)))
    load_dataset(client, ScpStudy().write(tmp_path / "x"), dataset="cc_bystander")
    assert ("cc_foreign", other.load_id) not in manifest.stored_partitions(client)
    assert statuses(client, "cc_foreign")[other.load_id] == "failed"


def test_crashed_load_on_the_embedded_store_is_collected_at_once(engine_client, tmp_path: Path) -> None:
    """This process holds the directory lock: another process's `loading` row is dead whatever its lease."""
    other = _foreign_load(engine_client, "cc_foreign_embedded", timedelta(seconds=600))
    result = load_dataset(engine_client, ScpStudy().write(tmp_path / "y"), dataset="cc_foreign_embedded")
    assert_whole(engine_client, result)
    assert statuses(engine_client, "cc_foreign_embedded")[other.load_id] == "failed"


def test_heartbeat_keeps_a_long_load_alive(
    engine_client, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_rules
) -> None:
    # A lease of 4 s renewed every 1 s: every look finds it unexpired even when a busy machine delays a
    # renewal by a few seconds, and 6 s of looking spans several renewals.
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=4))
    first = PausedLoad(monkeypatch, store_path, ScpStudy().write(tmp_path / "a"), "cc_heartbeat").start()
    leases = []
    for _ in range(4):
        time.sleep(1.5)
        (row,) = [r for r in manifest.all_loads(engine_client, "cc_heartbeat") if r.status == "loading"]
        leases.append(row.lease_until)
        assert row.lease_until > lease.engine_now(engine_client)
    assert leases == sorted(leases) and leases[-1] > leases[0]
    assert_whole(engine_client, first.finish())
