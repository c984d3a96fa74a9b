"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``.
"""

from learnscope.analysis import learning_curves, shared_geometry, xor_simulation

ANALYSES = {
    "learning-curves": learning_curves.main,
    "shared-geometry": shared_geometry.main,
    "xor-simulation": xor_simulation.main,
}

__all__ = ["ANALYSES"]
