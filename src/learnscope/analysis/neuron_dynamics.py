"""Parameter vs. neuron dynamics (Kunin et al., ICLR 2021, Fig. 1): single conv weights are noisy while
per-channel squared norms |W[k]|^2 of the same layers move smoothly.

From each run's trackers: the sampled conv weights (``parameter_sample``) and every conv channel's
squared norm (``symmetry``: the scale family, or ``scale_control`` for a net without batch norm, whose
channels have no scale symmetry: the negative control), long by run, series and record point. ``roughness`` is the mean
absolute change between record points over the mean absolute value of a trajectory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnscope.atomic import atomic_path
from learnscope.errors import RecordError
from learnscope.record import open_run


def traces(path: str) -> pd.DataFrame:
    """Rows (run_id, model, seed, series, layer, index, step, time, value) for the sampled weights and the
    channel norms of one run."""
    rows = []
    with open_run(path) as run:
        names = run.tracked_names
        sampled = [n for n in names if n.startswith("parameter_sample/")]
        norms = [n for n in names if n.startswith(("symmetry/scale/", "symmetry/scale_control/")) and n.endswith("/empirical")]
        meta = {"run_id": run.run_id, "model": run.config["labels"]["model"], "seed": int(run.config["seed"])}
        if not sampled or not norms:
            raise RecordError(f"{path}: needs record.trackers [symmetry, parameter_sample] (has: {', '.join(names) or 'none'})")
        steps, time = run.steps, run.tracked("symmetry/time")
        for series, keys in (("parameter", sampled), ("channel_norm", norms)):
            for key in keys:
                layer = key.split("/")[-1] if series == "parameter" else key.split("/")[2]
                values = run.tracked(key)
                for i in range(values.shape[1]):
                    rows.append(pd.DataFrame({**meta, "series": series, "layer": layer, "index": i, "step": steps, "time": time, "value": values[:, i]}))
    return pd.concat(rows, ignore_index=True)


def roughness(values: np.ndarray) -> float:
    """mean_t |x(t+1) - x(t)| / mean_t |x(t)| of one trajectory sampled at the record points."""
    return float(np.mean(np.abs(np.diff(values))) / np.mean(np.abs(values)))


def main(inputs: list[str], out: str, options: dict) -> None:
    if not inputs:
        raise RecordError("neuron-dynamics reads at least one run record, got none")
    with atomic_path(out) as tmp:
        pd.concat([traces(p) for p in inputs], ignore_index=True).to_csv(tmp, index=False, float_format="%.12g")
