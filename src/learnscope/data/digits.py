"""scikit-learn's bundled handwritten digits (1,797 8x8 images, 10 classes): the default real dataset.

It ships inside scikit-learn, so the default pipeline runs offline.
"""

from __future__ import annotations

import numpy as np


def load(spec: dict) -> tuple:
    """Stratified train/test split (``test_fraction``, ``seed``); pixels scaled to [0, 1], shape (N, 1, 8, 8)."""
    # scikit-learn is imported here, not at module level: every training job imports learnscope.data
    # for load_prepared only, and scikit-learn's import costs seconds per job.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=float(spec.get("test_fraction", 0.25)), stratify=y, random_state=int(spec.get("seed", 0))
    )
    return "classification", 10, x_tr, y_tr, x_te, y_te
