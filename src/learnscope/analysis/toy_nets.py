"""Small networks for the model simulations of the prospective-configuration study (Song et al. 2024).

The paper's loss is the squared error 1/2 sum_k (out_k - y_k)^2 per sample; PC and BP ("sgd") are
the zoo's rules, applied to the zoo's MLP, so these simulations run exactly the code that trains.
"""

from __future__ import annotations

import torch
from torch import nn

from learnscope.models import build_model
from learnscope.rules import LearningRule, build_rule
from learnscope.rules.losses import Loss
from learnscope.rules.predictive_coding import half_squared_error, layer_gradient, relax


squared_loss = half_squared_error  # 1/2 sum_k (out_k - y_k)^2, mean over the batch (closed form in PC)


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


OPTIMIZER_KEYS = ("weight_decay", "betas", "momentum")
PC_KEYS = ("inference_steps", "inference_rate", "inference_discount", "loss_weight", "schedule")


def toy_rule(rule: str, lr: float, options: dict) -> LearningRule:
    """BP, PC or ``bp_matched`` (BP's gradient rescaled to the norm of PC's update) with the keys found in ``options``: ``optimizer`` (sgd | momentum | adam, default sgd:
    BP's rule and PC's weight optimiser) with its keys, and PC's inference keys and ``loss_weight`` beta."""
    optimizer = options.get("optimizer", "sgd")
    opt = {k: options[k] for k in OPTIMIZER_KEYS if k in options}
    if rule == "bp":
        return build_rule({"name": optimizer, "lr": lr, **opt})
    pc = {k: options[k] for k in PC_KEYS if k in options}
    if rule == "bp_matched":  # the step-matched control: BP's direction at the size of PC's update
        pc["direction"] = "backprop_matched"
    return build_rule({"name": "predictive_coding", "lr": lr, "optimizer": optimizer, **opt, **pc})


def experiment_loss(options: dict) -> Loss:
    """The loss of a learning experiment run inside an analysis step (``loss``, ``reduction``; the
    paper's squared error summed over the batch by default)."""
    return Loss(options.get("loss", "squared_error"), options.get("reduction", "sum"), "classification")


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b) over all elements (NaN when either is zero)."""
    na, nb = float(a.norm()), float(b.norm())
    return float((a * b).sum()) / (na * nb) if na > 0 and nb > 0 else float("nan")


def linear_layers(*weights: torch.Tensor) -> list:
    """Bias-free linear layers (W_1 .. W_L, float64) in the predictive-coding rule's (Linear, f) form."""
    layers = []
    for i, w in enumerate(weights):
        lin = nn.Linear(w.shape[1], w.shape[0], bias=False).double()
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append((lin, nn.Identity() if i < len(weights) - 1 else None))
    return layers


def weight_gradients(rule: str, layers: list, s: torch.Tensor, y: torch.Tensor, loss_fn, options: dict) -> list[torch.Tensor]:
    """Batch-summed dE/dW_l of one learning step, for models whose layers take separate learning rates or
    masks. ``bp``: autograd of B * loss at the feed-forward pass; ``pc``: the rule's own inference
    (``relax``, keys inference_steps / inference_rate / inference_discount of ``options``), then the
    Hebbian gradient at the relaxed state."""
    if rule == "bp":
        with torch.enable_grad():
            h = s
            for lin, act in layers[:-1]:
                h = act(lin(h))
            loss = len(s) * loss_fn(layers[-1][0](h), y)
            return list(torch.autograd.grad(loss, [lin.weight for lin, _ in layers]))
    r = relax(layers, s, y, loss_fn, int(options["inference_steps"]), float(options["inference_rate"]), float(options.get("inference_discount", 0.5)))
    return [layer_gradient(layers, r.state, i)[0] for i in range(len(layers))]
