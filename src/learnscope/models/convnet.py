"""Small convolutional network: [Conv3x3 -> (BatchNorm) -> nonlinearity -> MaxPool2] blocks, then an MLP head."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from learnscope.models.activations import activation as make_activation


class ConvNet(nn.Module):
    """Blocks ``conv1..convK`` then ``fc1..fcL`` and the read-out ``out``.

    Each conv block pools by 2 while the feature map is at least 2x2. ``batchnorm`` inserts BatchNorm2d
    after every convolution (its running statistics make eval-mode activations differ from train mode).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        channels: list[int],
        hidden: list[int] = (),
        kernel_size: int = 3,
        batchnorm: bool = False,
        activation: str = "relu",
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"ConvNet needs image inputs (C, H, W), got input shape {input_shape}")
        c, h, w = input_shape
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        for i, ch in enumerate(channels, start=1):
            layers: list[nn.Module] = [nn.Conv2d(c, ch, kernel_size, padding=kernel_size // 2, bias=not batchnorm)]
            if batchnorm:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(make_activation(activation))
            if min(h, w) >= 2:
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            blocks[f"conv{i}"] = nn.Sequential(*layers)
            c = ch
        blocks["flatten"] = nn.Flatten()
        width = c * h * w
        for i, units in enumerate(hidden, start=1):
            blocks[f"fc{i}"] = nn.Sequential(nn.Linear(width, units), make_activation(activation))
            width = units
        blocks["out"] = nn.Linear(width, n_outputs)
        self.net = nn.Sequential(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict((n, m) for n, m in self.net.named_children() if n != "flatten")
