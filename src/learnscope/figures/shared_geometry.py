"""Shared representational geometry across networks (Lu et al. 2018): the paper's figures and claims.

Inputs are the tables and arrays of ``learnscope.analysis.shared_geometry`` (one per family) and
``learnscope.analysis.xor_simulation``. Spreads are standard deviations over networks (seeds) or over
simulations. Hidden layers are every analysed layer not listed in ``controls`` (the logits are
trivially aligned across networks and serve as a positive control only).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from learnscope.claims import Claim, check
from learnscope.figures.common import save, style

FINAL = "final"
SIM_REF = "Lu et al. 2018, Fig. 5 (poster): shared r ≈ 0.91-0.95, native ≈ -0.05-0.1"


def _tables(paths: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, dtype={"member": str}) for p in paths if p.endswith(".csv")], ignore_index=True)


def _final(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["point"] == df.groupby("family")["point"].transform("max")]


def _hidden(df: pd.DataFrame, controls: list[str]) -> list[str]:
    return [layer for layer in dict.fromkeys(df["layer"]) if layer not in controls and layer != "model"]


def _sd(v) -> float | None:
    v = np.asarray(v, dtype=float)
    return float(np.std(v, ddof=1)) if len(v) > 1 else None


def _group(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean, s.d. and count over members (networks or pairs) per family, layer and point."""
    d = df[(df["metric"] == metric) & (df["member"] != "all")]
    g = d.groupby(["family", "layer", "point", "step"], sort=False)["value"]
    return g.agg(mean="mean", sd=lambda v: float(np.std(v, ddof=1)), n="count").reset_index().assign(metric=metric)


def _class_edges(labels: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff(labels)) + 0.5


def _space_scores(table: pd.DataFrame, controls: list[str]) -> pd.DataFrame:
    """r(iRSM, wRSM) per family, layer and space (native, shared) at one record point: the group's
    (``r``) and the per-network LOO values' mean and s.d."""
    rows = []
    for space in ("native", "shared"):
        d = table[table["metric"] == f"{space}_vs_within"]
        for (fam, lay), g in d.groupby(["family", "layer"], sort=False):
            nets = g[g["member"] != "all"]["value"]
            rows.append({"family": fam, "layer": lay, "space": space, "r": float(g[g["member"] == "all"]["value"].iloc[0]),
                         "network_mean": float(nets.mean()), "network_sd": _sd(nets), "control": lay in controls})
    return pd.DataFrame(rows)


def _contrast(scores: pd.DataFrame) -> pd.Series:
    """Per hidden layer: shared r - |native r| (the paper's contrast: aligned geometry vs none natively)."""
    nat = scores[scores["space"] == "native"].set_index("layer")["r"]
    return scores[scores["space"] == "shared"].set_index("layer")["r"] - nat.abs()


def null_p_values(native: pd.Series, null: pd.DataFrame) -> pd.Series:
    """Two-sided empirical p of each layer's native r against its unit-shuffle null:
    (1 + #{|null - mean(null)| >= |r - mean(null)|}) / (1 + n_shuffles) (Phipson & Smyth 2010)."""
    out = {}
    for layer, r in native.items():
        v = null[null["layer"] == layer]["value"].to_numpy()
        out[layer] = (1 + np.sum(np.abs(v - v.mean()) >= abs(r - v.mean()))) / (1 + len(v))
    return pd.Series(out)


