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

import torch
import torch.nn.functional as F
from torch import nn

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
