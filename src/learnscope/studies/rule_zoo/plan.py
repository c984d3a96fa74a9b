"""Study ``rule_zoo``: every learning rule of the zoo on one task, models x rules x seeds (learning curves)."""

from __future__ import annotations

from learnscope.config import grid_runs


def runs(cfg: dict) -> list[dict]:
    """The grid ``rule_zoo.models`` x ``rules`` x ``seeds`` on its dataset."""
    return grid_runs(cfg, "rule_zoo")


def figures(cfg: dict) -> dict:
    return {"learning_curves": {"inputs": ["results/rule_zoo/learning_curves.csv"], "options": cfg["rule_zoo"]["claims"]}}
