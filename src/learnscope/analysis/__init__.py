"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``.
"""

from learnscope.analysis import learning_curves

ANALYSES = {"learning-curves": learning_curves.main}

__all__ = ["ANALYSES"]
