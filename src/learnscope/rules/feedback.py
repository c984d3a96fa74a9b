"""Rules that replace the transpose of the forward weights in the backward pass with feedback weights B.

- **Feedback alignment** (Lillicrap et al. 2016, Nat. Commun.): for a layer z = x Wᵀ + b, the backward
  pass sends dx = dz · B instead of dz · W; the local update dW = dzᵀ x is unchanged and B stays at its
  random initialisation (drawn independently with W's initialiser).
- **Information alignment** (Kunin et al. 2020, ICML, "Two routes to scalable credit assignment without
  weight symmetry"): the same backward pass, but B learns from the layer-local loss
  R_IA = α R_amp + β R_null + γ R_decay with P = x Wᵀ + b (forward projection), Q = x Bᵀ, R = P B:
  R_amp = −(1/n) Σ_n ⟨P_n, Q_n⟩, R_null = (1/n) Σ_n ‖R_n‖², R_decay = ‖B‖² (W's part has no gradient:
  x and W enter through stop-gradient). Closed form for dense layers:
  ∂R_IA/∂B = −(α/n) Pᵀx + (2β/n) PᵀP B + 2γ B. Defaults α=2e-3, β=1e-3, γ=1e-3 (Neural-Alignment's
  params.py, as in Nayebi et al. 2020). B is stepped by the same optimiser as W, at ``feedback_lr``
  (default: ``lr``, as in Neural-Alignment where R_IA is added to the task loss). For conv layers P, Q
  are the convolutions with W and B and R is the transposed convolution of P with B. The backward
  projection carries no bias here.

Both wrap every ``nn.Linear`` and ``nn.Conv2d`` of the model in place (same names, same forward values),
and update W and b with the optimiser named by ``optimizer`` (sgd | momentum | adam).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules.gradient import GradientRule


class _LinearFA(torch.autograd.Function):
    # setup_context form with a generated vmap rule, so seed ensembles (torch.func.vmap) can batch it.
    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight, bias, feedback):
        return F.linear(x, weight, bias)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, feedback = inputs
        ctx.save_for_backward(x, weight, feedback)
        ctx.has_bias = bias is not None

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, feedback = ctx.saved_tensors
        grad_x = grad_out @ feedback
        grad_w = grad_out.reshape(-1, grad_out.shape[-1]).T @ x.reshape(-1, x.shape[-1])
        grad_b = grad_out.reshape(-1, grad_out.shape[-1]).sum(0) if ctx.has_bias else None
        return grad_x, grad_w, grad_b, None


class _Conv2dFA(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight, bias, feedback, stride, padding, dilation, groups):
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, feedback, stride, padding, dilation, groups = inputs
        ctx.save_for_backward(x, weight, feedback)
        ctx.conf = (stride, padding, dilation, groups)
        ctx.has_bias = bias is not None

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, feedback = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conf
        grad_x = torch.nn.grad.conv2d_input(x.shape, feedback, grad_out, stride, padding, dilation, groups)
        grad_w = torch.nn.grad.conv2d_weight(x, weight.shape, grad_out, stride, padding, dilation, groups)
        grad_b = grad_out.sum((0, 2, 3)) if ctx.has_bias else None
        return grad_x, grad_w, grad_b, None, None, None, None, None


class _FeedbackMixin:
    """Holds B (a buffer for FA, a parameter for IA) and the last layer input, for IA's local loss."""

    def _init_feedback(self, learn: bool) -> None:
        b = torch.empty_like(self.weight)
        nn.init.kaiming_uniform_(b, a=math.sqrt(5))  # PyTorch's initialiser of W, drawn independently
        if learn:
            self.feedback = nn.Parameter(b)
        else:
            self.register_buffer("feedback", b)
        self.last_input: torch.Tensor | None = None


