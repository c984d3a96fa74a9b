"""Exact theory of symmetry-constrained neuron dynamics, recorded online (Kunin et al., ICLR 2021,
"Neural Mechanics: Symmetry and Broken Conservation Laws in Deep Learning Dynamics").

Groups of parameters, found from the model's layer blocks and classified from its architecture (the
module chain in execution order, ``_chain``): a group whose symmetry the architecture has is recorded
under its family's name, one whose symmetry it lacks under ``<family>_control``, the same law applied
where it should fail (a negative control):

- translation, per input column j of the read-out Linear (bias as one more column):
  y_j = sum_c W[c, j]. Softmax makes <g, 1_A> = 0.
- scale, per output unit k of every conv block and every hidden Linear block: x_k = |W[k]|^2 + b_k^2.
  Batch norm directly after the layer makes unit k scale-invariant, <g, theta_A> = 0; without it (a plain
  conv, a fully connected layer followed by ReLU, a conv whose output joins a residual sum) the group is
  ``scale_control``. Only per-unit normalisation counts (batch norm): layer norm rescales all units of a
  layer together and gives no per-unit symmetry.
- rescale, per channel c between consecutive conv blocks l, l+1 (outgoing minus incoming), and per hidden
  unit between consecutive Linear blocks (the read-out included):
  D_c = |W_{l+1}[:, c]|^2 - (|W_l[c]|^2 + b_l[c]^2). A positively homogeneous map between the two (ReLU,
  leaky ReLU, identity, max / average pooling, dropout, flatten) and no normalisation makes
  <g, theta_out - theta_in> = 0; otherwise (batch norm or tanh between) the group is ``rescale_control``.

A module with its own forward (a residual block, the RNN's recurrence) is opaque: what happens inside it
is not a chain, so a layer whose output enters or leaves one has no derived scale or rescale symmetry.

Predictions with learning rate eta, weight decay lambda, momentum beta, dampening tau and time
t = eta (1 - tau) k at step k (torch heavy ball, ``v <- beta v + (1 - tau) d``, d = g + lambda theta):

- SGD (beta = 0), the paper's exact dynamics:
  translation y(t) = e^{-lambda t} y(0);
  scale x(t) = e^{-2 lambda t} x(0) + eta^2 sum_{j<k} e^{-2 lambda (t - t_j)} |d_j|^2 (rescale: the same
  with |d_out|^2 - |d_in|^2).
- momentum (beta > 0), the driven damped harmonic oscillator of the modified flow
  (D/2) theta'' + (1 - beta) theta' = -g_lambda with D = eta (1 - tau)(1 + beta):
  x'' + 2 gamma x' + omega^2 x = 2 |theta'|^2, gamma = (1 - beta)/D, omega^2 = 4 lambda / D
  (translation: omega^2 = 2 lambda / D and no forcing). With the roots r1, r2 of s^2 + 2 gamma s +
  omega^2 and x'(0) = 0: x(t) = x(0) (r1 e^{r2 t} - r2 e^{r1 t})/(r1 - r2) + (2 eta/(1 - tau))
  sum_{j<k} G(t - t_j) |v_j|^2 with the Green's function G(s) = (e^{r1 s} - e^{r2 s})/(r1 - r2)
  (s e^{-gamma s} when critically damped). Under-, critically and over-damped regimes are the complex,
  double and real roots of the same expression.
- gradient flow, the "conserved" law: x(t) = e^{-2 lambda t/(1 - beta)} x(0), y(t) = e^{-lambda t/(1 - beta)} y(0)
  (constant when lambda = 0).

The sums are kept as decayed running buffers in float64/complex128, A <- e^{r Delta} (A + s) with
Re r <= 0, so nothing overflows (the original code summed growing exponentials in float128).

Any rule of the zoo (learnscope's cross-rule study). The quantities and the gradient-flow law are
recorded under every rule; the theory (series ``theory``) only for the rules whose steps it describes,
``sgd`` and ``momentum`` (the gradient of the loss, whose symmetry constraint <g, generator> = 0 the
laws rest on). Every other rule records instead ``reference``: the same law driven by that rule's own
steps, i.e. what the quantity would do were the steps orthogonal to the symmetry generator as gradients
are. Its drive is the optimiser's: ``.grad`` + lambda theta for an SGD optimiser (feedback and information
alignment's pseudo-gradients, predictive coding's relaxed-state gradients), the momentum buffer (the
oscillator law) for a heavy-ball optimiser, and for Adam (or RMSprop), with no such law, the realised step
d = -(theta_{k+1} - theta_k)/eta in the SGD law at lambda = 0 (x_ref(k) = x(0) + sum_{j<k} |Delta theta_j|^2;
weight decay refused there). The departure of ``empirical`` from ``reference`` is then the rule's own
breaking of the symmetry: for SGD it is the theory's error, exactly 0 in exact arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules import LearningRule, StepResult


class _Group:
    """One layer's units of one family: how to read its quantity and its driving term per unit."""

    def __init__(self, family: str, layer: str, parts: list[tuple[nn.Parameter, str, int]]):
        # parts: (parameter, role, sign). role "rows": sum over all but dim 0 (one value per output unit);
        # role "cols": sum over all but dim 1 (one value per input unit); role "bias": elementwise;
        # role "colsum" / "bias_total": translation column sums (linear in theta).
        self.family, self.layer, self.parts = family, layer, parts
        self.law = family.removesuffix("_control")  # the law applied (a control applies it where it fails)

    def _reduce(self, tensors: list[torch.Tensor]) -> np.ndarray:
        out = None
        for (_, role, sign), t in zip(self.parts, tensors):
            t = t.detach().double()
            if role == "rows":
                v = t.pow(2).sum(dim=tuple(range(1, t.dim())))
            elif role == "cols":
                v = t.pow(2).sum(dim=(0, *range(2, t.dim())))
            elif role == "bias":
                v = t.pow(2)
            elif role == "colsum":
                v = t.sum(dim=0)
            else:  # "bias_total": the bias as one more translation column
                v = t.sum().reshape(1)
            out = sign * v if out is None else (torch.cat([out, sign * v]) if role == "bias_total" else out + sign * v)
        return out.cpu().numpy()

    def value(self) -> np.ndarray:
        """The quantity conserved under gradient flow, per unit (float64)."""
        return self._reduce([p for p, _, _ in self.parts])

    def drive(self, tensors: list[torch.Tensor]) -> np.ndarray:
        """Per-unit squared norm (signed sum for rescale) of per-parameter tensors (update or momentum);
        scale and rescale groups only."""
        return self._reduce(tensors)


