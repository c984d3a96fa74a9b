"""Robust RNN representations (Farrell, Recanatesi, Moore, Lajoie, Shea-Brown, Nat. Mach. Intell. 2022):
gradient training compresses a tanh RNN's representation at the evaluation time (participation ratio
to about the number of classes) while keeping it generalisable to held-out clusters; for low-d inputs the
strongly chaotic net (gamma = 250) first expands, then compresses, and learns fastest.

Figures (panels as in the paper, gamma = 20 teal, 250 red; solid = trained, dashed = before training, i.e.
epoch 0 of the same runs): 2 high-d input, 3 low-d input, 4 two-neuron input (b: Lyapunov spectra at
epochs 0, 1, 5, 10, final; c: PCA snapshots over time with the read-out directions as crosses; d: accuracy
over training (and the loss); e: participation ratio over time; f: logistic-regression accuracy on the training clusters;
g: on held-out clusters), 5 the MSE loss (a: high-d, b: low-d PR over time, with the cross-entropy runs
for comparison), and a supplement: the low-d PR over time before / after training across gamma (S18-style). Figures 2 and 3
are drawn twice: on the original code's cluster centres (``fig2_high_d``, ``fig3_low_d``) and on centres
drawn independently per seed (``fig2_high_d_independent``, ``fig3_low_d_independent``).

Statistics over seeds (n of 10 by default): curves and claims are means with a Student-t confidence
interval (mean +- t_{n-1} sd / sqrt(n), level ``figures.ci``), valid at small n for a roughly normal
per-seed value; with 3 seeds a percentile bootstrap has only 10 distinct resample means and is no
interval. Every claim also states how many seeds pass on their own (per-seed pass rate) beside the mean
its verdict is on; ``spread`` is the standard deviation over seeds.
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

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


def mean_ci(values, level: float) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval, mean +- t_{(1+level)/2, n-1} sd / sqrt(n), of per-seed values
    (NaN bounds for one seed)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    if len(v) == 1:
        return float(v[0]), np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def select(m: pd.DataFrame, quantity: str, **where) -> pd.DataFrame:
    d = m[m["quantity"] == quantity]
    for k, v in where.items():
        d = d[d[k] == v]
    return d


def at_stage(d: pd.DataFrame, stage: str) -> pd.DataFrame:
    """Rows before training (epoch 0) or after (each run's final epoch)."""
    return d[d["epoch"] == 0] if stage == "before" else d[d["epoch"] == d["final"]]


def summary(d: pd.DataFrame, by: list[str], level: float) -> pd.DataFrame:
    """Mean and t-interval over seeds of ``value`` per group ``by``."""
    rows = []
    for key, g in d.groupby(by, sort=True):
        mean, lo, hi = mean_ci(g["value"], level)
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "mean": mean, "lo": lo, "hi": hi, "n": len(g)})
    return pd.DataFrame(rows)


def per_seed(d: pd.DataFrame) -> pd.Series:
    return d.set_index("seed")["value"]


def _curve(ax, s: pd.DataFrame, x: str, color, ls="-", label=None) -> None:
    ax.plot(s[x], s["mean"], ls, color=color, label=label, lw=1.5)
    ax.fill_between(s[x], s["lo"], s["hi"], color=color, alpha=0.2, lw=0)


def color(g: float):
    return COLORS.get(float(g), plt.cm.viridis((float(g) - 20) / 260))


def over_time_panel(ax, m, quantity, ci, ylabel, tables, panel) -> None:
    """A quantity over t, before (dashed) and after (solid) training, per gamma."""
    for stage, ls in (("before", "--"), ("after", "-")):
        s = summary(at_stage(select(m, quantity), stage), ["gamma", "t"], ci)
        for g, sg in s.groupby("gamma"):
            _curve(ax, sg, "t", color(g), ls, f"γ={g:g}, {stage}")
        tables.append(s.assign(panel=panel, quantity=quantity, stage=stage))
    ax.set(xlabel="time step t", ylabel=ylabel)


