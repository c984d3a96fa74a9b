"""VGG (Simonyan & Zisserman, ICLR 2015) with torchvision's configurations and an input-sized classifier.

Feature extractor: conv widths with 2x2 max-pools between them, given by name (``cfg``: torchvision's
configurations, VGG-16 = cfg "D": 64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512,M) or as
``channels`` + ``pool_after`` (the form a config override uses: Snakemake merges ``--configfile`` model
entries key by key, so an override that turns a ConvNet into a VGG must replace ``channels``). Every conv
is Conv3x3(pad 1) -> (BatchNorm2d) -> ReLU. Classifier: Flatten -> [Linear -> ReLU -> (Dropout)] per hidden
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


def _layout(cfg: str | None, channels: list[int] | None, pool_after: list[int], width_scale: float) -> list[int | str]:
    """The layer list (conv widths and "M") from a configuration name or from ``channels`` + ``pool_after``
    (1-based conv indices followed by a pool), conv widths multiplied by ``width_scale`` (rounded, >= 1)."""
    if (cfg is None) == (channels is None):
        raise ConfigError("model vgg: give either cfg (a configuration name) or channels (+ pool_after), not both or neither")
    if cfg is not None:
        if str(cfg) not in CONFIGS:
            raise ConfigError(f"model vgg: cfg {cfg!r} is not a VGG configuration (allowed: {', '.join(CONFIGS)})")
        layout = list(CONFIGS[str(cfg)])
    else:
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ConfigError(f"model vgg: channels must be a non-empty list of positive conv widths, got {channels!r}")
        if any(not 1 <= k <= len(channels) for k in pool_after):
            raise ConfigError(f"model vgg: pool_after {list(pool_after)} must name convs 1..{len(channels)}")
        layout = []
        for k, width in enumerate(channels, start=1):
            layout += [width, "M"] if k in pool_after else [width]
    return [x if x == "M" else max(1, round(x * width_scale)) for x in layout]


class VGG(nn.Module):
    """VGG feature extractor + MLP classifier: ``cfg`` "11", "13", "16" or "19", or an explicit layout
    ``channels`` (conv widths) + ``pool_after`` (convs followed by a 2x2 max-pool; VGG-16: 2, 4, 7, 10, 13).

    A pool whose input map is smaller than 2x2 is skipped (so small configurations run on small images).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        cfg: str | None = None,
        channels: list[int] | None = None,
        pool_after: list[int] = (),
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
        layout = _layout(cfg, channels, list(pool_after), width_scale)
        c, h, w = input_shape
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        current: list[nn.Module] = []
        n_conv = 0
        for item in layout:
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
