"""Robust RNN representations (Farrell, Recanatesi, Moore, Lajoie, Shea-Brown, Nat. Mach. Intell. 2022):
gradient training compresses a tanh RNN's representation at the evaluation time (participation ratio
to about the number of classes) while keeping it generalisable to held-out clusters; for low-d inputs the
strongly chaotic net (gamma = 250) first expands, then compresses, and learns fastest.

Figures (panels as in the paper, gamma = 20 teal, 250 red; solid = trained, dashed = before training, i.e.
epoch 0 of the same runs): 2 high-d input, 3 low-d input, 4 two-neuron input (b: Lyapunov spectra at
epochs 0, 1, 5, 10, final; c: PCA snapshots over time with the read-out directions as crosses; d: accuracy
over training (and the loss); e: participation ratio over time; f: logistic-regression accuracy on the training clusters;
g: on held-out clusters), 5 the MSE loss (a: high-d, b: low-d PR over time, with the cross-entropy runs
for comparison), and a supplement: the low-d PR over time before / after training across gamma (S18-style).
Curves are means over seeds with 95% bootstrap intervals over seeds.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from learnscope.claims import Claim, check
from learnscope.figures.common import save, style

STUDY = "robust_rnn"
COLORS = {20.0: "#1b9e9e", 250.0: "#d62728"}


def load(inputs: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics, snapshots) of the per-run tables among ``inputs``; adds each run's final epoch."""
    snap = [p for p in inputs if p.endswith(".snapshots.csv")]
    metrics = pd.concat([pd.read_csv(p) for p in inputs if p not in snap], ignore_index=True)
    final = metrics[metrics["quantity"] == "acc"].groupby("run_id")["epoch"].max().rename("final")
    metrics = metrics.join(final, on="run_id")
    return metrics, pd.concat([pd.read_csv(p) for p in snap], ignore_index=True) if snap else pd.DataFrame()


def mean_ci(values, samples: int, seed: int) -> tuple[float, float, float]:
    """Mean and 95% bootstrap interval (percentiles of resampled means) of per-seed values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(samples, len(v)))].mean(1)
    return float(v.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def select(m: pd.DataFrame, quantity: str, **where) -> pd.DataFrame:
    d = m[m["quantity"] == quantity]
    for k, v in where.items():
        d = d[d[k] == v]
    return d


def at_stage(d: pd.DataFrame, stage: str) -> pd.DataFrame:
    """Rows before training (epoch 0) or after (each run's final epoch)."""
    return d[d["epoch"] == 0] if stage == "before" else d[d["epoch"] == d["final"]]


def summary(d: pd.DataFrame, by: list[str], boot: dict) -> pd.DataFrame:
    """Mean and bootstrap CI over seeds of ``value`` per group ``by``."""
    rows = []
    for key, g in d.groupby(by, sort=True):
        mean, lo, hi = mean_ci(g["value"], boot["samples"], boot["seed"])
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "mean": mean, "lo": lo, "hi": hi, "n": len(g)})
    return pd.DataFrame(rows)


def per_seed(d: pd.DataFrame) -> pd.Series:
    return d.set_index("seed")["value"]


def _curve(ax, s: pd.DataFrame, x: str, color, ls="-", label=None) -> None:
    ax.plot(s[x], s["mean"], ls, color=color, label=label, lw=1.5)
    ax.fill_between(s[x], s["lo"], s["hi"], color=color, alpha=0.2, lw=0)


def color(g: float):
    return COLORS.get(float(g), plt.cm.viridis((float(g) - 20) / 260))


def over_time_panel(ax, m, quantity, boot, ylabel, tables, panel) -> None:
    """A quantity over t, before (dashed) and after (solid) training, per gamma."""
    for stage, ls in (("before", "--"), ("after", "-")):
        s = summary(at_stage(select(m, quantity), stage), ["gamma", "t"], boot)
        for g, sg in s.groupby("gamma"):
            _curve(ax, sg, "t", color(g), ls, f"γ={g:g}, {stage}")
        tables.append(s.assign(panel=panel, quantity=quantity, stage=stage))
    ax.set(xlabel="time step t", ylabel=ylabel)