def panels(fig_label: str, m: pd.DataFrame, snaps: pd.DataFrame, options: dict, out: str) -> pd.DataFrame:
    """Panels b-g of figures 2-4 in one figure; returns the plotted summary table."""
    ci, times = options["figures"]["ci"], sorted(snaps["t"].unique())
    gammas = sorted(m["gamma"].unique())
    style()
    fig = plt.figure(figsize=(2.0 * (len(times) + 1.5), 4.0 * len(gammas) / 2 + 3.6), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[len(gammas), 1.2])
    axes_top = top.subplots(len(gammas), len(times) + 1, squeeze=False)
    tables = []
    lyap = select(m, "lyapunov")
    for i, g in enumerate(gammas):
        ax = axes_top[i, 0]
        s = summary(lyap[lyap["gamma"] == g], ["epoch", "index"], ci)
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
    acc = summary(select(m, "acc"), ["gamma", "epoch"], ci)
    for g, sg in acc.groupby("gamma"):
        _curve(axes[0], sg, "epoch", color(g), "-", f"γ={g:g}")
    axes[0].set(title=f"{fig_label}d  accuracy (solid), loss (dotted)", xlabel="epoch", ylabel="accuracy", ylim=(0.4, 1.02))
    axes[0].legend(fontsize=6, frameon=False)
    tables.append(acc.assign(panel="d", quantity="acc"))
    loss = summary(select(m, "loss"), ["gamma", "epoch"], ci)
    twin = axes[0].twinx()
    for g, sg in loss.groupby("gamma"):
        twin.plot(sg["epoch"], sg["mean"], ":", color=color(g), lw=1)
    twin.set(ylabel="loss", yscale="log")
    tables.append(loss.assign(panel="d", quantity="loss"))
    over_time_panel(axes[1], m, "pr", ci, "participation ratio", tables, "e")
    axes[1].set(title=f"{fig_label}e  dimensionality", yscale="log")
    over_time_panel(axes[2], m, "lr_train_paper", ci, "LR training accuracy", tables, "f")
    axes[2].set(title=f"{fig_label}f  linear separability")
    over_time_panel(axes[3], m, "lr_test_paper", ci, "LR testing accuracy (held-out clusters)", tables, "g")
    test_random = summary(at_stage(select(m, "lr_test_random"), "after"), ["gamma", "t"], ci)
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


def _mean(values) -> float:
    v = pd.Series(values, dtype=float).dropna()
    return float(v.mean()) if len(v) else float("nan")


def _claim(id_, fig, text, values, op, threshold, level, *, ref: str, control=None, gated=True, source="pilot") -> Claim:
    """A claim (contract v2, kind ``claim``) on the mean over seeds of ``values`` (a Series indexed by seed);
    the text carries the t-interval of the mean and how many seeds pass on their own. ``control``:
    (description, per-seed values) of the same statistic on the claim's negative control, whose mean must
    fail the same test. ``source``: the thresholds are the science note's acceptance tests (the pilot, with
    a margin) on the paper's panels (``ref``)."""
    v = pd.Series(values, dtype=float).dropna()
    mean, lo, hi = mean_ci(v, level)
    passing = int(sum(check("", "", "", x, op, threshold).passed for x in v))
    interval = f", {level:.0%} t-interval {lo:.3g}–{hi:.3g}" if np.isfinite(lo) else ""
    ctl = None if control is None else (f"{control[0]} (mean over seeds)", _mean(control[1]))
    return check(f"{STUDY}.{fig}.{id_}", fig, f"{text} [mean over {len(v)} seed{'s' * (len(v) != 1)}{interval}; {passing}/{len(v)} pass on their own]",
                 mean, op, threshold, spread=float(v.std(ddof=1)) if len(v) > 1 else None, gated=gated,
                 kind="claim", source=source, source_ref=ref, control=ctl)


def _centres(figure: str) -> str:
    return ", independent centres" if figure.endswith("_independent") else ""


