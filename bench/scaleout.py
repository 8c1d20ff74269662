"""Scale-out by simulation: what one shard of an N-shard cluster would do, measured on one machine.

No cluster runs on this project's machines, so for each N this loads, builds and queries shard 1's share of
the study (bench.shard_share: cells hashed as the cluster hashes them) on its own embedded store, then
measures the initiator's merge of N such partial results. Projected cluster figures are share + merge,
labelled as projections: they assume shard-local builds and queries and leave out the network
(docs/scale-out.md says what that means).

    python -m bench.scaleout --study DIR --out DIR [--shards 1 2 4 8] [--repeats 3]

N = 1 is the whole study on one node (the baseline, measured the same way). Each stage runs in its own
process, one at a time (one embedded store per process); the load average is recorded beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.measure import percentiles_ms, run_child, stopwatch
from bench.scaleout_report import markdown
from loader import detect_study, read_header

REPO = Path(__file__).resolve().parents[1]
DATASET = "bench"
COEXPRESSION_LIMIT = 20
PARTIAL_CROSS_SUMS_SQL = """
    SELECT e.gene AS gene, sum(t.x * e.lognorm) AS sxy, count() AS n_both
    FROM marts.expression AS e
    INNER JOIN (
        SELECT cell, lognorm AS x FROM marts.expression
        WHERE dataset = {dataset:String} AND gene = {gene:String} AND cell_type = {cell_type:String}
    ) AS t ON e.cell = t.cell
    WHERE e.dataset = {dataset:String} AND e.cell_type = {cell_type:String}
    GROUP BY e.gene
