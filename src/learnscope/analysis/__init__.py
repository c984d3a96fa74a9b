"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``.
"""

from learnscope.analysis import concept_drift, continual, interference, learning_curves, lr_grid, prospective_index, target_alignment, weight_space

ANALYSES = {
    "learning-curves": learning_curves.main,
    "interference": interference.main,
    "target-alignment": target_alignment.main,
    "prospective-index": prospective_index.main,
    "lr-grid": lr_grid.main,
    "concept-drift": concept_drift.main,
    "weight-space": weight_space.main,
    "continual": continual.main,
}

__all__ = ["ANALYSES"]
