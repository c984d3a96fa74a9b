"""Probabilistic reversal learning (Song et al. 2024, Fig. 6c; task of Hampton et al. 2006; repository
experiment ``nature_reversal_task``).

Model: a 1-1-2 linear network (weights N(0, init_std)) maps the constant task input to the values of two
actions; the choice is softmax(values). The chosen action is rewarded +1 or -1 (P(+1) = 0.7 when it
is the correct action, 0.4 otherwise) and only its value learns: loss 1/2 (v_a - r)^2. After
``reverse_after`` consecutive correct choices the contingency reverses with probability 0.25 per trial
(then the count restarts). After every punished trial we log the punished action's value at that
trial and the value of the action chosen on the next trial, and whether that choice was a switch.

Both actions share the hidden unit, so learning about the chosen action moves the other's value too;
in PC the shared hidden activity is first relaxed to what the outcome implies and the weights then
follow it. The paper finds that PC reproduces the data's crossover (after a punishment, staying
follows a falling value and switching a rising one) and BP does not. One row per logged event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.toy_nets import linear_layers, squared_loss, weight_gradients
from learnscope.atomic import atomic_path


def simulate(rule: str, lr: float, seed: int, options: dict) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    std = float(options["init_std"])
    w1 = std * torch.randn(1, 1, generator=g, dtype=torch.float64)
    w2 = std * torch.randn(2, 1, generator=g, dtype=torch.float64)
    rng = np.random.default_rng([seed, 13])
    s = torch.ones(1, 1, dtype=torch.float64)
    correct, streak, armed, last, rows = 0, 0, False, None, []
    for t in range(int(options["trials"])):
        values = (w2 @ w1)[:, 0].numpy()
        p = np.exp(values - values.max())
        action = int(rng.choice(2, p=p / p.sum()))
        if last is not None:
            rows.append({"rule": rule.upper(), "lr": lr, "seed": seed, "trial": t, "switch": action != last[0], "at_punish": last[1], "next_trial": float(values[action])})
        reward = float(rng.choice([1.0, -1.0], p=[0.7, 0.3] if action == correct else [0.4, 0.6]))
        streak = streak + 1 if action == correct else 0
        gw1, gw2 = weight_gradients(rule, linear_layers(w1, w2[action : action + 1]), s, torch.tensor([[reward]], dtype=torch.float64), squared_loss, options)
        w1 = w1 - lr * gw1
        w2 = w2.clone()
        w2[action] -= lr * gw2[0]
        armed = armed or streak >= int(options["reverse_after"])
        if armed and rng.random() < 0.25:
            correct, streak, armed = 1 - correct, 0, False
        last = (action, float(values[action])) if reward < 0 else None
    return rows


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = [r for lr in options["lrs"] for rule in ("bp", "pc") for seed in options["seeds"] for r in simulate(rule, float(lr), int(seed), options)]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
