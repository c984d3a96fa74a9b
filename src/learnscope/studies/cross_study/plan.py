"""Study ``cross_study`` (learnscope's own): the analyses of the five papers on every rule of the zoo.

Its figures read the rule zoo's and identify_rules' runs (through their plans) and only the extra runs laid
out here. Each figure states one claim per rule (id ``cross_study.<figure>.<quantity>.<rule>``, a rule_zoo
label); the atlas, registered last, tabulates the claims its columns name.
"""

from __future__ import annotations

import json

from learnscope.config import make_run
from learnscope.errors import ConfigError
from learnscope.studies.identify_rules import plan as identify_rules
from learnscope.studies.robust_rnn import plan as robust_rnn
from learnscope.tiers import roots


def results(cfg: dict) -> str:
    """The study's results folder in the configuration's tier."""
    return roots(cfg).study("cross_study")


def pc_observables(cfg: dict) -> str:
    """The PC runs' observables (beside identify_rules' observables.h5)."""
    return f"{results(cfg)}/observables_pc.h5"


def extras(cfg: dict) -> list[str]:
    """Files beside its figures, in its index: the findings in words."""
    return [f"{results(cfg)}/findings.md"]


def _zoo_labels(cfg: dict, labels: list[str], where: str) -> None:
    zoo = cfg["rule_zoo"]["rules"]
    unknown = [r for r in labels if r not in zoo]
    if unknown:
        raise ConfigError(f"{where} {unknown} are not rule_zoo.rules labels ({', '.join(zoo)})")


def rnn_runs(cfg: dict) -> dict[str, list[dict]]:
    """Figure ``dimensionality``: rule label -> robust_rnn's RNN task trained with that zoo rule (one run per seed;
    robust_rnn's task and schedule, the zoo rule's settings)."""
    rnn, rr = cfg["cross_study"]["dimensionality"]["rnn"], cfg["robust_rnn"]
    exp = {**rr["experiments"][rnn["experiment"]], "epochs": rnn["epochs"]}
    _zoo_labels(cfg, rnn["rules"], "cross_study.dimensionality.rnn.rules")
    return {
        r: [robust_rnn.run(cfg, exp, rnn["gamma"], s, learning=cfg["rule_zoo"]["rules"][r], rule_label=r) for s in rnn["seeds"]]
        for r in rnn["rules"]
    }


def conservation_families(cfg: dict) -> dict[str, str]:
    """Symmetry family -> the model label it is measured on (each family on exactly one model)."""
    out: dict[str, str] = {}
    for label, m in cfg["cross_study"]["conservation"]["models"].items():
        for family in m["families"]:
            if family in out:
                raise ConfigError(f"cross_study.conservation.models: family {family!r} is measured on both {out[family]!r} and {label!r}; keep one")
            out[family] = label
    return out


def conservation_runs(cfg: dict) -> list[dict]:
    """Figure ``conservation``: neural mechanics' symmetry tracker under every rule of cross_study.rules (its rule_zoo
    hyper-parameters, on the zoo's dataset) x every model x seed, less each model's exclude_rules. Own runs: the
    tracker observes every step, so the rule zoo's runs cannot serve."""
    cs, zoo = cfg["cross_study"], cfg["rule_zoo"]
    cons = cs["conservation"]
    _zoo_labels(cfg, cs["rules"], "cross_study.rules")
    record = {**cons["record"], "layers": ["out"], "checkpoints": False, "per_step": [], "trackers": ["symmetry"]}
    return [
        make_run(cfg, dataset=zoo["dataset"], model=m["model"], rule=zoo["rules"][rule], train=cons["train"], record=record,
                 seed=seed, rule_label=rule, model_label=label)
        for label, m in cons["models"].items()
        for rule in cs["rules"]
        if rule not in m.get("exclude_rules", [])
        for seed in cons["seeds"]
    ]


def pc_runs(cfg: dict) -> list[dict]:
    """Figure ``identify_pc``: predictive coding on identify_rules' grid (its architectures of the kinds named)."""
    pc = cfg["cross_study"]["identify_pc"]
    return list(identify_rules.runs(cfg, {pc["label"]: pc["rule"]}, pc["model_kinds"]))


def pc_classify_options(cfg: dict) -> dict:
    """identify_rules' classifier with the PC runs as a further class."""
    ir, pc = cfg["identify_rules"], cfg["cross_study"]["identify_pc"]
    return {
        **{k: ir["classify"][k] for k in ("splits", "test_fraction", "split_seed", "folds")},
        "classifiers": {"rf": ir["classify"]["classifiers"]["rf"]},
        "rules": [*ir["classify"]["rules"], pc["label"]],
        "experiment": "classes",
    }