def three_rsms(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Inter-network RSM in the shared space, within-network RSM and inter-network RSM in native space
    (one family and layer, final point), and r(iRSM, wRSM) native vs shared for every family and layer.

    Claims per family, over hidden layers (the logits are class-aligned in every network: a positive
    control only). Gated: the paper's contrast, min over hidden layers of shared r - |native r| >=
    ``contrast_min``, and min shared r >= ``shared_min_r``; each has the same statistic on the family's
    untrained networks (record point 0) as its negative control: a geometry the networks learn must not
    be there before training. Check: every hidden layer's native r is within chance of its unit-shuffle
    null (two-sided empirical p, Bonferroni-corrected over the hidden layers, > ``native_null_alpha``).
    Reported: max and mean |native r| against the 0.2 bound of learnscope's pilot; the logits' native r.

    Why the null is only a check: without unit correspondence, iRSM_native = mean_i Z_i^T Zbar_-i / m
    is a sum of rank-one terms whose rows and columns follow each network's own image geometry (class
    blocks) with random signs, so r(iRSM_native, wRSM) is a chance correlation of block structure with
    an s.d. set by the geometry's effective rank, not by the unit count. For ten freshly initialised
    64-100 ReLU layers on the digits probe, r has mean -0.02 and s.d. 0.13 over 40 families (the same
    at width 1,000), and |r| > 0.2 in 17% of them; the unit-shuffle null here has s.d. 0.1-0.21. For
    independently seeded networks the null holds by construction; it fails only when networks share
    unit correspondence they should not (a shared initialisation, a bug).
    """
    arrays = np.load(inputs[0])
    everything = _tables(inputs[1:])
    table = _final(everything)
    untrained = everything[everything["point"] == everything.groupby("family")["point"].transform("min")]
    family, layer = options["family"], options["layer"]
    controls, thr = options["controls"], options["claims"]
    labels = arrays["eval_labels"]
    style()
    fig = plt.figure(figsize=(13, 3.4), constrained_layout=True)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.5]})
    panels = [("irsm_shared", "inter-network, shared"), ("wrsm", "within-network"), ("irsm_native", "inter-network, native")]
    for ax, (key, title) in zip(axes, panels):
        im = ax.imshow(arrays[f"{layer}__{key}"], vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
        for e in _class_edges(labels):
            ax.axhline(e, color="k", lw=0.3)
            ax.axvline(e, color="k", lw=0.3)
        ax.set(title=title, xticks=[], yticks=[], xlabel="images (sorted by class)")
    fig.colorbar(im, ax=axes[:3], shrink=0.8, label="Pearson r")
    summary = _space_scores(table, controls)
    init = _space_scores(untrained, controls)
    ax = axes[3]
    summary["label"] = summary["family"] + "/" + summary["layer"] + np.where(summary["control"], " (control)", "")
    xs = np.arange(summary["label"].nunique())
    order = list(dict.fromkeys(summary["label"]))
    for off, (space, color) in zip((-0.2, 0.2), (("native", "0.6"), ("shared", "C0"))):
        s = summary[summary["space"] == space].set_index("label").loc[order]
        ax.bar(xs + off, s["r"], width=0.4, color=color, label=space, yerr=s["network_sd"].fillna(0), capsize=2)
    shared_init = init[init["space"] == "shared"]["r"].to_numpy()
    ax.plot(xs + 0.2, shared_init, "k_", ms=9, mew=1.5, label="shared, untrained (control)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(xs, order, rotation=60, ha="right", fontsize=6)
    ax.set(ylabel="r(iRSM, wRSM)", title="second-order similarity (final point)", ylim=(-1, 1.05))
    ax.legend(frameon=False, fontsize=7)
    fig.suptitle(f"Shared geometry: RSMs of {family}/{layer} on held-out images (mean over networks)", fontsize=9)
    save(fig, out, pd.concat([summary.drop(columns="label").assign(point="final"), init.assign(point="untrained")], ignore_index=True))

    null = table[table["metric"] == "native_null"]
    untrained_control = "the family's untrained networks (record point 0)"
    lu = "Lu et al. 2018"
    claims = []
    for fam, s in summary[~summary["control"]].groupby("family", sort=False):
        s0 = init[(init["family"] == fam) & ~init["control"]]
        nat, sh = s[s["space"] == "native"].set_index("layer"), s[s["space"] == "shared"].set_index("layer")
        worst_nat, worst_sh = nat["r"].abs().idxmax(), sh["r"].idxmin()
        contrast, contrast0 = _contrast(s), _contrast(s0)
        worst_c = contrast.idxmin()
        claims.append(check(f"shared_geometry.three_rsms.{fam}_contrast", "three_rsms",
                            f"{fam}: the inter-network RSM matches the within-network RSM in the SRM shared space and not natively, "
                            f"in every hidden layer: min over hidden layers of shared r - |native r| (worst {worst_c}) >= {thr['contrast_min']}",
                            float(contrast.min()), ">=", thr["contrast_min"], kind="claim", source="pilot",
                            source_ref=f"{thr['contrast_min']} = shared_min_r {thr['shared_min_r']} - the pilot's native bound "
                                       f"{thr['native_max_abs_r']} ({lu}, Fig. 2b/3: shared iRSM ≈ wRSM, native iRSM structureless)",
                            control=(untrained_control, float(contrast0.min()))))
        claims.append(check(f"shared_geometry.three_rsms.{fam}_shared", "three_rsms",
                            f"{fam}: in the SRM shared space the inter-network RSM matches the within-network RSM in every hidden layer: "
                            f"min r(iRSM_shared, wRSM) = {worst_sh} >= {thr['shared_min_r']} (spread: s.d. of its per-network LOO r)",
                            float(sh.loc[worst_sh, "r"]), ">=", thr["shared_min_r"], spread=sh.loc[worst_sh, "network_sd"],
                            kind="claim", source="paper", source_ref=f"{lu}: shared iRSM ≈ wRSM (Fig. 3; simulation r ≈ 0.91-0.95, Fig. 5)",
                            control=(untrained_control, float(s0[s0["space"] == "shared"]["r"].min()))))
        img = table[(table["family"] == fam) & (table["metric"] == "shared_vs_within_image_shuffled") & (table["member"] == "all") & table["layer"].isin(sh.index)]
        if len(img):
            claims.append(check(f"shared_geometry.three_rsms.{fam}_shared_image_shuffled", "three_rsms",
                                f"{fam}: control for the shared claim: with each network's image order shuffled independently before the SRM, "
                                f"max over hidden layers of r(each network's shared LOO RSM, its own RSM), mean over networks, stays below "
                                f"shared_min_r {thr['shared_min_r']} (reported)",
                                float(img["value"].max()), "<", thr["shared_min_r"], gated=False, kind="check", source="learnscope",
                                source_ref="issue 20: a negative control for the shared claim (image order shuffled across networks before the SRM)"))
        p = null_p_values(nat["r"], null[null["family"] == fam])
        n_null = int(null[null["family"] == fam].groupby("layer").size().min())
        claims.append(check(f"shared_geometry.three_rsms.{fam}_native_chance", "three_rsms",
                            f"{fam}: every hidden layer's native r is within chance of its unit-shuffle null ({n_null} shuffles): "
                            f"two-sided empirical p, Bonferroni-corrected over {len(p)} hidden layers (worst {p.idxmin()}), > {thr['native_null_alpha']}",
                            float(min(1.0, p.min() * len(p))), ">", thr["native_null_alpha"], kind="check", source="theory",
                            source_ref="independently seeded networks share no unit correspondence (integrity check, not a reproduction)"))
        claims.append(check(f"shared_geometry.three_rsms.{fam}_native", "three_rsms",
                            f"{fam}: natively, the inter-network RSM does not match the within-network RSM in any hidden layer: "
                            f"max |r(iRSM_native, wRSM)| = {worst_nat} <= {thr['native_max_abs_r']}, the bound of learnscope's pilot, not the paper's (spread: s.d. of its per-network LOO r)",
                            float(abs(nat.loc[worst_nat, "r"])), "<=", thr["native_max_abs_r"], spread=nat.loc[worst_nat, "network_sd"], gated=False,
                            kind="claim", source="pilot", source_ref="pilot: native r in [-0.19, 0.19] for every hidden layer"))
        claims.append(check(f"shared_geometry.three_rsms.{fam}_native_mean", "three_rsms",
                            f"{fam}: mean over hidden layers of |r(iRSM_native, wRSM)| <= {thr['native_max_abs_r']} (spread: s.d. over hidden layers)",
                            float(nat["r"].abs().mean()), "<=", thr["native_max_abs_r"], spread=_sd(nat["r"].abs()), gated=False,
                            kind="claim", source="pilot", source_ref="pilot: native r in [-0.19, 0.19] for every hidden layer"))
    for fam, s in summary[summary["control"] & (summary["space"] == "native")].groupby("family", sort=False):
        claims.append(check(f"shared_geometry.three_rsms.{fam}_logits_native", "three_rsms",
                            f"{fam}: control — logits are class-aligned, so their native iRSM already matches the wRSM (r >= {thr['control_min_r']})",
                            float(s["r"].min()), ">=", thr["control_min_r"], spread=s["network_sd"].iloc[0], gated=False,
                            kind="check", source="theory", source_ref="logit units correspond to classes in every network"))
    return claims


def _development_rise(table: pd.DataFrame, family: str, hidden: list[str]) -> float:
    """Mean over ``hidden`` layers of the group development r(iRSM_shared(t), wRSM(T)) at the last record
    point minus at the first (NaN for a family the table lacks)."""
    d = table[(table["family"] == family) & (table["metric"] == "development") & (table["member"] == "all") & table["layer"].isin(hidden)]
    if d.empty:
        return float("nan")
    return float(d[d["point"] == d["point"].max()]["value"].mean() - d[d["point"] == d["point"].min()]["value"].mean())


def _ve(per: pd.DataFrame, family: str, layers: list[str], last: bool) -> pd.Series:
    """Variance explained by the shared response per network (mean over ``layers``) at the family's last
    record point, or its first (the untrained networks)."""
    ve = per[(per["metric"] == "variance_explained") & (per["family"] == family) & per["layer"].isin(layers)]
    return ve[ve["point"] == (ve["point"].max() if last else ve["point"].min())].groupby("member")["value"].mean()


def main_grid(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Per family (columns): development r(iRSM_shared(t), wRSM(T)) over training per layer; variance
    explained by the mean shared response per layer; pairwise wRSM consistency per layer (final point).

    Claims: development rises (gated, per family: mean over hidden layers of r(T) - r(0) > 0; control:
    the same rise for the family trained on shuffled labels, the tables under ``control/`` among the
    inputs); the middle layers of ``ve_lower_family`` are explained less than ``ve_higher_family``'s
    hidden layers (gated; control: the untrained networks); wRSM consistency rises with training (reported).
    """
    table = _tables([p for p in inputs if Path(p).parent.name != "control"])
    shuffled = _tables([p for p in inputs if Path(p).parent.name == "control"])
    controls, thr = options["controls"], options["claims"]
    families = list(dict.fromkeys(table["family"]))
    summary = pd.concat([_group(table, m) for m in ("development", "variance_explained", "variance_explained_deterministic", "consistency")], ignore_index=True)
    final = _final(summary)
    style()
    fig, axes = plt.subplots(3, len(families), figsize=(3.2 * len(families), 7.5), constrained_layout=True, squeeze=False)
    for col, fam in enumerate(families):
        dev = summary[(summary["family"] == fam) & (summary["metric"] == "development")]
        for i, (layer, d) in enumerate(dev.groupby("layer", sort=False)):
            ls = ":" if layer in controls else "-"
            line = axes[0, col].plot(d["step"] + 1, d["mean"], ls, marker="o", ms=3, label=layer, color=f"C{i}")[0]
            axes[0, col].fill_between(d["step"] + 1, d["mean"] - d["sd"], d["mean"] + d["sd"], color=line.get_color(), alpha=0.2, lw=0)
        axes[0, col].set(xscale="log", xlabel="training step + 1", ylabel="r(iRSM_shared(t), wRSM(T))", title=fam, ylim=(-0.1, 1.05))
        axes[0, col].legend(frameon=False, fontsize=6)
        for row, metric, ylabel in ((1, "variance_explained", "variance explained"), (2, "consistency", "wRSM consistency r")):
            f = final[(final["family"] == fam) & (final["metric"] == metric)]
            axes[row, col].bar(f["layer"], f["mean"], yerr=f["sd"], capsize=3, color=["0.7" if l in controls else "C0" for l in f["layer"]])
            if metric == "variance_explained":
                det = final[(final["family"] == fam) & (final["metric"] == "variance_explained_deterministic")]
                axes[row, col].plot(det["layer"], det["mean"], "kD", ms=4, label="deterministic SRM")
                axes[row, col].legend(frameon=False, fontsize=6, loc="lower left")
            axes[row, col].set(ylabel=ylabel, ylim=(0, 1.05))
            axes[row, col].tick_params(axis="x", labelsize=7, rotation=30)
    fig.suptitle("Shared geometry over training, per family (mean ± s.d. over networks / pairs; grey: control)", fontsize=9)
    save(fig, out, summary)

    claims = []
    per = table[(table["member"] != "all")]
    for fam in families:
        f = per[per["family"] == fam]
        hidden = _hidden(f, controls)
        dev = f[(f["metric"] == "development") & f["layer"].isin(hidden)]
        first, last = dev["point"].min(), dev["point"].max()
        rise = dev[dev["point"] == last].groupby("member")["value"].mean() - dev[dev["point"] == first].groupby("member")["value"].mean()
        claims.append(check(f"shared_geometry.main_grid.{fam}_development_rises", "main_grid",
                            f"{fam}: r(iRSM_shared(t), final wRSM) rises over training (mean over hidden layers of r(end) - r(init) > 0)",
                            _development_rise(table, fam, hidden), ">", 0.0, spread=_sd(rise), kind="claim", source="paper",
                            source_ref="Lu et al. 2018, Fig. 4 top row (development over training)",
                            control=("the same family trained on shuffled training labels (shared_geometry.control)",
                                     _development_rise(shuffled, fam, hidden))))
        con = f[(f["metric"] == "consistency") & f["layer"].isin(hidden)]
        c_rise = con[con["point"] == con["point"].max()].groupby("member")["value"].mean() - con[con["point"] == con["point"].min()].groupby("member")["value"].mean()
        claims.append(check(f"shared_geometry.main_grid.{fam}_consistency_rises", "main_grid",
                            f"{fam}: pairwise wRSM consistency (mean over hidden layers) rises from initialisation to the end of training",
                            float(c_rise.mean()), ">", 0.0, spread=_sd(c_rise), gated=False, kind="claim", source="pilot",
                            source_ref="pilot: consistency rises from 0.5-0.7 at initialisation"))
    lo_fam, hi_fam = thr["ve_lower_family"], thr["ve_higher_family"]
    if lo_fam in families and hi_fam in families:
        hi_layers = _hidden(per[per["family"] == hi_fam], controls)
        lo, hi = _ve(per, lo_fam, thr["ve_lower_layers"], last=True), _ve(per, hi_fam, hi_layers, last=True)
        lo0, hi0 = _ve(per, lo_fam, thr["ve_lower_layers"], last=False), _ve(per, hi_fam, hi_layers, last=False)
        common = lo.index.intersection(hi.index)
        claims.append(check(f"shared_geometry.main_grid.ve_{lo_fam}_below_{hi_fam}", "main_grid",
                            f"variance explained by the shared response: {lo_fam} layers {', '.join(thr['ve_lower_layers'])} below {hi_fam}'s hidden layers "
                            f"(difference of means; {lo_fam} {lo.mean():.3f} vs {hi_fam} {hi.mean():.3f}; spread over seeds)",
                            float(lo.mean() - hi.mean()), "<", 0.0, spread=_sd(lo.loc[common] - hi.loc[common]),
                            kind="claim", source="paper", source_ref="Lu et al. 2018, Fig. 4 middle row (ResNet middle layers explained less)",
                            control=("the same difference on the untrained networks (record point 0)", float(lo0.mean() - hi0.mean()))))
    return claims


