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
    assert "allowed keys: batch_size, data_seed, dtype, loss, per_class, reduction, steps" in msg


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


def test_names_that_become_paths_or_ids_are_restricted():
    msg = invalid({"data": {"../../x": {"kind": "digits"}}, "rule_zoo": {"rules": {"a'b": {"name": "sgd", "lr": 0.1}}}})
    assert "'data': name '../../x' is not allowed (a dataset name: letters, digits and '_')" in msg
    assert "'rule_zoo.rules': name \"a'b\" is not allowed" in msg
    msg = invalid({"shared_geometry": {"families": {"mlp": {"layers": ["fc1", "../x"]}}}})
    assert "'shared_geometry.families.mlp.layers.1': name '../x' is not allowed" in msg


@pytest.mark.parametrize("patch,message", [
    ({"identify_rules": {"seeds": [5, 6]}}, "'identify_rules.figures.example.seed': 0 is not one of identify_rules.seeds (defined: 5, 6)"),
    ({"rule_zoo": {"dataset": "nope"}}, "'rule_zoo.dataset': 'nope' is not a dataset defined under 'data'"),
    ({"robust_rnn": {"experiments": {"low_d": {"dataset": "digitz"}}}}, "'robust_rnn.experiments.low_d.dataset': 'digitz' is not a dataset"),
    ({"identify_rules": {"figures": {"example": {"arch": "cnn", "layer": "fc9"}}}}, "'identify_rules.figures.example.layer': 'fc9' is not a layer of 'cnn'"),
    ({"identify_rules": {"figures": {"example": {"task": "teacher"}}}}, "'identify_rules.figures.example.arch': 'mlp4_relu' is not an architecture of task 'teacher'"),
    ({"identify_rules": {"classify": {"rules": ["sgdm", "rmsprop"]}}}, "'identify_rules.classify.rules': 'rmsprop' is not a rule under identify_rules.rules"),
    ({"shared_geometry": {"figures": {"three_rsms": {"family": "convnet", "layer": "block1"}}}}, "'shared_geometry.figures.three_rsms.layer': 'block1' is not a layer of family 'convnet'"),
    ({"shared_geometry": {"families": {"mlp": {"layers": ["fc1", "fc7"]}}}}, "'shared_geometry.families.mlp.layers': 'fc7' is not a layer of model 'mlp' (mlp)"),
    ({"rule_zoo": {"record": {"layers": ["fc3"]}}}, "'rule_zoo.record.layers': 'fc3' is not a layer of model 'mlp' (mlp)"),
    ({"cross_study": {"rules": ["sgd", "lion"]}}, "'cross_study.rules': 'lion' is not a rule_zoo rule label"),
    ({"cross_study": {"dimensionality": {"rnn": {"experiment": "mid_d"}}}}, "'cross_study.dimensionality.rnn.experiment': 'mid_d' is not an experiment"),
    ({"neural_mechanics": {"neurons": {"model": "bn", "weight_decay": 0.001}, "momentum_sweep": {"models": ["bn"]}},
      "shared_geometry": {"claims": {"ve_lower_family": "vgg"}}}, "'shared_geometry.claims.ve_lower_family': 'vgg' is not a family"),
])
def test_broken_cross_references_are_named_before_any_job(patch, message):
    assert message in invalid(patch)


def test_known_layers_match_the_built_models():
    from learnscope.models import build_model
    from learnscope.references import known_layers

    for spec, shape in [({"kind": "mlp", "hidden": [8, 4]}, (1, 8, 8)), ({"kind": "convnet", "channels": [4, 4], "hidden": [8]}, (1, 8, 8)),
                        ({"kind": "resnet", "width": 4, "blocks": 2, "pool_after": [1]}, (3, 8, 8))]:
        assert known_layers(spec) == list(build_model(spec, shape, 10).layer_modules()), spec


def test_templated_override_is_refused_as_code(tmp_path: Path):
    evil = tmp_path / "o.yaml"
    evil.write_text("__use_yte__: true\nrule_zoo:\n  seeds: ?__import__('os').getpid() and [0]\n")
    with pytest.raises(ConfigError, match="o.yaml: holds '__use_yte__', which makes Snakemake run the file as a YTE template"):
        load_params(REPO / "params.yaml", [evil])


def test_config_readme_puts_configfile_after_the_target():
    """`--configfile` takes every following word as a file, so a target after it is read as a config file."""
    import re

    commands = re.findall(r"`(snakemake [^`]*)`", (REPO / "config/README.md").read_text())
    assert commands
    for cmd in commands:
        words = cmd.split()
        if "--configfile" in words:
            after = words[words.index("--configfile") + 1 :]
            assert all(w.endswith(".yaml") for w in after), cmd
