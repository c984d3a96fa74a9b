"""Pointwise nonlinearities by name."""

from torch import nn

from learnscope.errors import ConfigError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU, "linear": nn.Identity}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(f"activation {name!r} is not known (allowed: {', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[name]()
