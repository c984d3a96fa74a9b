# Study `identify_rules`: its runs and figures (registered for the generic train and figure rules).
# Runs: tasks x their architectures x rules x batch sizes (the task's, else the study's) x model seeds x
# data seeds, 21 record points.

from learnscope.config import make_run

IR = config["identify_rules"]


def ir_runs(rules=None, model_kinds=None):
    """The study's grid; ``rules`` (label -> rule spec, default the study's) and ``model_kinds`` (only
    architectures of these kinds, default all) let another study train further rules on the same grid."""
    for task, spec in IR["tasks"].items():
        for model in spec["models"]:
            if model_kinds is not None and IR["models"][model]["kind"] not in model_kinds:
                continue
            for rule_label, rule_spec in (IR["rules"] if rules is None else rules).items():
                for bs in spec.get("batch_sizes", IR["batch_sizes"]):
                    for seed in IR["seeds"]:
                        for data_seed in IR["data_seeds"]:
                            train = {**IR["train"], "batch_size": bs, "data_seed": data_seed}
                            yield make_run(config, dataset=spec["dataset"], model=IR["models"][model], rule=rule_spec, train=train, record=IR["record"], seed=seed, rule_label=rule_label, model_label=model)


IR_RUNS = run_files(ir_runs())
IR_DATA = sorted({f"data/prepared/{spec['dataset']}.h5" for spec in IR["tasks"].values()})
IR_OBSERVABLES = "results/identify_rules/observables.h5"
IR_EXPERIMENTS = ["accuracy", "importance", "access", "robustness", "generalisation"]
IR_FIGURE_OPTIONS = {**IR["claims"], **IR["figures"], "rules": IR["classify"]["rules"], "window": IR["classify"]["window"]}

FIGURES["identify_rules"] = {
    "trajectories": {"inputs": [IR_OBSERVABLES], "options": IR_FIGURE_OPTIONS},
    "accuracy": {"inputs": ["results/identify_rules/accuracy.csv"], "options": IR_FIGURE_OPTIONS},
    "importance": {"inputs": ["results/identify_rules/importance.csv"], "options": IR_FIGURE_OPTIONS},
    "access": {"inputs": ["results/identify_rules/access.csv"], "options": IR_FIGURE_OPTIONS},
    "robustness": {"inputs": ["results/identify_rules/robustness.csv"], "options": {**IR_FIGURE_OPTIONS, "variants": IR["observables"]["variants"]}},
    "generalisation": {"inputs": ["results/identify_rules/generalisation.csv"], "options": IR_FIGURE_OPTIONS},
}