class FALinear(nn.Linear, _FeedbackMixin):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last_input = x.detach() if self.training else None
        return _LinearFA.apply(x, self.weight, self.bias, self.feedback)

    def alignment_terms(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(R_amp, R_null) on the last training input; gradients reach B only."""
        x = self.last_input.reshape(-1, self.in_features)
        p = F.linear(x, self.weight.detach(), None if self.bias is None else self.bias.detach())
        q = x @ self.feedback.T
        n = x.shape[0]
        return -(p * q).sum() / n, ((p @ self.feedback) ** 2).sum() / n


class FAConv2d(nn.Conv2d, _FeedbackMixin):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last_input = x.detach() if self.training else None
        return _Conv2dFA.apply(x, self.weight, self.bias, self.feedback, self.stride, self.padding, self.dilation, self.groups)

    def alignment_terms(self) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.last_input
        conf = (self.stride, self.padding, self.dilation, self.groups)
        p = F.conv2d(x, self.weight.detach(), None if self.bias is None else self.bias.detach(), *conf)
        q = F.conv2d(x, self.feedback, None, *conf)
        r = F.conv_transpose2d(p, self.feedback, None, self.stride, self.padding, 0, self.groups, self.dilation)
        n = x.shape[0]
        return -(p * q).sum() / n, (r**2).sum() / n


def _swap(module: nn.Module, learn: bool) -> None:
    """Replace every nn.Linear / nn.Conv2d below ``module`` by its feedback version, keeping W and b."""
    for name, child in module.named_children():
        if type(child) is nn.Linear:
            new = FALinear(child.in_features, child.out_features, bias=child.bias is not None)
        elif type(child) is nn.Conv2d:
            new = FAConv2d(
                child.in_channels, child.out_channels, child.kernel_size, child.stride, child.padding,
                child.dilation, child.groups, bias=child.bias is not None,
            )
        else:
            _swap(child, learn)
            continue
        new = new.to(child.weight.device, child.weight.dtype)
        new._init_feedback(learn)
        with torch.no_grad():
            new.weight.copy_(child.weight)
            if child.bias is not None:
                new.bias.copy_(child.bias)
        setattr(module, name, new)


def feedback_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (FALinear, FAConv2d))]


class FeedbackAlignment(GradientRule):
    name = "feedback_alignment"
    learn_feedback = False

    def __init__(self, config: dict):
        super().__init__({"optimizer": "momentum", **config})

    def setup(self, model: nn.Module) -> nn.Module:
        _swap(model, self.learn_feedback)
        return super().setup(model)


class InformationAlignment(FeedbackAlignment):
    name = "information_alignment"
    learn_feedback = True

    def param_groups(self, named: dict[str, torch.Tensor]) -> list[dict]:
        """W and b at ``lr``; the feedback weights B (parameters named ``*.feedback``) at ``feedback_lr``."""
        if "feedback_lr" not in self.config:
            return super().param_groups(named)
        (weights,) = super().param_groups({n: p for n, p in named.items() if not n.endswith(".feedback")})
        (feedback,) = super().param_groups({n: p for n, p in named.items() if n.endswith(".feedback")})
        return [weights, {**feedback, "lr": float(self.config["feedback_lr"])}]

    def alignment_loss(self, model: nn.Module) -> torch.Tensor:
        """Σ over layers of α R_amp + β R_null + γ ‖B‖² (see the module docstring)."""
        alpha, beta, gamma = (float(self.config.get(k, d)) for k, d in (("alpha", 2e-3), ("beta", 1e-3), ("gamma", 1e-3)))
        terms = []
        for layer in feedback_layers(model):
            amp, null = layer.alignment_terms()
            terms.append(alpha * amp + beta * null + gamma * (layer.feedback**2).sum())
        return torch.stack(terms).sum()

    def backward(self, model: nn.Module, loss: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> None:
        loss.backward()
        self.alignment_loss(model).backward()


class FeedbackDiagnostics:
    """Tracker ``feedback`` (``record.trackers``): how far B is from W and from its own fixed point.

    Per feedback layer (by module name) at every record point: ``b_norm`` = ‖B‖_F, ``w_norm`` = ‖W‖_F,
    ``cos_b_w`` = ⟨B, W⟩_F / (‖B‖‖W‖) (1: a weight mirror; FA's W aligns with a fixed B), and for
    information alignment's dense layers ``bstar_norm`` and ``cos_b_bstar``, B's stationary point under
    the layer-local loss and the optimiser's L2 weight decay λ on B:
    0 = −α C_px + 2β C_pp B + (2γ + λ) B  =>  B* = α (2β C_pp + (2γ + λ) I)⁻¹ C_px, with
    C_px = E[p xᵀ] = W S + b μᵀ and C_pp = E[p pᵀ] = W S Wᵀ + W μ bᵀ + b μᵀ Wᵀ + b bᵀ for p = W x + b,
    S = E[x xᵀ] and μ = E[x] the layer's training inputs since the previous record point and W, b the
    current weights (Kunin et al. 2020's R_IA, ``InformationAlignment.alignment_loss``). cos(B, B*) → 1 says
    B has converged to what IA's loss asks of it. NaN where undefined: B* before any step, for conv
    layers (their null term R = conv_transpose(P, B) has no closed form here) and for FA (no B loss)."""

    name = "feedback"

    def __init__(self, model: nn.Module, rule):
        self.layers = {n: m for n, m in model.named_modules() if isinstance(m, (FALinear, FAConv2d))}
        if not self.layers:
            raise ConfigError("record.trackers: 'feedback' needs a feedback-alignment or information-alignment rule (no layer has feedback weights B)")
        self.rule = rule
        self.learn = isinstance(rule, InformationAlignment)
        self._reset()

    def _reset(self) -> None:
        self.sums = {n: None for n, m in self.layers.items() if isinstance(m, FALinear)}
        self.count = 0

    def before_step(self) -> None:
        pass

    def after_step(self, res) -> None:
        if not self.learn:
            return
        for n in self.sums:
            x = self.layers[n].last_input
            if x is None:
                continue
            x = x.reshape(-1, x.shape[-1]).double()
            s = (x.T @ x, x.sum(0), x.shape[0])
            prev = self.sums[n]
            self.sums[n] = s if prev is None else (prev[0] + s[0], prev[1] + s[1], prev[2] + s[2])

    def state(self) -> dict:
        return {"sums": self.sums}

    def load_state(self, state: dict) -> None:
        self.sums = state["sums"]

    def _decay(self, layer: nn.Module) -> float:
        """The optimiser's L2 weight decay on this layer's B."""
        for g in self.rule.optimizer.param_groups:
            if any(p is layer.feedback for p in g["params"]):
                return float(g.get("weight_decay", 0.0))
        return 0.0

    def fixed_point(self, name: str) -> torch.Tensor | None:
        """B* of dense layer ``name`` from the inputs seen since the previous record point (None: none seen)."""
        if not self.learn or self.sums.get(name) is None:
            return None
        layer = self.layers[name]
        xx, xs, n = self.sums[name]
        S, mu = xx / n, xs / n
        W = layer.weight.detach().double()
        b = torch.zeros(W.shape[0], dtype=W.dtype) if layer.bias is None else layer.bias.detach().double()
        c_px = W @ S + torch.outer(b, mu)
        wm = W @ mu
        c_pp = W @ S @ W.T + torch.outer(wm, b) + torch.outer(b, wm) + torch.outer(b, b)
        alpha, beta, gamma = (float(self.rule.config.get(k, d)) for k, d in (("alpha", 2e-3), ("beta", 1e-3), ("gamma", 1e-3)))
        lhs = 2 * beta * c_pp + (2 * gamma + self._decay(layer)) * torch.eye(len(c_pp), dtype=W.dtype)
        return alpha * torch.linalg.solve(lhs, c_px)

    def record(self) -> dict[str, np.ndarray]:
        out = {}
        for n, layer in self.layers.items():
            B, W = layer.feedback.detach().double(), layer.weight.detach().double()
            bstar = self.fixed_point(n) if n in self.sums else None
            out[f"{n}/b_norm"] = np.float64(B.norm())
            out[f"{n}/w_norm"] = np.float64(W.norm())
            out[f"{n}/cos_b_w"] = np.float64(_cos(B, W))
            out[f"{n}/bstar_norm"] = np.float64(np.nan if bstar is None else bstar.norm())
            out[f"{n}/cos_b_bstar"] = np.float64(np.nan if bstar is None else _cos(B, bstar))
        self._reset()
        return out


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    den = float(a.norm() * b.norm())
    return float((a * b).sum()) / den if den > 0 else float("nan")
