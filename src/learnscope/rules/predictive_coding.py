"""Predictive coding (PC) with prospective configuration (Song et al., Nat. Neurosci. 2024).

For an MLP ``W_L f(... f(W_1 s))`` (``models.mlp.MLP``: blocks ``Sequential(Linear, f)`` and a linear
read-out) every hidden pre-activation gets a value node x_l. With h_0 = s, h_l = f(x_l),
mu_l = W_l h_{l-1} + b_l and y_hat = mu_L, the energy of one sample is

    F = sum_{l<L} 1/2 ||x_l - mu_l||^2  +  beta * loss(y_hat, y)

(``beta`` = ``loss_weight``; ``loss`` is the training loop's per-sample loss). One step of the rule:

1. set x_l := mu_l (the feed-forward pass; hidden energies are 0, only the loss term is not);
2. inference: T steps x_l <- x_l - gamma dF/dx_l, with
   dF/dx_l = eps_l + f'(x_l) * (delta_{l+1} W_{l+1}),  eps_l = x_l - mu_l,
   delta_l = dF/dmu_l = -eps_l (hidden) and delta_L = beta * dloss/dy_hat (output);
   gamma is multiplied by ``inference_discount`` whenever the batch energy did not fall;
3. learning: one optimiser step with the local, Hebbian gradient dF/dW_l = delta_l h_{l-1}^T at the
   relaxed state, averaged over the batch and divided by beta (so that the limit beta -> 0 is the
   backprop gradient of the mean loss, Whittington & Bogacz 2017; Millidge et al. 2022).

Schedule ``zil`` (zero-divergence inference learning, Song et al. 2020): gamma = 1 and W_l takes its
gradient at inference step t = L - l (l = 1..L), which equals backprop exactly.

The gradients are closed-form (no autograd through the network; dloss/dy_hat is closed-form for
cross-entropy and MSE and uses autograd for any other loss); they are cross-checked against autograd
in tests. Tensors follow the
model's dtype (float64 models give float64 inference).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules.base import LearningRule, LossFn, StepResult
from learnscope.rules.gradient import make_optimizer

Layer = tuple[nn.Linear, nn.Module | None]
SUPPORTED = (nn.Identity, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)


def _derivative(act: nn.Module, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """f'(x) of a pointwise nonlinearity, given its input x and output h = f(x)."""
    if isinstance(act, nn.Identity):
        return torch.ones_like(x)
    if isinstance(act, nn.ReLU):
        return (x > 0).to(x.dtype)
    if isinstance(act, nn.LeakyReLU):
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, act.negative_slope))
    if isinstance(act, nn.Tanh):
        return 1 - h * h
    if isinstance(act, nn.Sigmoid):
        return h * (1 - h)
    raise ConfigError(f"predictive_coding: activation {type(act).__name__} is not supported (relu, leaky_relu, tanh, sigmoid, linear)")


def mlp_layers(model: nn.Module) -> list[Layer]:
    """The (Linear, nonlinearity) pairs of an ``MLP`` (nonlinearity None for the read-out)."""
    net = getattr(model, "net", None)
    blocks = list(net.children()) if isinstance(net, nn.Sequential) else []
    layers: list[Layer] = []
    for i, block in enumerate(blocks):
        last = i == len(blocks) - 1
        if last and isinstance(block, nn.Linear):
            layers.append((block, None))
        elif not last and isinstance(block, nn.Sequential) and len(block) == 2 and isinstance(block[0], nn.Linear):
            if not isinstance(block[1], SUPPORTED):
                raise ConfigError(f"predictive_coding: activation {type(block[1]).__name__} is not supported (relu, leaky_relu, tanh, sigmoid, linear)")
            layers.append((block[0], block[1]))
        else:
            layers = []
            break
    if not layers:
        raise ConfigError(
            f"predictive_coding supports MLP models only (blocks Sequential(Linear, activation) and a Linear "
            f"read-out, model kind 'mlp'); got {type(model).__name__}"
        )
    return layers


