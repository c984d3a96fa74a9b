"""Identifying learning rules with predictive coding as a further class (learnscope's own; issue 10).

identify_rules' classifier (Nayebi et al., NeurIPS 2020: a Random Forest on the trajectories of the
admissible observable statistics of one layer, with its grid and layer-level category-balanced splits,
``analysis.rule_classifiers``) on identify_rules' four rules plus predictive coding trained on the same
grid (the architectures every rule was trained on), once on all admissible statistics and once per
observable class (weights, activations, activity change). Per split the per-rule recall is the confusion
matrix's TPR (``rule_classifiers.rates``); the figure states the mean over splits and its s.d. over splits.
Control: the same RF on all statistics with whole initialisations held out (identify_rules' network-level
split), beside the layer-level accuracy; a reported claim.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from learnscope.analysis.rule_classifiers import FEATURE_SETS, rates
from learnscope.claims import Claim, check
from learnscope.errors import ConfigError
from learnscope.figures.common import save, style

CLASS_NAMES = {"all": "all statistics", "weights": "weights", "activations": "activations", "activity_change": "activity change"}


def split_confusions(table: pd.DataFrame, rules: list[str]) -> dict[str, np.ndarray]:
    """Per feature set the (splits, K, K) confusion counts (rows = true rule) of the classifier table
    (``conf_<true>_<pred>`` columns, ``rule_classifiers.to_table``)."""
    cols = [f"conf_{a}_{b}" for a, b in itertools.product(rules, repeat=2)]
    missing = [c for c in cols if c not in table]
    if missing:
        raise ConfigError(f"identify_pc: the classifier table lacks {missing[:3]}; its rules differ from {rules} (rerun `snakemake results/cross_study/identify_pc.csv`)")
    k = len(rules)
    return {fs: g.sort_values("split")[cols].to_numpy(float).reshape(-1, k, k) for fs, g in table.groupby("feature_set", sort=False)}


def recall_table(table: pd.DataFrame, rules: list[str]) -> pd.DataFrame:
    """One row per (feature set, rule, split): recall (TPR) of that rule, and the split's accuracy."""
    rows = []
    for fs, conf in split_confusions(table, rules).items():
        for i, c in enumerate(conf):
            tpr, _ = rates(c)
            acc = float(np.trace(c) / c.sum())
            rows += [{"feature_set": fs, "rule": r, "split": i, "recall": float(t), "accuracy": acc} for r, t in zip(rules, tpr)]
    return pd.DataFrame(rows)


