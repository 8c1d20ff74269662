"""The flame-graph summary: each frame's share of the samples, callers included, counted once per stack."""

from __future__ import annotations

import pytest

from bench.flame import frame_shares


def test_frame_shares_count_callers_once_per_stack() -> None:
    collapsed = "\n".join(
        [
            "run (threading.py:10);handle (gateway/http/endpoint.py:5);query (chdb/state/sqlitelike.py:70) 6",
            "run (threading.py:10);handle (gateway/http/endpoint.py:5);dump (pydantic/main.py:3) 2",
            "run (threading.py:10);poll (waitress/wasyncore.py:9);poll (waitress/wasyncore.py:12) 2",
            "malformed line without a count",
        ]
    )
    shares = dict((name, share) for share, name in frame_shares(collapsed))
    assert shares["run (threading.py)"] == pytest.approx(100.0)
    assert shares["handle (endpoint.py)"] == pytest.approx(80.0)
    assert shares["query (sqlitelike.py)"] == pytest.approx(60.0)
    assert shares["poll (wasyncore.py)"] == pytest.approx(20.0)  # recursion counts once


def test_frame_shares_within_a_frame_count_only_its_samples() -> None:
    collapsed = "\n".join(
        [
            "run (threading.py:10);handle (gateway/http/endpoint.py:5);query (chdb/state/sqlitelike.py:70) 3",
            "run (threading.py:10);handle (gateway/http/endpoint.py:5) 1",
            "run (threading.py:10);wait (threading.py:20) 6",
        ]
    )
    shares = dict((name, share) for share, name in frame_shares(collapsed, within="handle (endpoint.py)"))
    assert shares == {"handle (endpoint.py)": 100.0, "query (sqlitelike.py)": 75.0}


def test_frame_shares_of_nothing_is_empty() -> None:
    assert frame_shares("") == []