def target_alignment_options(cfg: dict, activation: str) -> str:
    """Options (JSON) of the target-alignment analysis for one activation: the section less its claim keys."""
    sec = cfg["cross_study"]["target_alignment"]
    return json.dumps({**{k: v for k, v in sec.items() if k not in ("activations", "claim_activation")}, "activations": [activation]}, sort_keys=True)


def claim_file(cfg: dict, pattern: str) -> str:
    """The per-figure claims file holding the claims of an atlas column (<study>.<figure>.<name>)."""
    study, figure = pattern.split(".")[:2]
    return f"{roots(cfg).study(study)}/claims/{figure}.json"


def column_rules(cfg: dict, pattern: str) -> tuple[dict[str, dict], str]:
    """The rule settings (rule_zoo label -> rule spec) behind an atlas column's claims, and the spread its
    claims state (``seeds`` or ``splits``)."""
    cs, ir = cfg["cross_study"], cfg["identify_rules"]
    zoo = cfg["rule_zoo"]["rules"]
    figure = ".".join(pattern.split(".")[:2])
    if figure == "cross_study.identify_pc":
        rules = {ir["rules"][r]["name"]: ir["rules"][r] for r in ir["classify"]["rules"]}
        return {**rules, cs["identify_pc"]["label"]: cs["identify_pc"]["rule"]}, "splits"
    if figure == "cross_study.target_alignment":
        return dict(cs["target_alignment"]["rules"]), "seeds"
    if figure == "cross_study.dimensionality" and "rnn" in pattern:
        return {r: zoo[r] for r in cs["dimensionality"]["rnn"]["rules"]}, "seeds"
    return {r: zoo[r] for r in cs["rules"]}, "seeds"


def figures(cfg: dict) -> dict:
    cs, ir, rr = cfg["cross_study"], cfg["identify_rules"], cfg["robust_rnn"]
    dim, pc, ta = cs["dimensionality"], cs["identify_pc"], cs["target_alignment"]
    rnn_tables = {r: robust_rnn.measures(cfg, runs) for r, runs in rnn_runs(cfg).items()}
    out = results(cfg)
    return {
        # one joint SRM over the rule zoo's networks of every rule
        "geometry": {
            "inputs": [f"{out}/geometry.csv", f"{out}/geometry.pairs.csv"],
            "options": {"rules": cs["rules"], "layers": cs["geometry"]["layers"]},
        },
        # PR per layer of the rule zoo's runs, and of robust_rnn's RNN trained with the zoo rules that apply to it
        "dimensionality": {
            "inputs": [f"{out}/dimensionality.csv", *[p for ps in rnn_tables.values() for p in ps]],
            "options": {
                "rules": cs["rules"],
                "layers": dim["layers"],
                "claim_layer": dim["claim_layer"],
                "rnn_tables": rnn_tables,
                "eval_time": rr["figures"]["eval_time"],
                "rnn_task": f"robust_rnn {dim['rnn']['experiment']}, gamma {dim['rnn']['gamma']:g}, {dim['rnn']['epochs']} epochs",
            },
        },
        "conservation": {
            "inputs": [f"{out}/conservation.csv"],
            "options": {"rules": cs["rules"], "threshold": cs["conservation"]["threshold"]},
        },
        # identify_rules' rule labels map to rule_zoo labels by their rule `name`
        "identify_pc": {
            "inputs": [f"{out}/identify_pc.csv"],
            "options": {"labels": {**{r: ir["rules"][r]["name"] for r in ir["classify"]["rules"]}, pc["label"]: pc["label"]}, "rules": cs["rules"]},
        },
        # the prospective_configuration study's one-step target alignment over depth (no training runs)
        "target_alignment": {
            "inputs": [f"{out}/target_alignment/{act}.csv" for act in ta["activations"]],
            "options": {"activation": ta["claim_activation"], "width": ta["width"], "rules": cs["rules"]},
        },
        "atlas": {
            "inputs": sorted({claim_file(cfg, p) for p in cs["atlas"]["columns"].values()}),
            # columns as [label, claim pattern] pairs: the figure rule serialises options with sorted keys, and the
            # panel keeps the order params.yaml gives
            "options": {
                "rules": cs["rules"],
                "columns": [[label, p] for label, p in cs["atlas"]["columns"].items()],
                "settings": {label: column_rules(cfg, p)[0] for label, p in cs["atlas"]["columns"].items()},
                "spreads": {label: column_rules(cfg, p)[1] for label, p in cs["atlas"]["columns"].items()},
            },
        },
    }
