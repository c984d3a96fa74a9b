"""Symmetry dynamics (Kunin et al., ICLR 2021): the per-unit quantities of the ``symmetry`` tracker and
their exact-theory and gradient-flow predictions, as one long table over runs and record points.

One row per (run, family, layer, unit, record point): ``empirical``, ``theory``, ``gradient_flow`` and
the time t = eta (1 - dampening) k. ``relative_errors`` gives, per trajectory, the paper's error measure
max_t |emp - pred| / max_t |emp|.

Option ``control_lambda_offset`` (delta): translation rows gain the series ``wrong_lambda``, the translation
law with weight decay lambda + delta (SGD: e^{-(lambda + delta) t} y(0); heavy ball: the damped oscillator's
homogeneous solution at omega^2 = 2 (lambda + delta) / D), a negative control of the law's dependence on lambda,
and ``relative_errors`` its error ``relerr_wrong_lambda``.

Option ``errors`` (for sweeps, where the per-unit series of many large runs would not fit one table): one
run at a time, write only each layer's summed series (``kind = layer_sum``, ``unit = -1``) and every
trajectory's relative errors (``kind = unit_error``), not the per-unit series.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError, RecordError
from learnscope.record import open_run

RUN_COLUMNS = ["run_id", "model", "rule", "lr", "weight_decay", "momentum", "dampening", "seed", "status"]
SERIES = ("empirical", "theory", "gradient_flow")


def wrong_lambda(y0: np.ndarray, time: np.ndarray, meta: dict, offset: float) -> np.ndarray:
    """The translation law of a run (``meta``: lr, weight_decay, momentum, dampening) evaluated with the
    weight decay lambda + ``offset``, per record point (rows) and column (``y0``: the values at t = 0)."""
    from learnscope.train.symmetry import homogeneous

    lam, beta = meta["weight_decay"] + offset, meta["momentum"]
    if beta == 0.0:
        return np.exp(-lam * time)[:, None] * y0[None, :]
    d = meta["lr"] * (1.0 - meta["dampening"]) * (1.0 + beta)
    h = np.array([homogeneous(float(t), (1.0 - beta) / d, 2.0 * lam / d) for t in time])
    return h[:, None] * y0[None, :]


def run_table(path: str | Path, series: tuple[str, ...] = SERIES, optional: tuple[str, ...] = (), control_lambda_offset: float | None = None) -> pd.DataFrame:
    """All tracked symmetry series of one run record, long by unit and record point: the columns ``series``
    (each must be recorded) and ``optional`` (NaN where not recorded, e.g. ``theory`` under a rule other
    than sgd / momentum, which records ``reference`` instead: ``learnscope.train.symmetry``)."""
    with open_run(path) as run:
        recorded = set(run.tracked_names)
        names = [n for n in sorted(recorded) if n.startswith("symmetry/") and n.endswith("/empirical")]
        if not names:
            raise RecordError(f"{path}: no symmetry tracker arrays; train it with record.trackers: [symmetry]")
        rule = run.config["rule"]
        meta = {
            "run_id": run.run_id,
            "model": run.config["labels"]["model"],
            "rule": rule["name"],
            "lr": float(rule["lr"]),
            "weight_decay": float(rule.get("weight_decay", 0.0)),
            "momentum": float(rule.get("momentum", 0.9)) if rule["name"] == "momentum" else 0.0,
            "dampening": float(rule.get("dampening", 0.0)) if rule["name"] == "momentum" else 0.0,
            "seed": int(run.config["seed"]),
            "status": run.status,
        }
        steps, time = run.steps, run.tracked("symmetry/time")
        layers = []
        for name in names:
            _, family, layer, _ = name.split("/")
            data = {s: run.tracked(f"symmetry/{family}/{layer}/{s}") for s in series}
            n_t, n_u = data["empirical"].shape
            for s in optional:
                key = f"symmetry/{family}/{layer}/{s}"
                data[s] = run.tracked(key) if key in recorded else np.full((n_t, n_u), np.nan)
            if control_lambda_offset is not None:
                data["wrong_lambda"] = (wrong_lambda(data["theory"][0], time, meta, control_lambda_offset) if family == "translation"
                                        else np.full((n_t, n_u), np.nan))
            layers.append((family, layer, data))
    return long_table(meta, layers, steps, time)


def long_table(meta: dict, layers: list[tuple[str, str, dict[str, np.ndarray]]], steps, time) -> pd.DataFrame:
    """One row per (family, layer, unit, record point): the run's columns ``meta`` first, then ``family``,
    ``layer``, ``unit``, ``step``, ``time`` and each series of ``layers`` ((family, layer, {series: array of
    shape (record points, units)})); ``steps`` and ``time`` per record point."""
    frames = []
    for family, layer, data in layers:
        n_t, n_u = data["empirical"].shape
        frames.append(pd.DataFrame({
            "family": family,
            "layer": layer,
            "unit": np.tile(np.arange(n_u), n_t),
            "step": np.repeat(steps, n_u),
            "time": np.repeat(time, n_u),
            **{s: v.reshape(-1) for s, v in data.items()},
        }))
    table = pd.concat(frames, ignore_index=True)
    for i, (k, v) in enumerate(meta.items()):
        table.insert(i, k, v)
    return table


def relative_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Per trajectory (run, family, layer, unit): max_t |emp - pred| / max_t |emp| for theory and gradient flow."""
    keys = [c for c in ("run_id", "model", "lr", "weight_decay", "momentum", "dampening", "seed") if c in table.columns] + ["family", "layer", "unit"]
    t = table.assign(
        abs_emp=table["empirical"].abs(),
        err_theory=(table["empirical"] - table["theory"]).abs(),
        err_gradient_flow=(table["empirical"] - table["gradient_flow"]).abs(),
    )
    preds = ["theory", "gradient_flow"] + (["wrong_lambda"] if "wrong_lambda" in table.columns else [])
    t = t.assign(**{f"err_{p}": (table["empirical"] - table[p]).abs() for p in preds[2:]})
    g = t.groupby(keys, sort=True)[["abs_emp", *(f"err_{p}" for p in preds)]].max(min_count=1).reset_index()
    for p in preds:
        g[f"relerr_{p}"] = g[f"err_{p}"] / g["abs_emp"]
    return g[keys + [f"relerr_{p}" for p in preds]]