@dataclass
class State:
    """Everything the energy gives at one set of value nodes (batch-summed energy)."""

    h: list[torch.Tensor]  # h_0 (input) .. h_{L-1}
    delta: list[torch.Tensor]  # dF/dmu_l, l = 1..L
    energy: float
    output: torch.Tensor  # mu_L = y_hat


def output_error(y_hat: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch-summed loss term beta * B * loss_fn and its gradient w.r.t. y_hat: closed form for the
    training loop's losses (cross-entropy: softmax - onehot; mean squared error), autograd otherwise."""
    n = len(y_hat)
    if loss_fn is nn.functional.cross_entropy and y.dtype == torch.int64 and y_hat.dim() == 2:
        logp = torch.log_softmax(y_hat, 1)
        g = logp.exp()
        g[torch.arange(n), y] -= 1
        return -beta * logp[torch.arange(n), y].sum(), beta * g
    if loss_fn is nn.functional.mse_loss and y.shape == y_hat.shape:
        diff = y_hat - y
        k = diff.numel() / n
        return beta * (diff * diff).sum() / k, 2 * beta * diff / k
    with torch.enable_grad():
        leaf = y_hat.detach().requires_grad_(True)
        loss = beta * n * loss_fn(leaf, y)
        (g,) = torch.autograd.grad(loss, leaf)
    return loss.detach(), g


@torch.no_grad()
def evaluate(layers: list[Layer], s: torch.Tensor, xs: list[torch.Tensor], y: torch.Tensor, loss_fn: LossFn, beta: float) -> State:
    """Energy and its error terms at value nodes ``xs`` (one per hidden layer); loss_fn is a batch mean."""
    h = [s] + [act(x) for x, (_, act) in zip(xs, layers[:-1])]
    mu = [nn.functional.linear(h_prev, lin.weight, lin.bias) for h_prev, (lin, _) in zip(h, layers)]
    eps = [x - m for x, m in zip(xs, mu[:-1])]
    loss, g_out = output_error(mu[-1], y, loss_fn, beta)
    energy = float(sum(0.5 * (e * e).sum() for e in eps) + loss) if eps else float(loss)
    return State(h=h, delta=[-e for e in eps] + [g_out], energy=energy, output=mu[-1])


def value_gradients(layers: list[Layer], xs: list[torch.Tensor], st: State) -> list[torch.Tensor]:
    """dF/dx_l = eps_l + f'(x_l) * (delta_{l+1} W_{l+1}) for every hidden layer."""
    return [
        -st.delta[i] + _derivative(act, x, st.h[i + 1]) * (st.delta[i + 1] @ layers[i + 1][0].weight)
        for i, (x, (_, act)) in enumerate(zip(xs, layers[:-1]))
    ]


def layer_gradient(layers: list[Layer], st: State, i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """dF/dW_l = delta_l h_{l-1}^T and dF/db_l = sum_n delta_l (batch-summed) for layer index i = l - 1."""
    d = st.delta[i]
    return d.T @ st.h[i], (d.sum(0) if layers[i][0].bias is not None else None)


def feedforward_values(layers: list[Layer], s: torch.Tensor) -> list[torch.Tensor]:
    """The hidden pre-activations of the feed-forward pass: the value nodes at t = 0."""
    xs, h = [], s
    for lin, act in layers[:-1]:
        xs.append(nn.functional.linear(h, lin.weight, lin.bias))
        h = act(xs[-1])
    return xs


@dataclass
class Relaxed:
    values: list[torch.Tensor]  # relaxed hidden value nodes x_l
    state: State  # the energy terms there
    energies: list[float]  # batch energy before each inference step and at the end (T + 1 values)


@torch.no_grad()
def relax(layers: list[Layer], s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, steps: int, rate: float, discount: float = 0.5, beta: float = 1.0) -> Relaxed:
    """Inference phase: ``steps`` gradient steps of the value nodes on F, weights fixed (see module doc)."""
    xs = feedforward_values(layers, s)
    st = evaluate(layers, s, xs, y, loss_fn, beta)
    energies, previous = [st.energy], float("inf")
    for _ in range(steps):
        if st.energy >= previous:
            rate *= discount
        previous = st.energy
        xs = [x - rate * g for x, g in zip(xs, value_gradients(layers, xs, st))]
        st = evaluate(layers, s, xs, y, loss_fn, beta)
        energies.append(st.energy)
    return Relaxed(values=xs, state=st, energies=energies)


@torch.no_grad()
def zil_gradients(layers: list[Layer], s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, beta: float = 1.0) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Batch-summed dF/dW_l of the Z-IL schedule: gamma = 1, W_l read at inference step t = L - l."""
    xs = feedforward_values(layers, s)
    grads: list = [None] * len(layers)
    for t in range(len(layers)):
        st = evaluate(layers, s, xs, y, loss_fn, beta)
        grads[len(layers) - 1 - t] = layer_gradient(layers, st, len(layers) - 1 - t)
        xs = [x - g for x, g in zip(xs, value_gradients(layers, xs, st))]
    return grads


class PredictiveCoding(LearningRule):
    """The PC rule. Keys: ``lr``, ``optimizer`` (sgd | momentum | adam, with their keys),
    ``inference_steps`` T (128), ``inference_rate`` gamma (0.1), ``inference_discount`` (0.5),
    ``loss_weight`` beta (1.0), ``schedule`` (``last``: one weight step at the relaxed state; ``zil``)."""

    name = "predictive_coding"

    def __init__(self, config: dict):
        super().__init__(config)
        self.steps = int(config.get("inference_steps", 128))
        self.rate = float(config.get("inference_rate", 0.1))
        self.discount = float(config.get("inference_discount", 0.5))
        self.beta = float(config.get("loss_weight", 1.0))
        self.schedule = config.get("schedule", "last")
        if self.schedule not in ("last", "zil"):
            raise ConfigError(f"predictive_coding.schedule {self.schedule!r} is not known (allowed: last, zil)")
        if self.steps < 0 or self.rate <= 0 or not 0 < self.discount <= 1 or self.beta <= 0:
            raise ConfigError("predictive_coding: need inference_steps >= 0, inference_rate > 0, 0 < inference_discount <= 1, loss_weight > 0")
        self.layers: list[Layer] = []
        self.optimizer: torch.optim.Optimizer | None = None
        self.last_energies: list[float] = []

    def setup(self, model: nn.Module) -> nn.Module:
        self.layers = mlp_layers(model)
        self.optimizer = make_optimizer(self.config.get("optimizer", "sgd"), model.parameters(), self.config)
        return model

    def gradients(self, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Per-layer (dW, db) of the batch-mean energy divided by beta (what the optimiser follows)."""
        s = x.flatten(1)
        if self.schedule == "zil":
            grads, self.last_energies = zil_gradients(self.layers, s, y, loss_fn, self.beta), []
        else:
            r = relax(self.layers, s, y, loss_fn, self.steps, self.rate, self.discount, self.beta)
            grads = [layer_gradient(self.layers, r.state, i) for i in range(len(self.layers))]
            self.last_energies = r.energies
        scale = 1.0 / (self.beta * len(s))
        return [(gw * scale, None if gb is None else gb * scale) for gw, gb in grads]

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> StepResult:
        assert self.optimizer is not None, "call setup(model) before step()"
        with torch.no_grad():
            outputs = model(x)
            loss = loss_fn(outputs, y)
        grads = self.gradients(x, y, loss_fn)
        for (lin, _), (gw, gb) in zip(self.layers, grads):
            lin.weight.grad = gw.detach().clone()
            if gb is not None:
                lin.bias.grad = gb.detach().clone()
        self.optimizer.step()
        return StepResult(loss=loss.detach(), outputs=outputs.detach())
