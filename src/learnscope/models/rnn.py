"""Vanilla RNN: h_{t+1} = phi(W h_t + U x_t + b), read out linearly from the final state.

Recurrent initialisation (``recurrent_init``):

- ``normal`` (default): W ~ N(0, gain^2 / N) (Sompolinsky et al. 1988): gain ~ 1 is the edge of chaos for
  tanh, larger gains are chaotic.
- ``identity_plus_normalized`` (Farrell et al. 2022, Nat. Mach. Intell.): W = (1 - dt) I + dt gain J / rho(J)
  with J ~ N(0, 1/N) and rho(J) its spectral radius, so the random part has spectral radius dt * gain
  (gain = gamma: 20 is the edge of chaos, 250 strongly chaotic at dt = 0.01).

Input weights (``input_init``): ``default`` (torch's Linear), ``orthogonal`` (Q with orthonormal columns,
U = input_scale Q / mean|Q| / sqrt(D), Farrell et al.'s 'orthog'), or ``identity`` (U = input_scale I_{N x D}:
input coordinate i drives unit i only, their 'diagonal_first_two' for D = 2). ``train_input: false``
freezes U (the bias b stays trained). ``readout_scale``: W_out ~ N(0, (readout_scale / sqrt(N))^2) with
zero read-out bias; ``zero_bias``: b = 0 at initialisation.

A static input x of shape (N, D) is presented at the first step only, followed by ``steps - 1`` steps of
zero input; a sequence (N, T, D) is fed as is. ``trajectory(x, steps)`` runs a static input for any number
of steps (the input zero-padded), the hidden states an analysis reads beyond the training horizon.
"""

from __future__ import annotations

from collections import OrderedDict

import math

import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.models.activations import activation as make_activation

RECURRENT_INITS = ("normal", "identity_plus_normalized")
INPUT_INITS = ("default", "orthogonal", "identity")


def identity_plus_normalized(n: int, gain: float, dt: float) -> torch.Tensor:
    """(1 - dt) I + dt * gain * J / rho(J), J ~ N(0, 1/n) (torch's global generator), rho the spectral radius."""
    j = torch.randn(n, n, dtype=torch.float64) / math.sqrt(n)
    rho = torch.linalg.eigvals(j).abs().max()
    return ((1.0 - dt) * torch.eye(n, dtype=torch.float64) + dt * gain * j / rho).float()


def orthogonal_input(n: int, d: int, scale: float) -> torch.Tensor:
    """scale * Q / mean|Q| / sqrt(d), Q (n x d) with orthonormal columns (rows when d > n)."""
    q = nn.init.orthogonal_(torch.empty(n, d))
    return scale * q / q.abs().mean() / math.sqrt(d)


class Recurrence(nn.Module):
    """Runs the recurrence and returns every hidden state, shape (N, T, hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, activation: str, gain: float, steps: int):
        super().__init__()
        self.steps = steps
        self.input = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)
        nn.init.normal_(self.recurrent.weight, 0.0, gain / math.sqrt(hidden_size))
        self.phi = make_activation(activation)

    def forward(self, x: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        if x.dim() == 2:  # static input at the first step, then zero input: the drive is the bias alone
            steps = self.steps if steps is None else steps
            drive = [self.input(x)] + [self.input.bias.expand(x.shape[0], -1)] * (steps - 1)
        else:
            drive = list(self.input(x).unbind(1))
        w_t = self.recurrent.weight.t()
        h = self.phi(drive[0])  # h_0 = 0, so W h_0 vanishes
        states = [h]
        for u in drive[1:]:
            h = self.phi(torch.addmm(u, h, w_t))
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
        recurrent_init: str = "normal",
        dt: float = 0.01,
        input_init: str = "default",
        input_scale: float = 1.0,
        train_input: bool = True,
        readout_scale: float | None = None,
        zero_bias: bool = False,
    ):
        super().__init__()
        if recurrent_init not in RECURRENT_INITS:
            raise ConfigError(f"rnn recurrent_init {recurrent_init!r} is not known (allowed: {', '.join(RECURRENT_INITS)})")
        if input_init not in INPUT_INITS:
            raise ConfigError(f"rnn input_init {input_init!r} is not known (allowed: {', '.join(INPUT_INITS)})")
        input_size = input_shape[-1] if len(input_shape) == 2 else math.prod(input_shape)
        self.sequence_input = len(input_shape) == 2
        self.hidden = Recurrence(input_size, hidden_size, activation, gain, steps)
        self.out = nn.Linear(hidden_size, n_outputs)
        with torch.no_grad():
            if recurrent_init == "identity_plus_normalized":
                self.hidden.recurrent.weight.copy_(identity_plus_normalized(hidden_size, gain, dt))
            if input_init == "orthogonal":
                self.hidden.input.weight.copy_(orthogonal_input(hidden_size, input_size, input_scale))
            elif input_init == "identity":
                self.hidden.input.weight.copy_(input_scale * torch.eye(hidden_size, input_size))
            if zero_bias:
                self.hidden.input.bias.zero_()
            if readout_scale is not None:
                self.out.weight.normal_(0.0, readout_scale / math.sqrt(hidden_size))
                self.out.bias.zero_()
        self.hidden.input.weight.requires_grad_(bool(train_input))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.sequence_input:
            x = x.flatten(1)
        return self.out(self.hidden(x)[:, -1])

    def trajectory(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """Hidden states (N, steps, H) for a static input (N, D) shown at the first step, zero afterwards."""
        if self.sequence_input:
            raise ConfigError("VanillaRNN.trajectory pads a static input; this model takes sequences")
        return self.hidden(x.flatten(1), steps)

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict(hidden=self.hidden, out=self.out)
