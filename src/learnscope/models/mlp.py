"""Multi-layer perceptron: x -> [Linear -> (BatchNorm) -> nonlinearity] x len(hidden) -> Linear."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.models.activations import activation as make_activation

# ``init``: PyTorch's default (``default``), or Xavier/Glorot (2010) weights with the gain of the
# nonlinearity (tanh 5/3, (leaky) ReLU sqrt 2, else 1) and zero biases, as in Song et al. (2024).
INITS = {"default": None, "xavier_uniform": nn.init.xavier_uniform_, "xavier_normal": nn.init.xavier_normal_}
XAVIER_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0)}


class MLP(nn.Module):
    """Blocks ``fc1..fcL`` (each ``Sequential(Linear, nonlinearity)``) and a linear read-out ``out``.

    Inputs of any shape are flattened after the sample axis. Recorded layers: each block's
    post-nonlinearity output, and the logits. ``batchnorm`` inserts BatchNorm1d after every hidden
    Linear, whose bias is then dropped (batch norm removes it), as in the conv net: the incoming weights of
    each hidden unit become scale-invariant (Kunin et al., ICLR 2021). Blocks are then
    ``Sequential(Linear, BatchNorm1d, nonlinearity)``, which predictive coding does not take.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        hidden: list[int],
        activation: str = "relu",
        bias: bool = True,
        init: str = "default",
        batchnorm: bool = False,
    ):
        super().__init__()
        if init not in INITS:
            raise ConfigError(f"mlp init {init!r} is not known (allowed: {', '.join(INITS)})")
        width = math.prod(input_shape)
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        for i, h in enumerate(hidden, start=1):
            layers: list[nn.Module] = [nn.Linear(width, h, bias=bias and not batchnorm)]
            if batchnorm:
                layers.append(nn.BatchNorm1d(h))
            blocks[f"fc{i}"] = nn.Sequential(*layers, make_activation(activation))
            width = h
        blocks["out"] = nn.Linear(width, n_outputs, bias=bias)
        self.net = nn.Sequential(blocks)
        if init != "default":
            gain = XAVIER_GAINS[activation]
            for module in self.net.modules():
                if isinstance(module, nn.Linear):
                    INITS[init](module.weight, gain=gain)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict(self.net.named_children())
