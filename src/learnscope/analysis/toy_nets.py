"""Small networks for the model simulations of the prospective-configuration study (Song et al. 2024).

The paper's loss is the squared error 1/2 sum_k (out_k - y_k)^2 per sample; PC and BP ("sgd") are
the zoo's rules, applied to the zoo's MLP, so these simulations run exactly the code that trains.
"""

from __future__ import annotations

import torch
from torch import nn

from learnscope.models import build_model
from learnscope.rules import LearningRule, build_rule

def squared_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/2 sum over outputs of the squared error, mean over the batch."""
    return 0.5 * ((out - y) ** 2).sum(1).mean()


def toy_mlp(n_in: int, hidden: list[int], n_out: int, activation: str, seed: int, ones: bool = False) -> nn.Module:
    """A bias-free MLP in float64, Xavier-uniform initialised (``ones``: every weight 1)."""
    torch.manual_seed(seed)
    spec = {"kind": "mlp", "hidden": hidden, "activation": activation, "bias": False, "init": "xavier_uniform"}
    model = build_model(spec, (n_in,), n_out).double()
    if ones:
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(1.0)
    return model


def toy_rule(rule: str, lr: float, options: dict) -> LearningRule:
    """BP (plain SGD) or PC with the inference keys found in ``options``."""
    if rule == "bp":
        return build_rule({"name": "sgd", "lr": lr})
    keys = ("inference_steps", "inference_rate", "inference_discount")
    return build_rule({"name": "predictive_coding", "lr": lr, **{k: options[k] for k in keys if k in options}})


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b) over all elements (NaN when either is zero)."""
    na, nb = float(a.norm()), float(b.norm())
    return float((a * b).sum()) / (na * nb) if na > 0 and nb > 0 else float("nan")
