"""Synthetic tasks, generated from a seed: Gaussian clusters and a random-teacher classification task."""

from __future__ import annotations

import numpy as np


def gaussian_clusters(spec: dict) -> tuple:
    """``n_classes`` isotropic Gaussian clusters in ``dim`` dimensions.

    Centres are drawn N(0, separation^2 / dim · I) (so their typical distance is ~separation·sqrt(2)),
    points are centre + N(0, I · noise^2 / dim); classes are balanced.
    """
    rng = np.random.default_rng([int(spec.get("seed", 0)), 11])
    k, d = int(spec["n_classes"]), int(spec["dim"])
    centres = rng.normal(0.0, float(spec.get("separation", 3.0)) / np.sqrt(d), size=(k, d))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % k
        x = centres[y] + rng.normal(0.0, float(spec.get("noise", 1.0)) / np.sqrt(d), size=(n, d))
        return x, y

    x_tr, y_tr = draw(int(spec["n_train"]))
    x_te, y_te = draw(int(spec["n_test"]))
    return "classification", k, x_tr, y_tr, x_te, y_te


def teacher(spec: dict) -> tuple:
    """Labels from a random one-hidden-layer tanh teacher: y = argmax(W2 tanh(W1 x)), x ~ N(0, I).

    W1 ~ N(0, 1/dim), W2 ~ N(0, 1/hidden). Labels are therefore a smooth but nonlinear function of x.
    """
    rng = np.random.default_rng([int(spec.get("seed", 0)), 13])
    d, h, k = int(spec["dim"]), int(spec.get("hidden", 32)), int(spec["n_classes"])
    w1 = rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, h))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(h), size=(h, k))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, d))
        return x, np.argmax(np.tanh(x @ w1) @ w2, axis=1)

    x_tr, y_tr = draw(int(spec["n_train"]))
    x_te, y_te = draw(int(spec["n_test"]))
    return "classification", k, x_tr, y_tr, x_te, y_te
