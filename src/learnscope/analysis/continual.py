"""Continual learning of two tasks sharing their outputs (Song et al. 2024, Fig. 4d-e), reduced.

The classes are split into task A (``task_a``) and task B (the rest); both tasks share the read-out:
class c is trained on output ``rank of c within its task`` (the paper: class mod 5). Training
alternates ``epochs_per_task`` epochs on A and on B for ``repetitions`` rounds, from the same
initial weights for both rules. Loss: options ``loss`` and ``reduction`` (default the paper's squared
error summed over the batch); PC's ``inference_discount`` is the paper's 0.9 in params. After every
epoch the test error of each task is measured. Forgetting is the rise of the other task's error while
one task trains; the paper's summary is the mean test error (over both tasks and the whole schedule).
One row per (seed, rule, lr, epoch, task).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.toy_nets import experiment_loss, toy_rule
from learnscope.atomic import atomic_path
from learnscope.data import load_prepared
from learnscope.models import build_model


def tasks(y: np.ndarray, task_a: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-item task (0 = A, 1 = B) and shared output index (rank of the class within its task)."""
    classes = np.unique(y)
    a = np.isin(classes, task_a)
    out = np.empty(classes.max() + 1, dtype=np.int64)
    out[classes[a]] = np.arange(a.sum())
    out[classes[~a]] = np.arange((~a).sum())
    return np.isin(y, task_a).astype(np.int64) ^ 1, out[y]


def run(base, data, rule: str, lr: float, seed: int, options: dict) -> list[dict]:
    x, task, target, xt, task_t, target_t = data
    model = copy.deepcopy(base)
    learner = toy_rule(rule, lr, options)
    model = learner.setup(model)
    rng, bs, rows, epoch = np.random.default_rng([seed, 4]), int(options["batch_size"]), [], 0
    for _ in range(int(options["repetitions"])):
        for k in (0, 1):
            members = np.flatnonzero(task == k)
            for _ in range(int(options["epochs_per_task"])):
                epoch += 1
                order = rng.permutation(members)
                for i in range(0, len(order) - bs + 1, bs):
                    b = torch.as_tensor(order[i : i + bs])
                    learner.step(model, x[b], target[b], experiment_loss(options))
                with torch.no_grad():
                    wrong = (model(xt).argmax(1) != target_t).numpy()
                for j, name in enumerate("AB"):
                    rows.append({"seed": seed, "rule": rule.upper(), "lr": lr, "epoch": epoch, "training": "AB"[k], "task": name, "test_error": float(wrong[task_t == j].mean())})
    return rows


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    ds = load_prepared(inputs[0])
    task, target = tasks(ds.y_train, options["task_a"])
    task_t, target_t = tasks(ds.y_test, options["task_a"])
    data = (torch.as_tensor(ds.x_train), task, torch.as_tensor(target), torch.as_tensor(ds.x_test), task_t, torch.as_tensor(target_t))
    n_out = int(target.max()) + 1
    rows = []
    for seed in options["seeds"]:
        torch.manual_seed(seed)
        base = build_model(options["model"], tuple(ds.x_train.shape[1:]), n_out)
        for rule in ("BP", "PC"):
            for lr in options["lrs"][rule]:
                rows += run(base, data, rule.lower(), float(lr), seed, options)
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
