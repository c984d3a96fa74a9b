"""Predictive coding (PC) with prospective configuration (Song et al., Nat. Neurosci. 2024).

For an MLP ``W_L f(... f(W_1 s))`` (``models.mlp.MLP``: blocks ``Sequential(Linear, f)`` and a linear
read-out) every hidden pre-activation gets a value node x_l. With h_0 = s, h_l = f(x_l),
mu_l = W_l h_{l-1} + b_l and y_hat = mu_L, the energy of one sample is

    F = sum_{l<L} 1/2 ||x_l - mu_l||^2  +  beta * loss(y_hat, y)

(``beta`` = ``loss_weight``; ``loss`` is the training loop's per-sample loss; everything is summed over the
batch: Song et al.'s energy, with loss 1/2 sum_k (y_hat_k - onehot_k)^2). One step of the rule:

1. set x_l := mu_l (the feed-forward pass; hidden energies are 0, only the loss term is not);
2. inference: T steps x_l <- x_l - gamma dF/dx_l, with
   dF/dx_l = eps_l + f'(x_l) * (delta_{l+1} W_{l+1}),  eps_l = x_l - mu_l,
   delta_l = dF/dmu_l = -eps_l (hidden) and delta_L = beta * dloss/dy_hat (output);
   gamma is multiplied by ``inference_discount`` whenever the batch energy did not fall;
3. learning: one optimiser step with the local, Hebbian gradient dF/dW_l = delta_l h_{l-1}^T at the
   relaxed state, divided by beta, and by the batch size B when the loss's ``reduction`` is ``mean``
   (a loss without one, e.g. ``torch.nn.functional.cross_entropy``, is a batch mean), so that the limit
   beta -> 0 is the backprop gradient of the same loss and reduction (Whittington & Bogacz 2017;
   Millidge et al. 2022). With the paper's reduction ``sum`` and beta = 1 this is dF/dW itself.

Schedule ``zil`` (zero-divergence inference learning, Song et al. 2020): gamma = 1 and W_l takes its
gradient at inference step t = L - l (l = 1..L), which equals backprop exactly. Schedule ``all`` (the
paper's CNN, ``update_p_at="all"``): an optimiser step of the weights at every inference step, from the
same energy gradient as that step's value-node update.

Convergence of the relaxation: after every step the rule keeps ``last_convergence``, the batch energy at
the last inference step and ||x_l(T) - x_l(T-1)|| of every value node (Frobenius norm over the batch).

Two implementations of the same rule (``implementation``):

- ``closed_form`` (MLPs): the gradients above, written out (no autograd through the network;
  dloss/dy_hat is closed-form for cross-entropy and MSE and uses autograd for any other loss);
- ``autograd`` (any sequential model of Linear / Conv2d layers and parameter-free modules, e.g. the
  conv net): the model's modules are cut into segments that each end in a weight layer, a value node
  sits at every segment's output but the last (x_l, the pre-activation of an MLP), mu_l is the segment
  applied to x_{l-1} (x_0 = s), and dF/dx, dF/dW come from autograd on the same energy. For an MLP both
  give the same numbers (tested in float64); ``auto`` picks closed_form when the model is an MLP.

Tensors follow the model's dtype (float64 models give float64 inference).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules.base import LearningRule, LossFn, StepResult
from learnscope.rules.gradient import make_optimizer
from learnscope.rules.losses import batch_total

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


def _is_mlp(model: nn.Module) -> bool:
    try:
        mlp_layers(model)
    except ConfigError:
        return False
    return True


@dataclass
class State:
    """Everything the energy gives at one set of value nodes (batch-summed energy)."""

    h: list[torch.Tensor]  # h_0 (input) .. h_{L-1}
    delta: list[torch.Tensor]  # dF/dmu_l, l = 1..L
    energy: float
    output: torch.Tensor  # mu_L = y_hat


def half_squared_error(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/2 sum over outputs of the squared error, mean over the batch (Song et al.'s loss per sample)."""
    return 0.5 * ((out - y) ** 2).sum(1).mean()