def identify_pc(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Panels: accuracy per observable class (mean ± s.d. over splits, chance dashed); the confusion matrix
    of all statistics (summed over splits, rows normalised); per-rule recall per observable class.

    Claims (reported): per rule, its recall on all statistics exceeds chance 1/K; per observable class, the
    overall accuracy exceeds chance."""
    table = pd.read_csv(inputs[0])
    network = table[table["split_kind"] == "network"]
    table = table[table["split_kind"] == "layer"]
    labels: dict[str, str] = dict(options["labels"])  # classifier label -> rule_zoo label
    zoo = list(options["rules"])
    unknown = sorted(set(labels.values()) - set(zoo))
    if unknown:
        raise ConfigError(f"identify_pc: rule labels {unknown} are not rule_zoo labels {zoo} (check identify_rules.rules' names and cross_study.identify_pc.label)")
    rules = sorted(labels, key=lambda r: zoo.index(labels[r]))  # the atlas' row order
    k = len(rules)
    recall = recall_table(table, rules)
    recall["label"] = recall["rule"].map(labels)
    feature_sets = [fs for fs in FEATURE_SETS if fs in set(recall["feature_set"])]
    conf_all = split_confusions(table, rules)["all"].sum(0)
    conf_norm = conf_all / conf_all.sum(1, keepdims=True)

    style()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    acc = recall.drop_duplicates(["feature_set", "split"]).groupby("feature_set")["accuracy"].agg(["mean", "std"]).reindex(feature_sets)
    ax = axes[0]
    ax.bar(range(len(feature_sets)), acc["mean"], yerr=acc["std"], color="0.6", capsize=3)
    if len(network):
        net_acc = recall_table(network, rules).drop_duplicates("split")["accuracy"]
        ax.errorbar([0.3], [net_acc.mean()], yerr=[net_acc.std()], fmt="k*", ms=8, label="all, initialisations held out")
    ax.axhline(1.0 / k, ls="--", color="k", lw=0.8, label=f"chance (1/{k})")
    ax.set_xticks(range(len(feature_sets)), [CLASS_NAMES[f] for f in feature_sets], rotation=20)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("test accuracy (RF)")
    ax.set_title("A  accuracy per observable class", loc="left", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")

    ax = axes[1]
    ax.imshow(conf_norm, cmap="Blues", vmin=0, vmax=1)
    for i, j in itertools.product(range(k), repeat=2):
        ax.text(j, i, f"{conf_norm[i, j]:.2f}", ha="center", va="center", fontsize=7, color="white" if conf_norm[i, j] > 0.6 else "black")
    names = [labels[r] for r in rules]
    ax.set_xticks(range(k), names, rotation=35, ha="right", fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_xlabel("predicted rule")
    ax.set_ylabel("true rule")
    ax.set_title("B  confusion, all statistics (rows sum to 1)", loc="left", fontsize=9)

    ax = axes[2]
    mean_recall = recall.groupby(["rule", "feature_set"])["recall"].mean().unstack().reindex(index=rules, columns=feature_sets)
    ax.imshow(mean_recall.to_numpy(float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, r), (j, fs) in itertools.product(enumerate(rules), enumerate(feature_sets)):
        ax.text(j, i, f"{mean_recall.loc[r, fs]:.2f}", ha="center", va="center", fontsize=7, color="white" if mean_recall.loc[r, fs] < 0.6 else "black")
    ax.set_xticks(range(len(feature_sets)), [CLASS_NAMES[f] for f in feature_sets], rotation=20, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_title("C  recall per rule (mean over splits)", loc="left", fontsize=9)
    fig.suptitle(f"Identifying {k} learning rules incl. predictive coding from layer observables (RF, {recall['split'].nunique()} splits)", fontsize=9)

    conf_rows = pd.DataFrame(
        [{"kind": "confusion_all", "feature_set": "all", "rule": labels[a], "predicted": labels[b], "value": conf_norm[i, j]} for (i, a), (j, b) in itertools.product(enumerate(rules), repeat=2)]
    )
    data = pd.concat([recall.assign(kind="recall", rule=recall["label"]).drop(columns="label"), conf_rows], ignore_index=True)
    save(fig, out, data)

    def above_chance(name: str, text: str, value: float, spread: float | None, source: str = "paper",
                     ref: str = "Nayebi et al. 2020: observable statistics identify the learning rule") -> Claim:
        """A reported claim: ``value`` (mean over splits; spread: s.d. over splits) exceeds chance 1/k."""
        return check(f"cross_study.identify_pc.{name}", "identify_pc", f"{text}, exceeds chance 1/{k}", value, ">", 1.0 / k,
                     spread=spread, gated=False, kind="claim", source=source, source_ref=ref)

    claims = []
    for r in rules:
        v = recall[(recall["feature_set"] == "all") & (recall["rule"] == r)]["recall"]
        claims.append(above_chance(
            f"recall.{labels[r]}",
            f"a Random Forest on all admissible observable statistics of a layer identifies {labels[r]} among {k} rules "
            f"(incl. predictive coding): recall, mean over splits (spread: s.d. over splits)",
            float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else None))
    for fs in feature_sets:
        claims.append(above_chance(
            f"accuracy_{fs}",
            f"a Random Forest on the {CLASS_NAMES[fs]} observables of a layer tells {k} rules (incl. predictive coding) apart: "
            f"accuracy, mean over splits (spread: s.d. over splits)",
            float(acc.loc[fs, "mean"]), float(acc.loc[fs, "std"]) if np.isfinite(acc.loc[fs, "std"]) else None))
    if len(network):
        claims.append(above_chance(
            "network_split_accuracy_all",
            f"with whole initialisations held out (no layer of a test network, nor any layer starting from the same weights, "
            f"seen in training) the Random Forest on all statistics still tells {k} rules apart: accuracy, mean over splits "
            f"(spread: s.d. over splits; layer-level {acc.loc['all', 'mean']:.3f})",
            float(net_acc.mean()), float(net_acc.std(ddof=1)) if len(net_acc) > 1 else None,
            source="learnscope", ref="issue 20: the network-level control Nayebi et al. lack"))
    return claims
