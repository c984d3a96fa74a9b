"""Per-run measurements of Farrell et al. (2022), "Gradient-based learning drives robust representations
in recurrent neural networks by balancing compression and expansion" (Nat. Mach. Intell. 4, 564-573).

For one online-task run record (``learnscope.train.online``) this writes a long table (one value per row:
``quantity, epoch, t, index, value``) and a table of PCA snapshots:

- ``acc``, ``loss``, ``val_loss``, ``lr`` at every epoch (accuracy of argmax of the output at the last step);
- ``pr``: participation ratio (``analysis.participation_ratio``) of the probe set at time t = 0 .. ``steps``
  (t = 0 is the input itself, t = k the hidden state after k updates; t_eval = the training horizon) at every
  epoch with recorded trajectories (0 = before training and the final epoch);
- ``lr_train_paper`` / ``lr_test_paper``: logistic-regression accuracy on training / held-out clusters with
  the paper's fixed split, and ``lr_train_random`` / ``lr_test_random``: the mean over ``random_splits``
  random 80/20 cluster splits (``analysis.cluster_holdout``, fitted in float32: only predictions are used),
  per t and epoch;
- ``lyapunov``: the top ``k`` exponents (bits per step, decreasing; ``index`` = 1 .. k) of the autonomous
  network at the checkpoints of ``lyapunov.epochs`` (-1 = the final epoch; ``analysis.lyapunov``: after
  ``burn_in`` steps, mean over ``n_init`` initial conditions), ``lyapunov_sem`` their standard errors over
  the initial conditions and ``lyapunov_drift`` (``index`` -1) the convergence measure, max |lambda(T) -
  lambda(T / 2)|;
- snapshots (``<out stem>.snapshots.csv``), final epoch: each probe point projected on the top two principal
  axes of the hidden states at t (signs chosen to agree with t - 1; the mean is kept, as in the paper),
  and the read-out rows projected on the same axes (``sample`` = -1 - class).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.cluster_holdout import holdout_accuracy, paper_split, random_splits
from learnscope.analysis.lyapunov import lyapunov_spectrum
from learnscope.analysis.participation_ratio import participation_ratio
from learnscope.atomic import atomic_path
from learnscope.errors import RecordError
from learnscope.record import open_run

RECURRENT = "hidden.recurrent.weight"
BIAS = "hidden.input.bias"
READOUT = "out.weight"


def condition(config: dict) -> dict:
    """The columns that identify a run's condition in every table."""
    model, data = config["model"], config["dataset"]
    return {
        "run_id": None,
        "gamma": float(model.get("gain", 1.0)),
        "dim": int(data["dim"]),
        "input": model.get("input_init", "default"),
        "loss": config["train"].get("loss", "cross_entropy"),
        "lr0": float(config["rule"]["lr"]),
        "seed": int(config["seed"]),
    }


def representations(probe_x: np.ndarray, hidden: np.ndarray, steps: int) -> list[np.ndarray]:
    """[input, h_1, ..., h_steps]: the representation at t = 0 .. steps of one epoch's trajectory (M, T, H)."""
    if hidden.shape[1] < steps:
        raise RecordError(f"the record holds {hidden.shape[1]} time steps; the analysis asks for {steps} (raise record.probe_steps)")
    return [probe_x] + [hidden[:, t - 1] for t in range(1, steps + 1)]


def pca_snapshots(hidden: np.ndarray, readout: np.ndarray, times: list[int]) -> pd.DataFrame:
    """Projections of the hidden states (M, T, H) and read-out rows (C, H) on the top-2 PCs at each t in ``times``."""
    rows, prev = [], None
    for t in range(1, max(times) + 1):
        h = hidden[:, t - 1].astype(np.float64)
        evecs = torch.linalg.eigh(torch.as_tensor(np.cov(h, rowvar=False)))[1].numpy()  # numpy's LAPACK: 0.03-1 s each
        v = evecs[:, ::-1][:, :2]
        if prev is not None:
            v = v * np.where(np.sum(v * prev, axis=0) < 0, -1.0, 1.0)
        prev = v
        if t in times:
            p, r = h @ v, readout @ v
            rows.append(pd.DataFrame({"t": t, "sample": np.arange(len(h)), "pc1": p[:, 0], "pc2": p[:, 1]}))
            rows.append(pd.DataFrame({"t": t, "sample": -1 - np.arange(len(r)), "pc1": r[:, 0], "pc2": r[:, 1]}))
    return pd.concat(rows, ignore_index=True)


