# Study `prospective_configuration`: its runs and figures (registered for the generic train and figure rules).
# Python helpers live here, apart from the rule file, which stays declarative.

# Study `prospective_configuration`: predictive coding vs backprop (Song et al., Nat. Neurosci. 2024).
# Model simulations (1-1-2 interference, 1->2 weight space, target alignment vs depth, prospective index) are analysis
# steps that compute directly with the zoo's rules; they take no file inputs. The learning experiments
# (depth, batch size) are cached training runs over a learning-rate grid per rule (BP = sgd, PC);
# concept drift (relabelling) and continual learning (alternating tasks) are analysis steps on the
# prepared dataset.

from learnscope.config import make_run

PC = config["prospective_configuration"]


def pc_options(section):
    """An experiment's options for its analysis step: everything but its claim thresholds."""
    return json.dumps({k: v for k, v in PC[section].items() if k != "claims"}, sort_keys=True)


def pc_rule(label, lr, inference_steps, sec):
    """BP (plain SGD) or PC at learning rate ``lr``."""
    if label == "BP":
        return {"name": "sgd", "lr": lr}
    return {"name": "predictive_coding", "lr": lr, "inference_steps": inference_steps, "inference_rate": sec["inference_rate"]}


def pc_grid_runs(sec, conditions):
    """Runs of (condition label, model, train, PC inference steps) x rule x its lr grid x seeds."""
    return [
        make_run(config, dataset=sec["dataset"], model=model, rule=pc_rule(label_rule, lr, steps, sec), train=train,
                 record=sec["record"], seed=seed, rule_label=label_rule, model_label=str(label))
        for label, model, train, steps in conditions
        for label_rule in ("BP", "PC")
        for lr in sec["lrs"][label_rule]
        for seed in sec["seeds"]
    ]


def pc_depth_conditions(sec):
    """Fig. 3f-h: depth L = weight layers, width ``width``, bias-free; PC gets T = steps_per_layer * L."""
    model = lambda L: {"kind": "mlp", "hidden": [sec["width"]] * (L - 1), "activation": sec["activation"], "bias": False, "init": sec["init"]}
    return [(L, model(L), sec["train"], sec["inference_steps_per_layer"] * L) for L in sec["depths"]]


def pc_batch_conditions(sec):
    """Fig. 4b-c: the same number of training samples seen at every batch size."""
    train = lambda B: {"steps": sec["samples"] // B, "batch_size": B}
    return [(B, sec["model"], train(B), sec["inference_steps"]) for B in sec["batch_sizes"]]


def pc_few_data_conditions(sec):
    """Fig. 4h: ``per_class`` training images of each class, the same number of epochs at every size."""
    train = lambda n: {"per_class": n, "batch_size": sec["batch_size"], "steps": sec["epochs"] * n * sec["n_classes"] // sec["batch_size"]}
    return [(n, sec["model"], train(n), sec["inference_steps"]) for n in sec["per_class"]]


def pc_cnn_conditions(sec):
    """Fig. 4i: one conv net (PC by autograd through its conv layers)."""
    return [("cnn", sec["model"], sec["train"], sec["inference_steps"])]


PC_LR_GRIDS = {
    "depth": run_files(pc_grid_runs(PC["depth"], pc_depth_conditions(PC["depth"]))),
    "batch_size": run_files(pc_grid_runs(PC["batch_size"], pc_batch_conditions(PC["batch_size"]))),
    "few_data": run_files(pc_grid_runs(PC["few_data"], pc_few_data_conditions(PC["few_data"]))),
    "cnn": run_files(pc_grid_runs(PC["cnn"], pc_cnn_conditions(PC["cnn"]))),
}
PC_SIMULATIONS = ("sensorimotor", "reversal", "fear_conditioning", "reinforcement")

FIGURES["prospective_configuration"] = {
    name: {"inputs": [f"results/prospective_configuration/{name}.csv"], "options": {**PC[name]}}
    for name in (
        "interference", "weight_space", "target_alignment", "prospective_index", "depth", "batch_size", "concept_drift", "continual",
        "few_data", "cnn", *PC_SIMULATIONS,
    )
}
