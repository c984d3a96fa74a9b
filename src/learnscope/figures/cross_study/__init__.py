"""Beyond the five papers: the analyses of every study on every learning rule of the zoo (learnscope's own).

One module per figure. Each figure states, per rule, one key number as a reported claim with id
``cross_study.<figure>.<quantity>.<rule>`` (``rule`` a rule_zoo label) and its spread over seeds; the atlas
collects those claims (and any other study's, e.g. the rule zoo's test accuracy) into one panel.
"""

from learnscope.figures.cross_study.atlas import atlas, atlas_table, separation
from learnscope.figures.cross_study.conservation import conservation
from learnscope.figures.cross_study.dimensionality import dimensionality
from learnscope.figures.cross_study.geometry import geometry
from learnscope.figures.cross_study.identify_pc import identify_pc
from learnscope.figures.cross_study.target_alignment import target_alignment

FIGURES = {
    "identify_pc": identify_pc,
    "conservation": conservation,
    "geometry": geometry,
    "dimensionality": dimensionality,
    "target_alignment": target_alignment,
    "atlas": atlas,
}

__all__ = ["FIGURES", "atlas", "atlas_table", "conservation", "dimensionality", "geometry", "identify_pc", "separation", "target_alignment"]
