"""Small pre-activation residual network with batch norm (He et al. 2016, "Identity mappings in deep
residual networks"), sized for small images such as 8x8 digits.

stem: Conv3x3(C -> width) -> MaxPool2; then ``blocks`` pre-activation basic blocks
x + Conv(ReLU(BN(Conv(ReLU(BN(x)))))), with a MaxPool2 after each block listed in ``pool_after``;
head: BN -> ReLU -> global average pool (``gap``) -> Linear read-out ``out``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class PreActBlock(nn.Module):
    """x + conv(relu(bn(conv(relu(bn(x)))))): the residual stream keeps its width and resolution."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet(nn.Module):
    """Recorded layers: ``stem``, ``block1..blockB`` (the residual stream after each block, pooled where
    ``pool_after`` says), ``gap`` (the BN-ReLU-pooled features) and ``out`` (logits)."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int, width: int = 32, blocks: int = 3, pool_after: list[int] = ()):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"ResNet needs image inputs (C, H, W), got input shape {input_shape}")
        bad = [b for b in pool_after if not 1 <= b <= blocks]
        if bad:
            raise ValueError(f"ResNet pool_after {bad}: block numbers run from 1 to {blocks}")
        c, h, w = input_shape
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = nn.Sequential(nn.Conv2d(c, width, 3, padding=1, bias=False), nn.MaxPool2d(2) if min(h, w) >= 2 else nn.Identity())
        h, w = (h // 2, w // 2) if min(h, w) >= 2 else (h, w)
        for b in range(1, blocks + 1):
            parts: list[nn.Module] = [PreActBlock(width)]
            if b in pool_after and min(h, w) >= 2:
                parts.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            layers[f"block{b}"] = nn.Sequential(*parts)
        layers["gap"] = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        layers["out"] = nn.Linear(width, n_outputs)
        self.net = nn.Sequential(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict(self.net.named_children())
