"""Conservation laws under every learning rule (learnscope's cross-rule study; the laws are those of Kunin
et al., ICLR 2021, "Neural Mechanics: Symmetry and Broken Conservation Laws in Deep Learning Dynamics").

The ``symmetry`` tracker (``learnscope.train.symmetry``) records, per unit u of every symmetry group and at
every record point t, the quantity Q_u(t) (translation: a read-out column sum; scale: a hidden unit's
squared incoming norm; rescale: a hidden unit's squared outgoing minus incoming norm) and a prediction
R_u(t):

- under ``sgd`` and ``momentum``, the exact theory (the closed form of SGD + weight decay, the
  heavy-ball oscillator), whose only assumption is the gradient's symmetry constraint
  <g, generator> = 0;
- under any other rule, the reference: the same law driven by that rule's own steps (its pseudo-gradient,
  momentum buffer or realised step), i.e. what Q would do were the rule's steps orthogonal to the
  generator, as loss gradients are.

The departure of unit u at record point t is

    D_u(t) = |Q_u(t) - R_u(t)| / max_s |Q_u(s)|,

and max_t D_u(t) is neural mechanics' relative error (``analysis.symmetry_dynamics.relative_errors``, the
paper's max_t |emp - pred| / max_t |emp|) with R as the prediction. A rule that keeps the symmetry of the
loss in its steps has departure ~0 (round-off, and the continuous oscillator's discretisation error under
momentum); one whose steps leave the constraint surface (Adam's per-coordinate scaling, feedback
alignment's random feedback, predictive coding's relaxed-state gradients) departs by O(1).

Per run, family and record point the table holds the median over the family's units (all its layers
pooled), on the model the family is measured on (option ``families``: family -> model label, because the
symmetries need different architectures: scale needs batch norm after the Linear, rescale a homogeneous
activation and no batch norm):

- ``departure``: median_u D_u(t);
- ``departure_so_far``: median_u max_{s <= t} D_u(s) (at the last record point: the median relative error);
- ``conserved_departure_so_far``: the same against the gradient-flow law (the conserved value Q(0)
  without weight decay) instead of R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from learnscope.analysis.symmetry_dynamics import run_table
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError, RecordError
from learnscope.record import open_run

FAMILIES = ("translation", "scale", "rescale")
UNIT_KEYS = ["run_id", "family", "layer", "unit"]
RUN_KEYS = ["run_id", "rule", "seed", "model", "status", "family"]


def unit_departures(table: pd.DataFrame) -> pd.DataFrame:
    """Per row of a ``symmetry_dynamics.run_table`` (read with ``optional=("theory", "reference")``):
    ``departure`` D_u(t) against the prediction (the theory where recorded, else the reference) and
    ``conserved_departure`` against the gradient-flow law, both over max_s |Q_u(s)|, and their running
    maxima over record points (``*_so_far``)."""
    t = table.sort_values(UNIT_KEYS + ["step"], kind="stable").reset_index(drop=True)
    prediction = t["theory"].where(t["theory"].notna(), t["reference"])
    if prediction.isna().any():
        bad = t.loc[prediction.isna(), "run_id"].iloc[0]
        raise RecordError(f"{bad}: symmetry tracker records neither theory nor reference; retrain it with the current code")
    scale = t["empirical"].abs().groupby([t[k] for k in UNIT_KEYS], sort=False).transform("max")
    scale = scale.where(scale > 0)  # a unit whose quantity is 0 throughout has no relative departure (NaN)
    t["departure"] = (t["empirical"] - prediction).abs() / scale
    t["conserved_departure"] = (t["empirical"] - t["gradient_flow"]).abs() / scale
    by_unit = t.groupby(UNIT_KEYS, sort=False)
    t["departure_so_far"] = by_unit["departure"].cummax()
    t["conserved_departure_so_far"] = by_unit["conserved_departure"].cummax()
    return t


def family_departures(table: pd.DataFrame) -> pd.DataFrame:
    """Per run, family and record point: the medians over the family's units of ``unit_departures``."""
    cols = ["departure", "departure_so_far", "conserved_departure_so_far"]
    g = table.groupby(RUN_KEYS + ["step"], sort=True)
    out = g[cols].median().reset_index()
    out["n_units"] = g["departure"].count().to_numpy()
    return out


def run_departures(path: str | Path, families: dict[str, str]) -> pd.DataFrame:
    """``family_departures`` of one run record, for the families measured on its model (may be empty)."""
    with open_run(path) as run:
        labels, seed = run.config["labels"], int(run.config["seed"])
    wanted = [f for f, model in families.items() if model == labels["model"]]
    if not wanted:
        return pd.DataFrame()
    table = run_table(path, series=("empirical", "gradient_flow"), optional=("theory", "reference"))
    table = table[table["family"].isin(wanted)].assign(rule=labels["rule"], seed=seed)
    return family_departures(unit_departures(table))


def final_departures(table: pd.DataFrame) -> pd.DataFrame:
    """The last record point of each run and family of a ``family_departures`` table: the median relative
    error (``departure_so_far``) per run."""
    last = table.groupby(["run_id", "family"])["step"].transform("max")
    return table[table["step"] == last].reset_index(drop=True)


def main(inputs: list[str], out: str, options: dict) -> None:
    families = dict(options.get("families", {}))
    unknown = sorted(set(families) - set(FAMILIES))
    if not families or unknown:
        raise ConfigError(f"conservation: option 'families' maps {', '.join(FAMILIES)} to a model label; got {families}")
    frames = [run_departures(p, families) for p in inputs]
    table = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    missing = [f for f in families if table.empty or f not in set(table["family"])]
    if missing:
        raise RecordError(
            f"conservation: no input run records the families {missing} on their models "
            f"({', '.join(f'{f}: {families[f]}' for f in missing)}); check cross_study.conservation.models"
        )
    table = table.astype({"seed": int, "step": int, "n_units": int})
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")


__all__ = ["FAMILIES", "family_departures", "final_departures", "main", "run_departures", "unit_departures"]
