"""Beyond the five papers: the analyses of every study on every learning rule of the zoo (learnscope's own).

One module per figure. Each figure states, per rule, one key number as a reported claim with id
``cross_study.<figure>.<quantity>.<rule>`` (``rule`` a rule_zoo label) and its spread over seeds; the atlas
collects those claims (and any other study's, e.g. the rule zoo's test accuracy) into one panel.
``FIGURES`` imports a figure's module on first use.
"""

from learnscope.registry import LazyRegistry

FIGURES = LazyRegistry(
    {
        fig: f"learnscope.figures.cross_study.{fig}:{fig}"
        for fig in ("identify_pc", "conservation", "geometry", "dimensionality", "target_alignment", "atlas")
    }
)

__all__ = ["FIGURES"]
