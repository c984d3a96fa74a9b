"""Study ``robust_rnn`` (Farrell et al., Nat. Mach. Intell. 2022): tanh RNNs at the edge of chaos (gamma 20) and
strongly chaotic (gamma 250) trained on delayed classification of Gaussian clusters (an online task: fresh
samples every epoch). Each experiment x gamma x seed is one run; epoch 0 of a run is "before training".
Figures 2 and 3 are built twice: on the original code's cluster centres and on independently drawn ones.
One measurement table per run (results/robust_rnn/runs/<run_id>.csv and its PCA snapshots)."""

from __future__ import annotations

from learnscope.config import make_run
from learnscope.record.identity import run_id
from learnscope.tiers import roots

LOSS_LABEL = {"cross_entropy": "cce", "mse_onehot": "mse"}

FIGURE_EXPERIMENTS = {  # figure -> the experiments it reads
    "fig2_high_d": ["high_d"],
    "fig3_low_d": ["low_d"],
    "fig2_high_d_independent": ["high_d_independent"],
    "fig3_low_d_independent": ["low_d_independent"],
    "fig4_two_neuron": ["two_neuron"],
    "fig5_mse": ["mse_high_d", "mse_low_d", "high_d", "low_d"],
    "supp_gamma_sweep": ["gamma_sweep"],
}


def run(cfg: dict, exp: dict, gamma: float, seed: int, learning: dict | None = None, rule_label: str | None = None) -> dict:
    """One run of experiment ``exp`` (a mapping under robust_rnn.experiments) at gain ``gamma``. Numbers are
    normalised (gamma 20 and 20.0 are one configuration, so one run id). ``learning`` (other studies' extra runs):
    a learning rule in place of the study's RMSprop, keeping its learning-rate schedule, labelled
    ``<rule_label>-<loss>``; None (the study's own runs) leaves their identities unchanged."""
    rr = cfg["robust_rnn"]
    model = {**rr["model"], "gain": float(gamma), "input_init": exp.get("input_init", rr["model"]["input_init"])}
    loss = exp.get("loss", "cross_entropy")
    train = {**rr["train"], "epochs": exp["epochs"], "loss": loss}
    if learning is None:
        optimiser, rule_label = {**rr["rule"], "lr": float(exp.get("lr", rr["rule"]["lr"]))}, LOSS_LABEL[loss]
    else:
        optimiser = {**learning, "lr": float(learning["lr"]), "scheduler": rr["rule"]["scheduler"]}
        rule_label = f"{rule_label or learning['name']}-{LOSS_LABEL[loss]}"
    label = f"g{gamma:g}" + ("" if model["input_init"] == "orthogonal" else f"-{model['input_init']}")
    return make_run(cfg, dataset=exp["dataset"], model=model, rule=optimiser, train=train, record=rr["record"], seed=seed,
                    rule_label=rule_label, model_label=label)


def experiment_runs(cfg: dict, name: str) -> list[dict]:
    """An experiment's runs: its gammas x its seeds."""
    rr = cfg["robust_rnn"]
    exp = rr["experiments"][name]
    return [run(cfg, exp, g, s) for g in exp.get("gammas", rr["gammas"]) for s in exp.get("seeds", rr["seeds"])]


def runs(cfg: dict) -> list[dict]:
    """Every run the study's figures read."""
    names = sorted({n for names in FIGURE_EXPERIMENTS.values() for n in names})
    return [r for name in names for r in experiment_runs(cfg, name)]


def measures(cfg: dict, runs: list[dict]) -> list[str]:
    """The measurement tables (results/robust_rnn/runs/<run_id>.csv, in the tier's results) of runs."""
    out = roots(cfg).study("robust_rnn")
    return [f"{out}/runs/{run_id(r)}.csv" for r in runs]


def tables(cfg: dict, name: str) -> list[str]:
    """Per-run measurement tables (and their PCA snapshots) of an experiment."""
    paths = measures(cfg, experiment_runs(cfg, name))
    return paths + [p.replace(".csv", ".snapshots.csv") for p in paths]


def figures(cfg: dict) -> dict:
    rr = cfg["robust_rnn"]
    options = {"claims": rr["claims"], "figures": rr["figures"]}
    return {
        fig: {"inputs": sorted({p for name in names for p in tables(cfg, name)}), "options": options}
        for fig, names in FIGURE_EXPERIMENTS.items()
    }
