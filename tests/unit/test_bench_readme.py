"""The README's performance table is generated from the committed seed results, and says what was missed."""

from __future__ import annotations

import json

from bench import goals
from bench.readme import BEGIN, END, README, RESULTS, render, rewrite


def test_readme_performance_table_matches_the_committed_seed_results() -> None:
    results = json.loads(RESULTS.read_text())
    readme = README.read_text()
    assert BEGIN in readme and END in readme
    assert rewrite(readme, render(results)) == readme, "run python -m bench.readme"


def test_committed_results_are_the_seed_preset_with_every_goal_judged() -> None:
    results = json.loads(RESULTS.read_text())
    assert results["preset"] == "seed"
    judged = {g["goal"] for g in results["goals"]}
    assert judged == {g.key for g in goals.GOALS}
    assert (RESULTS.parent / "results.md").exists() and (RESULTS.parent / "results.png").exists()


def test_render_marks_misses_and_throughput_is_higher_is_better() -> None:
    results = {
        "preset": "seed",
        "dbt_build_s": 180.0,
        "throughput": {"rps": 300.0, "errors": 0},
        "first_answer": {"genostream": {"total_s": 150.0}, "scanpy": {"total_s": 40.0}},
    }
    results["goals"] = goals.judge(results)
    by_key = {g["goal"]: g for g in results["goals"]}
    assert by_key["dbt_build"]["met"] is False
    assert by_key["throughput"]["met"] is True and by_key["throughput_errors"]["met"] is True
    text = render(results)
    assert "| full dbt build (models + data and unit tests) ≤ 150 s | 180.0 s | **missed** |" in text
    assert "| scanpy: read into memory + first correlation | 40.0 |" in text
    assert rewrite(f"a\n{BEGIN}\nold\n{END}\nb", "new") == f"a\n{BEGIN}\nnew\n{END}\nb"