def simulation(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """XOR copies by permutation and by orthogonal transform: similarity of the LOO inter-copy RSM to the
    within-copy RSM, native vs SRM-shared, linear (Pearson) and rank (Kendall tau-b), mean ± s.d. over
    simulations; and the first simulation's matrices (orthogonal copies).

    Claims (gated, per transform): shared r >= threshold, its control the same copies made from the
    network's activity with its points shuffled per copy (no shared geometry for the SRM to find);
    |native r| <= threshold, its control identical copies (aligned natively); reported: shared Kendall tau
    exceeds native, and the deterministic SRM's shared r.
    """
    table = pd.read_csv(inputs[0])
    arrays = np.load(inputs[1])
    thr = options["claims"]
    sims = table[table["transform"] != "none"]
    summary = sims.groupby(["transform", "space", "measure"], sort=False)["value"].agg(
        mean="mean", sd=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, n="count").reset_index()
    acc = table[table["measure"] == "test_acc"]["value"]
    style()
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.2), constrained_layout=True, gridspec_kw={"width_ratios": [1.3, 1.3, 1, 1, 1]})
    spaces = [("native", "0.6"), ("shared_probabilistic", "C0"), ("shared_deterministic", "C2")]
    for ax, transform in zip(axes[:2], ("orthogonal", "permutation")):
        s = summary[summary["transform"] == transform]
        for i, (space, color) in enumerate(spaces):
            d = s[s["space"] == space].set_index("measure").loc[["pearson", "kendall"]]
            ax.bar(np.arange(2) + (i - 1) * 0.27, d["mean"], width=0.27, yerr=d["sd"], capsize=2, color=color, label=space.replace("_", " "))
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks([0, 1], ["linear (r)", "rank (τ)"])
        ax.set(title=f"{transform} copies", ylabel="similarity to within-copy RSM", ylim=(-0.6, 1.05))
    axes[0].legend(frameon=False, fontsize=6, loc="lower left")
    for ax, (key, title) in zip(axes[2:], (("truth", "within-copy RSM"), ("shared_probabilistic", "inter-copy, shared"), ("native", "inter-copy, native"))):
        im = ax.imshow(arrays[f"orthogonal__{key}"], vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
        ax.set(title=title, xticks=[], yticks=[], xlabel="test points (4 clouds)")
    fig.colorbar(im, ax=axes[2:], shrink=0.8, label="Pearson r (orthogonal copies, simulation 0)")
    n = int(summary["n"].max())
    fig.suptitle(f"XOR simulation: {n} simulations of {options['n_copies']} copies (network test accuracy {acc.mean():.3f}); mean ± s.d. over simulations", fontsize=9)
    save(fig, out, summary)

    claims = []
    mean_r = lambda transform, space: float(sims[(sims["transform"] == transform) & (sims["space"] == space) & (sims["measure"] == "pearson")]["value"].mean())
    for transform in ("permutation", "orthogonal"):
        s = sims[sims["transform"] == transform]
        val = lambda space, m: s[(s["space"] == space) & (s["measure"] == m)].set_index("sim")["value"]
        shared, native = val("shared_probabilistic", "pearson"), val("native", "pearson")
        claims.append(check(f"shared_geometry.simulation.{transform}_shared", "simulation",
                            f"{transform} copies: after SRM the inter-copy RSM matches the within-copy RSM (mean Pearson r over simulations)",
                            float(shared.mean()), ">=", thr["sim_shared_min_r"], spread=_sd(shared),
                            kind="claim", source="paper", source_ref=f"{SIM_REF}; bound {thr['sim_shared_min_r']}: learnscope",
                            control=(f"{transform} copies of the network with its points shuffled per copy (no shared geometry)",
                                     mean_r(f"{transform}_unrelated", "shared_probabilistic"))))
        claims.append(check(f"shared_geometry.simulation.{transform}_native", "simulation",
                            f"{transform} copies: natively the inter-copy RSM does not match (|mean Pearson r| over simulations)",
                            abs(float(native.mean())), "<=", thr["sim_native_max_abs_r"], spread=_sd(native),
                            kind="claim", source="paper", source_ref=f"{SIM_REF}; bound {thr['sim_native_max_abs_r']}: learnscope",
                            control=("identical copies (no transform: aligned natively)", abs(mean_r("identity", "native")))))
        gap = val("shared_probabilistic", "kendall") - val("native", "kendall")
        claims.append(check(f"shared_geometry.simulation.{transform}_rank", "simulation",
                            f"{transform} copies: rank similarity (Kendall tau-b) shared minus native > 0",
                            float(gap.mean()), ">", 0.0, spread=_sd(gap), gated=False, kind="claim", source="paper", source_ref=SIM_REF))
        det = val("shared_deterministic", "pearson")
        claims.append(check(f"shared_geometry.simulation.{transform}_deterministic", "simulation",
                            f"{transform} copies: sensitivity — deterministic SRM shared r also >= {thr['sim_shared_min_r']}",
                            float(det.mean()), ">=", thr["sim_shared_min_r"], spread=_sd(det), gated=False,
                            kind="check", source="learnscope", source_ref="sensitivity to the SRM variant"))
    return claims


def class_rsms(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """Class-level RSMs (correlations of class-mean responses, mean over networks) over layers x training.

    Claim (reported): in the deepest hidden layer, the mean between-class correlation falls from
    initialisation to the end of training (classes become distinct).
    """
    arrays = np.load(inputs[0])
    layers, steps = [str(x) for x in arrays["layers"]], arrays["steps"]
    style()
    fig, axes = plt.subplots(len(layers), len(steps), figsize=(1.2 * len(steps), 1.25 * len(layers)), constrained_layout=True, squeeze=False)
    rows = []
    for i, layer in enumerate(layers):
        for t, step in enumerate(steps):
            m = arrays[f"{layer}__class_rsm__{t}"]
            im = axes[i, t].imshow(m, vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
            axes[i, t].set(xticks=[], yticks=[])
            if i == 0:
                axes[i, t].set_title(f"step {int(step)}", fontsize=7)
            if t == 0:
                axes[i, t].set_ylabel(layer, fontsize=7)
            a, b = np.meshgrid(np.arange(m.shape[0]), np.arange(m.shape[1]), indexing="ij")
            rows.append(pd.DataFrame({"layer": layer, "point": t, "step": int(step), "class_a": a.ravel(), "class_b": b.ravel(), "r": m.ravel()}))
    fig.colorbar(im, ax=axes, shrink=0.5, label="correlation of class-mean responses")
    fig.suptitle(f"{options['family']}: class-level RSMs over layers (rows) and training (columns), mean over networks", fontsize=9)
    data = pd.concat(rows, ignore_index=True)
    save(fig, out, data)
    hidden = [layer for layer in layers if layer not in options["controls"]]
    off = lambda t: float(np.mean(data[(data["layer"] == hidden[-1]) & (data["point"] == t) & (data["class_a"] != data["class_b"])]["r"]))
    return [check(f"shared_geometry.class_rsms.{options['family']}_classes_separate", "class_rsms",
                  f"{options['family']}/{hidden[-1]}: mean between-class correlation of class-mean responses falls over training (end minus init < 0)",
                  off(len(steps) - 1) - off(0), "<", 0.0, gated=False, kind="claim", source="paper",
                  source_ref="Lu et al. 2018, class-level RSMs over layers and epochs")]


def _smooth(y: np.ndarray, w: int) -> np.ndarray:
    """Moving average over consecutive images (rows), window ``w`` ('valid' part)."""
    kernel = np.ones(w) / w
    return np.stack([np.convolve(y[:, j], kernel, mode="valid") for j in range(y.shape[1])], axis=1)


def _joint_pca(xs: np.ndarray, dims: int = 3) -> np.ndarray:
    """Project every network's images x units response onto the top PCs of all networks' stacked responses."""
    stacked = np.concatenate([x.T for x in xs])
    mean = stacked.mean(0)
    _, _, vt = np.linalg.svd(stacked - mean, full_matrices=False)
    return np.stack([(x.T - mean) @ vt[:dims].T for x in xs])


def _dispersion(y: np.ndarray) -> float:
    """Between-network spread of matched points relative to the total spread (0: identical trajectories)."""
    return float(np.sum((y - y.mean(0)) ** 2) / np.sum((y - y.reshape(-1, y.shape[-1]).mean(0)) ** 2))


def trajectories(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """3-D PCA trajectories of several networks' responses to the class-sorted evaluation images, before
    (native) and after (shared space) SRM, smoothed over consecutive images (hypertools-style).

    Claim (reported): the between-network dispersion of the plotted trajectories is smaller after SRM.
    """
    arrays = np.load(inputs[0])
    layer, w = options["layer"], int(options["smooth"])
    style()
    fig = plt.figure(figsize=(8, 3.8), constrained_layout=True)
    rows, disp = [], {}
    for i, (space, title) in enumerate((("native", "before SRM (native)"), ("shared", "after SRM (shared space)"))):
        proj = _joint_pca(arrays[f"{layer}__{space}"])
        sm = np.stack([_smooth(p, w) for p in proj])
        disp[space] = _dispersion(sm)
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        for n, y in enumerate(sm):
            ax.plot(y[:, 0], y[:, 1], y[:, 2], lw=1, label=f"network {int(arrays['seeds'][n])}")
            rows.append(pd.DataFrame({"space": space, "network": int(arrays["seeds"][n]), "image": np.arange(len(y)), "pc1": y[:, 0], "pc2": y[:, 1], "pc3": y[:, 2]}))
        ax.set(title=f"{title}\nbetween-network dispersion {disp[space]:.2f}", xticks=[], yticks=[], zticks=[])
        ax.title.set_fontsize(8)
    fig.axes[0].legend(frameon=False, fontsize=6, loc="upper left")
    fig.suptitle(f"{options['family']}/{layer}: responses to class-sorted held-out images (moving average {w})", fontsize=9)
    save(fig, out, pd.concat(rows, ignore_index=True))
    return [check(f"shared_geometry.trajectories.{options['family']}_aligned", "trajectories",
                  "SRM aligns the networks' trajectories: between-network dispersion after / before SRM < 1",
                  disp["shared"] / disp["native"], "<", 1.0, gated=False, kind="claim", source="paper",
                  source_ref="Lu et al. 2018, Fig. 1 (trajectories before and after SRM)")]


FIGURES = {
    "three_rsms": three_rsms,
    "main_grid": main_grid,
    "simulation": simulation,
    "class_rsms": class_rsms,
    "trajectories": trajectories,
}
