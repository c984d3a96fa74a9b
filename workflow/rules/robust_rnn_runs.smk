# Study `robust_rnn`: its runs and figures (registered for the generic train and figure rules).
# Python helpers live here, apart from the rule file, which stays declarative.

# Farrell et al. (Nat. Mach. Intell. 2022): tanh RNNs at the edge of chaos (gamma 20) and strongly chaotic
# (gamma 250) trained on delayed classification of Gaussian clusters (an online task: fresh samples every
# epoch). Each experiment x gamma x seed is one run; epoch 0 of a run is "before training".

from learnscope.config import make_run

RR = config["robust_rnn"]
LOSS_LABEL = {"cross_entropy": "cce", "mse_onehot": "mse"}


def rr_run(exp, gamma, seed, rule=None, rule_label=None):
    """One run of experiment ``exp`` (a mapping under robust_rnn.experiments) at gain ``gamma``. Numbers are
    normalised (gamma 20 and 20.0 are one configuration, so one run id). ``rule`` (other studies' extra runs):
    a learning rule in place of the study's RMSprop, keeping its learning-rate schedule, labelled
    ``<rule_label>-<loss>``; None (the study's own runs) leaves their identities unchanged."""
    model = {**RR["model"], "gain": float(gamma), "input_init": exp.get("input_init", RR["model"]["input_init"])}
    loss = exp.get("loss", "cross_entropy")
    train = {**RR["train"], "epochs": exp["epochs"], "loss": loss}
    if rule is None:
        optimiser, rule_label = {**RR["rule"], "lr": float(exp.get("lr", RR["rule"]["lr"]))}, LOSS_LABEL[loss]
    else:
        optimiser = {**rule, "lr": float(rule["lr"]), "scheduler": RR["rule"]["scheduler"]}
        rule_label = f"{rule_label or rule['name']}-{LOSS_LABEL[loss]}"
    label = f"g{gamma:g}" + ("" if model["input_init"] == "orthogonal" else f"-{model['input_init']}")
    return make_run(config, dataset=exp["dataset"], model=model, rule=optimiser, train=train, record=RR["record"], seed=seed,
                    rule_label=rule_label, model_label=label)


def rr_runs(name):
    """Record paths of an experiment's runs: its gammas x its seeds."""
    exp = RR["experiments"][name]
    return run_files(rr_run(exp, g, s) for g in exp.get("gammas", RR["gammas"]) for s in exp.get("seeds", RR["seeds"]))


def rr_measures(run_paths):
    """The measurement tables (results/robust_rnn/runs/<run_id>.csv) of run records."""
    return [p.replace("results/runs/", "results/robust_rnn/runs/").replace(".h5", ".csv") for p in run_paths]


def rr_tables(name):
    """Per-run measurement tables (and their PCA snapshots) of an experiment."""
    paths = rr_measures(rr_runs(name))
    return paths + [p.replace(".csv", ".snapshots.csv") for p in paths]


RR_FIGURES = {  # figure -> the experiments it reads
    "fig2_high_d": ["high_d"],
    "fig3_low_d": ["low_d"],
    "fig4_two_neuron": ["two_neuron"],
    "fig5_mse": ["mse_high_d", "mse_low_d", "high_d", "low_d"],
    "supp_gamma_sweep": ["gamma_sweep"],
}

FIGURES["robust_rnn"] = {
    fig: {"inputs": sorted({p for name in names for p in rr_tables(name)}), "options": {"claims": RR["claims"], "figures": RR["figures"]}}
    for fig, names in RR_FIGURES.items()
}
