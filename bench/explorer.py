"""`python -m bench.explorer --url http://localhost:8000`: first render of every explorer view, in headless
Chromium, against a running gateway.

Each view is opened as a fresh page load (the URL a shared link gives) and timed twice: from navigation start
(page, vendored libraries, API calls, drawing) and from the moment the view asked the gateway (API + drawing),
both until everything is drawn; "usable" is from navigation start until the view was usable, before a part it
draws afterwards (variability's background of every gene).
The first load of a view is reported, then the median of `--repeat` more loads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from urllib.parse import urlencode

import requests

from tests.helpers.chromium import Browser, missing


def view_urls(
    base: str, dataset: str, gene_a: str, gene_b: str, cell_type: str, *, compare_by: str = "condition"
) -> dict[str, str]:
    views = {
        "study": {"view": "study"},
        "genes": {"view": "genes", "genes": [gene_a, gene_b]},
        "pair": {"view": "pair", "gene_a": gene_a, "gene_b": gene_b, "cell_types": [cell_type]},
        "pair (all cells)": {"view": "pair", "gene_a": gene_a, "gene_b": gene_b},
        "coexpression": {"view": "coexpression", "gene": gene_a, "cell_types": [cell_type]},
        "markers": {"view": "markers", "cell_type": cell_type},
        "variability": {"view": "variability", "cell_type": cell_type},
        "variability (seurat)": {"view": "variability", "cell_type": cell_type, "rank": "seurat"},
        "distribution": {"view": "distribution", "gene": gene_a},
        "genes (compare by)": {"view": "genes", "genes": [gene_a, gene_b], "compare_by": compare_by},
        "compare vs rest (t)": {
            "view": "compare",
            "a_cell_types": [cell_type],
            "b": "rest",
            "method": "t-test",
        },
        # the study's first embedding (synth studies: `umap`), every cell coloured by gene A
        "embedding": {"view": "embedding", "gene": gene_a},
    }
    return {name: f"{base}/?{urlencode({**p, 'dataset': dataset}, doseq=True)}" for name, p in views.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explorer", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running gateway")
    parser.add_argument("--dataset", help="default: the first loaded dataset")
    parser.add_argument("--gene-a", default="EPCAM")
    parser.add_argument("--gene-b", default="KRT18")
    parser.add_argument("--cell-type", default="Epithelial")
    parser.add_argument("--compare-by", default="condition", help="a group column for the compared dot plot")
    parser.add_argument("--repeat", type=int, default=3, help="loads after the first (median reported)")
    parser.add_argument("--only", nargs="*", help="views to time (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(f"bench.explorer: {reason}", file=sys.stderr)
        return 1
    base = args.url.rstrip("/")
    try:
        datasets = requests.get(f"{base}/datasets", timeout=30).json()["datasets"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        print(f"bench.explorer: no gateway answers at {base}: {exc}", file=sys.stderr)
        return 1
    dataset = args.dataset or datasets[0]["dataset"]
    urls = view_urls(base, dataset, args.gene_a, args.gene_b, args.cell_type, compare_by=args.compare_by)
    browser = Browser()
    results = []
    try:
        for name, url in urls.items():
            if args.only and name not in args.only:
                continue
            runs = []
            for _ in range(1 + args.repeat):
                browser.driver.get("about:blank")
                browser.driver.get(url)
                runs.append(browser.wait_ready(timeout=120))
            errors = [e["message"] for e in browser.driver.get_log("browser") if e["level"] == "SEVERE"]
            results.append(
                {
                    "view": name,
                    "url": url,
                    "first_load_s": round(runs[0]["sinceNavigation"] / 1000, 3),
                    "first_view_s": round(runs[0]["ms"] / 1000, 3),
                    # the view usable (e.g. variability's list) before a part drawn after it (its background)
                    "first_usable_s": round(runs[0]["usable"]["sinceNavigation"] / 1000, 3),
                    "median_load_s": round(
                        statistics.median(r["sinceNavigation"] for r in runs[1:]) / 1000, 3
                    )
                    if args.repeat
                    else None,
                    "console_errors": errors,
                }
            )
    finally:
        browser.close()
    if args.json:
        print(json.dumps({"dataset": dataset, "results": results}, indent=2))
    else:
        print(f"dataset {dataset}: seconds from navigation start to the view drawn (fresh page load)")
        print(f"{'view':<22} {'first load':>10} {'(API+draw)':>10} {'(usable)':>10} {'median':>8}")
        for r in results:
            median = f"{r['median_load_s']:.3f}" if r["median_load_s"] is not None else "—"
            print(
                f"{r['view']:<22} {r['first_load_s']:>10.3f} {r['first_view_s']:>10.3f}"
                f" {r['first_usable_s']:>10.3f} {median:>8}"
            )
            for error in r["console_errors"]:
                print(f"  console error: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
