"""Study ``rule_zoo``: every learning rule of the zoo on one task, models x rules x seeds (learning curves),
and the same grid on shuffled training labels, the negative control of its learning claims."""

from __future__ import annotations

from learnscope.config import grid_runs
from learnscope.tiers import roots


def runs(cfg: dict) -> list[dict]:
    """The grid ``rule_zoo.models`` x ``rules`` x ``seeds`` on its dataset."""
    return grid_runs(cfg, "rule_zoo")


def control_runs(cfg: dict) -> list[dict]:
    """The same models x rules on ``rule_zoo.control.dataset`` (the dataset with its training labels shuffled,
    checked by learnscope.references) for ``rule_zoo.control.seeds``."""
    sec = cfg["rule_zoo"]
    return grid_runs({**cfg, "rule_zoo": {**sec, **sec["control"]}}, "rule_zoo")


def figures(cfg: dict) -> dict:
    out = roots(cfg).study("rule_zoo")
    inputs = [f"{out}/learning_curves.csv", f"{out}/control_curves.csv"]
    return {"learning_curves": {"inputs": inputs, "options": cfg["rule_zoo"]["claims"]}}
