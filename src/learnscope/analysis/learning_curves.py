"""Learning curves: evaluation loss and accuracy over training, one row per (run, record point)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from learnscope.atomic import atomic_path
from learnscope.record import open_run

COLUMNS = ["run_id", "rule", "rule_name", "model", "dataset", "seed", "status", "step"]


def learning_curves(paths: list[str | Path]) -> pd.DataFrame:
    """Every scalar of every run at every valid record point, in long-by-run, wide-by-metric form."""
    frames = []
    for p in paths:
        with open_run(p) as run:
            cfg = run.config
            df = pd.DataFrame({name: run.scalar(name) for name in run.scalar_names})
            df.insert(0, "step", run.steps)
            meta = {
                "run_id": run.run_id,
                "rule": cfg["labels"]["rule"],
                "rule_name": cfg["rule"]["name"],
                "model": cfg["labels"]["model"],
                "dataset": cfg["dataset"]["name"],
                "seed": cfg["seed"],
                "status": run.status,
            }
            for i, (k, v) in enumerate(meta.items()):
                df.insert(i, k, v)
            frames.append(df)
    return pd.concat(frames, ignore_index=True).sort_values(["rule", "model", "seed", "step"], kind="stable")


def main(inputs: list[str], out: str, options: dict) -> None:
    table = learning_curves(inputs)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
