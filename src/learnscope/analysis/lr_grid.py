"""Test error of training runs over a learning-rate grid, one row per run (Song et al. 2024, Figs 3–4).

The paper compares rules at each rule's best learning rate, chosen per condition by the mean over
seeds (``summarize_select``). Each run gives its ``condition`` (the run's model label: depth, batch
size, ...), rule label, lr and seed, and three reductions of the test error e_t = 1 - test accuracy
over its record points t > 0: ``mean_error`` (learning speed, the paper's main metric),
``min_error`` and ``final_error``, and ``best`` (see ``mark_best_lr``; the few-data and CNN figures
select by ``min_error``, as the paper does). A diverged run keeps NaN errors. Runs that recorded their
relaxation (PC, tracker ``relaxation``) add, at their last record point, the energy at the last inference
step (``relax_energy``) and ||x_l(T) - x_l(T-1)|| of the lowest and of the fastest-moving value node
(``relax_move_lowest``, ``relax_move_max``); NaN for the others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnscope.atomic import atomic_path
from learnscope.record import open_run


def run_errors(path: str) -> dict:
    with open_run(path) as run:
        cfg = run.config
        err = 1.0 - np.asarray(run.scalar("test_acc"), dtype=float)[1:]
        complete = run.status == "complete"
        relax = _relaxation(run)
        return {
            "condition": cfg["labels"]["model"],
            "rule": cfg["labels"]["rule"],
            "lr": float(cfg["rule"]["lr"]),
            "seed": int(cfg["seed"]),
            "status": run.status,
            "mean_error": float(err.mean()) if complete else float("nan"),
            "min_error": float(err.min()) if complete else float("nan"),
            "final_error": float(err[-1]) if complete else float("nan"),
            **relax,
        }


def _relaxation(run) -> dict:
    nan = float("nan")
    if "relaxation/energy" not in run.tracked_names:
        return {"relax_energy": nan, "relax_move_lowest": nan, "relax_move_max": nan}
    moves = np.asarray(run.tracked("relaxation/moves"), dtype=float)[-1]
    return {
        "relax_energy": float(np.asarray(run.tracked("relaxation/energy"), dtype=float)[-1, 0]),
        "relax_move_lowest": float(moves[0]) if moves.size else nan,
        "relax_move_max": float(moves.max()) if moves.size else nan,
    }


def mark_best_lr(table: pd.DataFrame, metric: str = "mean_error") -> pd.DataFrame:
    """Add ``best``: the run is at its (condition, rule)'s lr with the lowest mean ``metric`` over seeds
    (a learning rate with a diverged seed has a NaN mean and is never chosen)."""
    means = table.groupby(["condition", "rule", "lr"])[metric].agg(lambda v: v.mean(skipna=False)).reset_index()
    means = means.dropna(subset=[metric])
    best = means.loc[means.groupby(["condition", "rule"])[metric].idxmin(), ["condition", "rule", "lr"]].assign(best=True)
    return table.merge(best, on=["condition", "rule", "lr"], how="left").fillna({"best": False})


def main(inputs: list[str], out: str, options: dict) -> None:
    """``options['metric']``: the reduction that picks the best lr (default ``mean_error``)."""
    table = pd.DataFrame([run_errors(p) for p in inputs]).sort_values(["condition", "rule", "lr", "seed"], kind="stable")
    table = mark_best_lr(table.reset_index(drop=True), options.get("metric", "mean_error"))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
