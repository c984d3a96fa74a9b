"""Dimensionality over depth and training: the participation ratio of each layer's probe activations at
every record point of a run (learnscope's own use of Farrell et al. 2022's effective dimensionality, there
over time steps of an RNN, here over the layers of a feed-forward net).

For a run record with probe activations A (points x images x units...) of each layer,

    PR_layer(t) = (tr C)^2 / tr(C^2),   C the covariance over probe images of A[t] (flattened units)

(``analysis.participation_ratio``). Output: a long table (rule, seed, layer, depth, point, step, pr), with
``depth`` the layer's position in the record (0 = first recorded layer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnscope.analysis.participation_ratio import participation_ratio
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError, RecordError
from learnscope.record import open_run


def layer_pr(acts: np.ndarray) -> np.ndarray:
    """PR per record point of one layer's activations (points x images x units...)."""
    a = np.asarray(acts, dtype=np.float64)
    return participation_ratio(a.reshape(a.shape[0], a.shape[1], -1))


def run_table(path: str, layers: list[str] | None = None) -> pd.DataFrame:
    """The PR table of one complete run (empty for a run that did not complete); ``layers`` None: all recorded."""
    with open_run(path) as run:
        if run.status != "complete":
            return pd.DataFrame(columns=["rule", "seed", "layer", "depth", "point", "step", "pr"])
        names = run.layer_names if layers is None else list(layers)
        missing = [n for n in names if n not in run.layer_names]
        if missing:
            raise RecordError(f"{path}: no activations for layers {missing} (recorded: {run.layer_names}); record them (record.layers) or drop them from cross_study.dimensionality.layers")
        rule, seed, steps = str(run.config["labels"]["rule"]), int(run.config["seed"]), run.steps
        rows = [
            (rule, seed, name, run.layer_names.index(name), t, int(steps[t]), float(v))
            for name in names
            for t, v in enumerate(layer_pr(run.activations(name)))
        ]
    return pd.DataFrame(rows, columns=["rule", "seed", "layer", "depth", "point", "step", "pr"])


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze layer-dimensionality --inputs RUN.h5 ... --out T.csv [--options '{"layers": [...]}']``."""
    unknown = set(options) - {"layers"}
    if unknown:
        raise ConfigError(f"analyze layer-dimensionality: unknown options {sorted(unknown)} (allowed: layers)")
    table = pd.concat([run_table(p, options.get("layers")) for p in inputs], ignore_index=True)
    if table.empty:
        raise RecordError(f"analyze layer-dimensionality: none of the {len(inputs)} runs completed")
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