def measure(path: str | Path, options: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics, snapshots) of one run record."""
    steps = int(options["steps"])
    hold, lyap = options["holdout"], options["lyapunov"]
    rows: list[dict] = []
    with open_run(path) as run:
        cond = {**condition(run.config), "run_id": run.run_id, "status": run.status}
        epochs = run.steps // max(int(run.steps[1]), 1) if len(run.steps) > 1 else run.steps
        for q in ("acc", "loss", "val_loss", "lr"):
            rows += [{"quantity": q, "epoch": int(e), "t": -1, "index": -1, "value": float(v)} for e, v in zip(epochs, run.scalar(q))]
        probe_x, labels, cluster = run.array("probe/x"), run.array("probe/labels"), run.array("probe/cluster")
        traj_epochs, hidden = run.array("trajectories/epoch"), run.array("trajectories/hidden")
        n_clusters = int(run.config["dataset"]["n_clusters"])
        splits = np.concatenate(
            [paper_split(n_clusters, hold["fraction"])[None], random_splits(n_clusters, int(hold["random_splits"]), hold["fraction"], int(hold["split_seed"]))]
        )
        for e, traj in zip(traj_epochs, hidden):
            for t, rep in enumerate(representations(probe_x, traj, steps)):
                rows.append({"quantity": "pr", "epoch": int(e), "t": t, "index": -1, "value": float(participation_ratio(rep))})
                train_acc, test_acc = holdout_accuracy(rep, labels, cluster, splits, c=float(hold["C"]), dtype=torch.float32)
                for name, acc in (("lr_train", train_acc), ("lr_test", test_acc)):
                    rows.append({"quantity": f"{name}_paper", "epoch": int(e), "t": t, "index": -1, "value": float(acc[0])})
                    rows.append({"quantity": f"{name}_random", "epoch": int(e), "t": t, "index": -1, "value": float(acc[1:].mean())})
        final = int(epochs[-1])
        w, b = run.checkpoint(RECURRENT), run.checkpoint(BIAS)
        for e in sorted({final if int(x) < 0 else int(x) for x in lyap["epochs"]}):
            if e > final:
                continue  # the original silently repeated epoch 10 for a missing epoch 150; here it is skipped
            spec = lyapunov_spectrum(w[e], b[e], int(lyap["k"]), n_iter=int(lyap["n_iter"]), n_init=int(lyap["n_init"]),
                                     init_range=float(lyap["init_range"]), seed=int(lyap["seed"]), burn_in=int(lyap["burn_in"]))
            for q, values in (("lyapunov", spec.mean), ("lyapunov_sem", spec.sem)):
                rows += [{"quantity": q, "epoch": e, "t": -1, "index": k + 1, "value": float(v)} for k, v in enumerate(values)]
            rows.append({"quantity": "lyapunov_drift", "epoch": e, "t": -1, "index": -1, "value": spec.drift})
        snaps = pca_snapshots(hidden[-1], run.checkpoint(READOUT)[final], [int(t) for t in options["snapshot_times"]])
        snaps.insert(0, "epoch", int(traj_epochs[-1]))
        snaps["label"] = np.where(snaps["sample"] >= 0, labels[snaps["sample"].clip(lower=0)], -1 - snaps["sample"])
    metrics = pd.DataFrame(rows)
    for k, v in reversed(list(cond.items())):
        metrics.insert(0, k, v)
        snaps.insert(0, k, v)
    return metrics, snaps


def snapshots_path(out: str | Path) -> Path:
    """Where ``main`` writes the snapshots table next to ``out``."""
    out = Path(out)
    return out.with_name(out.stem + ".snapshots.csv")


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    if len(inputs) != 1:
        raise RecordError(f"robust-rnn measures one run record at a time (got {len(inputs)} inputs)")
    metrics, snaps = measure(inputs[0], options)
    for table, path in ((metrics, Path(out)), (snaps, snapshots_path(out))):
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, float_format="%.9g")
