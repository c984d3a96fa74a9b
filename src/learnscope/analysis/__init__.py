"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``.
"""

from learnscope.analysis import (
    learning_curves,
    modified_equation,
    neuron_dynamics,
    shared_geometry,
    symmetry_dynamics,
    symmetry_fields,
    xor_simulation,
)

ANALYSES = {
    "learning-curves": learning_curves.main,
    "symmetry-dynamics": symmetry_dynamics.main,
    "neuron-dynamics": neuron_dynamics.main,
    "symmetry-fields": symmetry_fields.main,
    "modified-equation": modified_equation.main,
    "shared-geometry": shared_geometry.main,
    "xor-simulation": xor_simulation.main,
}

__all__ = ["ANALYSES"]
