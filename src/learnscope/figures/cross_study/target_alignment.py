"""Target alignment vs depth for BP, FA, IA and PC (cross_study; Song et al. 2024, Fig. 3e on every rule).

Reads ``results/cross_study/target_alignment/{activation}.csv`` (``analysis.rule_alignment``): one row per
(activation, warmup, depth, seed, rule) with the cosine between the output change of one learning step
and the direction to the target.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from learnscope.claims import Claim, check
from learnscope.errors import ConfigError
from learnscope.figures.common import save, seed_stats, style

COLUMNS = ["activation", "warmup", "depth", "seed", "rule", "target_alignment"]


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, s.d. (ddof 1; NaN for one seed) and n over seeds per (activation, warmup, rule, depth)."""
    return seed_stats(table, ["activation", "warmup", "rule", "depth"], "target_alignment")


def read_tables(inputs: list[str]) -> pd.DataFrame:
    tables = [pd.read_csv(p) for p in inputs]
    for p, t in zip(inputs, tables):
        if list(t.columns) != COLUMNS:
            raise ConfigError(f"{p}: expected columns {COLUMNS}; rerun `learnscope analyze rule-alignment` (cross_study_target_alignment)")
    return pd.concat(tables, ignore_index=True)


def target_alignment(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Target alignment of one step vs depth, per rule (mean ± s.d. over seeds): one panel per activation
    (columns) and warm-up length (rows).

    Claims (reported), one per rule at the deepest depth D on ``options['activation']``:
    ``ta_depth<D>`` after the longest warm-up (the atlas's number) and ``ta_depth<D>_warmup<K>`` for each
    shorter one; the statement lists every rule's mean at that (depth, warm-up) as the measured comparison.
    Rules are ordered as ``options['rules']`` (the atlas rows), then as measured."""
    table = read_tables(inputs)
    summary = summarise(table)
    acts = list(dict.fromkeys(table["activation"]))
    warmups = sorted(set(int(k) for k in table["warmup"]))
    measured = list(dict.fromkeys(table["rule"]))
    rules = [r for r in options.get("rules", []) if r in measured] + [r for r in measured if r not in options.get("rules", [])]
    colors = dict(zip(rules, plt.get_cmap("tab10").colors))
    dashes = dict(zip(rules, ["-", "--", ":", "-."] * len(rules)))   # FA and IA nearly coincide: tell them apart

    style()
    fig, axes = plt.subplots(len(warmups), len(acts), figsize=(3.2 * len(acts), 2.6 * len(warmups)), constrained_layout=True, squeeze=False, sharey=True)
    for i, k in enumerate(warmups):
        for j, act in enumerate(acts):
            ax = axes[i][j]
            part = summary[(summary.activation == act) & (summary.warmup == k)]
            for rule in rules:
                d = part[part.rule == rule]
                ax.errorbar(d["depth"], d["mean"], yerr=d["sd"].fillna(0.0), marker="o", ms=3, capsize=2, color=colors[rule], ls=dashes[rule], label=rule)
            ax.set(xlabel="depth (weight layers)", ylabel="target alignment" if j == 0 else "", title=f"{act}, {k} warm-up steps", ylim=(-0.5, 1.05))
            ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
    axes[0][0].legend(frameon=False, fontsize=6)
    save(fig, out, summary)

    act = options.get("activation", acts[0])
    if act not in acts:
        raise ConfigError(f"cross_study.target_alignment.claim_activation {act!r} is not among the measured activations {acts}")
    depth = int(table["depth"].max())
    claims = []
    for k in warmups:
        cell = summary[(summary.activation == act) & (summary.warmup == k) & (summary.depth == depth)].set_index("rule")
        listing = ", ".join(f"{r} {cell.loc[r, 'mean']:.3f}" for r in rules if r in cell.index)
        quantity = f"ta_depth{depth}" + ("" if k == warmups[-1] else f"_warmup{k}")
        for rule in rules:
            if rule not in cell.index:
                continue
            claims.append(
                check(
                    f"cross_study.target_alignment.{quantity}.{rule}",
                    "target_alignment",
                    f"{rule}: cosine between one step's output change and the target direction at depth {depth} "
                    f"({act}, width {options.get('width', '?')}, after {k} warm-up steps) is positive; all rules: {listing}",
                    float(cell.loc[rule, "mean"]),
                    ">",
                    0.0,
                    spread=None if not math.isfinite(cell.loc[rule, "sd"]) else float(cell.loc[rule, "sd"]),
                    gated=False,
                    kind="claim",
                    source="paper",
                    source_ref="Song et al. 2024, Fig. 3e (target alignment)",
                )
            )
    return claims
