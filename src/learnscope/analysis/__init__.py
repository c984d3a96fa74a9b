"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``.
"""

from learnscope.analysis import (
    concept_drift,
    conservation,
    continual,
    fear_conditioning,
    interference,
    layer_dimensionality,
    learning_curves,
    lr_grid,
    modified_equation,
    neuron_dynamics,
    observables,
    prospective_index,
    reinforcement,
    reversal,
    robust_rnn,
    rule_geometry,
    rule_alignment,
    sensorimotor,
    rule_classifiers,
    shared_geometry,
    symmetry_dynamics,
    symmetry_fields,
    target_alignment,
    weight_space,
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
    "interference": interference.main,
    "target-alignment": target_alignment.main,
    "prospective-index": prospective_index.main,
    "lr-grid": lr_grid.main,
    "concept-drift": concept_drift.main,
    "weight-space": weight_space.main,
    "continual": continual.main,
    "robust-rnn": robust_rnn.main,
    "reinforcement": reinforcement.main,
    "sensorimotor": sensorimotor.main,
    "reversal": reversal.main,
    "fear-conditioning": fear_conditioning.main,
    "observables": observables.main,
    "rule-classifiers": rule_classifiers.main,
    "conservation": conservation.main,
    "rule-geometry": rule_geometry.main,
    "layer-dimensionality": layer_dimensionality.main,
    "rule-alignment": rule_alignment.main,
}

__all__ = ["ANALYSES"]
