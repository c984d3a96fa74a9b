"""The paper-shape run (docs/paper_tier.md): the paper tier's configuration with config/paper_shape.yaml on
top, on tiny datasets in their real formats (benchmarks/raw_datasets.py), in a temporary copy of the
project, end to end: every training run, analysis, figure and claim file.

    python -m benchmarks.paper_shape [--dir DIR] [--cores N] [--target figures/paper_shape/all]

Prints the wall time and the failed jobs; exits 1 when any job failed. The claims are not expected to pass
at a few steps: this run checks that everything runs, not what it finds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.raw_datasets import write_all

REPO = Path(__file__).resolve().parents[1]
CONFIG = ("config/paper.yaml", "config/paper_shape.yaml")
RAW = "data/paper_shape_raw"  # the root of config/paper_shape.yaml's data entries


def copy_project(dest: Path) -> Path:
    """Tracked and untracked-but-not-ignored files of the checkout (what a clone with local edits has)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in out.decode().split("\0"):
        src = REPO / name
        if name and src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def run(dest: Path, cores: int, target: str, extra: list[str]) -> int:
    copy_project(dest)
    write_all(dest / RAW)
    env = {**os.environ, "SNAKEMAKE_OUTPUT_CACHE": str(dest / ".snakemake-cache"), "DVC_NO_ANALYTICS": "1", "PYTHONPATH": str(dest / "src")}
    (dest / ".snakemake-cache").mkdir(exist_ok=True)
    cmd = ["nice", "-n", "10", "snakemake", "--cores", str(cores), "--keep-going", target, "--configfile", *CONFIG, *extra]
    start = time.monotonic()
    res = subprocess.run(cmd, cwd=dest, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    out = res.stdout + res.stderr
    (dest / "paper_shape.log").write_text(out)
    failed = sorted(set(re.findall(r"Error in rule (\w+):", out)))
    done = re.findall(r"(\d+) of (\d+) steps \(\d+%\) done", out)
    print(f"paper-shape: {target} in {dest}: {wall / 60:.1f} min wall, snakemake exit {res.returncode}, "
          f"steps done {done[-1][0] + ' of ' + done[-1][1] if done else 'none'}")
    for rule in failed:
        print(f"  failed rule: {rule} (see {dest}/logs/paper_shape and {dest}/paper_shape.log)")
    return 0 if res.returncode == 0 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.paper_shape", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", help="project copy to build in (default: a new temporary folder, kept for inspection)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--target", default="figures/paper_shape/all")   # the paper_shape tier's index
    p.add_argument("extra", nargs="*", help="more snakemake arguments")
    a = p.parse_args(argv)
    dest = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="learnscope-paper-shape-"))
    dest.mkdir(parents=True, exist_ok=True)
    return run(dest, a.cores, a.target, a.extra)


if __name__ == "__main__":
    sys.exit(main())