def panels(fig_label: str, m: pd.DataFrame, snaps: pd.DataFrame, options: dict, out: str) -> pd.DataFrame:
    """Panels b-g of figures 2-4 in one figure; returns the plotted summary table."""
    boot, times = options["figures"]["bootstrap"], sorted(snaps["t"].unique())
    gammas = sorted(m["gamma"].unique())
    style()
    fig = plt.figure(figsize=(2.0 * (len(times) + 1.5), 4.0 * len(gammas) / 2 + 3.6), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[len(gammas), 1.2])
    axes_top = top.subplots(len(gammas), len(times) + 1, squeeze=False)
    tables = []
    lyap = select(m, "lyapunov")
    for i, g in enumerate(gammas):
        ax = axes_top[i, 0]
        s = summary(lyap[lyap["gamma"] == g], ["epoch", "index"], boot)
        for j, (e, se) in enumerate(s.groupby("epoch")):
            ax.plot(se["index"], se["mean"], "o-", ms=2, color=plt.cm.viridis(j / max(1, s["epoch"].nunique() - 1)), label=f"epoch {e}")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set(title=f"{fig_label}b  γ={g:g}", xlabel="exponent index", ylabel="λ (bits/step)")
        ax.legend(fontsize=5, frameon=False)
        tables.append(s.assign(panel="b", quantity="lyapunov", gamma=g))
        seed0 = snaps[(snaps["gamma"] == g) & (snaps["seed"] == snaps["seed"].min())]
        for k, t in enumerate(times):
            ax = axes_top[i, k + 1]
            pts, ro = seed0[(seed0["t"] == t) & (seed0["sample"] >= 0)], seed0[(seed0["t"] == t) & (seed0["sample"] < 0)]
            ax.scatter(pts["pc1"], pts["pc2"], c=np.where(pts["label"] == 0, "tab:blue", "tab:orange"), s=3, alpha=0.6, lw=0)
            ax.scatter(ro["pc1"], ro["pc2"], marker="x", c=np.where(ro["label"] == 0, "navy", "darkorange"), s=30)
            ax.set(title=f"{fig_label}c  t={t}", xticks=[], yticks=[])
    axes = bottom.subplots(1, 4)
    acc = summary(select(m, "acc"), ["gamma", "epoch"], boot)
    for g, sg in acc.groupby("gamma"):
        _curve(axes[0], sg, "epoch", color(g), "-", f"γ={g:g}")
    axes[0].set(title=f"{fig_label}d  accuracy (solid), loss (dotted)", xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.02))
    axes[0].legend(fontsize=6, frameon=False)
    tables.append(acc.assign(panel="d", quantity="acc"))
    loss = summary(select(m, "loss"), ["gamma", "epoch"], boot)
    twin = axes[0].twinx()
    for g, sg in loss.groupby("gamma"):
        twin.plot(sg["epoch"], sg["mean"], ":", color=color(g), lw=1)
    twin.set(ylabel="loss", yscale="log")
    tables.append(loss.assign(panel="d", quantity="loss"))
    over_time_panel(axes[1], m, "pr", boot, "participation ratio", tables, "e")
    axes[1].set(title=f"{fig_label}e  dimensionality", yscale="log")
    over_time_panel(axes[2], m, "lr_train_paper", boot, "LR training accuracy", tables, "f")
    axes[2].set(title=f"{fig_label}f  linear separability")
    over_time_panel(axes[3], m, "lr_test_paper", boot, "LR testing accuracy (held-out clusters)", tables, "g")
    test_random = summary(at_stage(select(m, "lr_test_random"), "after"), ["gamma", "t"], boot)
    for g, sg in test_random.groupby("gamma"):
        axes[3].plot(sg["t"], sg["mean"], ":", color=color(g), lw=1, label=f"γ={g:g}, after, mean of random splits")
    tables.append(test_random.assign(panel="g", quantity="lr_test_random", stage="after"))
    axes[3].set(title=f"{fig_label}g  generalisation")
    axes[1].legend(fontsize=5, frameon=False)
    axes[3].legend(fontsize=5, frameon=False)
    save(fig, out, pd.concat(tables, ignore_index=True))
    return pd.concat(tables, ignore_index=True)


def value_at(m: pd.DataFrame, quantity: str, gamma: float, stage: str, t: int | None = None, epoch: int | None = None) -> pd.Series:
    """Per-seed values of a quantity for one gamma at a stage (and t / epoch)."""
    d = select(m, quantity, gamma=float(gamma))
    d = at_stage(d, stage) if epoch is None else d[d["epoch"] == epoch]
    if t is not None:
        d = d[d["t"] == t]
    return per_seed(d)