def layer_sums(table: pd.DataFrame) -> pd.DataFrame:
    """Each layer's quantity summed over its units (the paper's layer-wise curves), per record point;
    ``unit`` is -1 on these rows."""
    keys = [c for c in RUN_COLUMNS if c in table.columns] + ["family", "layer", "step", "time"]
    return table.groupby(keys, sort=True)[list(SERIES)].sum().reset_index().assign(unit=-1)


def error_table(table: pd.DataFrame) -> pd.DataFrame:
    """The compact form of a symmetry table: per-layer summed series (``kind = layer_sum``) and per-unit
    relative errors (``kind = unit_error``, with the run's columns), one frame."""
    meta = table[[c for c in RUN_COLUMNS if c in table.columns]].drop_duplicates()
    errors = relative_errors(table).merge(meta, on=[c for c in RUN_COLUMNS if c not in ("rule", "status") and c in table.columns], how="left")
    return pd.concat([layer_sums(table).assign(kind="layer_sum"), errors.assign(kind="unit_error")], ignore_index=True)


def split_error_table(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(layer sums, per-unit relative errors) of a table written with the ``errors`` option."""
    if "kind" not in table.columns:
        raise RecordError("symmetry table has no 'kind' column: write it with `learnscope analyze symmetry-dynamics --options '{\"errors\": true}'`")
    sums = table[table["kind"] == "layer_sum"].drop(columns=["kind", "relerr_theory", "relerr_gradient_flow", "relerr_wrong_lambda", "wrong_lambda"], errors="ignore")
    errors = table[table["kind"] == "unit_error"].drop(columns=["kind", "step", "time", *SERIES, "wrong_lambda"], errors="ignore")
    return sums.reset_index(drop=True), errors.reset_index(drop=True)


def main(inputs: list[str], out: str, options: dict) -> None:
    unknown = set(options) - {"errors", "threads", "control_lambda_offset"}
    if unknown:
        raise ConfigError(f"symmetry-dynamics: unknown option(s) {', '.join(sorted(unknown))} (allowed: errors, control_lambda_offset)")
    offset = options.get("control_lambda_offset")
    offset = None if offset is None else float(offset)
    if options.get("errors", False):
        table = pd.concat([error_table(run_table(p, control_lambda_offset=offset)) for p in inputs], ignore_index=True)
    else:
        table = pd.concat([run_table(p, control_lambda_offset=offset) for p in inputs], ignore_index=True)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.17g")
