"""Shared representational geometry of one family of networks (Lu et al. 2018, "Shared representational
geometry across neural networks", ``run_analyses.py`` of nnsrm-neurips18).

For every analysed layer and every record point t, over the N networks of one family (same
architecture, different seeds, the same held-out probe images in the same order):

1. Flatten each network's activity to units x images; if wider than ``max_units``, keep a seeded
   random subset of units in random order (fixed per network and layer across t; the original's
   subsets were unseeded).
2. Split the images once, stratified by class (``fit_fraction``, ``split_seed``): the fit part fits
   the SRM, the evaluation part (sorted by class) is scored. Each image is z-scored across units, in
   each part separately.
3. Fit the SRM (``srm``: probabilistic as the paper, or deterministic) with k = #units on the fit part;
   shared responses are W_i^T X_i of the evaluation part.
4. Score, on the evaluation part: r(iRSM_native(t), wRSM(t)), r(iRSM_shared(t), wRSM(t)) and the
   development curve r(iRSM_shared(t), wRSM(T)) (strict lower triangles, Pearson), each also per
   network from its leave-one-out term (the spread); variance explained by the mean shared response
   per network (with both SRM variants); pairwise wRSM consistency r(wRSM_i, wRSM_j). At the final
   point, a null for the native r: the same score after shuffling each network's units
   (``null_shuffles`` seeded draws), i.e. with any unit correspondence removed.

Outputs: a long table (``--out``, CSV: family, layer, point, step, metric, member, value) and, next to
it, ``<out stem>.npz`` with the evaluation RSMs at the final point, class-level RSMs over layers x
points, and native / shared evaluation responses of the first networks (for trajectory plots).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from learnscope.analysis import rsa
from learnscope.analysis.srm import FITS
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError, RecordError
from learnscope.record import open_run

DEFAULTS = {
    "fit_fraction": 0.8,
    "split_seed": 0,
    "max_units": 128,
    "subset_seed": 0,
    "srm": "probabilistic",
    "n_iter": 10,
    "srm_tol": None,    # None: exactly n_iter SRM iterations (BrainIAK); else until the objective settles (n_iter: the cap)
    "srm_seed": 0,
    "trajectory_networks": 5,
    "null_shuffles": 20,
    "ve_ks": [],        # issue 20: variance explained by SRMs of these k < #units, at the first and last record point
}


def split_images(labels: np.ndarray, fit_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified fit / evaluation split of image indices; the evaluation images sorted by class."""
    idx = np.arange(len(labels))
    fit, ev = train_test_split(idx, train_size=fit_fraction, stratify=labels, random_state=seed)
    return np.sort(fit), ev[np.argsort(labels[ev], kind="stable")]


def unit_subset(n_units: int, cap: int, seed: int, network_seed: int, layer_index: int) -> np.ndarray:
    """All units in their own order if n_units <= cap; else ``cap`` units drawn without replacement, in
    the seeded random order of the draw (as the original's ``np.random.choice``, which was unseeded).

    Kept in order, a layer keeps whatever unit correspondence networks share natively (the logits'
    classes, a conv layer's spatial layout); a random subset, like the original's, carries none.
    """
    if n_units <= cap:
        return np.arange(n_units)
    rng = np.random.default_rng([seed, network_seed, layer_index])
    return rng.choice(n_units, size=cap, replace=False)


def unit_shuffle_null(xs: list[np.ndarray], wrsm: np.ndarray, n_shuffles: int, rng: np.random.Generator) -> list[float]:
    """The chance distribution of the native score r(iRSM_native, wRSM): the score after shuffling each
    network's units (rows of its units x images matrix) independently, ``n_shuffles`` times.

    Shuffling removes any unit correspondence between networks but keeps each network's own image
    geometry, which is what makes the native score of unrelated networks a chance correlation of
    random-sign class-block structure rather than ~0 (see ``figures.shared_geometry.three_rsms``).
    """
    return [rsa.similarity(rsa.loo_inter_rsms([x[rng.permutation(len(x))] for x in xs]).mean(0), wrsm) for _ in range(n_shuffles)]


