"""Build a Dataset from its params entry: ``data.<name>: {kind: ..., ...}``.

Common options for every kind: ``probe_per_class`` (probe-set size per class, or in total for
regression), ``standardize`` (subtract the train split's per-feature mean, divide by the global standard
deviation of the centred train inputs) and ``shuffle_train_labels`` (a seed: the training labels permuted,
the negative control of a claim that a rule learns the task; classification only).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from learnscope.data import digits, synthetic, tiny_imagenet, torchvision_sets
from learnscope.data.dataset import Dataset
from learnscope.errors import ConfigError

# kind -> builder(spec) returning (task, n_outputs, x_train, y_train, x_test, y_test)
KINDS: dict[str, Callable[[dict], tuple]] = {
    "digits": digits.load,
    "gaussian_clusters": synthetic.gaussian_clusters,
    "teacher": synthetic.teacher,
    "mnist": torchvision_sets.mnist,
    "fashion_mnist": torchvision_sets.fashion_mnist,
    "cifar10": torchvision_sets.cifar10,
    "cifar100": torchvision_sets.cifar100,
    "tiny_imagenet": tiny_imagenet.load,
}


def probe_indices(y: np.ndarray, task: str, per_class: int, seed: int) -> np.ndarray:
    """A fixed probe set: ``per_class`` test items of each class (in a seeded order), sorted by class.

    For regression, ``per_class`` items in total. Sorting by class makes RSMs block-structured.
    """
    order = np.random.default_rng([seed, 7]).permutation(len(y))
    if task == "regression":
        return np.sort(order[:per_class])
    picks = []
    for c in np.unique(y):
        members = order[y[order] == c][:per_class]
        picks.append(np.sort(members))
    return np.concatenate(picks).astype(np.int64)


def shuffled_labels(name: str, task: str, y: np.ndarray, seed: int) -> np.ndarray:
    """The training labels under a seeded permutation: class counts kept, every image-label link broken
    (Zhang et al. 2017's random-label control). Test split and probe set keep their true labels, so a net
    trained on these can only score chance on them."""
    if task != "classification":
        raise ConfigError(f"data.{name}.shuffle_train_labels needs a classification dataset; {name!r} is {task}")
    return np.asarray(y)[np.random.default_rng([seed, 11]).permutation(len(y))]


def prepare(name: str, spec: dict) -> Dataset:
    """Load or generate dataset ``name`` as described by ``spec``."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"data.{name}.kind: {kind!r} is not a dataset kind (allowed: {', '.join(KINDS)})")
    task, n_outputs, x_tr, y_tr, x_te, y_te = KINDS[kind](spec)
    if "shuffle_train_labels" in spec:
        y_tr = shuffled_labels(name, task, y_tr, int(spec["shuffle_train_labels"]))
    x_tr = np.asarray(x_tr, dtype=np.float32)
    x_te = np.asarray(x_te, dtype=np.float32)
    if spec.get("standardize", True):
        mean = x_tr.mean(axis=0, keepdims=True)
        std = float((x_tr - mean).std()) or 1.0
        x_tr = (x_tr - mean) / std
        x_te = (x_te - mean) / std
    y_dtype = np.int64 if task == "classification" else np.float32
    y_tr, y_te = np.asarray(y_tr, dtype=y_dtype), np.asarray(y_te, dtype=y_dtype)
    probe = probe_indices(y_te, task, int(spec.get("probe_per_class", 10)), int(spec.get("seed", 0)))
    return Dataset(
        name=name,
        task=task,
        n_outputs=int(n_outputs),
        x_train=np.ascontiguousarray(x_tr, dtype=np.float32),
        y_train=y_tr,
        x_test=np.ascontiguousarray(x_te, dtype=np.float32),
        y_test=y_te,
        probe_index=probe,
        spec=dict(spec),
    )
