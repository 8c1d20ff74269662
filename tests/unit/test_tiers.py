"""The test tiers: every test file is marked by its directory, and the session store loads only the studies
the collected store tests name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.studies import studies_needed
from tests.helpers.tiers import TESTS, tier_of


@pytest.mark.parametrize(
    ("relative", "tier"),
    [
        ("unit/test_config.py", "unit"),
        ("integration/test_gateway_api.py", "integration"),
        ("integration/browser/test_explorer.py", "browser"),
        ("cluster/test_cluster_only.py", "cluster"),
    ],
)
def test_tier_is_the_directory(relative: str, tier: str) -> None:
    assert tier_of(TESTS / relative) == tier


def test_every_test_file_sits_in_a_tier_directory() -> None:
    for path in TESTS.rglob("test_*.py"):
        tier_of(path)
    with pytest.raises(pytest.UsageError, match="outside the tier directories"):
        tier_of(TESTS / "test_stray.py")


@dataclass
class Item:
    """What studies_needed reads of a collected test."""

    fixturenames: list[str]
    markers: dict[str, pytest.Mark] = field(default_factory=dict)
    nodeid: str = "tests/integration/test_x.py::test_x"
    path: Path = TESTS / "integration" / "test_x.py"

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.markers.get(name)


DATASETS = ("pbmc", "tenx", "counts", "demo")


def _studies(*names: str) -> dict[str, pytest.Mark]:
    return {"studies": pytest.mark.studies(*names).mark}


def test_store_loads_what_the_collected_tests_name_in_load_order() -> None:
    items = [Item(["built_store"], _studies("counts")), Item(["built_store"], _studies("pbmc", "counts"))]
    assert studies_needed(items, DATASETS) == ["pbmc", "counts"]
    # tests without the store need nothing; a store test without a marker needs every dataset
    assert studies_needed([Item(["tmp_path"])], DATASETS) == []
    assert studies_needed([*items, Item(["built_store"])], DATASETS) == list(DATASETS)
    # cluster tests build their own store
    cluster = Item(["built_store"], {"cluster": pytest.mark.cluster.mark})
    assert studies_needed([items[0], cluster], DATASETS) == ["counts"]


def test_an_unknown_study_is_a_usage_error() -> None:
    with pytest.raises(pytest.UsageError, match="test_x: the studies marker names no such dataset: pmbc"):
        studies_needed([Item(["built_store"], _studies("pmbc"))], DATASETS)
