"""Figures: one module per study. ``FIGURES[study][figure]`` is ``fn(inputs, out_png, options) -> claims``.

Each figure function writes ``out_png``, the same name with ``.pdf``, and the plotted data as ``.csv``, and returns
the claims it checks (see ``learnscope.claims``). ``FIGURES`` imports a study's module on first use
(``learnscope.registry``); a study that is a package (``figures/<study>/``) holds one module per figure, named
as the figure, with a function of that name (``figure_module``).
"""

from pathlib import Path

from learnscope.registry import LazyRegistry

STUDIES = (
    "rule_zoo",
    "neural_mechanics",
    "shared_geometry",
    "prospective_configuration",
    "robust_rnn",
    "identify_rules",
    "cross_study",
)

FIGURES = LazyRegistry({study: f"learnscope.figures.{study}:FIGURES" for study in STUDIES})


def figure_module(study: str, figure: str) -> str:
    """The dotted module that renders ``study``'s ``figure`` (not imported)."""
    module = FIGURES.module_of(study)
    return f"{module}.{figure}" if (Path(__file__).parent / study).is_dir() else module


__all__ = ["FIGURES", "STUDIES", "figure_module"]
