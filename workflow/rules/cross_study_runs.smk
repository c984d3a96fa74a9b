# Study `cross_study` (learnscope's own): the analyses of the five papers on every rule of the zoo.
# Its figures read the rule zoo's and identify_rules' runs and only the extra runs registered here.
# Each figure states one claim per rule (id cross_study.<figure>.<quantity>.<rule>, a rule_zoo label);
# the atlas, registered last, tabulates the claims its columns name.

CS = config["cross_study"]

FIGURES["cross_study"] = {}


# Figure `geometry`: one joint SRM over the rule zoo's networks of every rule (rule job cross_study_geometry).
FIGURES["cross_study"]["geometry"] = {
    "inputs": ["results/cross_study/geometry.csv", "results/cross_study/geometry.pairs.csv"],
    "options": {"rules": CS["rules"], "layers": CS["geometry"]["layers"]},
}


# Figure `dimensionality`: PR per layer of the rule zoo's runs, and of robust_rnn's RNN trained with the zoo
# rules that apply to it (extra runs: robust_rnn's task and schedule, the zoo rule's settings).
CS_DIM = CS["dimensionality"]


def cs_rnn_runs():
    """rule label -> record paths of the extra RNN runs (one per seed)."""
    rnn = CS_DIM["rnn"]
    exp = {**RR["experiments"][rnn["experiment"]], "epochs": rnn["epochs"]}
    unknown = [r for r in rnn["rules"] if r not in config["rule_zoo"]["rules"]]
    if unknown:
        raise ValueError(f"cross_study.dimensionality.rnn.rules {unknown} are not rule_zoo.rules labels ({', '.join(config['rule_zoo']['rules'])})")
    return {
        r: run_files(rr_run(exp, rnn["gamma"], s, rule=config["rule_zoo"]["rules"][r], rule_label=r) for s in rnn["seeds"])
        for r in rnn["rules"]
    }


CS_RNN_TABLES = {r: rr_measures(paths) for r, paths in cs_rnn_runs().items()}

FIGURES["cross_study"]["dimensionality"] = {
    "inputs": ["results/cross_study/dimensionality.csv", *[p for ps in CS_RNN_TABLES.values() for p in ps]],
    "options": {
        "rules": CS["rules"],
        "layers": CS_DIM["layers"],
        "claim_layer": CS_DIM["claim_layer"],
        "rnn_tables": CS_RNN_TABLES,
        "eval_time": RR["figures"]["eval_time"],
        "rnn_task": f"robust_rnn {CS_DIM['rnn']['experiment']}, gamma {CS_DIM['rnn']['gamma']:g}, {CS_DIM['rnn']['epochs']} epochs",
    },
}


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


# Figure target_alignment: the prospective_configuration study's one-step target alignment over depth,
# for every rule it applies to (no training runs: toy networks built by the analysis).
def cs_target_alignment_options(activation):
    """Options of the target-alignment analysis for one activation: the section less its claim keys."""
    sec = CS["target_alignment"]
    return json.dumps({**{k: v for k, v in sec.items() if k not in ("activations", "claim_activation")}, "activations": [activation]}, sort_keys=True)


FIGURES["cross_study"]["target_alignment"] = {
    "inputs": [f"results/cross_study/target_alignment/{act}.csv" for act in CS["target_alignment"]["activations"]],
    "options": {"activation": CS["target_alignment"]["claim_activation"], "width": CS["target_alignment"]["width"], "rules": CS["rules"]},
}


FIGURES["cross_study"]["atlas"] = {
    "inputs": sorted({claim_file(p) for p in CS["atlas"]["columns"].values()}),
    # columns as [label, claim pattern] pairs: the figure rule serialises options with sorted keys, and the
    # panel keeps the order params.yaml gives
    "options": {"rules": CS["rules"], "columns": [[label, p] for label, p in CS["atlas"]["columns"].items()]},
}

STUDY_EXTRAS["cross_study"] = ["results/cross_study/findings.md"]
