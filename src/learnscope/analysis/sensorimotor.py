"""Single-trial sensorimotor learning with two sensory cues (Song et al. 2024, Fig. 5f; task of Heald
et al., Nature 2021, Fig. 3).

Model (``nature_coin_fig3_new``): cue c in {1, 2} as a one-hot input s, two cue-segregated linear hidden
units h = diag(a) s (the first layer is masked to its diagonal), two force outputs f = W h (the
"memory" layer, learning rate ``memory_lr``; the first layer takes ``lr``). Every trial trains on the
force of its field: P+ -> (1, 0), P- -> (0, 1), channel / null trials P0 -> (0, 0); loss 1/2 ||f - y||^2.

Schedule per training block: 2 channel trials (cues 1, 2 shuffled), 32 field trials (P+ with cue 1 and
P- with cue 2, shuffled in groups of 8), 2 channel trials, 14/16/18 washout trials (equal cues, counts
drawn without replacement), a triplet, 6/8/10 washout trials, a triplet with the other exposure.
Post-training blocks probe each exposure type 1+, 2+, 1-, 2- once (shuffled) as a triplet
(channel trial with cue 1, exposure, channel trial with cue 1) after 2/4/6 washout trials. Single-trial
adaptation is the change of the cue-1 prediction across the triplet, projected on the exposure's
force: + -> d f_1 - d f_2, - -> d f_2 - d f_1 (predictions are read before each trial's learning).

BP changes only the weights fed by the presented cue, so a cue-2 exposure leaves the cue-1 prediction
unchanged (adaptation 0 in 2+ and 2-); PC's hidden value node of the absent cue moves during inference
and the memory weights learn from it, so cue-2 exposures transfer, as in the data. One row per (rule,
lr, memory_lr, init_std, seed, condition).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.toy_nets import linear_layers, squared_loss, weight_gradients
from learnscope.atomic import atomic_path

CONDITIONS = ("1+", "2+", "1-", "2-")
FORCES = {"+": (1.0, 0.0), "-": (0.0, 1.0), "0": (0.0, 0.0)}


def trial(cue: str, field: str) -> tuple[torch.Tensor, torch.Tensor]:
    s = torch.tensor([[1.0, 0.0] if cue == "1" else [0.0, 1.0]], dtype=torch.float64)
    return s, torch.tensor([FORCES[field]], dtype=torch.float64)


class Washout:
    """Washout lengths drawn without replacement from ``choices``, replenished when empty."""

    def __init__(self, choices: list[int], rng: np.random.Generator):
        self.choices, self.left, self.rng = list(choices), [], rng

    def trials(self) -> list[str]:
        if not self.left:
            self.left = list(self.choices)
        n = self.left.pop(int(self.rng.integers(len(self.left))))
        return list(self.rng.permutation(["10"] * (n // 2) + ["20"] * (n // 2)))


def training_block(rng: np.random.Generator, long: Washout, short: Washout) -> list[str]:
    first = str(rng.choice(["1+", "2-"]))
    second = "2-" if first == "1+" else "1+"
    fields = [t for _ in range(4) for t in rng.permutation(["1+"] * 4 + ["2-"] * 4)]
    return [*rng.permutation(["10", "20"]), *fields, *rng.permutation(["10", "20"]), *long.trials(), "10", first, "10", *short.trials(), "10", second, "10"]


class Learner:
    """The 2-2-2 linear net and its per-layer learning rates; ``step`` learns one trial."""

    def __init__(self, rule: str, lr: float, memory_lr: float, init_std: float, seed: int, options: dict):
        g = torch.Generator().manual_seed(seed)
        self.w1 = torch.randn(2, 2, generator=g, dtype=torch.float64) * init_std * torch.eye(2, dtype=torch.float64)
        self.w2 = torch.randn(2, 2, generator=g, dtype=torch.float64) * init_std
        self.rule, self.lrs, self.options = rule, (lr, memory_lr), options

    def predict(self, s: torch.Tensor) -> torch.Tensor:
        return (s @ self.w1.T @ self.w2.T)[0]

    def step(self, s: torch.Tensor, y: torch.Tensor) -> None:
        g1, g2 = weight_gradients(self.rule, linear_layers(self.w1, self.w2), s, y, squared_loss, self.options)
        self.w1 = self.w1 - self.lrs[0] * g1 * torch.eye(2, dtype=torch.float64)
        self.w2 = self.w2 - self.lrs[1] * g2


def simulate(rule: str, lr: float, memory_lr: float, init_std: float, seed: int, options: dict) -> dict[str, float]:
    """Mean single-trial adaptation per condition over the post-training blocks."""
    rng = np.random.default_rng([seed, 11])
    net = Learner(rule, lr, memory_lr, init_std, seed, options)
    long, short = Washout([14, 16, 18], rng), Washout([6, 8, 10], rng)
    for _ in range(int(options["blocks"])):
        for t in training_block(rng, long, short):
            net.step(*trial(t[0], t[1]))
    post, adaptation = Washout([2, 4, 6], rng), {c: [] for c in CONDITIONS}
    for _ in range(int(options["post_blocks"])):
        for cond in rng.permutation(CONDITIONS):
            for t in post.trials():
                net.step(*trial(t[0], t[1]))
            probe = trial("1", "0")
            before = net.predict(probe[0])
            net.step(*probe)
            net.step(*trial(cond[0], cond[1]))
            delta = net.predict(probe[0]) - before
            net.step(*probe)
            adaptation[cond].append(float(delta[0] - delta[1]) if cond[1] == "+" else float(delta[1] - delta[0]))
    return {c: float(np.mean(v)) for c, v in adaptation.items()}


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = []
    grid = itertools.product(options["lrs"], options["memory_lrs"], options["init_stds"])
    for lr, memory_lr, init_std in grid:
        for rule in ("bp", "pc"):
            for seed in options["seeds"]:
                res = simulate(rule, float(lr), float(memory_lr), float(init_std), int(seed), options)
                rows += [{"rule": rule.upper(), "lr": lr, "memory_lr": memory_lr, "init_std": init_std, "seed": seed, "condition": c, "adaptation": v} for c, v in res.items()]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
