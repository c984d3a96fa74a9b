"""params.yaml validation, override merging and run identities."""

from pathlib import Path

import pytest
import yaml

from learnscope.config import deep_merge, grid_runs, load_params, validate_params
from learnscope.errors import ConfigError
from learnscope.record.identity import run_id

from conftest import REPO

SCHEMA = REPO / "workflow/schemas/params.schema.yaml"


def params(*overrides: str) -> dict:
    return load_params(REPO / "params.yaml", [REPO / o for o in overrides])


@pytest.mark.parametrize("overrides", [(), ("config/smoke.yaml",), ("config/paper.yaml",)])
def test_shipped_configs_are_valid(overrides):
    validate_params(params(*overrides), SCHEMA)


def invalid(patch: dict) -> str:
    with pytest.raises(ConfigError) as e:
        validate_params(deep_merge(params(), patch), SCHEMA)
    return str(e.value)


def test_unknown_key_is_named_with_the_allowed_keys():
    msg = invalid({"rule_zoo": {"train": {"stpes": 10}}})
    assert "unknown key 'stpes' under 'rule_zoo.train'" in msg
    assert "allowed keys: batch_size, data_seed, dtype, per_class, steps" in msg


def test_wrong_type_and_range_and_enum_are_named():
    msg = invalid({"rule_zoo": {"train": {"steps": "many", "batch_size": 0}, "rules": {"sgd": {"name": "sgdd", "lr": 0.1}}}})
    assert "'rule_zoo.train.steps': 'many' is not of type 'integer'" in msg
    assert "'rule_zoo.train.batch_size': 0 is less than the minimum of 1" in msg
    assert "'rule_zoo.rules.sgd.name': 'sgdd' is not allowed (allowed values: 'sgd', 'momentum', 'adam', " in msg


def test_model_options_are_checked_per_kind():
    msg = invalid({"rule_zoo": {"models": {"mlp": {"kind": "mlp", "hidden": [8], "channels": [4]}}}})
    assert "unknown key 'channels' under 'rule_zoo.models.mlp'" in msg


def test_unknown_top_level_section():
    assert "unknown key 'rule_zo'" in invalid({"rule_zo": {}})


def test_deep_merge_merges_mappings_and_replaces_lists():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    out = deep_merge(base, {"a": {"y": [3]}, "c": 4})
    assert out == {"a": {"x": 1, "y": [3]}, "b": 2, "c": 4}
    assert base["a"]["y"] == [1, 2]


def test_bad_yaml_file_is_named(tmp_path: Path):
    bad = tmp_path / "o.yaml"
    bad.write_text("rule_zoo: [unclosed")
    with pytest.raises(ConfigError, match="o.yaml: not valid YAML"):
        load_params(REPO / "params.yaml", [bad])


def test_yaml_is_data_not_code(tmp_path: Path):
    evil = tmp_path / "o.yaml"
    evil.write_text("x: !!python/object/apply:os.system ['echo pwned']")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(REPO / "params.yaml", [evil])


def test_grid_runs_have_unique_ids_that_track_every_param():
    cfg = params()
    runs = grid_runs(cfg, "rule_zoo")
    sec = cfg["rule_zoo"]
    assert len(runs) == len(sec["seeds"]) * len(sec["rules"]) * len(sec["models"])
    ids = [run_id(r) for r in runs]
    assert len(set(ids)) == len(ids)
    # any change of identity changes the id; the same config gives the same id
    assert run_id(grid_runs(params(), "rule_zoo")[0]) == ids[0]
    changed = deep_merge(cfg, {"data": {"digits": {"probe_per_class": 3}}})
    assert run_id(grid_runs(changed, "rule_zoo")[0]) != ids[0]
    changed = deep_merge(cfg, {"rule_zoo": {"train": {"batch_size": 7}}})
    assert run_id(grid_runs(changed, "rule_zoo")[0]) != ids[0]


def test_undefined_dataset_is_a_config_error():
    cfg = deep_merge(params(), {"rule_zoo": {"dataset": "nope"}})
    with pytest.raises(ConfigError, match="dataset 'nope' is used by a study but not defined under 'data'"):
        grid_runs(cfg, "rule_zoo")


def test_schema_is_plain_yaml():
    assert yaml.safe_load(SCHEMA.read_text())["type"] == "object"
