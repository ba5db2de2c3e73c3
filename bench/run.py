"""Side-by-side benchmark: siox, python-socketio (under uvicorn) and Node's socket.io.

    .venv/bin/python bench/run.py [--scenarios echo,binary,fanout,connect,polling]
        [--targets siox,python-socketio,node] [--repeats 3] [--quick] [--measure S]
        [--peer-python PATH] [--no-pin] [--out DIR]

For each repeat, each scenario and each target (the targets' order turns with each repeat),
it starts a fresh server pinned to CPU 0 and runs the load generator (bench/loadgen, Node)
pinned to CPU 1 for every case of the scenario, one process per case, then stops the server.
A target that cannot run here (python-socketio not importable, no Node) is skipped with a
message. It prints a Markdown table (medians over the repeats, ratios to Node's socket.io and
to python-socketio) and writes the raw results and the table to ``--out`` (bench/results/,
git-ignored). Exit status 1 when a case failed or an ack went unanswered. See
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runkit.cases import FULL, FULL_TIMING, QUICK, QUICK_TIMING, SCENARIOS, Case, Timing
from runkit.report import collect, markdown, summaries
from runkit.targets import ROOT, Server, Target, all_targets, default_python, pinning

LOADGEN = Path(__file__).resolve().parent / "loadgen" / "loadgen.js"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--targets", default="siox,python-socketio,node", help="comma-separated")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="small cases, 1 s measures")
    parser.add_argument("--measure", type=float, default=None, help="seconds per case")
    parser.add_argument("--python", default=default_python(), help="interpreter for siox")
    parser.add_argument(
        "--peer-python", default=None, help="interpreter with python-socketio (default: --python)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if not 1 <= args.repeats <= 20:
        parser.error("--repeats must be between 1 and 20")
    return args


def run_case(
    case: Case, scenario: str, timing: Timing, server: Server, prefix: list[str]
) -> dict[str, Any]:
    """One load generator run; its JSON line (with "error" when it failed)."""
    config = {
        **case.config(scenario, timing),
        "port": server.port,
        "serverPid": server.pid,
        "clkTck": os.sysconf("SC_CLK_TCK"),
    }
    node = shutil.which("node") or "node"
    command = [*prefix, node, str(LOADGEN), json.dumps(config)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timing.timeoutS + 30, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": "the load generator did not stop by itself"}
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"no result (status {done.returncode}): {done.stderr[-400:]}"}
    if result.get("errors"):
        result["error"] = "; ".join(result["errors"])
    if server.process.poll() is not None:
        result["error"] = f"the server exited (status {server.process.returncode})"
    return result


def machine() -> dict[str, Any]:
    """What the results were measured on."""
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "siox_commit": commit,
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = args.scenarios.split(",")
    timing = QUICK_TIMING if args.quick else FULL_TIMING
    if args.measure is not None:
        timing = Timing(timing.warmS, args.measure, max(timing.timeoutS, 20 * args.measure))
    cases = QUICK if args.quick else FULL
    wanted = args.targets.split(",")
    targets: list[Target] = []
    for target in all_targets(args.python, args.peer_python or args.python):
        if target.name not in wanted:
            continue
        if target.missing:
            print(f"skipping {target.name}: {target.missing}", file=sys.stderr)
        else:
            targets.append(target)
    if not targets:
        print("no target can run here", file=sys.stderr)
        return 1
    server_prefix, loadgen_prefix = pinning(not args.no_pin)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + ("-quick" if args.quick else "")
    out = Path(args.out)
    logs = out / f"{stamp}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    meta = {
        **machine(),
        "pinned": bool(server_prefix),
        "quick": args.quick,
        "repeats": args.repeats,
        "timing": timing.__dict__,
        "targets": {target.name: target.version for target in targets},
    }
    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        turn = repeat % len(targets)
        order = targets[turn:] + targets[:turn]
        for scenario in scenarios:
            for target in order:
                log_path = logs / f"{target.name}-{scenario}-{repeat}.log"
                with log_path.open("wb") as log:
                    runs += measure(
                        target,
                        scenario,
                        cases[scenario],
                        timing,
                        repeat,
                        log,
                        server_prefix,
                        loadgen_prefix,
                    )
    meta["load_average_end"] = os.getloadavg()
    rows = collect(runs)
    table = markdown(rows, meta)
    report = {"meta": meta, "summary": summaries(rows), "runs": runs}
    (out / f"{stamp}.json").write_text(json.dumps(report, indent=1))
    (out / f"{stamp}.md").write_text(table)
    print(table)
    print(f"results: {out / stamp}.json", file=sys.stderr)
    failed = any(row.errors or row.total("missing") or row.total("bad") for row in rows)
    return 1 if failed else 0


def record(
    repeat: int, scenario: str, case: Case, target: Target, **outcome: Any
) -> dict[str, Any]:
    return {
        "repeat": repeat,
        "scenario": scenario,
        "case": case.name,
        "target": target.name,
        **outcome,
    }


def measure(
    target: Target,
    scenario: str,
    cases: list[Case],
    timing: Timing,
    repeat: int,
    log: Any,
    server_prefix: list[str],
    loadgen_prefix: list[str],
) -> list[dict[str, Any]]:
    """Every case of one scenario on a fresh server of ``target``."""
    runs: list[dict[str, Any]] = []
    server = Server(target, server_prefix, log)
    try:
        server.wait_ready()
        for case in cases:
            print(f"[{repeat}] {scenario} {case.name} {target.name} ...", file=sys.stderr)
            result = run_case(case, scenario, timing, server, loadgen_prefix)
            runs.append(record(repeat, scenario, case, target, result=result))
    except RuntimeError as err:
        runs += [record(repeat, scenario, c, target, error=str(err)) for c in cases[len(runs) :]]
    finally:
        server.stop()
    return runs


if __name__ == "__main__":
    sys.exit(main())
