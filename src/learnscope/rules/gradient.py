"""Rules that follow the gradient of the loss with a standard optimiser: SGD, SGD+momentum, Adam.

- ``sgd``:      theta <- theta - lr * (g + wd * theta)
- ``momentum``: v <- mu v + (1 - dampening) (g + wd * theta); theta <- theta - lr * v  (PyTorch's
  heavy-ball form, whose first v is g + wd * theta; ``nesterov: true`` for Nesterov's variant)
- ``adam``:     Kingma & Ba (2015) with bias correction; ``weight_decay`` is L2 added to the gradient.
- ``rmsprop``:  v <- alpha v + (1 - alpha) g^2; theta <- theta - lr g / (sqrt(v) + eps) (PyTorch's RMSprop,
  no momentum; Farrell et al. 2022 use alpha = 0.9).

``scheduler: {kind: plateau, factor, patience, threshold}`` (any gradient rule): PyTorch's
ReduceLROnPlateau in absolute-threshold mode, stepped by the training loop once per epoch with the
epoch's validation loss (``epoch_end``): the learning rate is multiplied by ``factor`` after more than
``patience`` epochs without an improvement larger than ``threshold``.

``GradientRule.backward`` is the credit-assignment hook: subclasses that change how gradients are
computed (feedback alignment, information alignment) override ``setup``/``backward`` and keep the
optimiser.
"""

from __future__ import annotations

import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules.base import LearningRule, LossFn, StepResult


def make_optimizer(kind: str, params, config: dict) -> torch.optim.Optimizer:
    """A torch optimiser of ``kind`` (sgd | momentum | adam) with the hyper-parameters in ``config``."""
    lr = float(config["lr"])
    wd = float(config.get("weight_decay", 0.0))
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if kind == "momentum":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=float(config.get("momentum", 0.9)),
            dampening=float(config.get("dampening", 0.0)),
            nesterov=bool(config.get("nesterov", False)),
            weight_decay=wd,
        )
    if kind == "adam":
        betas = tuple(config.get("betas", (0.9, 0.999)))
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=float(config.get("eps", 1e-8)), weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=float(config.get("alpha", 0.99)), eps=float(config.get("eps", 1e-8)), weight_decay=wd)
    raise ConfigError(f"optimizer {kind!r} is not known (allowed: sgd, momentum, adam, rmsprop)")


def make_scheduler(spec: dict | None, optimizer: torch.optim.Optimizer):
    """The per-epoch learning-rate scheduler named by ``spec['kind']`` (only ``plateau``), or None."""
    if spec is None:
        return None
    if spec.get("kind") != "plateau":
        raise ConfigError(f"scheduler kind {spec.get('kind')!r} is not known (allowed: plateau)")
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=float(spec.get("factor", 0.5)),
        patience=int(spec.get("patience", 5)),
        threshold=float(spec.get("threshold", 1e-7)),
        threshold_mode="abs",
    )


class GradientRule(LearningRule):
    """Forward, backward, optimiser step. The optimiser is the rule's name (or its ``optimizer`` key)."""

    def __init__(self, config: dict):
        super().__init__(config)
        self.optimizer_kind = config.get("optimizer", config["name"])
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler = None

    def param_groups(self, named: dict[str, torch.Tensor]) -> list[dict]:
        """The optimiser's parameter groups from ``named`` (name -> tensor; frozen ones left out): one group,
        at the rule's ``lr``. The seed ensemble calls this on its stacked tensors, so both paths group alike."""
        return [{"params": [p for p in named.values() if p.requires_grad]}]

    def setup(self, model: nn.Module) -> nn.Module:
        self.optimizer = make_optimizer(self.optimizer_kind, self.param_groups(dict(model.named_parameters())), self.config)
        self.scheduler = make_scheduler(self.config.get("scheduler"), self.optimizer)
        return model

    def epoch_end(self, validation_loss: float) -> None:
        if self.scheduler is not None:
            self.scheduler.step(validation_loss)

    def learning_rate(self) -> float:
        """The learning rate of the first parameter group (the model's weights)."""
        assert self.optimizer is not None, "call setup(model) before learning_rate()"
        return float(self.optimizer.param_groups[0]["lr"])

    def backward(self, model: nn.Module, loss: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> None:
        """Fill ``.grad`` of every trained parameter. Backprop by default."""
        loss.backward()

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> StepResult:
        assert self.optimizer is not None, "call setup(model) before step()"
        self.optimizer.zero_grad(set_to_none=True)
        outputs = model(x)
        loss = loss_fn(outputs, y)
        self.backward(model, loss, x, y)
        self.optimizer.step()
        return StepResult(loss=loss.detach(), outputs=outputs.detach())


class SGD(GradientRule):
    name = "sgd"


class Momentum(GradientRule):
    name = "momentum"


class Adam(GradientRule):
    name = "adam"


class RMSprop(GradientRule):
    name = "rmsprop"