def load_family(paths: list[str], layers: list[str]) -> dict:
    """Complete runs' probe activations (units x images per layer and point), seeds, steps, labels."""
    nets, skipped = [], []
    steps = labels = None
    for p in paths:
        with open_run(p) as run:
            if run.status != "complete":
                skipped.append(run.run_id)
                continue
            missing = [layer for layer in layers if layer not in run.layer_names]
            if missing:
                raise RecordError(f"{p}: no activations for layers {missing} (recorded: {run.layer_names}); add them to the family's layers and retrain")
            if steps is None:
                steps, labels = run.steps, run.probe_labels
            elif not (np.array_equal(steps, run.steps) and np.array_equal(labels, run.probe_labels)):
                raise RecordError(f"{p}: record points or probe images differ from the family's first run; every network must be recorded on the same schedule and images")
            acts = {layer: run.activations(layer) for layer in layers}
            nets.append({
                "seed": int(run.config["seed"]),
                "test_acc": float(run.scalar("test_acc")[-1]),
                "acts": {layer: a.reshape(a.shape[0], a.shape[1], -1).transpose(0, 2, 1) for layer, a in acts.items()},
            })
    if len(nets) < 3:
        raise RecordError(f"a family needs at least 3 complete runs for leave-one-out RSMs, got {len(nets)} (diverged: {skipped})")
    return {"nets": nets, "steps": steps, "labels": labels, "skipped": skipped}


