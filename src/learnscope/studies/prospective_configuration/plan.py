"""Study ``prospective_configuration``: predictive coding vs backprop (Song et al., Nat. Neurosci. 2024).
Model simulations (1-1-2 interference, 1->2 weight space, target alignment vs depth, prospective index) are
analysis steps that compute directly with the zoo's rules; they take no file inputs. The learning experiments
(depth, batch size, few data, CNN) are cached training runs over a learning-rate grid per rule (BP = sgd, PC);
concept drift (relabelling) and continual learning (alternating tasks) are analysis steps on the prepared
dataset; the behavioural models and DQN are self-contained simulations."""

from __future__ import annotations

import json

from learnscope.config import make_run
from learnscope.tiers import roots

SIMULATIONS = ("sensorimotor", "reversal", "fear_conditioning", "reinforcement", "alignment_steps", "pc_equivalence")
LR_GRIDS = ("depth", "batch_size", "few_data", "cnn")
FIGURES = ("interference", "weight_space", "target_alignment", "prospective_index", "depth", "batch_size", "concept_drift",
           "continual", "few_data", "cnn", *SIMULATIONS)


def options(cfg: dict, section: str) -> str:
    """An experiment's options for its analysis step (JSON): everything but its claim thresholds."""
    return json.dumps({k: v for k, v in cfg["prospective_configuration"][section].items() if k != "claims"}, sort_keys=True)


OPTIMIZER_KEYS = ("weight_decay", "betas", "momentum")
PC_KEYS = ("inference_discount", "schedule", "loss_weight")


def rule(label: str, lr: float, inference_steps: int, sec: dict) -> dict:
    """BP (the section's ``optimizer``, default plain SGD), PC (the same optimiser of its weights) or the
    step-matched control ``BP_matched`` at learning rate ``lr``."""
    optimizer = sec.get("optimizer", "sgd")
    opt = {k: sec[k] for k in OPTIMIZER_KEYS if k in sec}
    if label == "BP":
        return {"name": optimizer, "lr": lr, **opt}
    pc = {k: sec[k] for k in PC_KEYS if k in sec}
    if label == "BP_matched":  # the step-matched control: BP's gradient at the norm of PC's update
        pc["direction"] = "backprop_matched"
    return {"name": "predictive_coding", "lr": lr, "inference_steps": inference_steps, "inference_rate": sec["inference_rate"],
            **({"optimizer": optimizer} if "optimizer" in sec else {}), **opt, **pc}


def with_loss(train: dict, sec: dict) -> dict:
    """The run's train section with the experiment's loss and reduction (params: the paper's, squared
    error summed over the batch)."""
    return {**train, "loss": sec["loss"], "reduction": sec["reduction"]}


def record(label: str, sec: dict) -> dict:
    """The section's record spec; PC runs also record their relaxation's convergence (tracker relaxation)."""
    if label == "BP":
        return sec["record"]
    return {**sec["record"], "trackers": [*sec["record"].get("trackers", []), "relaxation"]}


def grid_runs(cfg: dict, sec: dict, conditions: list) -> list[dict]:
    """Runs of (condition label, model, train, PC inference steps, lr scale) x rule x its lr grid x seeds."""
    return [
        make_run(cfg, dataset=sec["dataset"], model=model, rule=rule(label_rule, lr * scale, steps, sec), train=with_loss(train, sec),
                 record=record(label_rule, sec), seed=seed, rule_label=label_rule, model_label=str(label))
        for label, model, train, steps, scale in conditions
        for label_rule in sec["lrs"]
        for lr in sec["lrs"][label_rule]
        for seed in sec["seeds"]
    ]


def depth_conditions(sec: dict) -> list:
    """Fig. 3f-h: depth L = weight layers, width ``width``, bias-free; PC gets T = steps_per_layer * L."""
    model = lambda L: {"kind": "mlp", "hidden": [sec["width"]] * (L - 1), "activation": sec["activation"], "bias": False, "init": sec["init"]}
    return [(L, model(L), sec["train"], sec["inference_steps_per_layer"] * L, 1.0) for L in sec["depths"]]


def batch_conditions(sec: dict) -> list:
    """Fig. 4b-c: the same number of training samples seen at every batch size. The lr grid is per
    sample: under the sum reduction batch size B trains at lr / B (the paper searched a grid per B)."""
    train = lambda B: {"steps": sec["samples"] // B, "batch_size": B}
    per_sample = sec["reduction"] == "sum"
    return [(B, sec["model"], train(B), sec["inference_steps"], 1.0 / B if per_sample else 1.0) for B in sec["batch_sizes"]]


def few_data_conditions(sec: dict) -> list:
    """Fig. 4h: ``per_class`` training images of each class, the same number of epochs at every size."""
    train = lambda n: {"per_class": n, "batch_size": sec["batch_size"], "steps": sec["epochs"] * n * sec["n_classes"] // sec["batch_size"]}
    return [(n, sec["model"], train(n), sec["inference_steps"], 1.0) for n in sec["per_class"]]


def cnn_conditions(sec: dict) -> list:
    """Fig. 4i: one conv net (PC by autograd through its conv layers)."""
    return [("cnn", sec["model"], sec["train"], sec["inference_steps"], 1.0)]


CONDITIONS = {"depth": depth_conditions, "batch_size": batch_conditions, "few_data": few_data_conditions, "cnn": cnn_conditions}


def runs(cfg: dict) -> dict[str, list[dict]]:
    """Learning-rate grid experiment -> its runs."""
    pc = cfg["prospective_configuration"]
    return {name: grid_runs(cfg, pc[name], CONDITIONS[name](pc[name])) for name in LR_GRIDS}


def figures(cfg: dict) -> dict:
    pc, out = cfg["prospective_configuration"], roots(cfg).study("prospective_configuration")
    return {name: {"inputs": [f"{out}/{name}.csv"], "options": {**pc[name]}} for name in FIGURES}
