"""Figures: one module per study. ``FIGURES[study][figure]`` is ``fn(inputs, out_png, options) -> claims``.

Each figure function writes ``out_png``, the same name with ``.pdf``, and the plotted data as ``.csv``, and returns
the claims it checks (see ``learnscope.claims``).
"""

from learnscope.figures import cross_study, identify_rules, neural_mechanics, prospective_configuration, robust_rnn, rule_zoo, shared_geometry

FIGURES = {
    "rule_zoo": rule_zoo.FIGURES,
    "neural_mechanics": neural_mechanics.FIGURES,
    "shared_geometry": shared_geometry.FIGURES,
    "prospective_configuration": prospective_configuration.FIGURES,
    "robust_rnn": robust_rnn.FIGURES,
    "identify_rules": identify_rules.FIGURES,
    "cross_study": cross_study.FIGURES,
}

__all__ = ["FIGURES"]
