"""The one source of configuration: ``params.yaml`` plus override files, validated against a JSON schema.

Snakemake reads ``params.yaml`` as its configfile (``--configfile config/smoke.yaml`` deep-merges an
override on top) and DVC reads the same file as params. ``validate_params`` runs before any job: an
unknown key, a wrong type or an out-of-range value stops the run with a message naming the key and the
allowed values. Config values are data: nothing here evaluates them as code.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from learnscope.errors import ConfigError


def load_yaml(path: str | Path) -> dict:
    """Read one YAML mapping; a missing or malformed file is a ConfigError naming it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found")
    try:
        data = yaml.safe_load(p.read_text())
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
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
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
    prepared data never share an id, and the run file carries the complete config.
    """
    if dataset not in cfg.get("data", {}):
        raise ConfigError(
            f"dataset {dataset!r} is used by a study but not defined under 'data' in params.yaml "
            f"(defined: {', '.join(sorted(cfg.get('data', {}))) or 'none'})"
        )
    return {
        "dataset": {"name": dataset, **cfg["data"][dataset]},
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


def study_run(cfg: dict, study: str, model_label: str, rule: dict, rule_label: str) -> dict:
    """One run of a study section with ``dataset``, ``models``, ``train``, ``record`` and one ``seed``:
    the model named ``model_label`` trained with ``rule`` (for studies whose runs are not a full grid)."""
    sec = cfg[study]
    return make_run(
        cfg,
        dataset=sec["dataset"],
        model=sec["models"][model_label],
        rule=rule,
        train=sec["train"],
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
