""" "Current load" is defined once (the view `raw.current_loads`): whatever happened to a dataset — a finished
load, a refused one, one still in flight, a reload — `loader list` and `marts.datasets` name the same load.
(A SIGKILLed load needs a process of its own: tests/integration/test_loader_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loader import InputError, load_dataset
from loader.cli import main as loader_main
from loader.lease import as_utc
from tests.helpers.dbt import run_dbt
from tests.helpers.loader_inputs import ScpStudy
from tests.helpers.paused_load import PausedLoad


def listed_by_loader(capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[str, str]]:
    """dataset → (load_id, loaded_at) as `python -m loader list --json` prints them."""
    capsys.readouterr()
    assert loader_main(["list", "--json"]) == 0
    return {d["name"]: (d["load_id"], d["loaded_at"]) for d in json.loads(capsys.readouterr().out)}


def listed_by_marts(client) -> dict[str, tuple[str, str]]:
    rows = client.query("SELECT dataset, load_id, loaded_at FROM marts.datasets").result_rows
    return {d: (lid, as_utc(at).isoformat()) for d, lid, at in rows}


def test_loader_list_and_marts_name_the_same_load(
    built_store, engine_client, store_path: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    client = engine_client
    expected = {}
    expected["cl_finished"] = load_dataset(client, ScpStudy().write(tmp_path / "f"), dataset="cl_finished")

    expected["cl_failed"] = load_dataset(client, ScpStudy().write(tmp_path / "ok"), dataset="cl_failed")
    broken = ScpStudy()
    broken.matrix[4] = "9 9 1"
    with pytest.raises(InputError):
        load_dataset(client, broken.write(tmp_path / "broken"), dataset="cl_failed")

    load_dataset(client, ScpStudy().write(tmp_path / "r1"), dataset="cl_reload")
    second = ScpStudy()
    second.matrix[3] = "1 1 6"
    expected["cl_reload"] = load_dataset(client, second.write(tmp_path / "r2"), dataset="cl_reload")

    expected["cl_in_flight"] = load_dataset(client, ScpStudy().write(tmp_path / "i1"), dataset="cl_in_flight")
    in_flight = PausedLoad(monkeypatch, store_path, second.write(tmp_path / "i2"), "cl_in_flight").start()
    try:
        run_dbt("run", "--select", "+datasets")
        by_loader = listed_by_loader(capsys)
        by_marts = listed_by_marts(client)
    finally:
        published = in_flight.finish()

    for dataset, result in expected.items():
        assert by_loader[dataset][0] == result.load_id, dataset
        assert by_marts[dataset] == by_loader[dataset], dataset
    assert by_marts == by_loader  # every dataset of the store, not only these

    run_dbt("run", "--select", "+datasets")
    assert listed_by_loader(capsys)["cl_in_flight"][0] == published.load_id
    assert listed_by_marts(client) == listed_by_loader(capsys)