def lyap1(m: pd.DataFrame, gamma: float, stage: str) -> pd.Series:
    d = select(m, "lyapunov", gamma=float(gamma), index=1)
    return per_seed(d[d["epoch"] == 0] if stage == "before" else d[d["epoch"] == d["final"]])


def _claim(id_, fig, text, values, op, threshold, boot, reduce="mean", gated=True) -> Claim:
    """A claim on the mean over seeds of ``values``; the text carries its 95% bootstrap CI."""
    mean, lo, hi = mean_ci(values, boot["samples"], boot["seed"])
    return check(f"{STUDY}.{fig}.{id_}", fig, f"{text} [mean over {len(values)} seeds, 95% CI {lo:.3g}–{hi:.3g}]", mean, op, threshold,
                 spread=hi - lo, gated=gated)


def fig2_high_d(inputs: list[str], out: str, options: dict) -> list[Claim]:
    m, snaps = load(inputs)
    m = m[(m["dim"] > 2) & (m["loss"] == "cross_entropy")]
    panels("2", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, boot, te = options["claims"], options["figures"]["bootstrap"], options["figures"]["eval_time"]
    g_edge, g_chaos = sorted(m["gamma"].unique())[:2][0], sorted(m["gamma"].unique())[-1]
    claims = []
    for g in (g_edge, g_chaos):
        claims += [
            _claim(f"pr_after_g{g:g}", "fig2_high_d", f"high-d, γ={g:g}: trained PR(t={te}) < {c['compressed_pr']:g} (compressed)",
                   value_at(m, "pr", g, "after", t=te), "<", c["compressed_pr"], boot),
            _claim(f"pr_before_g{g:g}", "fig2_high_d", f"high-d, γ={g:g}: untrained PR(t={te}) > {c['expanded_pr_before']:g}",
                   value_at(m, "pr", g, "before", t=te), ">", c["expanded_pr_before"], boot),
            _claim(f"final_acc_g{g:g}", "fig2_high_d", f"high-d, γ={g:g}: final accuracy ≥ {c['min_final_acc']:g}",
                   value_at(m, "acc", g, "after"), ">=", c["min_final_acc"], boot),
            _claim(f"holdout_g{g:g}", "fig2_high_d", f"high-d, γ={g:g}: trained held-out-cluster LR accuracy at t={te} (mean of random 80/20 splits) ≥ {c['min_holdout_acc']:g}",
                   value_at(m, "lr_test_random", g, "after", t=te), ">=", c["min_holdout_acc"], boot),
            _claim(f"holdout_paper_split_g{g:g}", "fig2_high_d", f"high-d, γ={g:g}: the same with the paper's fixed split (reported)",
                   value_at(m, "lr_test_paper", g, "after", t=te), ">=", c["min_holdout_acc"], boot, gated=False),
        ]
    claims += [
        _claim("lyap_edge_initial", "fig2_high_d", f"high-d, γ={g_edge:g}: |λ1| before training < {c['lyap_edge_initial']:g} bits/step (edge of chaos)",
               lyap1(m, g_edge, "before").abs(), "<", c["lyap_edge_initial"], boot),
        _claim("lyap_edge_final", "fig2_high_d", f"high-d, γ={g_edge:g}: λ1 after training < {c['lyap_edge_final']:g} bits/step (contracting)",
               lyap1(m, g_edge, "after"), "<", c["lyap_edge_final"], boot),
        _claim("lyap_chaotic_final", "fig2_high_d", f"high-d, γ={g_chaos:g}: λ1 after training > {c['lyap_chaotic_final']:g} bits/step (stays chaotic)",
               lyap1(m, g_chaos, "after"), ">", c["lyap_chaotic_final"], boot),
    ]
    return claims


def _peak_ratio(m: pd.DataFrame, g: float, te: int) -> pd.Series:
    d = at_stage(select(m, "pr", gamma=float(g)), "after")
    d = d[(d["t"] >= 1) & (d["t"] <= te)]
    peak = d.groupby("seed")["value"].max()
    return peak / d[d["t"] == te].set_index("seed")["value"]


def _learning_speed(m: pd.DataFrame, g: float, window: list[int]) -> pd.Series:
    d = select(m, "acc", gamma=float(g))
    return d[(d["epoch"] >= window[0]) & (d["epoch"] <= window[1])].groupby("seed")["value"].mean()


def fig3_low_d(inputs: list[str], out: str, options: dict) -> list[Claim]:
    m, snaps = load(inputs)
    m = m[(m["dim"] == 2) & (m["input"] == "orthogonal") & (m["loss"] == "cross_entropy")]
    panels("3", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, boot, te = options["claims"], options["figures"]["bootstrap"], options["figures"]["eval_time"]
    window = options["figures"]["learn_epochs"]
    g_edge, g_chaos = sorted(m["gamma"].unique())[0], sorted(m["gamma"].unique())[-1]
    expansion = value_at(m, "pr", g_chaos, "before", t=te) / value_at(m, "pr", g_chaos, "before", t=1)
    speed = _learning_speed(m, g_chaos, window) - _learning_speed(m, g_edge, window)
    return [
        _claim("expansion_before", "fig3_low_d", f"low-d, γ={g_chaos:g}, before training: PR(t={te}) / PR(t=1) > {c['lowd_expansion']:g} (chaos expands)",
               expansion, ">", c["lowd_expansion"], boot),
        _claim("edge_before", "fig3_low_d", f"low-d, γ={g_edge:g}, before training: PR(t={te}) < {c['lowd_edge_pr']:g}",
               value_at(m, "pr", g_edge, "before", t=te), "<", c["lowd_edge_pr"], boot),
        _claim("expand_then_compress", "fig3_low_d", f"low-d, γ={g_chaos:g}, trained: max over 1 ≤ t ≤ {te} of PR / PR(t={te}) ≥ {c['lowd_peak_ratio']:g}",
               _peak_ratio(m, g_chaos, te), ">=", c["lowd_peak_ratio"], boot),
        _claim("learns_faster", "fig3_low_d", f"low-d: mean accuracy over epochs {window[0]}–{window[1]}, γ={g_chaos:g} minus γ={g_edge:g}, ≥ {c['lowd_speed_gap']:g}",
               speed, ">=", c["lowd_speed_gap"], boot),
        _claim("lyap_chaotic_final", "fig3_low_d", f"low-d, γ={g_chaos:g}: λ1 after training > 0 (stays chaotic)", lyap1(m, g_chaos, "after"), ">", 0.0, boot),
        _claim("lyap_edge_final", "fig3_low_d", f"low-d, γ={g_edge:g}: λ1 after training < 0", lyap1(m, g_edge, "after"), "<", 0.0, boot),
        _claim("holdout_chaotic", "fig3_low_d", f"low-d, γ={g_chaos:g}: trained held-out-cluster LR accuracy at t={te} (random splits) ≥ {c['min_holdout_acc']:g} (reported)",
               value_at(m, "lr_test_random", g_chaos, "after", t=te), ">=", c["min_holdout_acc"], boot, gated=False),
    ]


def fig4_two_neuron(inputs: list[str], out: str, options: dict) -> list[Claim]:
    m, snaps = load(inputs)
    m = m[m["input"] == "identity"]
    panels("4", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, boot, te = options["claims"], options["figures"]["bootstrap"], options["figures"]["eval_time"]
    gammas = sorted(m["gamma"].unique())
    claims = [
        _claim(f"final_acc_g{g:g}", "fig4_two_neuron", f"two-neuron input, γ={g:g}: final accuracy > {c['two_neuron_min_acc']:g} (reported)",
               value_at(m, "acc", g, "after"), ">", c["two_neuron_min_acc"], boot, gated=False)
        for g in gammas
    ]
    g = gammas[-1]
    claims.append(_claim("expansion_after", "fig4_two_neuron", f"two-neuron input, γ={g:g}, trained: PR(t={te}) / PR(t=1) > {c['lowd_expansion']:g} (reported)",
                         value_at(m, "pr", g, "after", t=te) / value_at(m, "pr", g, "after", t=1), ">", c["lowd_expansion"], boot, gated=False))
    return claims


def fig5_mse(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """5a (high-d) and 5b (low-d): PR over time with the MSE loss; thin lines: the cross-entropy runs, trained."""
    m, _ = load(inputs)
    m = m[m["input"] == "orthogonal"]
    c, boot, te = options["claims"], options["figures"]["bootstrap"], options["figures"]["eval_time"]
    style()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
    tables = []
    for ax, (label, dims) in zip(axes, (("5a  high-d, MSE", m["dim"] > 2), ("5b  low-d, MSE", m["dim"] == 2))):
        d = m[dims]
        over_time_panel(ax, d[d["loss"] == "mse_onehot"], "pr", boot, "participation ratio", tables, label[:2])
        ce = summary(at_stage(select(d[d["loss"] == "cross_entropy"], "pr"), "after"), ["gamma", "t"], boot)
        for g, sg in ce.groupby("gamma"):
            ax.plot(sg["t"], sg["mean"], ":", color=color(g), lw=1, label=f"γ={g:g}, after, cross-entropy")
        tables.append(ce.assign(panel=label[:2], quantity="pr", stage="after_cross_entropy"))
        ax.set(title=label, yscale="log")
        ax.legend(fontsize=5, frameon=False)
    save(fig, out, pd.concat(tables, ignore_index=True))
    claims = []
    for dim_label, dims, gated in (("high-d", m["dim"] > 2, True), ("low-d", m["dim"] == 2, False)):
        d = m[dims]
        mse, ce = d[d["loss"] == "mse_onehot"], d[d["loss"] == "cross_entropy"]
        for g in sorted(mse["gamma"].unique()):
            ratio = value_at(mse, "pr", g, "after", t=te) / value_at(ce, "pr", g, "after", t=te)
            claims.append(_claim(f"milder_{dim_label}_g{g:g}", "fig5_mse",
                                 f"{dim_label}, γ={g:g}: PR(t={te}) after training with MSE / with cross-entropy > {c['mse_milder']:g} (milder compression)"
                                 + ("" if gated else " (reported)"), ratio, ">", c["mse_milder"], boot, gated=gated))
            claims.append(_claim(f"compresses_{dim_label}_g{g:g}", "fig5_mse", f"{dim_label}, γ={g:g}, MSE: trained PR(t={te}) / untrained PR(t={te}) < 1 (reported)",
                                 value_at(mse, "pr", g, "after", t=te) / value_at(mse, "pr", g, "before", t=te), "<", 1.0, boot, gated=False))
    return claims


def supp_gamma_sweep(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Low-d PR over time before (dashed) and after (solid) training across gamma; PR(t_eval) vs gamma."""
    m, _ = load(inputs)
    boot, te = options["figures"]["bootstrap"], options["figures"]["eval_time"]
    style()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), constrained_layout=True)
    tables = []
    gammas = sorted(m["gamma"].unique())
    cmap = lambda g: plt.cm.viridis((g - gammas[0]) / max(1e-9, gammas[-1] - gammas[0]))
    for ax, stage in zip(axes[:2], ("before", "after")):
        s = summary(at_stage(select(m, "pr"), stage), ["gamma", "t"], boot)
        for g, sg in s.groupby("gamma"):
            _curve(ax, sg, "t", cmap(g), "--" if stage == "before" else "-", f"γ={g:g}")
        ax.set(title=f"S18  low-d, {stage} training", xlabel="time step t", ylabel="participation ratio")
        ax.legend(fontsize=6, frameon=False)
        tables.append(s.assign(stage=stage, panel=stage))
    at_te = {stage: summary(at_stage(select(m, "pr", t=te), stage), ["gamma"], boot) for stage in ("before", "after")}
    for stage, s in at_te.items():
        axes[2].errorbar(s["gamma"], s["mean"], yerr=[s["mean"] - s["lo"], s["hi"] - s["mean"]], fmt="o--" if stage == "before" else "o-", label=stage, capsize=2)
        tables.append(s.assign(stage=stage, panel=f"pr_t{te}"))
    axes[2].set(title=f"PR(t={te}) vs γ", xlabel="γ", ylabel="participation ratio")
    axes[2].legend(fontsize=6, frameon=False)
    save(fig, out, pd.concat(tables, ignore_index=True))
    before = at_te["before"].set_index("gamma")["mean"]
    rho = float(pd.Series(before.index).corr(pd.Series(before.to_numpy()), method="spearman")) if len(before) > 1 else np.nan
    return [check(f"{STUDY}.supp_gamma_sweep.pr_rises_with_gamma", "supp_gamma_sweep",
                  f"low-d, before training: PR(t={te}) rises with γ (Spearman correlation over γ = {', '.join(f'{g:g}' for g in gammas)}; reported)",
                  rho, ">", 0.0, gated=False)]


FIGURES = {
    "fig2_high_d": fig2_high_d,
    "fig3_low_d": fig3_low_d,
    "fig4_two_neuron": fig4_two_neuron,
    "fig5_mse": fig5_mse,
    "supp_gamma_sweep": supp_gamma_sweep,
}
