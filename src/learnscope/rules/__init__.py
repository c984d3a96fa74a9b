"""The rule zoo. ``build_rule(config)`` returns the learning rule named by ``config['name']``."""

from __future__ import annotations

from learnscope.errors import ConfigError
from learnscope.rules.base import LearningRule, StepResult
from learnscope.rules.feedback import FeedbackAlignment, InformationAlignment
from learnscope.rules.gradient import SGD, Adam, GradientRule, Momentum, RMSprop
from learnscope.rules.predictive_coding import PredictiveCoding

RULES: dict[str, type[LearningRule]] = {
    cls.name: cls for cls in (SGD, Momentum, Adam, RMSprop, FeedbackAlignment, InformationAlignment, PredictiveCoding)
}

# keys that only some rules read: elsewhere they would be silently ignored, so they are refused
RULE_ONLY_KEYS = {"feedback_lr": ("information_alignment",)}


def build_rule(config: dict) -> LearningRule:
    name = config.get("name")
    if name not in RULES:
        raise ConfigError(f"learning rule {name!r} is not in the zoo (allowed: {', '.join(RULES)})")
    for key, rules in RULE_ONLY_KEYS.items():
        if key in config and name not in rules:
            raise ConfigError(f"learning rule {name!r} does not use {key!r} (only {', '.join(rules)} does); remove it from the rule's config")
    return RULES[name](config)


__all__ = ["RULES", "GradientRule", "LearningRule", "StepResult", "build_rule"]
