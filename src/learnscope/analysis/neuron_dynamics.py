"""Parameter vs. neuron dynamics (Kunin et al., ICLR 2021, Fig. 1): single conv weights are noisy while
per-channel squared norms |W[k]|^2 of the same layers move smoothly.

From one run's checkpoints: ``n_parameters`` conv weights drawn at random (seeded) and every conv
channel's squared norm, long by series and record point. ``roughness`` is the mean absolute change
between record points over the mean absolute value of a trajectory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnscope.atomic import atomic_path
from learnscope.errors import RecordError
from learnscope.record import open_run


def traces(path: str, n_parameters: int, seed: int) -> pd.DataFrame:
    rows = []
    with open_run(path) as run:
        steps = run.steps
        lr = float(run.config["rule"]["lr"])
        # conv weights: (T, out, in, kh, kw) over the record points, in network order
        convs = [n for n in run.checkpoint_names if n.endswith(".weight") and run.checkpoint(n).ndim == 5]
        if not convs:
            raise RecordError(f"{path}: no conv weights among the checkpoints (record.checkpoints must be true)")
        weights = {n: run.checkpoint(n).astype(np.float64) for n in convs}
    rng = np.random.default_rng(seed)
    sizes = np.array([w[0].size for w in weights.values()])
    picks = rng.choice(sizes.sum(), size=min(n_parameters, int(sizes.sum())), replace=False)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for layer_i, (name, w) in enumerate(weights.items()):
        layer = name.split(".")[1] if name.count(".") >= 2 else name
        flat = w.reshape(len(steps), -1)
        for p in picks[(picks >= offsets[layer_i]) & (picks < offsets[layer_i + 1])]:
            rows.append(pd.DataFrame({"series": "parameter", "layer": layer, "index": int(p - offsets[layer_i]), "step": steps, "time": lr * steps, "value": flat[:, p - offsets[layer_i]]}))
        norms = (w**2).reshape(len(steps), w.shape[1], -1).sum(axis=2)
        for k in range(norms.shape[1]):
            rows.append(pd.DataFrame({"series": "channel_norm", "layer": layer, "index": k, "step": steps, "time": lr * steps, "value": norms[:, k]}))
    return pd.concat(rows, ignore_index=True)


def roughness(values: np.ndarray) -> float:
    """mean_t |x(t+1) - x(t)| / mean_t |x(t)| of one trajectory sampled at the record points."""
    return float(np.mean(np.abs(np.diff(values))) / np.mean(np.abs(values)))


def main(inputs: list[str], out: str, options: dict) -> None:
    if len(inputs) != 1:
        raise RecordError(f"neuron-dynamics reads one run record, got {len(inputs)}")
    table = traces(inputs[0], int(options.get("n_parameters", 50)), int(options.get("seed", 0)))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.12g")
