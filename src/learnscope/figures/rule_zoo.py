"""The rule zoo on one task: how every learning rule in learnscope trains the same network.

Not one of the five papers' figures but the baseline each of them assumes: every rule in the zoo must
actually learn the default task before its observables, geometry or conservation laws mean anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from learnscope.claims import Claim, check
from learnscope.figures.common import save, style

METRICS = [("train_loss", "training loss"), ("test_acc", "test accuracy")]


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and count over seeds of each metric per rule and step."""
    ok = table[table["status"] == "complete"]
    long = ok.melt(id_vars=["rule", "step"], value_vars=[m for m, _ in METRICS], var_name="metric")
    g = long.groupby(["rule", "metric", "step"], sort=True)["value"]
    return g.agg(mean="mean", sd=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, n="count").reset_index()


def final_accuracy(table: pd.DataFrame) -> dict[str, tuple[float, float | None, int]]:
    """Per rule: (mean final test accuracy over its completed seeds, NaN when none completed; their s.d.;
    the number of diverged seeds)."""
    last = table[table["step"] == table.groupby("run_id")["step"].transform("max")]
    out = {}
    for rule, d in last.groupby("rule", sort=True):
        complete = d[d["status"] == "complete"]["test_acc"]
        n_div = int((d["status"] == "diverged").sum())
        mean = float(complete.mean()) if len(complete) else float("nan")
        out[rule] = (mean, float(np.std(complete, ddof=1)) if len(complete) > 1 else None, n_div)
    return out


def learning_curves(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Training loss and test accuracy vs. step, mean ± s.d. over seeds, one line per rule; dashed: the
    same rule trained on shuffled training labels (the negative control, ``inputs[1]``).

    Claims: each rule reaches ``min_test_accuracy`` on average at the end of training with no diverged
    seed, while the same rule on shuffled training labels does not (gated; the threshold is learnscope's,
    not a paper's: the baseline every study assumes); Adam's mean training loss over the run is below
    plain SGD's (reported: the usual finding at matched, tuned learning rates, not a published gate).
    """
    table, control = pd.read_csv(inputs[0]), pd.read_csv(inputs[1])
    summary, control_summary = _summary(table), _summary(control)
    style()
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.3 * len(METRICS), 2.8), constrained_layout=True)
    for ax, (metric, label) in zip(axes, METRICS):
        for rule, d in summary[summary["metric"] == metric].groupby("rule", sort=True):
            line = ax.plot(d["step"], d["mean"], label=f"{rule} (n={int(d['n'].max())})")[0]
            ax.fill_between(d["step"], d["mean"] - d["sd"], d["mean"] + d["sd"], color=line.get_color(), alpha=0.25, lw=0)
            c = control_summary[(control_summary["metric"] == metric) & (control_summary["rule"] == rule)]
            ax.plot(c["step"], c["mean"], color=line.get_color(), ls="--", lw=0.8)
        ax.set(xlabel="step", ylabel=label)
        if metric == "train_loss":
            ax.set_yscale("log")
    axes[-1].plot([], [], color="0.4", ls="--", lw=0.8, label=f"shuffled labels (n={control['seed'].nunique()})")
    axes[-1].legend(frameon=False, fontsize=7)
    dataset, model = table["dataset"].iloc[0], table["model"].iloc[0]
    fig.suptitle(f"Rule zoo: {model} on {dataset} (mean ± s.d. over seeds; dashed: trained on shuffled labels)", fontsize=9)
    save(fig, out, pd.concat([summary.assign(labels="true"), control_summary.assign(labels="shuffled")], ignore_index=True))

    thr = float(options["min_test_accuracy"])
    chance = 1.0 / float(options.get("n_classes", 10))
    claims = []
    shuffled = final_accuracy(control)
    n_control = control["seed"].nunique()
    control_data = control["dataset"].iloc[0]
    for rule, (value, spread, n_div) in final_accuracy(table).items():
        ctl_value, _, ctl_div = shuffled.get(rule, (float("nan"), None, 0))
        claims.append(
            check(
                f"rule_zoo.learning_curves.{rule}_learns",
                "learning_curves",
                f"{rule} trains a {model} on {dataset} to ≥ {thr:.0%} test accuracy (chance {chance:.0%}), no seed diverging"
                + (f" ({n_div} diverged)" if n_div else ""),
                value if n_div == 0 else float("nan"),
                ">=",
                thr,
                spread=spread,
                kind="claim",
                source="learnscope",
                source_ref="params rule_zoo.claims.min_test_accuracy: the baseline every study assumes",
                control=(f"the same rule on {control_data} (training labels shuffled), mean of {n_control} seed(s)"
                         + (f", {ctl_div} diverged" if ctl_div else ""), ctl_value),
            )
        )
    names = dict(zip(table["rule_name"], table["rule"]))
    if "adam" in names and "sgd" in names:
        per_seed = table[table["status"] == "complete"].groupby(["rule", "seed"])["train_loss"].mean().unstack("rule")
        both = per_seed.reindex(columns=[names["adam"], names["sgd"]]).dropna()
        ratios = (both[names["adam"]] / both[names["sgd"]]).to_numpy()
        claims.append(
            check(
                "rule_zoo.learning_curves.adam_faster_than_sgd",
                "learning_curves",
                "Adam lowers the training loss faster than plain SGD (ratio of mean training loss over the run, Adam/SGD, < 1)",
                float(ratios.mean()) if len(ratios) else float("nan"),
                "<",
                1.0,
                spread=float(np.std(ratios, ddof=1)) if len(ratios) > 1 else None,
                gated=False,
                kind="claim",
                source="learnscope",
                source_ref="the usual finding at matched, tuned learning rates (cf. Kingma & Ba 2015, Fig. 2)",
            )
        )
    return claims


FIGURES = {"learning_curves": learning_curves}
