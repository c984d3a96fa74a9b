"""Small networks for the model simulations of the prospective-configuration study (Song et al. 2024).

The paper's loss is the squared error 1/2 sum_k (out_k - y_k)^2 per sample; PC and BP ("sgd") are
the zoo's rules, applied to the zoo's MLP, so these simulations run exactly the code that trains.
"""

from __future__ import annotations

import torch
from torch import nn

from learnscope.models import build_model
from learnscope.rules import LearningRule, build_rule

# Xavier gain per nonlinearity, as in the paper's code (tanh 5/3, ReLU sqrt 2, else 1).
GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": 2.0**0.5, "leaky_relu": 2.0**0.5}


def squared_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/2 sum over outputs of the squared error, mean over the batch."""
    return 0.5 * ((out - y) ** 2).sum(1).mean()


def toy_mlp(n_in: int, hidden: list[int], n_out: int, activation: str, seed: int, init: str = "xavier_uniform") -> nn.Module:
    """A bias-free MLP, Xavier-uniform initialised (``init='ones'``: every weight 1), in float64."""
    torch.manual_seed(seed)
    model = build_model({"kind": "mlp", "hidden": hidden, "activation": activation, "bias": False}, (n_in,), n_out).double()
    for p in model.parameters():
        with torch.no_grad():
            if init == "ones":
                p.fill_(1.0)
            else:
                nn.init.xavier_uniform_(p, gain=GAINS[activation])
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
