"""The one source of configuration: ``params.yaml`` plus override files, validated against a JSON schema.

Snakemake reads ``params.yaml`` as its configfile (``--configfile config/smoke.yaml`` deep-merges an
override on top) and DVC reads the same file as params. ``validate_params`` runs before any job: an
unknown key, a wrong type, an out-of-range value, an unsafe name (a map key or layer that becomes a file
name or run id) or a name that refers to nothing (``check_references``: datasets, models, rules, layers of
known architectures, every figure option naming a seed, task, architecture or layer) stops the run with a
message naming the key and the allowed values. Config values are data: nothing here evaluates them as code,
and a file holding Snakemake's YTE template switch (``__use_yte__``), which would make Snakemake run it as
code, is refused (``refuse_templates``; see docs/reliability.md for the trust boundary).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from learnscope.errors import ConfigError
from learnscope.record.identity import dataset_identity
from learnscope.references import check_references
from learnscope.tiers import tier_problems


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader: the same data, ~10x faster
TEMPLATE_SWITCH = "__use_yte__"


def refuse_templates(paths: Iterable[str | Path]) -> None:
    """Refuse any file whose text holds ``__use_yte__``: Snakemake renders such a config file as a YTE
    template, i.e. runs the Python expressions in it, when it loads the file (before the workflow's own
    code can check anything). Config files must be plain data."""
    for path in paths:
        p = Path(path)
        if p.is_file() and TEMPLATE_SWITCH in p.read_text(errors="replace"):
            raise ConfigError(
                f"{p}: holds {TEMPLATE_SWITCH!r}, which makes Snakemake run the file as a YTE template (Python code); "
                "learnscope config files are plain data: remove the key and any '?'-expressions (see docs/reliability.md)"
            )


def load_yaml(path: str | Path) -> dict:
    """Read one YAML mapping; a missing or malformed file is a ConfigError naming it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found")
    refuse_templates([p])
    try:
        data = yaml.load(p.read_text(), Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of keys to values")
    return data


def deep_merge(base: dict, override: dict) -> dict:
    """Merge ``override`` into a copy of ``base`` the way Snakemake merges ``--configfile`` files:
    mappings merge key by key, every other value (lists included) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_params(params: str | Path, overrides: Iterable[str | Path] = ()) -> dict:
    """``params.yaml`` with each override file merged on top, in order."""
    cfg = load_yaml(params)
    for o in overrides:
        cfg = deep_merge(cfg, load_yaml(o))
    return cfg


def _key_path(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        names = ", ".join(repr(k) for k in extra)
        hint = f"allowed keys: {', '.join(allowed)}" if allowed else "no keys are allowed here"
        return f"unknown key {names} under '{where}' ({hint})"
    if error.validator == "enum":
        return f"'{where}': {error.instance!r} is not allowed (allowed values: {', '.join(map(repr, error.validator_value))})"
    if error.validator == "required":
        return f"'{where}': {error.message}"
    if error.validator == "pattern" and "name" in schema.get("description", ""):
        return f"'{where}': name {error.instance!r} is not allowed ({schema.get('description', error.message)})"
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _describe(jsonschema.exceptions.best_match(error.context))
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum") if k in schema]
    allowed = f" (allowed: {schema.get('type', '')} {', '.join(bounds)})".replace("( ", "(") if bounds else ""
    return f"'{where}': {error.message}{allowed}"


def validate_params(cfg: dict, schema_path: str | Path, source: str = "params.yaml") -> None:
    """Validate ``cfg`` against the JSON schema at ``schema_path``; raise ConfigError listing every problem."""
    schema = load_yaml(schema_path)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ConfigError(f"{schema_path}: not a valid JSON schema at '{_key_path(e.absolute_path)}' ({e.message})") from None
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    # references and the tier's name only in a well-formed config
    problems = [_describe(e) for e in errors] or check_references(cfg) + tier_problems(cfg)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(
            f"{source} does not match {schema_path}:\n{lines}\n"
            "Fix the key(s) above in params.yaml or in the --configfile override you passed."
        )


def make_run(
    cfg: dict,
    *,
    dataset: str,
    model: dict,
    rule: dict,
    train: dict,
    record: dict,
    seed: int,
    rule_label: str | None = None,
    model_label: str | None = None,
) -> dict:
    """The fully resolved identity of one training run: everything that determines its record.

    The dataset's own spec (``data.<name>`` of params) is copied in, so two runs on differently
    prepared data never share an id, and the run file carries the complete config; where the raw files
    come from (``root``, ``download``) is not part of it (``learnscope.record.identity.dataset_identity``).
    """
    if dataset not in cfg.get("data", {}):
        raise ConfigError(
            f"dataset {dataset!r} is used by a study but not defined under 'data' in params.yaml "
            f"(defined: {', '.join(sorted(cfg.get('data', {}))) or 'none'})"
        )
    return {
        "dataset": dataset_identity(dataset, cfg["data"][dataset]),
        "model": dict(model),
        "rule": dict(rule),
        "train": dict(train),
        "record": dict(record),
        "seed": int(seed),
        "device": cfg.get("runtime", {}).get("device", "cpu"),
        "labels": {"rule": rule_label or rule["name"], "model": model_label or model["kind"]},
    }


def grid_runs(cfg: dict, study: str) -> list[dict]:
    """Runs of a study section laid out as ``models`` x ``rules`` x ``seeds`` on one ``dataset``."""
    sec = cfg[study]
    return [
        make_run(
            cfg,
            dataset=sec["dataset"],
            model=model,
            rule=rule,
            train=sec["train"],
            record=sec["record"],
            seed=seed,
            rule_label=rule_label,
            model_label=model_label,
        )
        for model_label, model in sec["models"].items()
        for rule_label, rule in sec["rules"].items()
        for seed in sec["seeds"]
    ]


def study_run(cfg: dict, study: str, model_label: str, rule: dict, rule_label: str, train: dict | None = None) -> dict:
    """One run of a study section with ``dataset``, ``models``, ``train``, ``record`` and one ``seed``:
    the model named ``model_label`` trained with ``rule`` (for studies whose runs are not a full grid).
    ``train``: keys that override the section's ``train`` for this run only (e.g. its batch size); an
    empty or absent override leaves the run identical to one without it."""
    sec = cfg[study]
    return make_run(
        cfg,
        dataset=sec["dataset"],
        model=sec["models"][model_label],
        rule=rule,
        train=deep_merge(sec["train"], train or {}),
        record=sec["record"],
        seed=sec["seed"],
        rule_label=rule_label,
        model_label=model_label,
    )


def family_runs(cfg: dict, study: str) -> dict[str, list[dict]]:
    """Runs of a study laid out as ``families`` x ``seeds`` on one ``dataset`` with one ``rule``: each
    family has its own ``model`` and records its own ``layers`` (no checkpoints, no per-step series)."""
    sec = cfg[study]
    out = {}
    for family, fam in sec["families"].items():
        record = {**sec["record"], "layers": list(fam["layers"]), "checkpoints": False, "per_step": []}
        out[family] = [
            make_run(cfg, dataset=sec["dataset"], model=fam["model"], rule=sec["rule"], train=sec["train"], record=record, seed=seed, model_label=family)
            for seed in sec["seeds"]
        ]
    return out


# Defaults of the heavy-ball rule (learnscope.rules.gradient): a rule that spells them out trains exactly
# like one that leaves them implicit, so the two are the same run for reuse.
_MOMENTUM_DEFAULTS = {"momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}


def _training(run: dict) -> dict:
    """What determines a run's record, labels aside, with the momentum rule's defaults filled in."""
    rule = dict(run["rule"])
    if rule.get("name") == "momentum":
        rule = {**_MOMENTUM_DEFAULTS, **rule}
    return {**{k: v for k, v in run.items() if k != "labels"}, "rule": rule}


def reuse_runs(runs: list[dict], existing: list[dict]) -> list[dict]:
    """``runs`` with every run that trains exactly like one of ``existing`` replaced by that run (same
    labels, so the same run id and record: a sweep point equal to a run the study already has is that run,
    not a second copy of it)."""
    out = []
    for run in runs:
        same = next((e for e in existing if _training(e) == _training(run)), None)
        out.append(same if same is not None else run)
    return out


def neural_mechanics_momentum_runs(cfg: dict) -> dict[str, dict]:
    """Figure 6's heavy-ball runs, ``neural_mechanics.momentum``: label -> run (each entry's optional
    ``train`` overrides the section's ``train`` for that run)."""
    sec = cfg["neural_mechanics"]
    return {label: study_run(cfg, "neural_mechanics", r["model"], r["rule"], label, train=r.get("train")) for label, r in sec["momentum"].items()}


def momentum_sweep_points(sweep: dict) -> list[tuple[str, dict]]:
    """The grid of ``neural_mechanics.momentum_sweep``: (model, heavy-ball rule) for every model x beta x
    weight decay x dampening, at the model's learning rate; dampening 0 is left implicit (the rule's
    default), as the hand-written runs of figure 6 write it."""
    points = []
    for model in sweep["models"]:
        if model not in sweep["lr"]:
            raise ConfigError(
                f"neural_mechanics.momentum_sweep.models lists {model!r} but momentum_sweep.lr has no rate for it "
                f"(rates given: {', '.join(sorted(sweep['lr'])) or 'none'}); add lr.{model}"
            )
        for beta in sweep["momentum"]:
            for wd in sweep["weight_decay"]:
                for tau in sweep["dampening"]:
                    rule = {"name": "momentum", "lr": sweep["lr"][model], "momentum": beta, "weight_decay": wd}
                    if tau:
                        rule["dampening"] = tau
                    points.append((model, rule))
    return points


def sweep_label(rule: dict) -> str:
    """Rule label of a sweep point, e.g. ``momentum_lr0.1_b0.9_wd0.001_d0.01``."""
    return f"momentum_lr{rule['lr']:g}_b{rule['momentum']:g}_wd{rule['weight_decay']:g}_d{rule.get('dampening', 0.0):g}"


def neural_mechanics_momentum_sweep(cfg: dict) -> list[dict]:
    """The runs of the appendix momentum sweep (``neural_mechanics.momentum_sweep``), one per grid point,
    trained with the section's ``train`` overridden by the sweep's own ``train`` (e.g. the paper's batch
    128 for the sweep only). With ``reuse_runs``, a point that trains exactly like one of figure 6's
    momentum runs is that run (its label and id)."""
    sweep = cfg["neural_mechanics"]["momentum_sweep"]
    runs = [study_run(cfg, "neural_mechanics", model, rule, sweep_label(rule), train=sweep["train"]) for model, rule in momentum_sweep_points(sweep)]
    if sweep["reuse_runs"]:
        runs = reuse_runs(runs, list(neural_mechanics_momentum_runs(cfg).values()))
    return runs
