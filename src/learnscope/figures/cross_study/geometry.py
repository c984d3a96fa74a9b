"""Shared geometry across rules: SRM-aligned inter-network RSM similarity within a rule vs between rules,
per layer (``analysis.rule_geometry``: one joint cross-validated SRM over every rule zoo network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from learnscope.claims import Claim, check
from learnscope.errors import ConfigError
from learnscope.figures.common import save, seed_stats, style

METRICS = {"within": "within rule", "between": "between rules", "same_seed": "other rules, same seed"}


def per_rule(table: pd.DataFrame, rules: list[str]) -> pd.DataFrame:
    """Mean and s.d. over seeds of each (layer, rule, metric) of the per-network table, rules in order."""
    out = seed_stats(table, ["layer", "rule", "metric"], "value")
    return out[out["rule"].isin(rules)]


def rule_matrix(pairs: pd.DataFrame, rules: list[str], layer: str) -> pd.DataFrame:
    """Mean similarity of networks of rule a vs rule b at ``layer``, over pairs with different seeds."""
    d = pairs[(pairs["layer"] == layer) & (pairs["seed_a"] != pairs["seed_b"])]
    both = pd.concat([d, d.rename(columns={"rule_a": "rule_b", "rule_b": "rule_a", "seed_a": "seed_b", "seed_b": "seed_a"})])
    return both.groupby(["rule_a", "rule_b"])["similarity"].mean().unstack().reindex(index=rules, columns=rules)


def geometry(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Per layer, each rule's SRM-aligned RSM similarity to its own other seeds, to other rules' networks
    (other seeds) and to other rules' networks from the same initial weights (same seed); the rule x rule
    similarity matrix at the last layer.

    Claims (reported, one per rule): at the last analysed layer, within-rule minus between-rule similarity
    > 0 (mean ± s.d. over seeds)."""
    table = pd.read_csv(next(p for p in inputs if not p.endswith(".pairs.csv")))
    pairs = pd.read_csv(next(p for p in inputs if p.endswith(".pairs.csv")))
    rules, layers = list(options["rules"]), list(options["layers"])
    missing = sorted(set(layers) - set(table["layer"]))
    if missing:
        raise ConfigError(f"cross_study.geometry.layers {missing} are not in the geometry table (layers: {sorted(set(table['layer']))}); rebuild it")
    stats = per_rule(table, rules)
    present = [r for r in rules if r in set(stats["rule"])]
    last = layers[-1]

    style()
    fig, axes = plt.subplots(1, len(layers) + 1, figsize=(3.2 * (len(layers) + 1), 3.2), constrained_layout=True)
    x = np.arange(len(present))
    for ax, layer in zip(axes, layers):
        for j, (metric, label) in enumerate(METRICS.items()):
            s = stats[(stats["layer"] == layer) & (stats["metric"] == metric)].set_index("rule").reindex(present)
            ax.errorbar(x + (j - 1) * 0.22, s["mean"], yerr=s["sd"], fmt="o", ms=4, capsize=2, label=label)
        ax.set_xticks(x, present, rotation=45, ha="right", fontsize=7)
        ax.set_title(f"{layer}", fontsize=9)
        ax.set_ylabel("RSM similarity in shared space (r)")
        ax.axhline(0, color="0.7", lw=0.6)
    axes[0].legend(fontsize=6, loc="lower left")
    m = rule_matrix(pairs, present, last)
    im = axes[-1].imshow(m.to_numpy(dtype=float), cmap="viridis", vmin=np.nanmin(m.to_numpy()), vmax=1.0)
    axes[-1].set_xticks(range(len(present)), present, rotation=45, ha="right", fontsize=7)
    axes[-1].set_yticks(range(len(present)), present, fontsize=7)
    axes[-1].set_title(f"{last}: mean r, different seeds", fontsize=9)
    fig.colorbar(im, ax=axes[-1], shrink=0.8)
    fig.suptitle("Shared geometry across rules: one joint SRM over all networks, RSMs on held-out probe images", fontsize=9)
    save(fig, out, stats)

    claims = []
    for rule in present:  # a rule without networks states nothing
        d = table[(table["layer"] == last) & (table["rule"] == rule) & (table["metric"] == "within_minus_between")]["value"]
        claims.append(check(
            f"cross_study.geometry.within_minus_between.{rule}", "geometry",
            f"{rule}, layer {last}: SRM-aligned RSM similarity within the rule (other seeds) minus between rules (other seeds) > 0",
            float(d.mean()) if len(d) else float("nan"), ">", 0.0,
            spread=float(d.std(ddof=1)) if len(d) > 1 else None, gated=False,
            kind="claim", source="learnscope", source_ref="Lu et al. 2018's SRM + RSA across rules",
        ))
    return claims