def fig2_high_d(inputs: list[str], out: str, options: dict, figure: str = "fig2_high_d") -> list[Claim]:
    m, snaps = load(inputs)
    m = m[(m["dim"] > 2) & (m["loss"] == "cross_entropy")]
    panels("2", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, ci, te = options["claims"], options["figures"]["ci"], options["figures"]["eval_time"]
    g_edge, g_chaos = sorted(m["gamma"].unique())[0], sorted(m["gamma"].unique())[-1]
    hd = f"high-d{_centres(figure)}"
    at = lambda q, g, stage, t=None: value_at(m, q, g, stage, t=t)
    claims = []
    for g in (g_edge, g_chaos):
        claims += [
            _claim(f"pr_after_g{g:g}", figure, f"{hd}, γ={g:g}: trained PR(t={te}) < {c['compressed_pr']:g} (compressed)",
                   at("pr", g, "after", te), "<", c["compressed_pr"], ci, ref="Fig. 2e; science note A1",
                   control=("the untrained net", at("pr", g, "before", te))),
            _claim(f"pr_before_g{g:g}", figure, f"{hd}, γ={g:g}: untrained PR(t={te}) > {c['expanded_pr_before']:g}",
                   at("pr", g, "before", te), ">", c["expanded_pr_before"], ci, ref="Fig. 2e; science note A1",
                   control=("the trained net", at("pr", g, "after", te))),
            _claim(f"final_acc_g{g:g}", figure, f"{hd}, γ={g:g}: final accuracy ≥ {c['min_final_acc']:g}",
                   at("acc", g, "after"), ">=", c["min_final_acc"], ci, ref="Fig. 2d; science note A2",
                   control=("the untrained net (epoch 0)", at("acc", g, "before"))),
            _claim(f"acc_before_g{g:g}", figure, f"{hd}, γ={g:g}: accuracy before training ≤ {c['max_acc_before']:g} (near chance: the accuracy is learnt)",
                   at("acc", g, "before"), "<=", c["max_acc_before"], ci, ref="Fig. 2d; science note A2",
                   control=("the trained net (final epoch)", at("acc", g, "after"))),
            _claim(f"holdout_g{g:g}", figure, f"{hd}, γ={g:g}: trained held-out-cluster LR accuracy at t={te} (mean of random 80/20 splits) ≥ {c['min_holdout_acc']:g}",
                   at("lr_test_random", g, "after", te), ">=", c["min_holdout_acc"], ci, ref="Fig. 2g; science note A3",
                   control=("the raw input (t = 0), which holds no class structure across clusters", at("lr_test_random", g, "after", 0))),
            _claim(f"holdout_before_g{g:g}", figure,
                   f"{hd}, γ={g:g}: untrained held-out-cluster LR accuracy at t={te} (random splits) ≤ {c['max_holdout_acc_before']:g} (generalisation is gained)",
                   at("lr_test_random", g, "before", te), "<=", c["max_holdout_acc_before"], ci, ref="Fig. 2g; science note A3",
                   control=("the trained net", at("lr_test_random", g, "after", te))),
            _claim(f"holdout_paper_split_g{g:g}", figure, f"{hd}, γ={g:g}: the same with the paper's fixed split (reported)",
                   at("lr_test_paper", g, "after", te), ">=", c["min_holdout_acc"], ci, ref="Fig. 2g; science note A3", gated=False),
        ]
    claims += [
        _claim("lyap_edge_initial", figure, f"{hd}, γ={g_edge:g}: |λ1| before training < {c['lyap_edge_initial']:g} bits/step (edge of chaos)",
               lyap1(m, g_edge, "before").abs(), "<", c["lyap_edge_initial"], ci, ref="Fig. 2b; science note A4",
               control=(f"γ={g_chaos:g} before training", lyap1(m, g_chaos, "before").abs())),
        _claim("lyap_edge_final", figure, f"{hd}, γ={g_edge:g}: λ1 after training < {c['lyap_edge_final']:g} bits/step (contracting)",
               lyap1(m, g_edge, "after"), "<", c["lyap_edge_final"], ci, ref="Fig. 2b; science note A4",
               control=("the same nets before training", lyap1(m, g_edge, "before"))),
        _claim("lyap_chaotic_final", figure, f"{hd}, γ={g_chaos:g}: λ1 after training > {c['lyap_chaotic_final']:g} bits/step (stays chaotic)",
               lyap1(m, g_chaos, "after"), ">", c["lyap_chaotic_final"], ci, ref="Fig. 2b; science note A4",
               control=(f"γ={g_edge:g} after training", lyap1(m, g_edge, "after"))),
        lyapunov_precision(m, figure, c),
    ]
    return claims


def lyapunov_precision(m: pd.DataFrame, figure: str, c: dict) -> Claim:
    """Reported check: the largest standard error over initial conditions of any run's lambda_1."""
    sem = select(m, "lyapunov_sem", index=1)["value"]
    drift = select(m, "lyapunov_drift")["value"]
    return check(f"{STUDY}.{figure}.lyap_sem", figure,
                 f"λ1 estimates: largest SEM over initial conditions, over runs and epochs, < {c['lyap_max_sem']:g} bits/step "
                 f"(convergence: largest |λ(T) − λ(T/2)| {drift.max():.3g}; reported)", float(sem.max()), "<", c["lyap_max_sem"], gated=False,
                 kind="check", source="learnscope")


def _peak(m: pd.DataFrame, g: float, te: int, stage: str = "after") -> tuple[pd.Series, pd.Series]:
    """Per seed, at ``stage``: (max over 1 <= t <= te of PR, PR(te))."""
    d = at_stage(select(m, "pr", gamma=float(g)), stage)
    d = d[(d["t"] >= 1) & (d["t"] <= te)]
    return d.groupby("seed")["value"].max(), d[d["t"] == te].set_index("seed")["value"]


def _learning_speed(m: pd.DataFrame, g: float, window: list[int]) -> pd.Series:
    d = select(m, "acc", gamma=float(g))
    return d[(d["epoch"] >= window[0]) & (d["epoch"] <= window[1])].groupby("seed")["value"].mean()


def fig3_low_d(inputs: list[str], out: str, options: dict, figure: str = "fig3_low_d") -> list[Claim]:
    m, snaps = load(inputs)
    m = m[(m["dim"] == 2) & (m["input"] == "orthogonal") & (m["loss"] == "cross_entropy")]
    panels("3", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, ci, te = options["claims"], options["figures"]["ci"], options["figures"]["eval_time"]
    window = options["figures"]["learn_epochs"]
    g_edge, g_chaos = sorted(m["gamma"].unique())[0], sorted(m["gamma"].unique())[-1]
    ld = f"low-d{_centres(figure)}"
    at = lambda q, g, stage, t=None: value_at(m, q, g, stage, t=t)
    ratio = lambda g: at("pr", g, "before", te) / at("pr", g, "before", 1)
    speed = _learning_speed(m, g_chaos, window) - _learning_speed(m, g_edge, window)
    speed0 = _learning_speed(m, g_chaos, [0, 0]) - _learning_speed(m, g_edge, [0, 0])
    (peak_chaos, end_chaos), (peak_edge, _) = _peak(m, g_chaos, te), _peak(m, g_edge, te)
    peak_before, end_before = _peak(m, g_chaos, te, "before")
    return [
        _claim("expansion_before", figure, f"{ld}, γ={g_chaos:g}, before training: PR(t={te}) / PR(t=1) > {c['lowd_expansion']:g} (chaos expands)",
               ratio(g_chaos), ">", c["lowd_expansion"], ci, ref="Fig. 3e; science note B1", control=(f"γ={g_edge:g}", ratio(g_edge))),
        _claim("edge_before", figure, f"{ld}, γ={g_edge:g}, before training: PR(t={te}) < {c['lowd_edge_pr']:g}",
               at("pr", g_edge, "before", te), "<", c["lowd_edge_pr"], ci, ref="Fig. 3e; science note B1",
               control=(f"γ={g_chaos:g}", at("pr", g_chaos, "before", te))),
        _claim("expand_then_compress", figure, f"{ld}, γ={g_chaos:g}, trained: max over 1 ≤ t ≤ {te} of PR / PR(t={te}) ≥ {c['lowd_peak_ratio']:g}",
               peak_chaos / end_chaos, ">=", c["lowd_peak_ratio"], ci, ref="Fig. 3e; science note B2",
               control=("the same nets before training (they expand without compressing)", peak_before / end_before)),
        _claim("peak_gap", figure, f"{ld}, trained: max over 1 ≤ t ≤ {te} of PR, γ={g_chaos:g} minus γ={g_edge:g} (same seed), ≥ {c['lowd_peak_gap']:g}",
               peak_chaos - peak_edge, ">=", c["lowd_peak_gap"], ci, ref="Fig. 3e; science note B2",
               control=("the same difference of PR at t = 1 (the input's image, before any recurrence)", at("pr", g_chaos, "after", 1) - at("pr", g_edge, "after", 1))),
        _claim("learns_faster", figure, f"{ld}: mean accuracy over epochs {window[0]}–{window[1]}, γ={g_chaos:g} minus γ={g_edge:g}, ≥ {c['lowd_speed_gap']:g}",
               speed, ">=", c["lowd_speed_gap"], ci, ref="Fig. 3d; science note B3", control=("the same difference at epoch 0 (untrained)", speed0)),
        _claim("lyap_chaotic_final", figure, f"{ld}, γ={g_chaos:g}: λ1 after training > 0 (stays chaotic)", lyap1(m, g_chaos, "after"), ">", 0.0, ci,
               ref="Fig. 3b; science note B5", control=(f"γ={g_edge:g} after training", lyap1(m, g_edge, "after"))),
        _claim("lyap_edge_final", figure, f"{ld}, γ={g_edge:g}: λ1 after training < 0", lyap1(m, g_edge, "after"), "<", 0.0, ci,
               ref="Fig. 3b; science note B5", control=(f"γ={g_chaos:g} after training", lyap1(m, g_chaos, "after"))),
        _claim("holdout_chaotic", figure, f"{ld}, γ={g_chaos:g}: trained held-out-cluster LR accuracy at t={te} (random splits) ≥ {c['min_holdout_acc']:g} (reported)",
               at("lr_test_random", g_chaos, "after", te), ">=", c["min_holdout_acc"], ci, ref="Fig. 3g; science note B4", gated=False),
        lyapunov_precision(m, figure, c),
    ]


def fig4_two_neuron(inputs: list[str], out: str, options: dict) -> list[Claim]:
    m, snaps = load(inputs)
    m = m[m["input"] == "identity"]
    panels("4", m, snaps[snaps["run_id"].isin(m["run_id"])], options, out)
    c, ci, te = options["claims"], options["figures"]["ci"], options["figures"]["eval_time"]
    gammas = sorted(m["gamma"].unique())
    claims = [
        _claim(f"final_acc_g{g:g}", "fig4_two_neuron", f"two-neuron input, γ={g:g}: final accuracy > {c['two_neuron_min_acc']:g} (reported)",
               value_at(m, "acc", g, "after"), ">", c["two_neuron_min_acc"], ci, ref="Fig. 4d; science note C1", gated=False)
        for g in gammas
    ]
    g = gammas[-1]
    claims.append(_claim("expansion_after", "fig4_two_neuron", f"two-neuron input, γ={g:g}, trained: PR(t={te}) / PR(t=1) > {c['lowd_expansion']:g} (reported)",
                         value_at(m, "pr", g, "after", t=te) / value_at(m, "pr", g, "after", t=1), ">", c["lowd_expansion"], ci,
                         ref="Fig. 4e; science note C1", gated=False))
    return claims


def fig5_mse(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """5a (high-d) and 5b (low-d): PR over time with the MSE loss; thin lines: the cross-entropy runs, trained."""
    m, _ = load(inputs)
    m = m[m["input"] == "orthogonal"]
    c, ci, te = options["claims"], options["figures"]["ci"], options["figures"]["eval_time"]
    style()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
    tables = []
    for ax, (label, dims) in zip(axes, (("5a  high-d, MSE", m["dim"] > 2), ("5b  low-d, MSE", m["dim"] == 2))):
        d = m[dims]
        over_time_panel(ax, d[d["loss"] == "mse_onehot"], "pr", ci, "participation ratio", tables, label[:2])
        ce = summary(at_stage(select(d[d["loss"] == "cross_entropy"], "pr"), "after"), ["gamma", "t"], ci)
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
            claims.append(_claim(f"learned_{dim_label}_g{g:g}", "fig5_mse",
                                 f"{dim_label}, γ={g:g}, MSE: final accuracy ≥ {c['mse_min_acc']:g} (the milder compression is that of a net that learnt)"
                                 + ("" if gated else " (reported)"), value_at(mse, "acc", g, "after"), ">=", c["mse_min_acc"], ci,
                                 ref="Fig. 5; science note D2", control=("the untrained MSE net", value_at(mse, "acc", g, "before")), gated=gated))
            claims.append(_claim(f"milder_{dim_label}_g{g:g}", "fig5_mse",
                                 f"{dim_label}, γ={g:g}: PR(t={te}) after training with MSE / with cross-entropy > {c['mse_milder']:g} (milder compression)"
                                 + ("" if gated else " (reported)"), ratio, ">", c["mse_milder"], ci, ref="Fig. 5; science note D1",
                                 control=("the same ratio at t = 0, the input, which is the same for both losses",
                                          value_at(mse, "pr", g, "after", t=0) / value_at(ce, "pr", g, "after", t=0)), gated=gated))
            claims.append(_claim(f"compresses_{dim_label}_g{g:g}", "fig5_mse", f"{dim_label}, γ={g:g}, MSE: trained PR(t={te}) / untrained PR(t={te}) < 1 (reported)",
                                 value_at(mse, "pr", g, "after", t=te) / value_at(mse, "pr", g, "before", t=te), "<", 1.0, ci,
                                 ref="Fig. 5; science note D1", gated=False))
    return claims


def supp_gamma_sweep(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Low-d PR over time before (dashed) and after (solid) training across gamma; PR(t_eval) vs gamma."""
    m, _ = load(inputs)
    ci, te = options["figures"]["ci"], options["figures"]["eval_time"]
    style()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), constrained_layout=True)
    tables = []
    gammas = sorted(m["gamma"].unique())
    cmap = lambda g: plt.cm.viridis((g - gammas[0]) / max(1e-9, gammas[-1] - gammas[0]))
    for ax, stage in zip(axes[:2], ("before", "after")):
        s = summary(at_stage(select(m, "pr"), stage), ["gamma", "t"], ci)
        for g, sg in s.groupby("gamma"):
            _curve(ax, sg, "t", cmap(g), "--" if stage == "before" else "-", f"γ={g:g}")
        ax.set(title=f"S18  low-d, {stage} training", xlabel="time step t", ylabel="participation ratio")
        ax.legend(fontsize=6, frameon=False)
        tables.append(s.assign(stage=stage, panel=stage))
    at_te = {stage: summary(at_stage(select(m, "pr", t=te), stage), ["gamma"], ci) for stage in ("before", "after")}
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
                  rho, ">", 0.0, gated=False, kind="claim", source="paper", source_ref="Fig. S18")]


def fig2_high_d_independent(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Fig. 2 on cluster centres drawn independently per seed."""
    return fig2_high_d(inputs, out, options, figure="fig2_high_d_independent")


def fig3_low_d_independent(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Fig. 3 on cluster centres drawn independently per seed."""
    return fig3_low_d(inputs, out, options, figure="fig3_low_d_independent")


FIGURES = {
    "fig2_high_d": fig2_high_d,
    "fig2_high_d_independent": fig2_high_d_independent,
    "fig3_low_d": fig3_low_d,
    "fig3_low_d_independent": fig3_low_d_independent,
    "fig4_two_neuron": fig4_two_neuron,
    "fig5_mse": fig5_mse,
    "supp_gamma_sweep": supp_gamma_sweep,
}