"""


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def _env(store: Path) -> dict[str, str]:
    return {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}


# ----- split (child process) ----------------------------------------------------------------------------


def split(study: Path, out: Path, shard_counts: list[int]) -> None:
    from bench.shard_share import write_shares
    from genostream.engine import open_chdb

    client = open_chdb(out / "hash-store")
    try:
        shares = write_shares(client, study, out, shard_counts, DATASET)
    finally:
        client.close()
    for share in shares:
        info = {"shards": share.shards, "n_cells": share.n_cells, "nnz": share.nnz}
        (share.directory / "share.json").write_text(json.dumps(info))


# ----- queries (child process, on one share's store) ----------------------------------------------------


def _timed(call, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        with stopwatch() as watch:
            call()
        samples.append(watch.seconds)
    return samples


def _merge_seconds(
    client, table: str, copies: int, group_by: str, sums: str, repeats: int, where: str = "1"
) -> list[float]:
    """A merge of `copies` shards' partial results (copies of this share's rows that match `where`)."""
    client.command(f"DROP TABLE IF EXISTS {table}_partials")
    client.command(
        f"CREATE TABLE {table}_partials ENGINE = Memory AS "
        f"SELECT * FROM {table} ARRAY JOIN range({copies}) AS shard WHERE {where}"
    )
    merge = f"SELECT {group_by}, {sums} FROM {table}_partials GROUP BY {group_by} FORMAT Null"
    try:
        return _timed(lambda: client.command(merge), repeats)
    finally:
        client.command(f"DROP TABLE {table}_partials")


def queries(shards: int, repeats: int) -> dict[str, Any]:
    from bench.peers.genostream_sql import VARIABILITY_SQL
    from gateway.analyses.coexpression import coexpressed
    from gateway.analyses.correlation import correlate
    from gateway.catalog import Catalog
    from gateway.clients import ClientPool
    from gateway.config import GatewayConfig

    pool = ClientPool(GatewayConfig.from_env({"catalog_ttl_s": 0.0}))
    catalog = Catalog(pool, 0.0)
    client = pool.main()
    try:
        cell_type, n = client.query(
            "SELECT cell_type, count() AS n FROM marts.cells WHERE cell_type != 'unannotated' "
            "GROUP BY cell_type ORDER BY n DESC, cell_type LIMIT 1"
        ).first_row
        genes = [
            row[0]
            for row in client.query(
                "SELECT gene FROM marts.gene_stats WHERE dataset = {d:String} AND cell_type = {c:String} "
                "AND n_expressing > 0 ORDER BY cityHash64(gene) LIMIT 6",
                parameters={"d": DATASET, "c": cell_type},
            ).result_rows
        ]
        where = {"dataset": DATASET, "cell_types": [cell_type]}
        coexpression = [
            s
            for gene in genes[:3]
            for s in _timed(
                lambda g=gene: coexpressed(pool, gene=g, n=n, limit=COEXPRESSION_LIMIT, **where), repeats
            )
        ]
        pairs = list(zip(genes[::2], genes[1::2], strict=True))
        correlation = [
            s
            for a, b in pairs
            for s in _timed(
                lambda a=a, b=b: correlate(
                    pool,
                    catalog.dataset(DATASET),
                    method="pearson",
                    by=None,
                    gene_a=a,
                    gene_b=b,
                    cell_types=[cell_type],
                ),
                repeats * 3,
            )
        ]
        variability = _timed(
            lambda: pool.fetch(VARIABILITY_SQL, {"dataset": DATASET, "cell_type": cell_type, "limit": 10}),
            repeats * 3,
        )
        client.command(
            "CREATE TABLE cross_sums ENGINE = Memory AS " + PARTIAL_CROSS_SUMS_SQL,
            parameters={"dataset": DATASET, "gene": genes[0], "cell_type": cell_type},
        )
        # Co-expression: the initiator merges every shard's per-gene sums (N × genes rows). Gene-level
        # marts: partial sums go to the shard owning the gene, which merges N partials of its 1/N of genes.
        mine = f"cityHash64(dataset, gene) % {shards} = 0"
        merges = {
            "coexpression": _merge_seconds(
                client, "cross_sums", shards, "gene", "sum(sxy), sum(n_both)", repeats
            ),
            "gene_stats": _merge_seconds(
                client,
                "marts.gene_stats",
                shards,
                "dataset, cell_type, gene",
                "sum(n_cells), sum(n_expressing), sum(sum), sum(sum_sq)",
                repeats,
                mine,
            ),
            "pseudobulk": _merge_seconds(
                client,
                "marts.pseudobulk",
                shards,
                "dataset, sample, cell_type, gene",
                "sum(sum_value)",
                repeats,
                mine,
            ),
        }
        client.command("DROP TABLE cross_sums")
        sizes = dict(
            client.query(
                "SELECT table, sum(rows) FROM system.parts WHERE active AND database = 'marts' GROUP BY table"
            ).result_rows
        )
        return {
            "cell_type": cell_type,
            "cells_in_cell_type": int(n),
            "genes": genes,
            "coexpression": percentiles_ms(coexpression),
            "correlation": percentiles_ms(correlation),
            "variability": percentiles_ms(variability),
            "merge": {name: percentiles_ms(samples) for name, samples in merges.items()},
            "mart_rows": {str(k): int(v) for k, v in sizes.items()},
            "loadavg": loadavg(),
        }
    finally:
        pool.close()


# ----- the run ------------------------------------------------------------------------------------------


def _child(cmd: list[str], log: Path, env: dict[str, str]) -> dict[str, float]:
    before = loadavg()
    child = run_child(cmd, log=log, env=env, cwd=REPO)
    if child.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} failed (see {log}): {child.tail(3)}")
    return {"wall_s": round(child.wall_s, 2), "peak_rss_mb": round(child.peak_rss_mb), "loadavg": before}


def measure_share(study: Path, work: Path, shards: int, repeats: int) -> dict[str, Any]:
    """Load, build and query one share (or, for N = 1, the whole study) on a fresh store."""
    store = work / "store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(work / "dbt", ignore_errors=True)
    env, logs = _env(store), work / "logs"
    python, dbt = sys.executable, str(Path(sys.executable).with_name("dbt"))
    result: dict[str, Any] = {"shards": shards}
    load = [python, "-m", "loader", "load", str(study), "--dataset", DATASET, "--no-progress"]
    result["load"] = _child(load, logs / "load.log", env)
    build = [dbt, "build", "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO)]
    build += ["--target-path", str(work / "dbt" / "target"), "--log-path", str(work / "dbt" / "logs")]
    result["dbt_build"] = _child(build, logs / "dbt_build.log", env)
    answers = work / "queries.json"
    ask = [python, "-m", "bench.scaleout", "queries", "--shards", str(shards), "--repeats", str(repeats)]
    result["queries_run"] = _child([*ask, "--json", str(answers)], logs / "queries.log", env)
    result["queries"] = json.loads(answers.read_text())
    shutil.rmtree(store, ignore_errors=True)  # a share's store is GBs; its figures are what we keep
    return result


def project(measured: dict[str, Any]) -> dict[str, Any]:
    """Cluster figures for N shards = one shard's share + the merge of N partial results (none for N = 1)."""
    q = measured["queries"]
    merge = q["merge"] if measured["shards"] > 1 else {key: {"p50_ms": 0.0} for key in q["merge"]}
    return {
        "dbt_build_s": round(
            measured["dbt_build"]["wall_s"]
            + (merge["gene_stats"]["p50_ms"] + merge["pseudobulk"]["p50_ms"]) / 1000.0,
            1,
        ),
        "coexpression_p50_ms": round(q["coexpression"]["p50_ms"] + merge["coexpression"]["p50_ms"], 1),
        "correlation_p50_ms": q["correlation"]["p50_ms"],
        "variability_p50_ms": q["variability"]["p50_ms"],
    }


