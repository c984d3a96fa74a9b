# Study `cross_study` (learnscope's own): the analyses of the five papers on every rule of the zoo.
# Its figures read the rule zoo's and identify_rules' runs and only the extra runs registered here.
# Each figure states one claim per rule (id cross_study.<figure>.<quantity>.<rule>, a rule_zoo label);
# the atlas, registered last, tabulates the claims its columns name.

CS = config["cross_study"]

FIGURES["cross_study"] = {}


def claim_file(pattern):
    """The per-figure claims file holding the claims of an atlas column (<study>.<figure>.<name>)."""
    study, figure = pattern.split(".")[:2]
    return f"results/{study}/claims/{figure}.json"


def cs_target_alignment_options(activation):
    """Options of the target-alignment analysis for one activation: the section less its claim keys."""
    sec = CS["target_alignment"]
    return json.dumps({**{k: v for k, v in sec.items() if k not in ("activations", "claim_activation")}, "activations": [activation]}, sort_keys=True)


FIGURES["cross_study"]["target_alignment"] = {
    "inputs": [f"results/cross_study/target_alignment/{act}.csv" for act in CS["target_alignment"]["activations"]],
    "options": {"activation": CS["target_alignment"]["claim_activation"], "width": CS["target_alignment"]["width"], "rules": CS["rules"]},
}


FIGURES["cross_study"]["atlas"] = {
    "inputs": sorted({claim_file(p) for p in CS["atlas"]["columns"].values()}),
    "options": {"rules": CS["rules"], "columns": CS["atlas"]["columns"]},
}

STUDY_EXTRAS["cross_study"] = ["results/cross_study/findings.md"]
