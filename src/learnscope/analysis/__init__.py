"""Analyses: one module per method, plain functions from run records to tables and arrays.

``ANALYSES`` maps the CLI name (``learnscope analyze NAME``) to ``fn(inputs, out, options)``; each entry is
imported on first use (``learnscope.registry``), so a job imports only the analysis it runs.
"""

from learnscope.registry import LazyRegistry

ANALYSES = LazyRegistry(
    {
        "learning-curves": "learnscope.analysis.learning_curves:main",
        "symmetry-dynamics": "learnscope.analysis.symmetry_dynamics:main",
        "neuron-dynamics": "learnscope.analysis.neuron_dynamics:main",
        "symmetry-fields": "learnscope.analysis.symmetry_fields:main",
        "modified-equation": "learnscope.analysis.modified_equation:main",
        "lr-drop": "learnscope.analysis.lr_drop:main",
        "shared-geometry": "learnscope.analysis.shared_geometry:main",
        "xor-simulation": "learnscope.analysis.xor_simulation:main",
        "interference": "learnscope.analysis.interference:main",
        "target-alignment": "learnscope.analysis.target_alignment:main",
        "prospective-index": "learnscope.analysis.prospective_index:main",
        "alignment-steps": "learnscope.analysis.alignment_steps:main",
        "pc-equivalence": "learnscope.analysis.pc_equivalence:main",
        "lr-grid": "learnscope.analysis.lr_grid:main",
        "concept-drift": "learnscope.analysis.concept_drift:main",
        "weight-space": "learnscope.analysis.weight_space:main",
        "continual": "learnscope.analysis.continual:main",
        "robust-rnn": "learnscope.analysis.robust_rnn:main",
        "reinforcement": "learnscope.analysis.reinforcement:main",
        "sensorimotor": "learnscope.analysis.sensorimotor:main",
        "reversal": "learnscope.analysis.reversal:main",
        "fear-conditioning": "learnscope.analysis.fear_conditioning:main",
        "observables": "learnscope.analysis.observables:main",
        "rule-classifiers": "learnscope.analysis.rule_classifiers:main",
        "conservation": "learnscope.analysis.conservation:main",
        "rule-geometry": "learnscope.analysis.rule_geometry:main",
        "layer-dimensionality": "learnscope.analysis.layer_dimensionality:main",
        "rule-alignment": "learnscope.analysis.rule_alignment:main",
    }
)

__all__ = ["ANALYSES"]
