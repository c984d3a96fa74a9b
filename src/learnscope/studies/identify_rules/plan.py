"""Study ``identify_rules`` (Nayebi et al., NeurIPS 2020): tasks x their architectures x rules x batch sizes (the
task's, else the study's) x model seeds x data seeds, 21 record points -> the observables dataset
(results/identify_rules/observables.h5, the paper's dataset.pkl) -> one table per classifier experiment."""

from __future__ import annotations

from collections.abc import Iterator

from learnscope.config import make_run
from learnscope.errors import ConfigError
from learnscope.record.identity import run_id
from learnscope.tiers import roots

EXPERIMENTS = ("accuracy", "importance", "access", "robustness", "generalisation")
LEARNED_FEEDBACK = "information_alignment"  # its runs record the ``feedback`` tracker (B diagnostics)


def record_spec(ir: dict, rule_spec: dict) -> dict:
    """The study's record spec; information alignment's runs add the ``feedback`` tracker."""
    if rule_spec["name"] != LEARNED_FEEDBACK:
        return ir["record"]
    return {**ir["record"], "trackers": [*ir["record"].get("trackers", []), "feedback"]}


def runs(cfg: dict, rules: dict | None = None, model_kinds: list[str] | None = None) -> Iterator[dict]:
    """The study's grid; ``rules`` (label -> rule spec, default the study's) and ``model_kinds`` (only
    architectures of these kinds, default all) let another study train further rules on the same grid."""
    ir = cfg["identify_rules"]
    for spec in ir["tasks"].values():
        for model in spec["models"]:
            if model_kinds is not None and ir["models"][model]["kind"] not in model_kinds:
                continue
            for rule_label, rule_spec in (ir["rules"] if rules is None else rules).items():
                for bs in spec.get("batch_sizes", ir["batch_sizes"]):
                    for seed in ir["seeds"]:
                        for data_seed in ir["data_seeds"]:
                            train = {**ir["train"], "batch_size": bs, "data_seed": data_seed}
                            yield make_run(cfg, dataset=spec["dataset"], model=ir["models"][model], rule=rule_spec, train=train,
                                           record=record_spec(ir, rule_spec), seed=seed, rule_label=rule_label, model_label=model)


def observables(cfg: dict) -> str:
    """The observables dataset (the paper's dataset.pkl), in the tier's results."""
    return f"{roots(cfg).study('identify_rules')}/observables.h5"


def selection_runs(cfg: dict) -> list[dict]:
    """Information alignment's ``feedback_lr`` selection (``identify_rules.feedback_selection``): IA at every
    candidate feedback_lr on the selection networks, whose model seeds are outside the study's reported
    seeds (so no reported network, nor its initialisation, takes part in the choice). Figure ``feedback``
    picks the smallest candidate at which B converges there and checks it is the configured one."""
    ir = cfg["identify_rules"]
    sel = ir.get("feedback_selection")
    if not sel:
        return []
    clash = sorted(set(sel["seeds"]) & set(ir["seeds"]))
    if clash:
        raise ConfigError(f"identify_rules.feedback_selection.seeds {clash} are reported seeds (identify_rules.seeds {ir['seeds']}): "
                          "feedback_lr must be chosen on networks outside the reported set")
    out = []
    for label, spec in ir["rules"].items():
        if spec["name"] != LEARNED_FEEDBACK:
            continue
        for lr in sel["candidates"]:
            rule = {**spec, "feedback_lr": lr}
            for model in sel["models"]:
                for bs in sel["batch_sizes"]:
                    for seed in sel["seeds"]:
                        train = {**ir["train"], "batch_size": bs, "data_seed": ir["data_seeds"][0]}
                        out.append(make_run(cfg, dataset=ir["tasks"][sel["task"]]["dataset"], model=ir["models"][model], rule=rule, train=train,
                                            record=record_spec(ir, rule), seed=seed, rule_label=label, model_label=model))
    return out


def data_files(cfg: dict) -> list[str]:
    """The prepared datasets of its tasks (the observables read their probe inputs)."""
    return sorted({roots(cfg).prepared(spec["dataset"]) for spec in cfg["identify_rules"]["tasks"].values()})


def figures(cfg: dict) -> dict:
    ir = cfg["identify_rules"]
    options = {**ir["claims"], **ir["figures"], "rules": ir["classify"]["rules"], "window": ir["classify"]["window"]}
    tier = roots(cfg)
    out = {"trajectories": {"inputs": [observables(cfg)], "options": options}}
    ia = [tier.run(run_id(r)) for r in runs(cfg) if r["rule"]["name"] == LEARNED_FEEDBACK]
    if ia:
        sel = {tier.run(run_id(r)): r["rule"]["feedback_lr"] for r in selection_runs(cfg)}
        selection = {"runs": sel, **{k: ir["feedback_selection"][k] for k in ("task", "models", "batch_sizes", "seeds", "candidates")}} if sel else None
        out["feedback"] = {"inputs": ia + list(sel), "options": {**options, "selection": selection,
                                                                 "feedback_lr": {k: v.get("feedback_lr") for k, v in ir["rules"].items() if v["name"] == LEARNED_FEEDBACK}}}
    for experiment in EXPERIMENTS:
        extra = {"variants": ir["observables"]["variants"]} if experiment == "robustness" else {}
        out[experiment] = {"inputs": [f"{tier.study('identify_rules')}/{experiment}.csv"], "options": {**options, **extra}}
    return out