def run(study: Path, out: Path, shard_counts: list[int], repeats: int) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "study": str(study),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    cut = sorted(n for n in shard_counts if n > 1)
    missing = [n for n in cut if not (out / f"share-{n}" / "share.json").exists()]
    if missing:
        command = [sys.executable, "-m", "bench.scaleout", "split", "--study", str(study), "--out", str(out)]
        command += ["--shards", *map(str, missing)]
        results["split"] = _child(command, out / "logs" / "split.log", _env(out / "hash-store"))
    results["runs"] = {}
    for shards in sorted(shard_counts, reverse=True):  # smallest shares first
        directory = study if shards == 1 else out / f"share-{shards}"
        measured = measure_share(directory, out / f"work-{shards}", shards, repeats)
        if shards > 1:
            measured["share"] = json.loads((directory / "share.json").read_text())
        measured["projected"] = project(measured)
        results["runs"][str(shards)] = measured
        (out / "scaleout.json").write_text(json.dumps(results, indent=2))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "split", "queries", "report"))
    parser.add_argument(
        "--study", type=Path, help="the study directory (python -m loader synth … --preset seed)"
    )
    parser.add_argument("--out", type=Path, help="where shares, stores and scaleout.json go")
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="(queries) where to write the figures")
    parser.add_argument(
        "--reference",
        nargs="*",
        default=["dbt_build_s=344", "coexpression_p50_ms=1400"],
        help="(report) quiet single-node figures, metric=value (default: the README's seed run)",
    )
    args = parser.parse_args(argv)
    if args.command == "report":
        if args.out is None:
            parser.error("report needs --out (the run's directory)")
        results = json.loads((args.out / "scaleout.json").read_text())
        total = read_header(detect_study(Path(results["study"])).matrix).n_entries
        reference = {key: float(value) for key, value in (item.split("=") for item in args.reference)}
        print(markdown(results, total, reference))
        return 0
    if args.command == "queries":
        args.json.write_text(json.dumps(queries(args.shards[0], args.repeats)))
        return 0
    if args.study is None or args.out is None:
        parser.error("--study and --out are required")
    if args.command == "split":
        split(args.study, args.out, args.shards)
        return 0
    try:
        results = run(args.study.resolve(), args.out.resolve(), args.shards, args.repeats)
    except BenchError as exc:
        print(f"bench.scaleout: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({n: r["projected"] for n, r in results["runs"].items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
