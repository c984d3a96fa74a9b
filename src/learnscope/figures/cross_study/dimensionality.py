"""Dimensionality over depth and training per rule: the participation ratio of each layer of the rule zoo's
feed-forward nets at every record point (``analysis.layer_dimensionality``), and of robust_rnn's RNN over
time steps before and after training with the zoo rules that apply to it (``analysis.robust_rnn``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from learnscope.claims import Claim, check
from learnscope.errors import ConfigError
from learnscope.figures.common import save, style
from learnscope.figures.robust_rnn import at_stage, load, select


def final_and_initial(table: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Per run (rule, seed) of ``layer``: PR at initialisation (first point) and at the end (last point)."""
    d = table[table["layer"] == layer]
    first, last = d["point"].min(), d["point"].max()
    pick = lambda p, name: d[d["point"] == p].set_index(["rule", "seed"])["pr"].rename(name)
    return pd.concat([pick(first, "initial"), pick(last, "final")], axis=1).reset_index()


def rnn_pr(tables: dict[str, list[str]], eval_time: int) -> pd.DataFrame:
    """Per RNN run: rule, seed, PR at t = ``eval_time`` before (epoch 0) and after (final epoch) training."""
    rows = []
    for rule, paths in tables.items():
        if not paths:
            continue
        m, _ = load(list(paths))
        pr = select(m, "pr", t=eval_time)
        for stage in ("before", "after"):
            for seed, v in at_stage(pr, stage).set_index("seed")["value"].items():
                rows.append({"rule": rule, "seed": int(seed), "stage": stage, "pr": float(v)})
    return pd.DataFrame(rows, columns=["rule", "seed", "stage", "pr"])


def rnn_curves(tables: dict[str, list[str]]) -> pd.DataFrame:
    """Mean PR over seeds at every time step, before and after training, per rule."""
    out = []
    for rule, paths in tables.items():
        if not paths:
            continue
        m, _ = load(list(paths))
        pr = select(m, "pr")
        for stage in ("before", "after"):
            g = at_stage(pr, stage).groupby("t")["value"].mean().reset_index()
            out.append(g.assign(rule=rule, stage=stage))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["t", "value", "rule", "stage"])


def _mean_sd(v: pd.Series) -> tuple[float, float | None]:
    return (float(v.mean()) if len(v) else float("nan")), (float(v.std(ddof=1)) if len(v) > 1 else None)


def dimensionality(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """(a) final PR over depth per rule; (b) PR of the last hidden layer over training; (c) the RNN's PR over
    time steps before (dashed) and after (solid) training per applicable rule.

    Claims (reported, one per rule): the last hidden layer's final PR is below its PR at initialisation
    (the rule's own mean over seeds as the threshold); for the RNN, PR at t_eval after training is below
    PR before training."""
    rules, layers, claim_layer = list(options["rules"]), list(options["layers"]), options["claim_layer"]
    eval_time = int(options["eval_time"])
    table = pd.read_csv(inputs[0])
    missing = sorted(set(layers) - set(table["layer"]))
    if missing or claim_layer not in layers:
        raise ConfigError(f"cross_study.dimensionality: layers {missing or [claim_layer]} are not analysed (table layers: {sorted(set(table['layer']))}; claim_layer must be one of layers)")
    tables = {r: list(p) for r, p in options.get("rnn_tables", {}).items()}
    present = [r for r in rules if r in set(table["rule"])]
    ends = final_and_initial(table, claim_layer)
    last_point = table["point"].max()
    depth = table[(table["point"] == last_point) & table["layer"].isin(layers)].groupby(["rule", "layer"])["pr"].agg(["mean", "std"]).reset_index()
    course = table[table["layer"] == claim_layer].groupby(["rule", "step"])["pr"].agg(["mean", "std"]).reset_index()
    rnn = rnn_pr(tables, eval_time)
    curves = rnn_curves(tables)

    style()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), constrained_layout=True)
    colors = dict(zip(rules, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 2))
    for rule in present:
        d = depth[depth["rule"] == rule].set_index("layer").reindex(layers)
        axes[0].errorbar(range(len(layers)), d["mean"], yerr=d["std"], marker="o", ms=3, capsize=2, color=colors[rule], label=rule)
        c = course[course["rule"] == rule]
        axes[1].plot(c["step"], c["mean"], color=colors[rule], label=rule)
        axes[1].fill_between(c["step"], c["mean"] - c["std"].fillna(0), c["mean"] + c["std"].fillna(0), color=colors[rule], alpha=0.15, lw=0)
    axes[0].set_xticks(range(len(layers)), layers)
    axes[0].set(xlabel="layer", ylabel="participation ratio", title="after training, over depth")
    axes[1].set(xlabel="training step", ylabel="participation ratio", title=f"{claim_layer} over training")
    axes[0].legend(fontsize=6)
    for rule in tables:
        for stage, ls in (("before", "--"), ("after", "-")):
            c = curves[(curves["rule"] == rule) & (curves["stage"] == stage)]
            axes[2].plot(c["t"], c["value"], ls=ls, color=colors.get(rule, "k"), label=f"{rule} ({stage})" if stage == "after" else None)
    axes[2].axvline(eval_time, color="0.7", lw=0.6)
    axes[2].set(xlabel="RNN time step t", ylabel="participation ratio", title="RNN (robust_rnn task): before -- / after —")
    if tables:
        axes[2].legend(fontsize=6)
    save(fig, out, pd.concat([
        depth.assign(panel="a_depth", step=np.nan),
        course.assign(panel="b_training", layer=claim_layer),
        curves.rename(columns={"value": "mean"}).assign(panel="c_rnn"),
    ], ignore_index=True))

    claims = []
    for rule in present:  # a rule without networks states nothing
        e = ends[ends["rule"] == rule]
        value, spread = _mean_sd(e["final"])
        claims.append(check(
            f"cross_study.dimensionality.pr_last_hidden.{rule}", "dimensionality",
            f"{rule}: participation ratio of {claim_layer} (last hidden layer) after training < at initialisation (its mean over seeds, the threshold)",
            value, "<", float(e["initial"].mean()) if len(e) else float("nan"), spread=spread, gated=False,
            kind="claim", source="paper", source_ref="Farrell et al. 2022: learning compresses the representation",
        ))
    for rule in tables:
        r = rnn[rnn["rule"] == rule]
        value, spread = _mean_sd(r[r["stage"] == "after"]["pr"])
        before = r[r["stage"] == "before"]["pr"]
        claims.append(check(
            f"cross_study.dimensionality.rnn_pr_after.{rule}", "dimensionality",
            f"{rule} on the RNN ({options.get('rnn_task', 'robust_rnn task')}): PR at t = {eval_time} after training < before training (the threshold)",
            value, "<", float(before.mean()) if len(before) else float("nan"), spread=spread, gated=False,
            kind="claim", source="paper", source_ref="Farrell et al. 2022: learning compresses the representation",
        ))
    return claims
