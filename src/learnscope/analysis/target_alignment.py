"""Target alignment vs depth (Song et al. 2024, Fig. 3e and its extended data).

For one learning step on one sample (s, y), target alignment is the cosine between the change of the
prediction and the direction to the target,

    TA = cos(y_hat_after - y_hat_before, y - y_hat_before),

1 when learning moves the output straight at the target. Networks: width ``width``, depth L weight
layers, bias-free, Xavier-uniform, s and y ~ N(0, 1); one SGD step of size ``lr`` (BP) or one PC step
(T inference steps at rate gamma, then the same SGD weight step). One row per (activation, depth,
seed, rule); PC's rows also hold the relaxation's convergence (``energy``, ``move_lowest``, ``move_max``:
the last inference step's energy and value-node moves).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from learnscope.analysis.toy_nets import cosine, squared_loss, toy_mlp, toy_rule
from learnscope.atomic import atomic_path
from learnscope.rules import LearningRule


def sample(width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The measured sample (s, y), both ~ N(0, I_width) in float64, drawn from a generator seeded 10000 + seed."""
    g = torch.Generator().manual_seed(10_000 + seed)
    s = torch.randn(1, width, generator=g, dtype=torch.float64)
    y = torch.randn(1, width, generator=g, dtype=torch.float64)
    return s, y


def step_alignment(learner: LearningRule, model: nn.Module, s: torch.Tensor, y: torch.Tensor) -> float:
    """TA of one ``learner.step`` of ``model`` (already set up) on (s, y): cos(y_hat' - y_hat, y - y_hat)."""
    with torch.no_grad():
        before = model(s)
    learner.step(model, s, y, squared_loss)
    with torch.no_grad():
        after = model(s)
    return cosine(after - before, y - before)


def alignment(rule: str, activation: str, depth: int, seed: int, options: dict, convergence: dict | None = None) -> float:
    """TA of one step; for PC, ``convergence`` (if given) receives the relaxation's last-step energy and
    ||x_l(T) - x_l(T-1)|| of the lowest value node and the largest over nodes (NaN without hidden layers)."""
    width = int(options["width"])
    model = toy_mlp(width, [width] * (depth - 1), width, activation, seed)
    s, y = sample(width, seed)
    learner = toy_rule(rule, float(options["lr"]), options)
    model = learner.setup(model)
    ta = step_alignment(learner, model, s, y)
    if convergence is not None and rule == "pc":
        moves = learner.last_convergence["moves"]
        convergence.update(energy=learner.last_convergence["energy"], move_lowest=moves[0] if moves else float("nan"),
                           move_max=max(moves) if moves else float("nan"))
    return ta


def row(rule: str, activation: str, depth: int, seed: int, options: dict) -> dict:
    conv: dict = {}
    ta = alignment(rule, activation, depth, seed, options, conv)
    return {"activation": activation, "depth": depth, "seed": seed, "rule": rule.upper(), "target_alignment": ta, **conv}


def main(inputs: list[str], out: str, options: dict) -> None:
    rows = [
        row(rule, act, depth, seed, options)
        for act in options["activations"]
        for depth in options["depths"]
        for seed in options["seeds"]
        for rule in ("bp", "pc")
    ]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