def analyse_family(family: str, paths: list[str], layers: list[str], options: dict) -> tuple[pd.DataFrame, dict]:
    """The metrics table and the arrays for the figures (see the module docstring)."""
    o = {**DEFAULTS, **options}
    if o["srm"] not in FITS:
        raise ConfigError(f"shared_geometry.analysis.srm {o['srm']!r} is not known (allowed: {', '.join(FITS)})")
    data = load_family(paths, layers)
    nets, steps, labels = data["nets"], data["steps"], data["labels"]
    seeds = [n["seed"] for n in nets]
    fit, ev = split_images(labels, float(o["fit_fraction"]), int(o["split_seed"]))
    rows: list[tuple] = []
    arrays: dict[str, np.ndarray] = {"steps": steps, "eval_labels": labels[ev], "seeds": np.array(seeds), "layers": np.array(layers)}
    last = len(steps) - 1
    pairs = [f"{seeds[i]}-{seeds[j]}" for i in range(len(seeds)) for j in range(i + 1, len(seeds))]

    def add(layer, t, metric, members, values):
        for m, v in zip(members, np.atleast_1d(values)):
            rows.append((family, layer, t, int(steps[t]), metric, str(m), float(v)))

    for li, layer in enumerate(layers):
        per_t = []
        for t in range(len(steps)):
            xs = []
            for n in nets:
                a = n["acts"][layer][t]
                xs.append(a[unit_subset(a.shape[0], int(o["max_units"]), int(o["subset_seed"]), n["seed"], li)])
            x_fit = [rsa.zscore_images(x[:, fit]) for x in xs]
            x_ev = [rsa.zscore_images(x[:, ev]) for x in xs]
            k = x_fit[0].shape[0]
            tol = None if o["srm_tol"] is None else float(o["srm_tol"])
            model = FITS[o["srm"]](x_fit, k, n_iter=int(o["n_iter"]), seed=int(o["srm_seed"]), tol=tol)
            other = FITS["deterministic" if o["srm"] == "probabilistic" else "probabilistic"](x_fit, k, n_iter=int(o["n_iter"]), seed=int(o["srm_seed"]), tol=tol)
            shared = model.transform(x_ev)
            w_terms = rsa.within_rsms(x_ev)
            per_t.append({
                "wrsm": w_terms.mean(0),
                "native_terms": rsa.loo_inter_rsms(x_ev),
                "shared_terms": rsa.loo_inter_rsms(shared),
                "w_terms": w_terms,
            })
            cur = per_t[-1]
            for space in ("native", "shared"):
                terms = cur[f"{space}_terms"]
                add(layer, t, f"{space}_vs_within", ["all"], rsa.similarity(terms.mean(0), cur["wrsm"]))
                add(layer, t, f"{space}_vs_within", seeds, [rsa.similarity(m, cur["wrsm"]) for m in terms])
            add(layer, t, "variance_explained", seeds, rsa.variance_explained(model.w, x_ev))
            add(layer, t, f"variance_explained_{'deterministic' if o['srm'] == 'probabilistic' else 'probabilistic'}", seeds, rsa.variance_explained(other.w, x_ev))
            add(layer, t, "consistency", pairs, rsa.pairwise_consistency(w_terms))
            add(layer, t, "units", ["all"], k)
            if t in (0, last):  # variance explained against k: is "shared" more than a full-rank rotation?
                for kk in sorted({int(v) for v in o["ve_ks"] if int(v) < k}):
                    fit_k = FITS[o["srm"]](x_fit, kk, n_iter=int(o["n_iter"]), seed=int(o["srm_seed"]), tol=tol)
                    add(layer, t, "variance_explained_k", [kk], float(np.mean(rsa.variance_explained(fit_k.w, x_ev))))
            add(layer, t, "srm_iterations", ["all"], model.iterations)
            add(layer, t, "srm_objective", ["all"], model.trace[-1] if model.iterations else np.nan)   # log-likelihood (probabilistic)
            if model.converged is not None:
                add(layer, t, "srm_converged", ["all"], float(model.converged))
            arrays[f"{layer}__class_rsm__{t}"] = np.mean([rsa.class_rsm(rsa.zscore_images(x), labels) for x in xs], axis=0)
            if t == last:
                rng = np.random.default_rng([int(o["subset_seed"]), li, 99])
                null = unit_shuffle_null(x_ev, cur["wrsm"], int(o["null_shuffles"]), rng)
                add(layer, t, "native_null", range(len(null)), null)
                # control for the shared claim (issue 20): each network's image order shuffled independently (fit
                # and evaluation images alike) before the SRM; r of each network's shared LOO term with its own RSM
                img_rng = np.random.default_rng([int(o["subset_seed"]), li, 7])
                sh_fit = [x[:, img_rng.permutation(x.shape[1])] for x in x_fit]
                sh_ev = [x[:, img_rng.permutation(x.shape[1])] for x in x_ev]
                fit_sh = FITS[o["srm"]](sh_fit, k, n_iter=int(o["n_iter"]), seed=int(o["srm_seed"]), tol=tol)
                vals = [rsa.similarity(m, rsa.rsm(x)) for m, x in zip(rsa.loo_inter_rsms(fit_sh.transform(sh_ev)), sh_ev)]
                add(layer, t, "shared_vs_within_image_shuffled", ["all"], float(np.mean(vals)))
                add(layer, t, "shared_vs_within_image_shuffled", seeds, vals)
                n_traj = min(int(o["trajectory_networks"]), len(nets))
                arrays[f"{layer}__native"] = np.stack(x_ev[:n_traj])
                arrays[f"{layer}__shared"] = np.stack(shared[:n_traj])
        final_w = per_t[last]["wrsm"]
        for t, cur in enumerate(per_t):
            add(layer, t, "development", ["all"], rsa.similarity(cur["shared_terms"].mean(0), final_w))
            add(layer, t, "development", seeds, [rsa.similarity(m, final_w) for m in cur["shared_terms"]])
        arrays[f"{layer}__wrsm"] = per_t[last]["wrsm"]
        arrays[f"{layer}__irsm_native"] = per_t[last]["native_terms"].mean(0)
        arrays[f"{layer}__irsm_shared"] = per_t[last]["shared_terms"].mean(0)
    add("model", last, "test_acc", seeds, [n["test_acc"] for n in nets])
    table = pd.DataFrame(rows, columns=["family", "layer", "point", "step", "metric", "member", "value"])
    return table, arrays


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze shared-geometry --inputs RUN.h5 ... --out T.csv --options
    '{"family": ..., "layers": [...], ...}'``; also writes ``T.npz`` beside the table."""
    for key in ("family", "layers"):
        if key not in options:
            raise ConfigError(f"analyze shared-geometry: options need {key!r} (got {sorted(options)})")
    table, arrays = analyse_family(options["family"], inputs, list(options["layers"]), options)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
    with atomic_path(Path(out).with_suffix(".npz")) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
