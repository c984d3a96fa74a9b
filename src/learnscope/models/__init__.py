"""Models: MLP, small conv net (with/without batch norm), VGG, small pre-activation ResNet and vanilla RNN.

Every model exposes ``layer_modules()``: an ordered mapping of layer name -> module whose output is that
layer's activity (what the recorder stores on the probe set). ``build_model`` makes one from its
params entry (``model: {kind: ..., ...}``).
"""

from __future__ import annotations

from torch import nn

from learnscope.errors import ConfigError
from learnscope.models.convnet import ConvNet
from learnscope.models.mlp import MLP
from learnscope.models.resnet import ResNet
from learnscope.models.rnn import VanillaRNN
from learnscope.models.vgg import VGG

KINDS = {"mlp": MLP, "convnet": ConvNet, "resnet": ResNet, "rnn": VanillaRNN, "vgg": VGG}


def build_model(spec: dict, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """Instantiate ``spec['kind']`` with the remaining keys as options. Seed torch beforehand."""
    options = {k: v for k, v in spec.items() if k != "kind"}
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"model kind {kind!r} is not known (allowed: {', '.join(KINDS)})")
    try:
        return KINDS[kind](input_shape=tuple(input_shape), n_outputs=n_outputs, **options)
    except TypeError as e:
        raise ConfigError(f"model {kind!r}: {e}") from None


__all__ = ["ConvNet", "KINDS", "MLP", "ResNet", "VGG", "VanillaRNN", "build_model"]
