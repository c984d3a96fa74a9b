"""Run the benchmark suite and write ``<out>/results.json`` and ``<out>/results.md`` (the README table).

    python -m benchmarks                 the issue's sizes (tens of minutes on 2 cores; an idle machine)
    python -m benchmarks --quick         everything at small sizes, a couple of minutes: checks the suite
    python -m benchmarks --end-to-end    also `figures/all` from scratch at the defaults (long)
    python -m benchmarks --only throughput,hdf5

Each row has its measured value, the issue's target and pass/fail (blank where there is no target).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks import suite

MEASUREMENTS = {  # memoization first: its peak memory is the largest child RSS so far (the throughput's ensembles are larger)
    "memoization": lambda a, s: suite.memoization(s, a.cores),
    "throughput": lambda a, s: suite.throughput(s, a.threads),
    "dry_run": lambda a, s: suite.dry_run(s),
    "hdf5": lambda a, s: suite.hdf5_writing(s),
    "srm_rsa": lambda a, s: suite.srm_rsa(s),
}


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, load {', '.join(f'{x:.1f}' for x in m['load_average'] or [])}), "
        f"torch {m['torch']}{' — QUICK sizes, not the targets’ sizes' if results['quick'] else ''}.",
        "",
        "| measurement | value | unit | target | pass | note |",
        "|---|---:|---|---|---|---|",
    ]
    for r in results["rows"]:
        ok = "" if r["passed"] is None else ("yes" if r["passed"] else "**no**")
        value = "—" if r["value"] is None else r["value"]
        lines.append(f"| {r['name']} | {value} | {r['unit']} | {r['target'] or ''} | {ok} | {r['note']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes: checks that the suite runs (timings not comparable to the targets)")
    p.add_argument("--end-to-end", action="store_true", help="also build figures/all from scratch at the defaults (long)")
    p.add_argument("--only", default=",".join(MEASUREMENTS), help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the throughput measurement (the train jobs use 1)")
    p.add_argument("--cores", type=int, default=2, help="snakemake --cores for the builds")
    p.add_argument("--out", default="benchmarks/results", help="folder for results.json and results.md")
    a = p.parse_args(argv)
    chosen = [n for n in a.only.split(",") if n]
    unknown = [n for n in chosen if n not in MEASUREMENTS]
    if unknown:
        p.error(f"--only: unknown {unknown} (known: {', '.join(MEASUREMENTS)})")
    sizes = suite.QUICK if a.quick else suite.FULL
    rows = []
    for name in chosen:
        t = time.perf_counter()
        rows += MEASUREMENTS[name](a, sizes)
        print(f"benchmark {name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if a.end_to_end:
        rows += suite.end_to_end(a.cores)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "quick": a.quick,
               "machine": machine(), "rows": rows}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))
    return 0
