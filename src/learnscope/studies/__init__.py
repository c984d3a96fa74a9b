"""The studies: one package per study, ``learnscope.studies.<study>``, whose ``plan`` module lays out the
study's training runs and registers its figures as plain Python (the workflow's rule files call it).

A plan module exposes ``figures(cfg) -> {figure: {"inputs": [...], "options": {...}}}`` and functions
returning the resolved run configs (``learnscope.config.make_run``) its rules read; a study that uses
another study's runs imports that study's plan.
"""

STUDIES = (
    "rule_zoo",
    "neural_mechanics",
    "shared_geometry",
    "prospective_configuration",
    "robust_rnn",
    "identify_rules",
    "cross_study",
)

__all__ = ["STUDIES"]
