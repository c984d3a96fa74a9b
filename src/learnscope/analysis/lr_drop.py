"""The learning-rate-drop negative control of neural mechanics' equilibrium (Kunin et al., ICLR 2021).

The exact SGD + weight-decay laws, and the equilibrium |theta_A|^2 -> eta <|g_A|^2> / (2 lambda) they imply
when lambda t >> 1, assume a constant learning rate eta (the original code's buffers use the initial rate,
so its closed forms ignore lr drops). This analysis trains one run of the study (``options["run"]``, a run
config as the train rule gets it) with its learning rate multiplied by ``factor`` after the fraction ``at``
of its steps, while the symmetry tracker keeps the constant-eta theory of the initial rate, and writes the
same long table as ``symmetry_dynamics.run_table`` (columns ``lr_drop_step`` and ``lr_drop_factor`` added).

It trains here, not through the train rule, because the training loop has no learning-rate drop (adding
one would change the code digest of every training run of every study). Until the drop the run is the
study's run of the same config and seed, step for step (same initialisation and batch stream).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.symmetry_dynamics import SERIES, long_table
from learnscope.atomic import atomic_path
from learnscope.data.dataset import load_prepared
from learnscope.errors import ConfigError, RecordError
from learnscope.models import build_model
from learnscope.record.identity import run_id as make_run_id
from learnscope.rules import build_rule
from learnscope.rules.losses import loss_function
from learnscope.train.device import deterministic_settings, resolve_device
from learnscope.train.loop import batches
from learnscope.train.recorder import as_input, record_schedule
from learnscope.train.symmetry import SymmetryTracker


def drop_step(steps: int, at: float) -> int:
    """The step from which the learning rate is dropped (0 < at < 1 of ``steps``)."""
    if not 0.0 < at < 1.0:
        raise ConfigError(f"lr-drop: 'at' is a fraction of the run's steps in (0, 1), got {at}")
    return int(round(at * steps))


def train_with_drop(run: dict, dataset, at: float, factor: float, threads: int = 1) -> pd.DataFrame:
    """Train ``run`` (SGD) with its learning rate times ``factor`` from ``drop_step(steps, at)`` on; the
    symmetry tracker's series per record point, long by family, layer and unit."""
    if run["rule"]["name"] != "sgd":
        raise ConfigError(f"lr-drop: the control drops the rate of an SGD run, got rule {run['rule']['name']!r}")
    device = resolve_device(run["device"])
    deterministic_settings(device, threads)
    seed, train = int(run["seed"]), run["train"]
    steps, batch_size = int(train["steps"]), int(train["batch_size"])
    dtype = {"float32": torch.float32, "float64": torch.float64}[train.get("dtype", "float32")]
    torch.manual_seed(seed)
    model = build_model(run["model"], dataset.input_shape, dataset.n_outputs).to(device=device, dtype=dtype)
    rule = build_rule(run["rule"])
    model = rule.setup(model)
    model.train()
    loss_fn = loss_function(dataset.task, train)
    x_train, y_train = as_input(dataset.x_train, device, dtype), as_input(dataset.y_train, device, dtype)
    tracker = SymmetryTracker(model, rule)
    record_at = set(int(s) for s in record_schedule(steps, int(run["record"]["points"]), run["record"].get("spacing", "linear")))
    k_drop = drop_step(steps, at)
    batch_iter = batches(len(x_train), batch_size, steps, int(train.get("data_seed", seed)))
    records, status = [], "complete"
    for step in range(steps + 1):
        if step in record_at:
            records.append((step, tracker.record()))
        if step == steps:
            break
        if step == k_drop:
            for group in rule.optimizer.param_groups:
                group["lr"] *= factor
        idx = torch.as_tensor(next(batch_iter), device=device)
        tracker.before_step()
        res = rule.step(model, x_train[idx], y_train[idx], loss_fn)
        tracker.after_step(res)
        if not np.isfinite(float(res.loss)):
            status = "diverged"
            break
    meta = {"run_id": f"lr_drop-{make_run_id(run)}", "model": run["labels"]["model"], "rule": "sgd", "lr": float(run["rule"]["lr"]),
            "weight_decay": float(run["rule"].get("weight_decay", 0.0)), "momentum": 0.0, "dampening": 0.0, "seed": seed, "status": status,
            "lr_drop_step": k_drop, "lr_drop_factor": float(factor)}
    keys = sorted({k.rsplit("/", 1)[0] for k in records[0][1] if k != "time"})
    layers = [(*key.split("/"), {s: np.stack([r[f"{key}/{s}"] for _, r in records]) for s in SERIES}) for key in keys]
    return long_table(meta, layers, [s for s, _ in records], [float(r["time"]) for _, r in records])


def main(inputs: list[str], out: str, options: dict) -> None:
    if len(inputs) != 1:
        raise RecordError(f"lr-drop reads one prepared dataset (data/prepared/<name>.h5), got {len(inputs)} inputs")
    unknown = set(options) - {"run", "at", "factor", "threads"}
    if unknown or "run" not in options:
        raise ConfigError(f"lr-drop: options are run, at, factor (got {', '.join(sorted(options))})")
    table = train_with_drop(options["run"], load_prepared(inputs[0]), float(options["at"]), float(options["factor"]), int(options.get("threads", 1)))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.17g")
