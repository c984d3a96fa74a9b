"""Vanilla RNN: h_{t+1} = phi(W h_t + U x_t + b), read out linearly from the final state.

W is drawn N(0, gain^2 / N) (Sompolinsky et al. 1988): gain ~ 1 is the edge of chaos for tanh, larger
gains are chaotic (Farrell et al. 2022 compare the two). A static input x of shape (N, D) is presented at
the first step only, followed by ``steps - 1`` steps of zero input; a sequence (N, T, D) is fed as is.
"""

from __future__ import annotations

from collections import OrderedDict

import math

import torch
from torch import nn

from learnscope.models.activations import activation as make_activation


class Recurrence(nn.Module):
    """Runs the recurrence and returns every hidden state, shape (N, T, hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, activation: str, gain: float, steps: int):
        super().__init__()
        self.steps = steps
        self.input = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)
        nn.init.normal_(self.recurrent.weight, 0.0, gain / math.sqrt(hidden_size))
        self.phi = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = torch.cat([x[:, None, :], x.new_zeros(x.shape[0], self.steps - 1, x.shape[1])], dim=1)
        h = x.new_zeros(x.shape[0], self.recurrent.in_features)
        states = []
        for t in range(x.shape[1]):
            h = self.phi(self.recurrent(h) + self.input(x[:, t]))
            states.append(h)
        return torch.stack(states, dim=1)


class VanillaRNN(nn.Module):
    """Recorded layers: ``hidden`` (all states, (N, T, H)) and ``out`` (logits from the last state)."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        hidden_size: int,
        activation: str = "tanh",
        gain: float = 1.0,
        steps: int = 10,
    ):
        super().__init__()
        input_size = input_shape[-1] if len(input_shape) == 2 else math.prod(input_shape)
        self.sequence_input = len(input_shape) == 2
        self.hidden = Recurrence(input_size, hidden_size, activation, gain, steps)
        self.out = nn.Linear(hidden_size, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.sequence_input:
            x = x.flatten(1)
        return self.out(self.hidden(x)[:, -1])

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict(hidden=self.hidden, out=self.out)
