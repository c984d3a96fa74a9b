"""VGG (Simonyan & Zisserman, ICLR 2015) with torchvision's configurations and an input-sized classifier.

Feature extractor: a configuration list of conv widths and ``"M"`` (2x2 max-pool), e.g. VGG-16 =
torchvision's cfg "D": 64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512,M. Every conv is
Conv3x3(pad 1) -> (BatchNorm2d) -> ReLU. Classifier: Flatten -> [Linear -> ReLU -> (Dropout)] per hidden
size -> Linear read-out, whose input size is computed from the input shape (64x64 Tiny ImageNet images
leave 512 x 2 x 2 = 2048 features after five pools; Kunin et al. (ICLR 2021) use hidden [1024, 1024]).

Initialisation as torchvision's VGG and Kunin et al.'s Tiny ImageNet VGG: Kaiming-normal (fan_out, ReLU)
conv weights, BN weight 1 / bias 0, Linear weights N(0, 0.01^2), zero biases.

Recorded layers follow ConvNet: ``conv1..convK`` (a block is the conv, its BN, the ReLU and the pool
that follows it, if any), ``fc1..fcL`` and ``out``, so the symmetry trackers find the same groups.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from learnscope.errors import ConfigError

# torchvision.models.vgg.cfgs
CONFIGS: dict[str, list[int | str]] = {
    "11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _layout(cfg: str | list, width_scale: float) -> list[int | str]:
    """The configuration as a list, conv widths multiplied by ``width_scale`` (rounded, at least 1)."""
    if isinstance(cfg, str):
        if cfg not in CONFIGS:
            raise ConfigError(f"model vgg: cfg {cfg!r} is not a VGG configuration (allowed: {', '.join(CONFIGS)} or a list)")
        cfg = CONFIGS[cfg]
    layout: list[int | str] = []
    for item in cfg:
        if item == "M":
            layout.append("M")
        elif isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            layout.append(max(1, round(item * width_scale)))
        else:
            raise ConfigError(f"model vgg: cfg entries are positive conv widths or 'M', got {item!r}")
    if not any(isinstance(x, int) for x in layout):
        raise ConfigError("model vgg: cfg needs at least one conv layer")
    return layout


class VGG(nn.Module):
    """VGG feature extractor + MLP classifier; ``cfg`` is "11", "13", "16", "19" or an explicit list.

    A pool whose input map is smaller than 2x2 is skipped (so small configurations run on small images).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        cfg: str | list = "16",
        batchnorm: bool = False,
        width_scale: float = 1.0,
        hidden: list[int] = (1024, 1024),
        dropout: float = 0.0,
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"VGG needs image inputs (C, H, W), got input shape {input_shape}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model vgg: dropout must be in [0, 1), got {dropout}")
        c, h, w = input_shape
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        current: list[nn.Module] = []
        n_conv = 0
        for item in _layout(cfg, width_scale):
            if item == "M":
                if current and min(h, w) >= 2:
                    current.append(nn.MaxPool2d(2))
                    h, w = h // 2, w // 2
                continue
            if current:
                blocks[f"conv{n_conv}"] = nn.Sequential(*current)
            n_conv += 1
            current = [nn.Conv2d(c, item, 3, padding=1)]
            if batchnorm:
                current.append(nn.BatchNorm2d(item))
            current.append(nn.ReLU())
            c = item
        blocks[f"conv{n_conv}"] = nn.Sequential(*current)
        blocks["flatten"] = nn.Flatten()
        width = c * h * w
        for i, units in enumerate(hidden, start=1):
            layers: list[nn.Module] = [nn.Linear(width, units), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            blocks[f"fc{i}"] = nn.Sequential(*layers)
            width = units
        blocks["out"] = nn.Linear(width, n_outputs)
        self.net = nn.Sequential(blocks)
        self._initialise()

    def _initialise(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def layer_modules(self) -> OrderedDict[str, nn.Module]:
        return OrderedDict((n, m) for n, m in self.net.named_children() if n != "flatten")
