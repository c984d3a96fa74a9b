"""Multi-layer perceptron: x -> [Linear -> nonlinearity] x len(hidden) -> Linear."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from learnscope.models.activations import activation as make_activation


class MLP(nn.Module):
    """Blocks ``fc1..fcL`` (each ``Sequential(Linear, nonlinearity)``) and a linear read-out ``out``.

    Inputs of any shape are flattened after the sample axis. Recorded layers: each block's
    post-nonlinearity output, and the logits.
    """

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int, hidden: list[int], activation: str = "relu", bias: bool = True):
        super().__init__()
        width = math.prod(input_shape)
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        for i, h in enumerate(hidden, start=1):
            blocks[f"fc{i}"] = nn.Sequential(nn.Linear(width, h, bias=bias), make_activation(activation))
            width = h
        blocks["out"] = nn.Linear(width, n_outputs, bias=bias)
        self.net = nn.Sequential(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict(self.net.named_children())