def output_error(y_hat: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch-summed loss term beta * B * loss_fn and its gradient w.r.t. y_hat: closed form for the
    training loop's losses (cross-entropy: softmax - onehot; mean squared error; half squared error) and
    for a loss function carrying ``summed_with_gradient(y_hat, y) -> (batch-summed loss, its gradient)``,
    autograd otherwise."""
    n = len(y_hat)
    closed = getattr(loss_fn, "summed_with_gradient", None)
    if closed is not None:
        loss, g = closed(y_hat, y)
        return beta * loss, beta * g
    if loss_fn is half_squared_error and y.shape == y_hat.shape:
        diff = y_hat - y
        return 0.5 * beta * (diff * diff).sum(), beta * diff
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
        loss = beta * batch_total(loss_fn, leaf, y)
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
    last_moves: list[float]  # ||x_l(T) - x_l(T-1)|| per value node (zeros when T = 0)


def _norms(moves: list[torch.Tensor]) -> list[float]:
    return [float(torch.linalg.vector_norm(m)) for m in moves]


@torch.no_grad()
def relax(layers: list[Layer], s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, steps: int, rate: float, discount: float = 0.5, beta: float = 1.0, learn=None) -> Relaxed:
    """Inference phase: ``steps`` gradient steps of the value nodes on F (see module doc). ``learn(state)``,
    if given, is called at every step with that step's energy terms, before the value nodes move (the
    ``all`` schedule's weight step); otherwise the weights stay fixed."""
    xs = feedforward_values(layers, s)
    st = evaluate(layers, s, xs, y, loss_fn, beta)
    energies, previous, moves = [st.energy], float("inf"), [torch.zeros(()) for _ in xs]
    for _ in range(steps):
        if st.energy >= previous:
            rate *= discount
        previous = st.energy
        moves = [rate * g for g in value_gradients(layers, xs, st)]
        if learn is not None:
            learn(st)
        xs = [x - m for x, m in zip(xs, moves)]
        st = evaluate(layers, s, xs, y, loss_fn, beta)
        energies.append(st.energy)
    return Relaxed(values=xs, state=st, energies=energies, last_moves=_norms(moves))


@dataclass
class Segments:
    """A sequential model cut at its weight layers: ``blocks[l]`` maps x_l to mu_{l+1}."""

    blocks: list[nn.Sequential]
    weights: list[nn.Module]  # the Linear / Conv2d of each block
    flatten_input: bool  # the model flattens its input (an MLP: first weight layer is Linear)


WEIGHT_LAYERS = (nn.Linear, nn.Conv2d)


def _leaves(module: nn.Module) -> list[nn.Module]:
    if isinstance(module, nn.Sequential):
        return [leaf for child in module.children() for leaf in _leaves(child)]
    return [module]


def sequential_segments(model: nn.Module) -> Segments:
    """Cut ``model.net`` (or the model itself, an ``nn.Sequential``) after every Linear / Conv2d; modules
    after the last weight layer join the last block. Other modules must be parameter-free."""
    net = getattr(model, "net", model)
    if not isinstance(net, nn.Sequential):
        raise ConfigError(f"predictive_coding (autograd) needs a sequential model (an nn.Sequential ``net``); got {type(model).__name__}")
    blocks, weights, current = [], [], []
    for leaf in _leaves(net):
        current.append(leaf)
        if isinstance(leaf, WEIGHT_LAYERS):
            blocks.append(nn.Sequential(*current))
            weights.append(leaf)
            current = []
        elif any(True for _ in leaf.parameters()):
            raise ConfigError(
                f"predictive_coding: module {type(leaf).__name__} has parameters but is not Linear or Conv2d "
                "(batch norm and other parametrised layers are not supported; use batchnorm: false)"
            )
    if not blocks:
        raise ConfigError(f"predictive_coding: model {type(model).__name__} has no Linear or Conv2d layer")
    blocks[-1].extend(current)
    return Segments(blocks=blocks, weights=weights, flatten_input=isinstance(weights[0], nn.Linear))


def _energy(seg: Segments, s: torch.Tensor, xs: list[torch.Tensor], y: torch.Tensor, loss_fn: LossFn, beta: float) -> torch.Tensor:
    """F = sum_l 1/2 ||x_l - block_l(x_{l-1})||^2 + beta * B * loss_fn(block_L(x_{L-1}), y), batch-summed."""
    total, h = 0.0, s
    for block, x in zip(seg.blocks[:-1], xs):
        total = total + 0.5 * ((x - block(h)) ** 2).sum()
        h = x
    return total + beta * batch_total(loss_fn, seg.blocks[-1](h), y)


def _with_grad(xs: list[torch.Tensor]) -> list[torch.Tensor]:
    return [x.detach().requires_grad_(True) for x in xs]


def segment_values(seg: Segments, s: torch.Tensor) -> list[torch.Tensor]:
    """The value nodes at t = 0: every block's feed-forward output but the last."""
    xs, h = [], s
    with torch.no_grad():
        for block in seg.blocks[:-1]:
            h = block(h)
            xs.append(h)
    return xs


def _weight_grads(energy: torch.Tensor, xs: list[torch.Tensor], modules: list[nn.Module]) -> tuple[list, list]:
    """Autograd of ``energy`` w.r.t. the value nodes and the (weight, bias) of ``modules``."""
    params = [p for m in modules for p in (m.weight, m.bias) if p is not None]
    grads = list(torch.autograd.grad(energy, xs + params))
    gx, gp = grads[: len(xs)], iter(grads[len(xs) :])
    return gx, [(next(gp), next(gp) if m.bias is not None else None) for m in modules]


def relax_autograd(seg: Segments, s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, steps: int, rate: float, discount: float = 0.5, beta: float = 1.0, learn=None) -> tuple[list, list[float], list[float]]:
    """The inference phase of ``relax`` by autograd; returns the batch-summed (dW, db) of every weight
    layer at the relaxed state, the energies (T + 1 values) and ||x_l(T) - x_l(T-1)|| per value node.
    ``learn(grads)``, if given, gets every step's batch-summed (dW, db) before the value nodes move."""
    with torch.enable_grad():
        xs = _with_grad(segment_values(seg, s))
        energy = _energy(seg, s, xs, y, loss_fn, beta)
        energies, previous, moves = [float(energy.detach())], float("inf"), [torch.zeros(()) for _ in xs]
        for _ in range(steps):
            if energies[-1] >= previous:
                rate *= discount
            previous = energies[-1]
            if learn is not None:
                gx, gw = _weight_grads(energy, xs, seg.weights)
                learn(gw)
            else:
                gx = torch.autograd.grad(energy, xs) if xs else []
            moves = [rate * g.detach() for g in gx]
            xs = _with_grad([x - m for x, m in zip(xs, moves)])
            energy = _energy(seg, s, xs, y, loss_fn, beta)
            energies.append(float(energy.detach()))
        return _weight_grads(energy, xs, seg.weights)[1], energies, _norms(moves)


def zil_gradients_autograd(seg: Segments, s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, beta: float = 1.0) -> list:
    """``zil_gradients`` by autograd: gamma = 1, weight layer l read at inference step t = L - l."""
    n = len(seg.blocks)
    grads: list = [None] * n
    with torch.enable_grad():
        xs = _with_grad(segment_values(seg, s))
        for t in range(n):
            i = n - 1 - t
            gx, (grads[i],) = _weight_grads(_energy(seg, s, xs, y, loss_fn, beta), xs, [seg.weights[i]])
            xs = _with_grad([x - g for x, g in zip(xs, gx)])
    return grads


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
    ``loss_weight`` beta (1.0), ``schedule`` (``last``: one weight step at the relaxed state; ``all``: a
    weight step at every inference step; ``zil``), ``implementation`` (``auto``: closed_form for MLPs,
    autograd for other sequential models), ``direction`` (``relaxed``: PC; ``backprop_matched``: the
    step-matched control, BP's gradient of the loss rescaled to the norm of PC's relaxed update, so that
    a comparison with PC isolates the direction of PC's update from its smaller size)."""

    name = "predictive_coding"

    def __init__(self, config: dict):
        super().__init__(config)
        self.steps = int(config.get("inference_steps", 128))
        self.rate = float(config.get("inference_rate", 0.1))
        self.discount = float(config.get("inference_discount", 0.5))
        self.beta = float(config.get("loss_weight", 1.0))
        self.schedule = config.get("schedule", "last")
        if self.schedule not in ("last", "all", "zil"):
            raise ConfigError(f"predictive_coding.schedule {self.schedule!r} is not known (allowed: last, all, zil)")
        self.direction = config.get("direction", "relaxed")
        if self.direction not in ("relaxed", "backprop_matched") or (self.direction != "relaxed" and self.schedule != "last"):
            raise ConfigError(f"predictive_coding.direction {self.direction!r} is not known (allowed: relaxed, backprop_matched; the latter with schedule last)")
        self.implementation = config.get("implementation", "auto")
        if self.implementation not in ("auto", "closed_form", "autograd"):
            raise ConfigError(f"predictive_coding.implementation {self.implementation!r} is not known (allowed: auto, closed_form, autograd)")
        if self.steps < 0 or self.rate <= 0 or not 0 < self.discount <= 1 or self.beta <= 0:
            raise ConfigError("predictive_coding: need inference_steps >= 0, inference_rate > 0, 0 < inference_discount <= 1, loss_weight > 0")
        self.layers: list[Layer] = []
        self.segments: Segments | None = None
        self.weights: list[nn.Module] = []
        self.optimizer: torch.optim.Optimizer | None = None
        self.last_energies: list[float] = []
        self.last_convergence: dict = {}

    def setup(self, model: nn.Module) -> nn.Module:
        if self.implementation == "closed_form" or (self.implementation == "auto" and _is_mlp(model)):
            self.layers = mlp_layers(model)
            self.weights = [lin for lin, _ in self.layers]
        else:
            self.segments = sequential_segments(model)
            self.weights = self.segments.weights
        self.optimizer = make_optimizer(self.config.get("optimizer", "sgd"), model.parameters(), self.config)
        return model

    def _scale(self, loss_fn: LossFn, batch: int) -> float:
        """1 / beta, and 1 / (beta B) for a batch-mean loss: the limit beta -> 0 is BP's gradient."""
        return 1.0 / (self.beta * (1 if getattr(loss_fn, "reduction", "mean") == "sum" else batch))

    def _apply(self, grads: list, scale: float) -> None:
        """Set the weights' .grad to ``scale`` x the batch-summed (dW, db) and take an optimiser step."""
        for lin, (gw, gb) in zip(self.weights, grads):
            lin.weight.grad = (gw * scale).detach().clone()
            if gb is not None:
                lin.bias.grad = (gb * scale).detach().clone()
        self.optimizer.step()

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.segments is not None and not self.segments.flatten_input else x.flatten(1)

    def _relax(self, s: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, learn=None) -> list:
        """Run the inference phase; keep its energies and convergence; return the relaxed (dW, db)."""
        if self.segments is not None:
            grads, self.last_energies, moves = relax_autograd(self.segments, s, y, loss_fn, self.steps, self.rate, self.discount, self.beta, learn)
        else:
            wrap = None if learn is None else (lambda st: learn([layer_gradient(self.layers, st, i) for i in range(len(self.layers))]))
            r = relax(self.layers, s, y, loss_fn, self.steps, self.rate, self.discount, self.beta, wrap)
            grads, self.last_energies, moves = [layer_gradient(self.layers, r.state, i) for i in range(len(self.layers))], r.energies, r.last_moves
        self.last_convergence = {"energy": self.last_energies[-1], "moves": moves}
        return grads

    def gradients(self, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Per-layer (dW, db) of the energy at the relaxed state, scaled as in the module doc (what the
        optimiser follows under the ``last`` and ``zil`` schedules)."""
        s = self._inputs(x)
        if self.schedule == "zil":
            self.last_energies, self.last_convergence = [], {}
            if self.segments is not None:
                grads = zil_gradients_autograd(self.segments, s, y, loss_fn, self.beta)
            else:
                grads = zil_gradients(self.layers, s, y, loss_fn, self.beta)
        else:
            grads = self._relax(s, y, loss_fn)
        scale = self._scale(loss_fn, len(s))
        return [(gw * scale, None if gb is None else gb * scale) for gw, gb in grads]

    def _matched_backprop(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> tuple[list, float]:
        """BP's (dW, db) of the loss and the factor ||PC's update|| / ||BP's|| (norms over all weights)."""
        norm = lambda grads: float(torch.sqrt(sum((g * g).sum() for pair in grads for g in pair if g is not None)))
        pc = self.gradients(x, y, loss_fn)
        params = [p for m in self.weights for p in (m.weight, m.bias) if p is not None]
        with torch.enable_grad():
            flat = iter(torch.autograd.grad(loss_fn(model(x), y), params))
        bp = [(next(flat), next(flat) if m.bias is not None else None) for m in self.weights]
        size = norm(bp)
        return bp, (norm(pc) / size if size > 0 else 0.0)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> StepResult:
        assert self.optimizer is not None, "call setup(model) before step()"
        with torch.no_grad():
            outputs = model(x)
            loss = loss_fn(outputs, y)
        if self.schedule == "all":
            s = self._inputs(x)
            self._relax(s, y, loss_fn, learn=lambda grads: self._apply(grads, self._scale(loss_fn, len(s))))
        elif self.direction == "backprop_matched":
            self._apply(*self._matched_backprop(model, x, y, loss_fn))
        else:
            self._apply(self.gradients(x, y, loss_fn), 1.0)
        return StepResult(loss=loss.detach(), outputs=outputs.detach())