def _blocks(model: nn.Module) -> list[tuple[str, nn.Conv2d | None, nn.Linear | None]]:
    """(layer name, its first Conv2d, its first Linear) for every block of ``model.layer_modules()``."""
    out = []
    for name, block in model.layer_modules().items():
        mods = list(block.modules())
        conv = next((m for m in mods if isinstance(m, nn.Conv2d)), None)
        lin = next((m for m in mods if isinstance(m, nn.Linear)), None)
        out.append((name, conv, lin))
    return out


_OPAQUE = None  # a boundary of a module with its own forward: the chain does not continue through it
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_HOMOGENEOUS = (nn.ReLU, nn.LeakyReLU, nn.Identity, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Flatten, nn.Dropout)


def _chain(module: nn.Module) -> list[nn.Module | None]:
    """The leaf modules of ``module`` in execution order: a Sequential's children in turn; any other
    module with children has its own forward, so each child is a chain of its own between ``_OPAQUE``s."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _chain(child)]
    children = list(module.children())
    if not children:
        return [module]
    return [leaf for child in children for leaf in (_OPAQUE, *_chain(child), _OPAQUE)]


def _position(chain: list, layer: nn.Module) -> int:
    return next(i for i, m in enumerate(chain) if m is layer)


def scale_invariant(chain: list, layer: nn.Module) -> bool:
    """Whether batch norm directly follows ``layer`` in ``chain``: its units are then scale-invariant."""
    i = _position(chain, layer)
    return i + 1 < len(chain) and isinstance(chain[i + 1], _NORMS)


def rescale_invariant(chain: list, first: nn.Module, second: nn.Module) -> bool:
    """Whether only positively homogeneous per-unit maps (f(a z) = a f(z) for a > 0) lie between ``first``
    and ``second`` in ``chain``."""
    i, j = _position(chain, first), _position(chain, second)
    between = chain[i + 1 : j]
    return j > i and all(m is not _OPAQUE and isinstance(m, _HOMOGENEOUS) for m in between)


def _family(family: str, holds: bool) -> str:
    return family if holds else f"{family}_control"


def symmetry_groups(model: nn.Module) -> list[_Group]:
    """Translation groups of the last Linear; scale groups of every conv and every hidden Linear; rescale
    groups of consecutive conv pairs and of consecutive Linear pairs. Scale and rescale groups whose symmetry
    the architecture lacks have family ``scale_control`` / ``rescale_control`` (see the module docstring)."""
    blocks = _blocks(model)
    chain = _chain(model)
    groups: list[_Group] = []
    convs = [(n, c) for n, c, _ in blocks if c is not None]
    linears = [(n, lin) for n, _, lin in blocks if lin is not None]
    for name, layer in convs + linears[:-1]:
        parts = [(layer.weight, "rows", 1)] + ([(layer.bias, "bias", 1)] if layer.bias is not None else [])
        groups.append(_Group(_family("scale", scale_invariant(chain, layer)), name, parts))
    for layers in (convs, linears):
        for (n1, l1), (n2, l2) in zip(layers, layers[1:]):
            parts = [(l2.weight, "cols", 1), (l1.weight, "rows", -1)] + ([(l1.bias, "bias", -1)] if l1.bias is not None else [])
            groups.append(_Group(_family("rescale", rescale_invariant(chain, l1, l2)), f"{n1}_{n2}", parts))
    if linears:
        name, lin = linears[-1]
        parts = [(lin.weight, "colsum", 1)] + ([(lin.bias, "bias_total", 1)] if lin.bias is not None else [])
        groups.append(_Group("translation", name, parts))
    if not groups:
        raise ConfigError("record.trackers: 'symmetry' needs a model with conv layers or a linear read-out")
    return groups


def oscillator_roots(gamma: float, omega2: float) -> tuple[complex, complex]:
    """Roots of s^2 + 2 gamma s + omega^2 (complex when under-damped)."""
    disc = complex(gamma * gamma - omega2) ** 0.5
    return -gamma + disc, -gamma - disc


def homogeneous(t: float, gamma: float, omega2: float) -> float:
    """Solution at t of x'' + 2 gamma x' + omega^2 x = 0 with x(0) = 1, x'(0) = 0."""
    r1, r2 = oscillator_roots(gamma, omega2)
    if abs(r1 - r2) <= 1e-9 * max(1.0, abs(gamma)):
        return math.exp(-gamma * t) * (1.0 + gamma * t)
    return float(((r1 * np.exp(r2 * t) - r2 * np.exp(r1 * t)) / (r1 - r2)).real)


class _Driven:
    """Running value of sum_{j<k} G(t_k - t_j) s_j for the oscillator's Green's function, per unit."""

    def __init__(self, gamma: float, omega2: float, dt: float, n: int):
        self.r1, self.r2 = oscillator_roots(gamma, omega2)
        self.critical = abs(self.r1 - self.r2) <= 1e-9 * max(1.0, abs(gamma))
        self.gamma, self.dt = gamma, dt
        self.a1 = np.zeros(n, dtype=np.complex128)
        self.a2 = np.zeros(n, dtype=np.complex128)
        self.e1, self.e2 = np.exp(self.r1 * dt), np.exp(self.r2 * dt)

    def add(self, s: np.ndarray) -> None:
        if self.critical:
            # a1 = sum e^{-gamma (t - t_j)} s_j; a2 = sum (t - t_j) e^{-gamma (t - t_j)} s_j
            decay = math.exp(-self.gamma * self.dt)
            self.a2 = decay * (self.a2 + self.dt * (self.a1 + s))
            self.a1 = decay * (self.a1 + s)
        else:
            self.a1 = self.e1 * (self.a1 + s)
            self.a2 = self.e2 * (self.a2 + s)

    def value(self) -> np.ndarray:
        if self.critical:
            return self.a2.real.copy()
        return ((self.a1 - self.a2) / (self.r1 - self.r2)).real


class SymmetryTracker:
    """Per-unit empirical quantities, exact-theory (or, for rules other than sgd / momentum, reference) and
    gradient-flow predictions at every record point."""

    name = "symmetry"

    # rules whose steps are the loss gradient's (plain or heavy-ball): the laws are their theory
    EXACT_RULES = ("sgd", "momentum")
    # optimisers whose step has no symmetry law: the reference uses the realised step at lambda = 0
    STEP_OPTIMIZERS = ("adam", "rmsprop")

    def __init__(self, model: nn.Module, rule: LearningRule):
        cfg = rule.config
        name = cfg.get("name")
        optimizer = cfg.get("optimizer", "sgd" if name == "predictive_coding" else name)
        if optimizer not in ("sgd", "momentum", *self.STEP_OPTIMIZERS):
            raise ConfigError(f"record.trackers: 'symmetry' knows the optimisers sgd, momentum, adam and rmsprop, not {optimizer!r} (rule {name!r})")
        if cfg.get("nesterov", False):
            raise ConfigError("record.trackers: 'symmetry' has no theory for Nesterov momentum (set nesterov: false)")
        if optimizer in self.STEP_OPTIMIZERS and float(cfg.get("weight_decay", 0.0)) != 0.0:
            raise ConfigError(f"record.trackers: 'symmetry' has no reference law for {optimizer} with weight decay (set weight_decay: 0)")
        self.rule = rule
        self.exact = name in self.EXACT_RULES and optimizer == name
        self.series = "theory" if self.exact else "reference"
        self.realised = optimizer in self.STEP_OPTIMIZERS
        self.eta = float(cfg["lr"])
        self.lam = float(cfg.get("weight_decay", 0.0))
        self.beta = float(cfg.get("momentum", 0.9)) if optimizer == "momentum" else 0.0
        self.tau = float(cfg.get("dampening", 0.0)) if self.beta > 0 else 0.0
        self.dt = self.eta * (1.0 - self.tau)
        self.groups = symmetry_groups(model)
        self.params = list(dict.fromkeys(p for g in self.groups for p, _, _ in g.parts))
        self.x0 = {id(g): g.value() for g in self.groups}
        self.k = 0
        self.before: dict[int, torch.Tensor] = {}
        if self.beta == 0.0:
            self.buffers = {id(g): np.zeros_like(self.x0[id(g)]) for g in self.groups if g.family != "translation"}
        else:
            d = self.eta * (1.0 - self.tau) * (1.0 + self.beta)
            self.gamma = (1.0 - self.beta) / d
            self.omega2 = {"translation": 2.0 * self.lam / d, "scale": 4.0 * self.lam / d, "rescale": 4.0 * self.lam / d}
            self.buffers = {
                id(g): _Driven(self.gamma, self.omega2[g.law], self.dt, len(self.x0[id(g)])) for g in self.groups if g.family != "translation"
            }

    def before_step(self) -> None:
        if self.realised or (self.beta == 0.0 and self.lam > 0.0):
            self.before = {id(p): p.detach().clone() for p in self.params}

    def _direction(self, p: nn.Parameter) -> torch.Tensor:
        """The tensor whose squared norm drives the law: d = g + lambda theta (SGD), the momentum buffer, or
        the realised step -(theta_{k+1} - theta_k)/eta (Adam, RMSprop)."""
        if self.realised:
            return (self.before[id(p)] - p.detach()) / self.eta
        if self.beta > 0.0:
            return self.rule.optimizer.state[p]["momentum_buffer"]
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        return g + self.lam * self.before[id(p)] if self.lam > 0.0 else g

    def after_step(self, res: StepResult) -> None:
        for g in self.groups:
            if g.family == "translation":
                continue
            s = g.drive([self._direction(p) for p, _, _ in g.parts])
            buf = self.buffers[id(g)]
            if self.beta == 0.0:
                self.buffers[id(g)] = math.exp(-2.0 * self.lam * self.dt) * (buf + self.eta**2 * s)
            else:
                buf.add(s)
        self.before = {}
        self.k += 1

    def _theory(self, g: _Group, t: float) -> np.ndarray:
        x0 = self.x0[id(g)]
        if self.beta == 0.0:
            rate = 1.0 if g.family == "translation" else 2.0
            drive = 0.0 if g.family == "translation" else self.buffers[id(g)]
            return math.exp(-rate * self.lam * t) * x0 + drive
        hom = homogeneous(t, self.gamma, self.omega2[g.law]) * x0
        if g.family == "translation":
            return hom
        return hom + 2.0 * self.eta / (1.0 - self.tau) * self.buffers[id(g)].value()

    def state(self) -> dict:
        """What the tracker has accumulated (for resumable training): step count, initial values, drives."""
        bufs = [self.buffers[id(g)] for g in self.groups if g.family != "translation"]
        return {
            "k": self.k,
            "x0": [torch.from_numpy(self.x0[id(g)]) for g in self.groups],
            "buffers": [torch.from_numpy(b) if self.beta == 0.0 else [torch.from_numpy(b.a1), torch.from_numpy(b.a2)] for b in bufs],
        }

    def load_state(self, state: dict) -> None:
        self.k = int(state["k"])
        self.x0 = {id(g): x.numpy().copy() for g, x in zip(self.groups, state["x0"])}
        for g, b in zip([g for g in self.groups if g.family != "translation"], state["buffers"]):
            if self.beta == 0.0:
                self.buffers[id(g)] = b.numpy().copy()
            else:
                self.buffers[id(g)].a1, self.buffers[id(g)].a2 = b[0].numpy().copy(), b[1].numpy().copy()

    def record(self) -> dict[str, np.ndarray]:
        """Arrays of this record point, keyed ``<family>/<layer>/<series>`` (``empirical``, ``gradient_flow`` and
        ``theory`` for sgd / momentum, ``reference`` for every other rule), plus ``time``."""
        t = self.dt * self.k
        out = {"time": np.asarray(t, dtype=np.float64)}
        for g in self.groups:
            rate = (1.0 if g.family == "translation" else 2.0) * self.lam / (1.0 - self.beta)
            key = f"{g.family}/{g.layer}"
            out[f"{key}/empirical"] = g.value()
            out[f"{key}/{self.series}"] = np.asarray(self._theory(g, t), dtype=np.float64)
            out[f"{key}/gradient_flow"] = math.exp(-rate * t) * self.x0[id(g)]
        return out
