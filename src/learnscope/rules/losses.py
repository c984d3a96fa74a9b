"""Training losses chosen by ``train.loss`` and ``train.reduction``.

- ``squared_error``: 1/2 sum_k (out_k - t_k)^2 per sample, t = one-hot(label) for classification or the
  regression target; Song et al. (Nat. Neurosci. 2024) train every experiment on it, summed over the batch
  (their energy's output term; learning rates then scale with the batch size).
- ``cross_entropy``: -log softmax(out)_label per sample (classification only).

``reduction``: ``sum`` or ``mean`` over the batch. A run without either key keeps the task's default
(``default_loss``): cross-entropy for classification, ``torch.nn.functional.mse_loss`` for regression,
both batch means. Every loss here carries ``reduction`` and ``summed_with_gradient(out, y)`` (the
batch-summed loss and its closed-form gradient w.r.t. ``out``), which predictive coding's inference uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from learnscope.errors import ConfigError

LOSSES = ("squared_error", "cross_entropy")
REDUCTIONS = ("sum", "mean")


class Loss:
    """A per-sample loss of ``kind`` reduced over the batch by ``reduction``."""

    def __init__(self, kind: str, reduction: str, task: str):
        if kind not in LOSSES:
            raise ConfigError(f"train.loss {kind!r} is not known (allowed: {', '.join(LOSSES)})")
        if reduction not in REDUCTIONS:
            raise ConfigError(f"train.reduction {reduction!r} is not known (allowed: {', '.join(REDUCTIONS)})")
        if kind == "cross_entropy" and task != "classification":
            raise ConfigError(f"train.loss cross_entropy needs a classification task (this one is {task!r}; use squared_error)")
        self.kind, self.reduction, self.task = kind, reduction, task

    def __repr__(self) -> str:
        return f"Loss({self.kind!r}, {self.reduction!r})"

    def _target(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y.dtype == torch.int64 and y.dim() == 1:
            return F.one_hot(y, out.shape[-1]).to(out.dtype)
        return y.reshape(out.shape)

    def per_sample(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "cross_entropy":
            return F.cross_entropy(out, y, reduction="none")
        diff = out - self._target(out, y)
        return 0.5 * (diff * diff).flatten(1).sum(1)

    def __call__(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        per = self.per_sample(out, y)
        return per.sum() if self.reduction == "sum" else per.mean()

    def summed_with_gradient(self, out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch-summed loss and its gradient w.r.t. ``out`` (softmax - onehot; out - target)."""
        if self.kind == "cross_entropy":
            logp = torch.log_softmax(out, 1)
            g = logp.exp()
            rows = torch.arange(len(out), device=out.device)
            g[rows, y] -= 1
            return -logp[rows, y].sum(), g
        diff = out - self._target(out, y)
        return 0.5 * (diff * diff).sum(), diff


def default_loss(task: str):
    """Cross-entropy for classification, mean squared error for regression (batch means)."""
    return F.cross_entropy if task == "classification" else F.mse_loss


def loss_function(task: str, train: dict | None = None):
    """The loss of a run's ``train`` section: a :class:`Loss` when it names ``loss`` or ``reduction``
    (defaults squared_error, sum: the paper's), the task's default otherwise."""
    train = train or {}
    if "loss" not in train and "reduction" not in train:
        return default_loss(task)
    return Loss(train.get("loss", "squared_error"), train.get("reduction", "sum"), task)


def batch_total(loss_fn, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss summed over the batch, whatever the loss's reduction (a plain function is a batch mean)."""
    loss = loss_fn(out, y)
    return loss if getattr(loss_fn, "reduction", "mean") == "sum" else loss * len(out)
