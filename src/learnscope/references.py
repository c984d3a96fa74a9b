"""Cross-references in params: every name that refers to another entry must name one that exists.

The schema checks each value on its own; these checks relate values: the dataset a study trains on is
defined under ``data``, a task's architectures are defined under its study's ``models``, a figure's example
seed is one of the seeds trained, a layer is one the architecture has. Each problem is reported as
``'<key>': <value> is not ... (defined: ...)``, so a bad override stops before any job instead of failing
hours later with a missing input or a KeyError inside a figure.

``known_layers`` states the recorded layer names of the architectures whose names follow from their spec
(mlp, convnet, resnet: see learnscope.models; tests/test_config.py checks them against the built models).
"""

from __future__ import annotations

from typing import Any, Iterable


def known_layers(model: dict) -> list[str] | None:
    """Recorded layer names of a model spec, in order; None where they depend on more than the spec."""
    kind = model.get("kind")
    fcs = [f"fc{i}" for i in range(1, len(model.get("hidden", [])) + 1)]
    if kind == "mlp":
        return [*fcs, "out"]
    if kind == "convnet":
        return [*(f"conv{i}" for i in range(1, len(model.get("channels", [])) + 1)), *fcs, "out"]
    if kind == "resnet":
        return ["stem", *(f"block{i}" for i in range(1, int(model.get("blocks", 0)) + 1)), "gap", "out"]
    return None


class _Problems(list):
    def member(self, key: str, value: Any, allowed: Iterable, what: str) -> None:
        allowed = list(allowed)
        if value not in allowed:
            self.append(f"'{key}': {value!r} is not {what} (defined: {', '.join(map(str, allowed)) or 'none'})")

    def members(self, key: str, values: Iterable, allowed: Iterable, what: str) -> None:
        allowed = list(allowed)
        bad = [v for v in values if v not in allowed]
        if bad:
            self.append(f"'{key}': {', '.join(map(repr, bad))} {'is' if len(bad) == 1 else 'are'} not {what} (defined: {', '.join(map(str, allowed)) or 'none'})")

    def layers(self, key: str, layers: Any, models: dict[str, dict]) -> None:
        """``layers`` (a list, or 'all') must exist in every model of ``models`` whose layers are known."""
        if not isinstance(layers, list):
            return
        for label, model in models.items():
            names = known_layers(model)
            if names is not None:
                self.members(key, layers, names, f"a layer of model {label!r} ({model['kind']})")


def _datasets(cfg: dict, node: Any, path: str, out: _Problems) -> None:
    """Every ``dataset: <name>`` anywhere outside ``data`` names an entry of ``data``."""
    if isinstance(node, dict):
        for k, v in node.items():
            where = f"{path}.{k}" if path else str(k)
            if k == "dataset" and isinstance(v, str):
                out.member(where, v, cfg["data"], "a dataset defined under 'data'")
            elif where != "data":
                _datasets(cfg, v, where, out)


def _shuffled_control(cfg: dict, study: str, out: _Problems) -> None:
    """``<study>.control.dataset`` must be the study's dataset with only ``shuffle_train_labels`` added
    (a control on other data, or with the labels intact, would not test the claim)."""
    data, sec = cfg.get("data", {}), cfg[study]
    name, own = sec["control"]["dataset"], sec["dataset"]
    if name not in data or own not in data:
        return   # reported by _datasets
    ctl = dict(data[name])
    if "shuffle_train_labels" not in ctl or {k: v for k, v in ctl.items() if k != "shuffle_train_labels"} != data[own]:
        out.append(f"'{study}.control.dataset': {name!r} is not {study}.dataset {own!r} with shuffle_train_labels added "
                   f"(data.{name}: {ctl}; data.{own}: {data[own]}): copy data.{own} there and add shuffle_train_labels")


