"""Shared geometry across learning rules: SRM-aligned inter-network RSM similarity within a rule vs between
rules (learnscope's own use of Lu et al. 2018, "Shared representational geometry across neural networks",
with the shared response model of Chen et al. 2015).

Per analysed layer, at the final record point, over the N networks of every rule and seed (the same probe
images in the same order):

1. Each network's activity, units x images (wider layers: a seeded unit subset,
   ``shared_geometry.unit_subset``), each image z-scored across units (``rsa.zscore_images``).
2. Cross-validation over ``folds`` folds of the probe images (shuffled with ``split_seed``): one joint SRM
   over *all* networks of *all* rules (k = min(``k``, the narrowest layer, the fit images)) is fitted on the
   other folds; the held-out images of every network are mapped into the shared space, S_i = W_i^T X_i.
3. Similarity of networks i, j on a fold: r(RSM(S_i), RSM(S_j)), the Pearson r of the strict lower
   triangles of their image x image correlation matrices (``rsa.similarity``); averaged over folds.
4. Per network (rule r, seed s): ``within`` = mean similarity to the other seeds of r; ``between`` = mean
   similarity to the networks of the other rules with a *different* seed; ``same_seed`` = mean similarity
   to the other rules' networks with the *same* seed (the same initial weights, since a seed fixes the
   initialisation across rules: reported apart, never pooled into ``between``);
   ``within_minus_between`` = within - between.

Outputs: a long table (``--out``, CSV: layer, rule, seed, metric, value) and ``<out stem>.pairs.csv`` with
every pair's similarity (layer, rule_a, seed_a, rule_b, seed_b, similarity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from learnscope.analysis import rsa
from learnscope.analysis.shared_geometry import load_family, unit_subset
from learnscope.analysis.srm import FITS
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError, RecordError
from learnscope.record import open_run

DEFAULTS = {"k": 16, "folds": 5, "split_seed": 0, "srm": "probabilistic", "n_iter": 10, "srm_seed": 0, "max_units": 128, "subset_seed": 0, "point": -1}


def shared_similarity(xs: list[np.ndarray], k: int, folds: int = 5, *, split_seed: int = 0, srm: str = "probabilistic", n_iter: int = 10, srm_seed: int = 0) -> np.ndarray:
    """N x N matrix of r(RSM(W_i^T X_i), RSM(W_j^T X_j)) on held-out images, mean over ``folds`` folds of one
    joint SRM fitted on the other images (``xs``: units x images per network, preprocessed). Diagonal 1."""
    if srm not in FITS:
        raise ConfigError(f"cross_study.geometry.srm {srm!r} is not known (allowed: {', '.join(FITS)})")
    n = xs[0].shape[1]
    if folds < 2 or n // folds < 3:
        raise ConfigError(f"cross_study.geometry: {folds} folds of {n} probe images leave < 3 held-out images per fold (need folds >= 2; lower folds or probe more images)")
    k_eff = int(min(k, min(x.shape[0] for x in xs), n - n // folds - 1))
    total = np.zeros((len(xs), len(xs)))
    for fit, held in KFold(folds, shuffle=True, random_state=split_seed).split(np.arange(n)):
        model = FITS[srm]([x[:, fit] for x in xs], k_eff, n_iter=n_iter, seed=srm_seed)
        shared = model.transform([x[:, held] for x in xs])
        tri = np.stack([rsa.lower(rsa.rsm(s)) for s in shared])
        total += np.corrcoef(tri)
    return total / folds


def within_between(sim: np.ndarray, rules: list[str], seeds: list[int]) -> pd.DataFrame:
    """Per network (rule, seed): within, between (other rules, other seeds), same_seed (other rules, same
    seed) and within_minus_between, from a network x network similarity matrix (NaN where a group is empty)."""
    rules, seeds = np.asarray(rules), np.asarray(seeds)
    rows = []
    for i in range(len(rules)):
        same_rule, same_seed = rules == rules[i], seeds == seeds[i]
        groups = {
            "within": same_rule & ~same_seed,
            "between": ~same_rule & ~same_seed,
            "same_seed": ~same_rule & same_seed,
        }
        vals = {m: float(sim[i, g].mean()) if g.any() else np.nan for m, g in groups.items()}
        vals["within_minus_between"] = vals["within"] - vals["between"]
        rows += [(str(rules[i]), int(seeds[i]), m, v) for m, v in vals.items()]
    return pd.DataFrame(rows, columns=["rule", "seed", "metric", "value"])


def load_networks(paths: list[str], layers: list[str]) -> dict:
    """``shared_geometry.load_family`` over the runs of every rule, plus each complete run's rule label."""
    data = load_family(paths, layers)
    rules = []
    for p in paths:
        with open_run(p) as run:
            if run.status == "complete":
                rules.append(str(run.config["labels"]["rule"]))
    if len(rules) != len(data["nets"]):
        raise RecordError(f"rule labels ({len(rules)}) do not match the loaded networks ({len(data['nets'])})")
    data["rules"] = rules
    return data


def analyse(paths: list[str], layers: list[str], options: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-network table and the pair table (see the module docstring)."""
    o = {**DEFAULTS, **options}
    data = load_networks(paths, layers)
    nets, rules = data["nets"], data["rules"]
    seeds = [n["seed"] for n in nets]
    if len(set(rules)) < 2:
        raise RecordError(f"rule geometry needs networks of at least 2 rules, got {sorted(set(rules))}")
    tables, pairs = [], []
    iu = np.triu_indices(len(nets), k=1)
    for li, layer in enumerate(layers):
        xs = []
        for n in nets:
            a = n["acts"][layer][int(o["point"])]
            xs.append(rsa.zscore_images(a[unit_subset(a.shape[0], int(o["max_units"]), int(o["subset_seed"]), n["seed"], li)]))
        sim = shared_similarity(xs, int(o["k"]), int(o["folds"]), split_seed=int(o["split_seed"]), srm=str(o["srm"]), n_iter=int(o["n_iter"]), srm_seed=int(o["srm_seed"]))
        t = within_between(sim, rules, seeds)
        t.insert(0, "layer", layer)
        tables.append(t)
        pairs.append(pd.DataFrame({
            "layer": layer,
            "rule_a": np.asarray(rules)[iu[0]], "seed_a": np.asarray(seeds)[iu[0]],
            "rule_b": np.asarray(rules)[iu[1]], "seed_b": np.asarray(seeds)[iu[1]],
            "similarity": sim[iu],
        }))
    return pd.concat(tables, ignore_index=True), pd.concat(pairs, ignore_index=True)


def pairs_path(out: str | Path) -> Path:
    return Path(out).with_suffix(".pairs.csv")


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze rule-geometry --inputs RUN.h5 ... --out T.csv --options '{"layers": [...], ...}'``;
    also writes ``T.pairs.csv`` beside the table."""
    if "layers" not in options:
        raise ConfigError(f"analyze rule-geometry: options need 'layers' (got {sorted(options)})")
    unknown = set(options) - set(DEFAULTS) - {"layers"}
    if unknown:
        raise ConfigError(f"analyze rule-geometry: unknown options {sorted(unknown)} (allowed: layers, {', '.join(DEFAULTS)})")
    table, pairs = analyse(inputs, list(options["layers"]), options)
    for frame, path in ((table, Path(out)), (pairs, pairs_path(out))):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.9g")
