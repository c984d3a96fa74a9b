"""Concept drift (Song et al. 2024, Fig. 4f-g), reduced to a prepared classification dataset.

A network pretrained with backprop keeps learning while the task drifts: every ``switch_every``
epochs the labels of the classes in ``drifting`` are permuted anew (a seeded random permutation), and
each epoch trains on a fresh draw of ``per_class`` images per class in mini-batches. After every
epoch the test error is measured under the current labelling. BP (plain SGD), PC and, if listed in
``lrs``, the step-matched control ``BP_matched`` continue from the same pretrained weights at each
learning rate of their grid. Loss (also in pretraining): options ``loss`` and ``reduction``, default
the paper's squared error summed over the batch. The paper's metric is the mean test error over the
drift phase. One row per (seed, rule, lr, epoch).
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


def _error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) != y).double().mean())


def pretrain(x: torch.Tensor, y: torch.Tensor, n_out: int, seed: int, options: dict) -> torch.nn.Module:
    """BP (SGD) on the whole training set for ``pretrain_epochs`` epochs."""
    torch.manual_seed(seed)
    model = build_model(options["model"], tuple(x.shape[1:]), n_out)
    rule = toy_rule("bp", float(options["pretrain_lr"]), options)
    model = rule.setup(model)
    rng, bs = np.random.default_rng([seed, 1]), int(options["batch_size"])
    for _ in range(int(options["pretrain_epochs"])):
        order = rng.permutation(len(x))
        for i in range(0, len(x) - bs + 1, bs):
            rule.step(model, x[order[i : i + bs]], y[order[i : i + bs]], experiment_loss(options))
    return model


def drift(base: torch.nn.Module, data, rule: str, lr: float, seed: int, options: dict) -> list[dict]:
    x, y, xt, yt = data
    model = copy.deepcopy(base)
    learner = toy_rule(rule.lower(), lr, options)
    model = learner.setup(model)
    rng = np.random.default_rng([seed, 2])  # the same drift for both rules and every lr
    drifting = np.asarray(options["drifting"])
    mapping = torch.arange(int(yt.max()) + 1)
    by_class = [np.flatnonzero(y.numpy() == c) for c in range(len(mapping))]
    bs, rows = int(options["batch_size"]), []
    for epoch in range(int(options["epochs"])):
        if epoch % int(options["switch_every"]) == 0:
            mapping = torch.arange(len(mapping))
            mapping[drifting] = torch.as_tensor(rng.permutation(drifting))
        idx = rng.permutation(np.concatenate([rng.choice(m, int(options["per_class"]), replace=False) for m in by_class]))
        for i in range(0, len(idx) - bs + 1, bs):
            b = idx[i : i + bs]
            loss = learner.step(model, x[b], mapping[y[b]], experiment_loss(options)).loss
            if not torch.isfinite(loss):
                return rows + [{"seed": seed, "rule": rule, "lr": lr, "epoch": epoch + 1, "test_error": float("nan")}]
        rows.append({"seed": seed, "rule": rule, "lr": lr, "epoch": epoch + 1, "test_error": _error(model, xt, mapping[yt])})
    return rows


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    ds = load_prepared(inputs[0])
    data = tuple(torch.as_tensor(a) for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    rows = []
    for seed in options["seeds"]:
        base = pretrain(data[0], data[1], ds.n_outputs, seed, options)
        pre = {"seed": seed, "rule": "pretrained", "lr": float("nan"), "epoch": 0, "test_error": _error(base, data[2], data[3])}
        rows.append(pre)
        for rule, lrs in options["lrs"].items():  # BP, PC and, if listed, the step-matched control BP_matched
            for lr in lrs:
                rows += drift(base, data, rule, float(lr), seed, options)
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
