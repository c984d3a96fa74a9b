"""Fear conditioning: overshadowing and the recovery of fear to N after extinguishing L (Song et al. 2024;
repository experiment ``nature_fear_conditioning``).

Model: cues s = (L, N) -> cue-segregated perception h = (p_L L, p_N N) (a diagonal layer, weights 1)
-> fear = m_L h_L + m_N h_N (mix weights |N(0.1, init_std)|), loss 1/2 (fear - y)^2, each weight group
with its own learning rate (perception_lr, L_lr, N_lr). Groups: N+ (N alone -> 1), LN+ (L and N -> 1),
then ``iterations`` trials of extinction: L alone -> 0 in LN+,L-, nothing (no cue, no error) otherwise.
The measure is the fear to N alone after extinction.

BP cannot change anything fed by N on an L-alone trial (every such gradient carries the factor N = 0),
so its fear to N is the same in LN+ and LN+,L-; in PC the N-unit's value node moves during inference
to explain away the omitted shock and m_N learns from it, so fear to N recovers after L is extinguished
(the data's effect). One row per (rule, perception_lr, L_lr, N_lr, seed, group).
"""

from __future__ import annotations

import itertools

import pandas as pd
import torch

from learnscope.analysis.toy_nets import linear_layers, squared_loss, weight_gradients
from learnscope.atomic import atomic_path

GROUPS = {"N+": ((0.0, 1.0), (0.0, 0.0)), "LN+": ((1.0, 1.0), (0.0, 0.0)), "LN+,L-": ((1.0, 1.0), (1.0, 0.0))}


def simulate(rule: str, lrs: tuple[float, float, float], group: str, seed: int, options: dict) -> float:
    """Fear to N after conditioning (target 1) and extinction (target 0), ``iterations`` trials each."""
    g = torch.Generator().manual_seed(seed)
    perception = torch.eye(2, dtype=torch.float64)
    mix = (0.1 + float(options["init_std"]) * torch.randn(1, 2, generator=g, dtype=torch.float64)).abs()
    rate = torch.tensor([[lrs[0], 0.0], [0.0, lrs[0]]], dtype=torch.float64)
    mix_rate = torch.tensor([[lrs[1], lrs[2]]], dtype=torch.float64)
    for cues, target in zip(GROUPS[group], (1.0, 0.0)):
        s, y = torch.tensor([cues], dtype=torch.float64), torch.tensor([[target]], dtype=torch.float64)
        for _ in range(int(options["iterations"])):
            gp, gm = weight_gradients(rule, linear_layers(perception, mix), s, y, squared_loss, options)
            perception, mix = perception - rate * gp, mix - mix_rate * gm
    return float(mix @ perception @ torch.tensor([0.0, 1.0], dtype=torch.float64))


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = []
    for p_lr, l_lr, n_lr in itertools.product(options["perception_lrs"], options["L_lrs"], options["N_lrs"]):
        for rule in ("bp", "pc"):
            for seed in options["seeds"]:
                for group in GROUPS:
                    fear = simulate(rule, (float(p_lr), float(l_lr), float(n_lr)), group, int(seed), options)
                    rows.append({"rule": rule.upper(), "perception_lr": p_lr, "L_lr": l_lr, "N_lr": n_lr, "seed": seed, "group": group, "fear_to_N": fear})
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
