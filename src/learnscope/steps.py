"""What each pipeline step runs: the module behind an analysis or a figure, and its code digest.

The digests are ``learnscope.provenance.step_digest`` over the step's import closure; Snakemake's rules
take them as ``params.code`` and ``learnscope.workflow_dvc`` lists the same closures as dvc.yaml's deps.
(Kept apart from ``provenance``, which the training code imports: the registries here are no part of
training's closure, so adding an analysis does not retrain anything.)
"""

from __future__ import annotations

from pathlib import Path

from learnscope.analysis import ANALYSES
from learnscope.errors import ConfigError
from learnscope.figures import FIGURES, figure_module
from learnscope.provenance import step_closure, step_digest


def analysis_module(name: str) -> str:
    """The module of ``learnscope analyze NAME``."""
    if name not in ANALYSES:
        raise ConfigError(f"no analysis {name!r} (known: {', '.join(ANALYSES)})")
    return ANALYSES.module_of(name)


def step_files(step: str, name: str = "", figure: str = "") -> tuple[Path, ...]:
    """The import closure of one step: ``("data")``, ``("train")``, ``("analysis", NAME)`` or
    ``("figure", STUDY, FIGURE)``."""
    if step == "analysis":
        return step_closure(step, analysis_module(name))
    if step == "figure":
        return step_closure(step, figure_module(name, figure))
    return step_closure(step)


def analysis_digest(name: str) -> str:
    """Code digest of ``learnscope analyze NAME`` (its CLI name, e.g. ``learning-curves``)."""
    return step_digest("analysis", analysis_module(name))


def figure_digest(study: str, figure: str) -> str:
    """Code digest of ``learnscope figure STUDY FIGURE``."""
    if study not in FIGURES:
        raise ConfigError(f"no figures for study {study!r} (known: {', '.join(FIGURES)})")
    return step_digest("figure", figure_module(study, figure))
