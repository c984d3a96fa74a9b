"""Synthetic tasks, generated from a seed: Gaussian clusters, a random-teacher classification task, and the
online delayed cluster classification task of Farrell et al. (2022)."""

from __future__ import annotations

import numpy as np

from learnscope.errors import ConfigError


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


def min_separation(sigma: float, dim: int) -> float:
    """Farrell et al.'s minimum centre distance: sigma * (0.59943537 (dim - 1)^0.57832581 + 4.891638480163717)
    (``classification_task.py``; about 0.35 at dim 200 and 0.11 at dim 2 for sigma = 0.02)."""
    return float(sigma) * (0.59943537 * (dim - 1) ** 0.57832581 + 4.891638480163717)


def separated_centres(n: int, dim: int, draw, min_sep: float, max_draws: int = 100_000) -> np.ndarray:
    """``n`` centres in ``dim`` dimensions from ``draw()`` (one candidate per call), each redrawn until it is
    at least ``min_sep`` from every centre accepted before it (so every pair ends at least ``min_sep`` apart)."""
    centres = np.empty((n, dim))
    k = draws = 0
    while k < n:
        c = draw()
        draws += 1
        if k == 0 or np.min(np.linalg.norm(centres[:k] - c, axis=1)) >= min_sep:
            centres[k] = c
            k += 1
        elif draws > max_draws:
            raise ConfigError(
                f"delayed_clusters: could not place {n} centres {min_sep:.3g} apart in {dim} dimensions after "
                f"{max_draws} draws; lower n_clusters or sigma, or raise half_width"
            )
    return centres


CENTRE_DRAWS = ("original", "independent")


def centre_draw(kind: str, seed: int, dim: int, half_width: float):
    """One candidate centre per call, uniform in [-half_width, half_width]^dim.

    ``original``: Farrell et al.'s own stream (``classification_task.draw_centers_hypercube`` after
    ``np.random.seed(cluster_seed = 2 * model_seed + 1)``: legacy ``RandomState``, 4 (rand(dim) - 0.5)
    for half_width 2), so seed s gives the original code's task instance for its model_seed s.
    ``independent``: a ``numpy.random.Generator`` stream keyed on (seed, 17).
    """
    if kind == "original":
        rs = np.random.RandomState(2 * int(seed) + 1)
        return lambda: (2 * half_width) * (rs.rand(dim) - 0.5)
    if kind == "independent":
        rng = np.random.default_rng([int(seed), 17])
        return lambda: rng.uniform(-half_width, half_width, size=dim)
    raise ConfigError(f"delayed_clusters: centres {kind!r} is not known (allowed: {', '.join(CENTRE_DRAWS)})")


class ClusterTask:
    """Delayed classification of Gaussian clusters (Farrell et al. 2022): an online task, sampled fresh.

    ``n_clusters`` centres c_k in [-half_width, half_width]^dim at least ``min_separation(sigma, dim)``
    apart; cluster k has label k mod ``n_classes``; a sample is x = c_k + sigma xi, xi ~ N(0, I), with k
    uniform. The task instance (its centres) is a function of ``seed`` (a run's seed, as the paper draws
    centres per model seed; ``centres``, see ``centre_draw``); samples come from the generator a caller
    passes, so every epoch can be fresh.
    """

    def __init__(self, spec: dict, seed: int):
        self.dim, self.n_clusters = int(spec["dim"]), int(spec["n_clusters"])
        self.n_classes, self.sigma = int(spec["n_classes"]), float(spec["sigma"])
        self.min_sep = min_separation(self.sigma, self.dim)
        draw = centre_draw(spec.get("centres", "original"), seed, self.dim, float(spec.get("half_width", 2.0)))
        self.centres = separated_centres(self.n_clusters, self.dim, draw, self.min_sep)
        self.labels = np.arange(self.n_clusters) % self.n_classes

    def _draw(self, cluster: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = self.centres[cluster] + self.sigma * rng.standard_normal((len(cluster), self.dim))
        return x.astype(np.float32), self.labels[cluster].astype(np.int64), cluster.astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` fresh samples (x, label, cluster id), each from a uniformly random cluster."""
        return self._draw(rng.integers(0, self.n_clusters, size=n), rng)

    def balanced(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` samples with cluster ids arange(n) mod n_clusters in a random order (the paper's analysis sets)."""
        return self._draw(rng.permutation(np.arange(n) % self.n_clusters), rng)
