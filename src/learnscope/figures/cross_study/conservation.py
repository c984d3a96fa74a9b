"""Conservation laws under every rule: how far each rule's translation, scale and rescale quantities depart
from the law that SGD obeys (neural mechanics, Kunin et al., ICLR 2021), over training.

Reads the table of ``learnscope.analysis.conservation`` (the departure's definition is there): per run,
family and record point the median over units of D_u(t) = |Q_u(t) - R_u(t)| / max_s |Q_u(s)|, R the exact
theory under sgd / momentum and, under every other rule, the same law driven by that rule's own steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from learnscope.analysis.conservation import FAMILIES, final_departures
from learnscope.claims import Claim, check
from learnscope.errors import ConfigError
from learnscope.figures.common import save, seed_stats, style

FLOOR = 1e-9  # departures below this (exact zeros) are drawn at the floor of the log axis


def seed_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per rule and family: mean and s.d. (ddof=1; NaN with one seed) over runs of the final median relative
    error (``departure_so_far`` at the last record point), and the number of runs."""
    return seed_stats(final_departures(table), ["family", "rule"], "departure_so_far")


def conservation(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Per family (translation, scale, rescale) the median departure over units vs training step, mean over
    seeds, one line per rule; last panel: the final median relative error per rule and family (mean ± s.d.
    over seeds).

    Claims (reported, one per family and rule that has runs): the median relative error of the family's law
    under the rule, mean over seeds, compared with ``threshold`` (below: the rule keeps the law to that
    precision)."""
    table = pd.read_csv(inputs[0])
    rules = [r for r in options["rules"] if r in set(table["rule"])]
    families = [f for f in FAMILIES if f in set(table["family"])]
    if not rules or not families:
        raise ConfigError(f"conservation figure: {inputs[0]} has no run of the rules {options['rules']}")
    thr = float(options["threshold"])
    over_time = table.groupby(["family", "rule", "step"], sort=True)["departure"].agg(["mean", "min", "max"]).reset_index()
    summary = seed_summary(table)

    style()
    colors = dict(zip(options["rules"], plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, len(families) + 1, figsize=(3.0 * (len(families) + 1), 2.9), constrained_layout=True)
    for i, (ax, family) in enumerate(zip(axes, families)):
        for rule in rules:
            # from the first step on: at initialisation every departure is 0 by construction
            d = over_time[(over_time["family"] == family) & (over_time["rule"] == rule) & (over_time["step"] > 0)]
            if d.empty:
                continue
            ax.plot(d["step"], d["mean"].clip(lower=FLOOR), color=colors[rule], label=rule)
            ax.fill_between(d["step"], d["min"].clip(lower=FLOOR), d["max"].clip(lower=FLOOR), color=colors[rule], alpha=0.2, lw=0)
        ax.axhline(thr, color="0.5", lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="step", ylabel="median departure |Q - Q_ref| / max|Q|" if i == 0 else "", title=family)
    ax = axes[-1]
    width = 0.8 / len(rules)
    for i, rule in enumerate(rules):
        s = summary[summary["rule"] == rule].set_index("family").reindex(families)
        x = np.arange(len(families)) + (i - (len(rules) - 1) / 2) * width
        ax.errorbar(x, s["mean"].clip(lower=FLOOR), yerr=s["sd"].fillna(0.0), fmt="o", ms=3, color=colors[rule], label=rule)
    ax.axhline(thr, color="0.5", lw=0.8, ls=":")
    ax.set(yscale="log", ylabel="median relative error (final)", title="per rule (mean ± s.d. over seeds)")
    ax.set_xticks(range(len(families)), families)
    ax.legend(frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Conservation laws under every rule: departure from the SGD law (lines: mean, band: range over seeds)", fontsize=9)
    save(fig, out, summary)

    claims = []
    for row in summary.itertuples():
        if row.rule not in rules:
            continue
        reference = "the exact SGD theory" if row.rule in ("sgd", "momentum") else "the SGD law driven by its own steps"
        claims.append(
            check(
                f"cross_study.conservation.{row.family}.{row.rule}",
                "conservation",
                f"{row.family} law under {row.rule}: median over units of max_t |Q - Q_ref| / max_t |Q| "
                f"(Q_ref: {reference}), mean over {row.n} seeds, is below {thr:g}",
                float(row.mean),
                "<",
                thr,
                spread=None if not np.isfinite(row.sd) else float(row.sd),
                gated=False,
                kind="claim",
                source="theory",
                source_ref="Kunin et al. 2021's SGD laws applied to every rule; threshold: learnscope",
            )
        )
    return claims
