"""What the harness hands a peer process (a JSON context) and what the peer writes back (a JSON result)."""

from __future__ import annotations

import argparse
import json
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from bench.measure import percentiles_ms, self_peak_rss_mb, stopwatch
from bench.study import Study, StudyFiles, read_study


class PeerContext(BaseModel):
    """Everything a peer needs: the study files, how to read them, the questions, where to work."""

    study_dir: Path
    cell_type_column: str | None
    value_kind: str
    dataset: str
    workload: Path
    work_dir: Path
    expression_parquet: Path | None = None
    cells_parquet: Path | None = None
    max_samples: dict[str, int] = {}

    def load_workload(self) -> dict[str, Any]:
        return json.loads(self.workload.read_text())

    def read_study(self) -> Study:
        files = StudyFiles.find(self.study_dir)
        return read_study(files, cell_type_column=self.cell_type_column, value_kind=self.value_kind)

    def requests(self, kind: str) -> list[dict[str, Any]]:
        """The first `max_samples[kind]` requests of one kind (peers can be slow at the reference size)."""
        items = self.load_workload()[kind]
        limit = self.max_samples.get(kind)
        return items[:limit] if limit else items


def timed_answers(
    requests: Sequence[dict[str, Any]], answer: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Answer each request once, timing each; the latencies' percentiles and the answers, in order."""
    latencies: list[float] = []
    answers: list[Any] = []
    for request in requests:
        with stopwatch() as watch:
            answers.append(answer(request))
        latencies.append(watch.seconds)
    # The first request's latency on its own: with the time to load it is the time to a first answer.
    latency = {**percentiles_ms(latencies), "first_ms": round(latencies[0] * 1000.0, 3)} if latencies else {}
    return {"latency": latency, "answers": answers}


def top_by_cv(genes: Sequence[str], cv: np.ndarray, limit: int) -> list[list[Any]]:
    """[[gene, cv], …] of the `limit` highest finite CVs, highest first (the variability question)."""
    finite = np.flatnonzero(np.isfinite(cv))
    order = finite[np.argsort(-cv[finite], kind="stable")][:limit]
    return [[genes[i], float(cv[i])] for i in order]


def pearson_or_none(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson r the way a numpy user writes it (np.corrcoef); None where it is undefined."""
    if x.size < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        r = float(np.corrcoef(x, y)[0, 1])
    return r if np.isfinite(r) else None


def peer_main(run: Callable[[PeerContext], dict[str, Any]], argv: Sequence[str] | None = None) -> int:
    """Read the context, run the peer, write its result (or a one-line error) as JSON; exit 0 either way
    unless the result cannot be written."""
    parser = argparse.ArgumentParser()
    parser.add_argument("context", type=Path)
    parser.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    context = PeerContext.model_validate_json(args.context.read_text())
    context.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = run(context)
    except ImportError as exc:
        result = {"skipped": f"not installed: {exc.name or exc} (pip install -e '.[bench]')"}
    except Exception as exc:  # a peer failing is a result to report, not a reason to stop the benchmark
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    result.setdefault("peak_rss_mb_self", round(self_peak_rss_mb(), 1))
    args.result.write_text(json.dumps(result, default=float))
    return 0
