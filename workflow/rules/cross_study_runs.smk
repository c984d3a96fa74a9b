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


# Figure `conservation`: neural mechanics' symmetry tracker under every rule of the zoo (its rule_zoo
# hyper-parameters, on the zoo's dataset), on the zoo's MLP (translation, rescale) and the same MLP with
# batch norm (scale). Own runs: the tracker observes every step, so the rule zoo's runs cannot serve.
from learnscope.config import make_run

CS_CONS = CS["conservation"]


def conservation_families():
    """Symmetry family -> the model label it is measured on (each family on exactly one model)."""
    out = {}
    for label, m in CS_CONS["models"].items():
        for family in m["families"]:
            if family in out:
                raise WorkflowError(f"cross_study.conservation.models: family {family!r} is measured on both {out[family]!r} and {label!r}; keep one")
            out[family] = label
    return out


def conservation_runs():
    """Every rule of cross_study.rules x every model x seed, less each model's exclude_rules."""
    zoo = config["rule_zoo"]
    unknown = [r for r in CS["rules"] if r not in zoo["rules"]]
    if unknown:
        raise WorkflowError(f"cross_study.rules {unknown} are not rule_zoo.rules labels ({', '.join(zoo['rules'])})")
    record = {**CS_CONS["record"], "layers": ["out"], "checkpoints": False, "per_step": [], "trackers": ["symmetry"]}
    return [
        make_run(config, dataset=zoo["dataset"], model=m["model"], rule=zoo["rules"][rule], train=CS_CONS["train"], record=record, seed=seed, rule_label=rule, model_label=label)
        for label, m in CS_CONS["models"].items()
        for rule in CS["rules"]
        if rule not in m.get("exclude_rules", [])
        for seed in CS_CONS["seeds"]
    ]


CS_CONSERVATION_RUNS = run_files(conservation_runs())
CS_CONSERVATION_FAMILIES = conservation_families()

FIGURES["cross_study"]["conservation"] = {
    "inputs": ["results/cross_study/conservation.csv"],
    "options": {"rules": CS["rules"], "threshold": CS_CONS["threshold"]},
}


FIGURES["cross_study"]["atlas"] = {
    "inputs": sorted({claim_file(p) for p in CS["atlas"]["columns"].values()}),
    "options": {"rules": CS["rules"], "columns": CS["atlas"]["columns"]},
}

STUDY_EXTRAS["cross_study"] = ["results/cross_study/findings.md"]
