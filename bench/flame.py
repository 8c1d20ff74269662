"""Where a /gene-correlation request's time goes: py-spy flame graphs of the gateway under load.

`python -m bench.flame STORE WORKLOAD OUT_DIR [--seconds S] [--clients N]` starts the gateway on a built store
(as the benchmark does), answers the workload's correlation requests once (warm-up), then records the gateway
process with `py-spy record --native` while N clients send the correlation workload: once as a flame graph
(`correlation.svg`) and once as collapsed stacks, summarised in `correlation.txt` (each frame's share of the
samples, callers included). WORKLOAD is the `work/workload.json` a `python -m bench` run writes. Needs py-spy
(`pip install -e '.[bench]'`) and the right to trace a child process (root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench import gateway_client
from bench.errors import BenchError
from bench.runner import DATASET

# The frame every API request runs in (gateway/http/endpoint.py's endpoint wrapper).
HANDLER = "endpoint.<locals>.decorate.<locals>.handle (endpoint.py)"
FRAME = re.compile(r"^(?P<name>\S+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    match = FRAME.match(frame)
    return f"{match['name']} ({Path(match['file']).name})" if match else frame[:60]


def frame_shares(collapsed: str, top: int = 40, *, within: str | None = None) -> list[tuple[float, str]]:
    """Per frame (function and file), the share of samples whose stack contains it — callers included. With
    `within` (a frame name), only the samples under that frame count, and only the frames below it."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        names = [_frame_name(frame) for frame in stack.split(";")]
        if within is not None:
            if within not in names:
                continue
            names = names[names.index(within) :]
        total += int(count)
        for name in set(names):
            inclusive[name] += int(count)
    return [(100.0 * n / total, name) for name, n in inclusive.most_common(top)] if total else []


def _record(py_spy: str, pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    cmd = [py_spy, "record", "--native", "--rate", "200", "--duration", str(int(seconds))]
    return subprocess.Popen(
        [*cmd, "--pid", str(pid), "--format", fmt, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _load(
    gateway: gateway_client.Gateway,
    calls: list[gateway_client.Call],
    clients: int,
    seconds: float,
    into: dict[str, float | int],
) -> None:
    into.update(gateway_client.throughput(gateway, calls, clients=clients, duration_s=seconds))


def profile(store: Path, workload: Path, out: Path, *, seconds: float, clients: int) -> dict[str, float]:
    """Record both outputs under load; requests/s of each recorded window."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise BenchError("py-spy is not installed (pip install -e '.[bench]')")
    requests = json.loads(workload.read_text())["correlation"]
    calls = [gateway_client.build_call("correlation", r, DATASET) for r in requests]
    out.mkdir(parents=True, exist_ok=True)
    rates = {}
    with gateway_client.Gateway(store, out / "gateway.log") as gateway:
        assert gateway.process is not None
        gateway_client.time_queries(gateway, "correlation", requests, DATASET)
        for name, fmt in (("correlation.svg", "flamegraph"), ("correlation.collapsed", "raw")):
            spy = _record(py_spy, gateway.process.pid, seconds, out / name, fmt)
            load: dict[str, float | int] = {}
            worker = threading.Thread(
                target=_load, args=(gateway, calls, clients, seconds, load), name="bench-flame-load"
            )
            worker.start()
            _, err = spy.communicate()
            worker.join()
            if spy.returncode != 0:
                raise BenchError(f"py-spy failed: {err.decode(errors='replace').strip()[-300:]}")
            rates[name] = float(load["rps"])
    collapsed = (out / "correlation.collapsed").read_text()
    handler = frame_shares(collapsed, top=25, within=HANDLER)
    process = frame_shares(collapsed, top=25)
    (out / "correlation.txt").write_text(
        f"/gene-correlation, {clients} clients, {rates['correlation.collapsed']:.0f} requests/s while "
        "recorded (py-spy slows the gateway).\n\nWithin the request handler, share of its samples per frame "
        "(callers included):\n"
        + "\n".join(f"{share:5.1f}%  {name}" for share, name in handler)
        + "\n\nWhole process (idle worker threads included):\n"
        + "\n".join(f"{share:5.1f}%  {name}" for share, name in process)
        + "\n"
    )
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flame", description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a built embedded store (python -m bench leaves DIR/store)")
    parser.add_argument("workload", type=Path, help="work/workload.json of a benchmark run")
    parser.add_argument("out", type=Path, help="directory for correlation.svg and correlation.txt")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    for path in (args.store, args.workload):
        if not path.exists():
            print(f"python -m bench.flame: {path} does not exist", file=sys.stderr)
            return 2
    try:
        rates = profile(args.store, args.workload, args.out, seconds=args.seconds, clients=args.clients)
    except (BenchError, gateway_client.GatewayError) as exc:
        print(f"python -m bench.flame: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}/correlation.svg and correlation.txt ({rates['correlation.svg']:.0f} requests/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
