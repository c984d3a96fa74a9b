# Study `cross_study` (learnscope's own): the analyses of the five papers on every rule of the zoo.
# Its figures read the rule zoo's and identify_rules' runs and only the extra runs registered here.
# Each figure states one claim per rule (id cross_study.<figure>.<quantity>.<rule>, a rule_zoo label);
# the atlas, registered last, tabulates the claims its columns name.

CS = config["cross_study"]

FIGURES["cross_study"] = {}


def claim_file(pattern):
    """The per-figure claims file holding the claims of an atlas column (<study>.<figure>.<name>)."""
    study, figure = pattern.split(".")[:2]
    return f"results/{study}/claims/{figure}.json"


# Figure identify_pc: predictive coding trained on identify_rules' grid (its architectures of the kinds
# named; identify_rules' own runs are reused), its observables, and identify_rules' classifier with the
# PC runs as a further class. identify_rules' rule labels map to rule_zoo labels by their rule `name`.
CS_PC = CS["identify_pc"]
CS_PC_RUNS = run_files(ir_runs({CS_PC["label"]: CS_PC["rule"]}, CS_PC["model_kinds"]))
CS_PC_OBSERVABLES = "results/cross_study/observables_pc.h5"
CS_PC_OPTIONS = {
    **{k: IR["classify"][k] for k in ("splits", "test_fraction", "split_seed", "folds")},
    "classifiers": {"rf": IR["classify"]["classifiers"]["rf"]},
    "rules": [*IR["classify"]["rules"], CS_PC["label"]],
    "experiment": "classes",
}
FIGURES["cross_study"]["identify_pc"] = {
    "inputs": ["results/cross_study/identify_pc.csv"],
    "options": {"labels": {**{r: IR["rules"][r]["name"] for r in IR["classify"]["rules"]}, CS_PC["label"]: CS_PC["label"]}, "rules": CS["rules"]},
}


FIGURES["cross_study"]["atlas"] = {
    "inputs": sorted({claim_file(p) for p in CS["atlas"]["columns"].values()}),
    "options": {"rules": CS["rules"], "columns": CS["atlas"]["columns"]},
}

STUDY_EXTRAS["cross_study"] = ["results/cross_study/findings.md"]
