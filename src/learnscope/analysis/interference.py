"""Interference on the 1-1-2 linear network (Song et al. 2024, Fig. 3a,d).

Input s = 1, hidden h = w_1 s, outputs (v_1 h, v_2 h), every weight 1, target (0, 1): only the first
output is wrong. BP lowers w_1 as well as v_1, so the second (already correct) output dips before it
recovers ("interference"); PC first relaxes h to the value that serves both outputs (prospective
configuration) and changes the weights to produce it, so the second output barely moves. One row per
(rule, learning rate, iteration): the feed-forward prediction before that iteration's update.
"""

from __future__ import annotations

import pandas as pd
import torch

from learnscope.analysis.toy_nets import squared_loss, toy_mlp, toy_rule
from learnscope.atomic import atomic_path


def simulate(rule: str, lr: float, iterations: int, options: dict) -> pd.DataFrame:
    model = toy_mlp(1, [1], 2, "linear", seed=0, ones=True)
    learner = toy_rule(rule, lr, options)
    model = learner.setup(model)
    s, y = torch.ones(1, 1, dtype=torch.float64), torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    rows = []
    for it in range(iterations + 1):
        with torch.no_grad():
            out = model(s)[0]
        rows.append({"rule": rule.upper(), "lr": lr, "iteration": it, "x_0": float(out[0]), "x_1": float(out[1])})
        if it < iterations:
            learner.step(model, s, y, squared_loss)
    return pd.DataFrame(rows)


def main(inputs: list[str], out: str, options: dict) -> None:
    table = pd.concat(
        [simulate(rule, float(lr), int(options["iterations"]), options) for rule in ("bp", "pc") for lr in options["lrs"]],
        ignore_index=True,
    )
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
