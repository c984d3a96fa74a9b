"""The learning-rule interface.

A learning rule owns one training step: given a batch it computes the forward pass, assigns credit and
changes the parameters. The training loop only calls ``setup`` once and ``step`` per batch, so rules
that replace the backward pass (feedback alignment: ``setup`` swaps layers for ones whose backward uses
fixed feedback matrices), learn their own feedback weights (information alignment: extra parameters and
a layer-local loss inside ``step``) or relax an inference phase before each weight update (predictive
coding: ``step`` runs the inference loop) plug in without special cases in the loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from learnscope.errors import ConfigError

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class StepResult:
    """What a step reports: the batch loss at the pre-update parameters and the batch outputs."""

    loss: torch.Tensor
    outputs: torch.Tensor


class LearningRule(ABC):
    """Base class. ``config`` is the rule's params entry (``{name: ..., lr: ..., ...}``)."""

    name: str = ""

    def __init__(self, config: dict):
        self.config = dict(config)

    def setup(self, model: nn.Module) -> nn.Module:
        """Prepare ``model`` for this rule (swap layers, create optimiser state); return the model to train."""
        return model

    @abstractmethod
    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> StepResult:
        """One update on batch (x, y)."""

    def epoch_end(self, validation_loss: float) -> None:
        """Called by epoch-based loops after each epoch with its validation loss (learning-rate schedules)."""
        if self.config.get("scheduler") is not None:
            raise ConfigError(f"rule {self.name!r} has no learning-rate scheduler; remove 'scheduler' from its config")

    def learning_rate(self) -> float:
        """The current learning rate (NaN for rules without one)."""
        return float("nan")

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors beyond ``model.state_dict()`` that belong in checkpoints (e.g. feedback weights)."""
        return {}