def check_references(cfg: dict) -> list[str]:
    """Every broken cross-reference in a schema-valid ``cfg``, one line each (empty when none)."""
    out = _Problems()
    _datasets(cfg, cfg, "", out)
    zoo = cfg["rule_zoo"]
    out.layers("rule_zoo.record.layers", zoo["record"].get("layers"), zoo["models"])
    _shuffled_control(cfg, "rule_zoo", out)

    sg = cfg["shared_geometry"]
    _shuffled_control(cfg, "shared_geometry", out)
    families = sg["families"]
    for fam, spec in families.items():
        out.layers(f"shared_geometry.families.{fam}.layers", spec["layers"], {fam: spec["model"]})
    out.members("shared_geometry.controls", sg.get("controls", []), sorted({la for f in families.values() for la in f["layers"]}), "a layer of any family")
    for fig, opts in sg.get("figures", {}).items():
        if "family" in opts:
            out.member(f"shared_geometry.figures.{fig}.family", opts["family"], families, "a family under shared_geometry.families")
            if "layer" in opts and opts["family"] in families:
                out.member(f"shared_geometry.figures.{fig}.layer", opts["layer"], families[opts["family"]]["layers"], f"a layer of family {opts['family']!r}")
    claims = sg.get("claims", {})
    for key in ("ve_lower_family", "ve_higher_family"):
        if key in claims:
            out.member(f"shared_geometry.claims.{key}", claims[key], families, "a family under shared_geometry.families")
    if claims.get("ve_lower_family") in families:
        out.members("shared_geometry.claims.ve_lower_layers", claims.get("ve_lower_layers", []), families[claims["ve_lower_family"]]["layers"], f"a layer of family {claims['ve_lower_family']!r}")

    nm = cfg["neural_mechanics"]
    out.layers("neural_mechanics.record.layers", nm["record"].get("layers"), nm["models"])
    for label, r in nm.get("momentum", {}).items():
        out.member(f"neural_mechanics.momentum.{label}.model", r["model"], nm["models"], "a model under neural_mechanics.models")
    sweep = nm.get("momentum_sweep", {})
    out.members("neural_mechanics.momentum_sweep.models", sweep.get("models", []), nm["models"], "a model under neural_mechanics.models")
    out.members("neural_mechanics.sgd.lr", nm.get("sgd", {}).get("lr", {}), nm["models"], "a model under neural_mechanics.models")
    if "neurons" in nm:
        out.member("neural_mechanics.neurons.model", nm["neurons"]["model"], nm["models"], "a model under neural_mechanics.models")
        if "control" in nm["neurons"]:
            out.member("neural_mechanics.neurons.control", nm["neurons"]["control"], nm["models"], "a model under neural_mechanics.models")
    if "equilibrium" in nm:
        out.member("neural_mechanics.equilibrium.model", nm["equilibrium"]["model"], nm["models"], "a model under neural_mechanics.models")

    pc = cfg["prospective_configuration"]
    for name, sec in pc.items():
        if isinstance(sec, dict) and "model" in sec and "record" in sec:
            out.layers(f"prospective_configuration.{name}.record.layers", sec["record"].get("layers"), {name: sec["model"]})

    ir = cfg["identify_rules"]
    models, tasks = ir["models"], ir["tasks"]
    out.layers("identify_rules.record.layers", ir["record"].get("layers"), models)
    for task, spec in tasks.items():
        out.members(f"identify_rules.tasks.{task}.models", spec["models"], models, "a model under identify_rules.models")
    out.members("identify_rules.classify.rules", ir["classify"]["rules"], ir["rules"], "a rule under identify_rules.rules")
    for group, archs in ir["classify"].get("heldout_architectures", {}).items():
        out.members(f"identify_rules.classify.heldout_architectures.{group}", archs, models, "a model under identify_rules.models")
    if "noise_condition" in ir.get("claims", {}):
        out.member("identify_rules.claims.noise_condition", ir["claims"]["noise_condition"], ir["observables"]["variants"], "a variant under identify_rules.observables.variants")
    sel = ir.get("feedback_selection")
    if sel:
        out.member("identify_rules.feedback_selection.task", sel["task"], tasks, "a task under identify_rules.tasks")
        out.members("identify_rules.feedback_selection.models", sel["models"], models, "a model under identify_rules.models")
        clash = [s for s in sel["seeds"] if s in ir["seeds"]]
        if clash:
            out.append(f"'identify_rules.feedback_selection.seeds': {', '.join(map(repr, clash))} {'is' if len(clash) == 1 else 'are'} "
                       f"reported (identify_rules.seeds: {', '.join(map(str, ir['seeds']))}); feedback_lr must be chosen on networks outside the reported set")
    ex = ir["figures"]["example"]
    out.member("identify_rules.figures.example.task", ex["task"], tasks, "a task under identify_rules.tasks")
    out.member("identify_rules.figures.example.seed", ex["seed"], ir["seeds"], "one of identify_rules.seeds")
    if ex["task"] in tasks:
        task = tasks[ex["task"]]
        out.member("identify_rules.figures.example.arch", ex["arch"], task["models"], f"an architecture of task {ex['task']!r}")
        out.member("identify_rules.figures.example.batch_size", ex["batch_size"], task.get("batch_sizes", ir["batch_sizes"]), f"a batch size of task {ex['task']!r}")
        if ex["arch"] in models and isinstance(ir["record"].get("layers"), list):
            out.member("identify_rules.figures.example.layer", ex["layer"], ir["record"]["layers"], "a recorded layer (identify_rules.record.layers)")
        elif ex["arch"] in models and known_layers(models[ex["arch"]]) is not None:
            out.member("identify_rules.figures.example.layer", ex["layer"], known_layers(models[ex["arch"]]), f"a layer of {ex['arch']!r}")

    rr = cfg["robust_rnn"]
    cs = cfg["cross_study"]
    zoo_rules = zoo["rules"]
    out.members("cross_study.rules", cs["rules"], zoo_rules, "a rule_zoo rule label")
    for label, m in cs["conservation"]["models"].items():
        out.members(f"cross_study.conservation.models.{label}.exclude_rules", m.get("exclude_rules", []), zoo_rules, "a rule_zoo rule label")
    out.layers("cross_study.geometry.layers", cs["geometry"]["layers"], zoo["models"])
    dim = cs["dimensionality"]
    out.layers("cross_study.dimensionality.layers", dim["layers"], zoo["models"])
    out.member("cross_study.dimensionality.claim_layer", dim["claim_layer"], dim["layers"], "one of cross_study.dimensionality.layers")
    out.members("cross_study.dimensionality.rnn.rules", dim["rnn"]["rules"], zoo_rules, "a rule_zoo rule label")
    out.member("cross_study.dimensionality.rnn.experiment", dim["rnn"]["experiment"], rr["experiments"], "an experiment under robust_rnn.experiments")
    ta = cs["target_alignment"]
    out.members("cross_study.target_alignment.rules", ta["rules"], zoo_rules, "a rule_zoo rule label")
    out.member("cross_study.target_alignment.claim_activation", ta["claim_activation"], ta["activations"], "one of cross_study.target_alignment.activations")
    kinds = sorted({m["kind"] for m in models.values()})
    out.members("cross_study.identify_pc.model_kinds", cs["identify_pc"].get("model_kinds", []), kinds, "a kind of identify_rules.models")
    return out
