"""Figures: one module per study. ``FIGURES[study][figure]`` is ``fn(inputs, out_prefix, options) -> claims``.

Each figure function writes ``<out_prefix>.png``, ``.pdf`` and the plotted data as ``.csv``, and returns
the claims it checks (see ``learnscope.claims``).
"""

from learnscope.figures import neural_mechanics, rule_zoo

FIGURES = {"rule_zoo": rule_zoo.FIGURES, "neural_mechanics": neural_mechanics.FIGURES}

__all__ = ["FIGURES"]
