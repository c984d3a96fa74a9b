"""cross_study figure identify_pc: merging observables datasets, the K-class rule classification on the
architectures every rule shares, per-rule recall and the figure's claims."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from learnscope.analysis import observables as ob
from learnscope.analysis import rule_classifiers as rc
from learnscope.errors import ConfigError
from learnscope.figures.cross_study import FIGURES
from learnscope.figures.cross_study.identify_pc import identify_pc, recall_table

T = 6
IR_RULES = ["sgdm", "adam", "feedback", "information"]
RULES = [*IR_RULES, "predictive_coding"]
# rule c raises weight observable WEIGHT_SIGNAL[c] over training; activations and activity change carry none
WEIGHT_SIGNAL = ["weightabs_norm", "weightraw_median", "weightsq_mean", "weightabs_var", "weightraw_thirdquartile"]
LABELS = {"sgdm": "momentum", "adam": "adam", "feedback": "feedback_alignment", "information": "information_alignment", "predictive_coding": "predictive_coding"}
ZOO = ["sgd", "momentum", "adam", "feedback_alignment", "information_alignment", "predictive_coding"]


def _dataset(rules: dict[str, dict[str, int]], seed: int, prefix: str, variants=("clean",), signal_archs=("mlp3",)) -> dict:
    """rules: rule -> {arch: number of 3-layer networks}. Networks of ``signal_archs`` carry their rule's
    signal, the others are pure noise. As in the pipeline every rule's network ``net`` of an architecture
    starts from the same weights: its first record point is shared across rules."""
    rng = np.random.default_rng(seed)
    meta = {k: [] for k in ob.META_FIELDS}
    X = []
    for rule, archs in rules.items():
        c = RULES.index(rule)
        for arch, n_networks in archs.items():
            for net in range(n_networks):
                for layer in range(3):
                    x = rng.normal(size=(T, 45))
                    x[0] = np.random.default_rng([net, layer, len(arch)]).normal(size=45)
                    if arch in signal_archs:
                        x[:, ob.OBS_KEYS.index(WEIGHT_SIGNAL[c])] += 4.0 * np.linspace(0, 1, T)
                    X.append(x)
                    row = dict(rule=rule, arch=arch, task="digits", batch_size=32, seed=net, data_seed=0, network=f"{prefix}-{rule}-{arch}-{net}",
                               layer=f"fc{layer}", layer_index=layer, n_layers=3, position=layer, test_acc=0.9)
                    for k in ob.META_FIELDS:
                        meta[k].append(row[k])
    X = np.stack(X)
    return {"X": {v: X + (0.0 if v == "clean" else 0.1) for v in variants}, "meta": {k: np.asarray(v) for k, v in meta.items()}, "skipped": []}


def _write(path, data) -> str:
    ob.write_dataset(path, data, {v: {} for v in data["X"]})
    return str(path)


# ------------------------------------------------------------------------------------------------ merge
def test_read_datasets_merges_rows_in_order_and_keeps_the_shared_variants(tmp_path):
    a = _dataset({"sgdm": {"mlp3": 2}, "adam": {"cnn": 1}}, 0, "a", variants=("clean", "noise_1"))
    b = _dataset({"predictive_coding": {"mlp3": 2}}, 1, "b")
    merged = ob.read_datasets([_write(tmp_path / "a.h5", a), _write(tmp_path / "b.h5", b)])
    assert list(merged["X"]) == ["clean"] and list(merged["variants"]) == ["clean"]
    assert merged["X"]["clean"].shape == (9 + 6, T, 45)
    np.testing.assert_array_equal(merged["X"]["clean"][:9], a["X"]["clean"])
    np.testing.assert_array_equal(merged["X"]["clean"][9:], b["X"]["clean"])
    assert list(merged["meta"]["rule"]) == ["sgdm"] * 6 + ["adam"] * 3 + ["predictive_coding"] * 6
    assert merged["meta"]["rule"].dtype.kind == "U" and merged["obs_keys"] == list(ob.OBS_KEYS)
    assert merged["admissible"].sum() == 24
    # one path reads as read_dataset does
    single = ob.read_datasets([str(tmp_path / "a.h5")])
    assert list(single["X"]) == ["clean", "noise_1"]


def test_merge_refuses_other_record_points_other_observables_and_shared_networks(tmp_path):
    a = ob.read_dataset(_write(tmp_path / "a.h5", _dataset({"sgdm": {"mlp3": 1}}, 0, "a")))
    b = ob.read_dataset(_write(tmp_path / "b.h5", _dataset({"adam": {"mlp3": 1}}, 1, "b")))
    short = {**b, "X": {"clean": b["X"]["clean"][:, :-1]}}
    with pytest.raises(ConfigError, match="record points"):
        ob.merge_datasets([a, short], ["a", "b"])
    with pytest.raises(ConfigError, match="observables or meta"):
        ob.merge_datasets([a, {**b, "obs_keys": b["obs_keys"][::-1]}])
    with pytest.raises(ConfigError, match="share networks"):
        ob.merge_datasets([a, a], ["a", "a again"])
    with pytest.raises(ConfigError, match="clean"):
        ob.merge_datasets([a, {**b, "X": {"noise_1": b["X"]["clean"]}}])


# ----------------------------------------------------------------------------------- the classification
def test_shared_architectures_drops_those_a_rule_lacks():
    y = np.array([0, 0, 1, 1, 2, 2])
    arch = np.array(["mlp", "cnn", "mlp", "cnn", "mlp", "mlp"])
    np.testing.assert_array_equal(rc.shared_architectures(y, arch), [True, False, True, False, True, True])
    with pytest.raises(ConfigError, match="every rule"):
        rc.shared_architectures(np.array([0, 1]), np.array(["mlp", "cnn"]))


OPTIONS = {"rules": RULES, "splits": 3, "test_fraction": 0.25, "split_seed": 0, "folds": 2, "classifiers": {"rf": {"n_estimators": [50], "max_features": ["sqrt"]}}}


@pytest.fixture(scope="module")
def five_class_table(tmp_path_factory):
    """identify_rules-like file: 4 rules on mlp3 (8 networks, with signal) and cnn (4 networks, noise only:
    they would make the rules unidentifiable if used); PC file: mlp3 only."""
    d = tmp_path_factory.mktemp("five")
    ir = _write(d / "ir.h5", _dataset({r: {"mlp3": 8, "cnn": 4} for r in IR_RULES}, 0, "ir"))
    pc = _write(d / "pc.h5", _dataset({"predictive_coding": {"mlp3": 8}}, 1, "pc"))
    out = d / "identify_pc.csv"
    rc.main([ir, pc], str(out), {**OPTIONS, "experiment": "classes"})
    return out


def test_five_classes_on_shared_architectures_are_separated_by_the_signal_class_only(five_class_table):
    t = pd.read_csv(five_class_table)
    net = t[t["split_kind"] == "network"]
    t = t[t["split_kind"] == "layer"]
    assert sorted(set(t["feature_set"])) == sorted(rc.FEATURE_SETS) and len(t) == 4 * 3
    # network-level split: all statistics only; 8 mlp3 initialisations, round(0.25 * 8) = 2 held out whole,
    # each holding one network of every rule (3 layers each)
    assert set(net["feature_set"]) == {"all"} and len(net) == 3
    conf_net = net[[f"conf_{a}_{b}" for a in RULES for b in RULES]].to_numpy().reshape(-1, 5, 5)
    np.testing.assert_array_equal(conf_net.sum(2), 2 * 3)
    assert net["accuracy"].mean() >= 0.9
    conf = t[[f"conf_{a}_{b}" for a in RULES for b in RULES]].to_numpy().reshape(-1, 5, 5)
    # 24 mlp3 layers per rule -> round(0.25 * 24) = 6 test layers per rule and split, no cnn layer
    np.testing.assert_array_equal(conf.sum(2), 6)
    acc = t.groupby("feature_set")["accuracy"].mean()
    assert acc["weights"] >= 0.95 and acc["all"] >= 0.9
    assert acc["activations"] < 0.45 and acc["activity_change"] < 0.45  # chance is 0.2


def test_recall_table_is_the_confusion_diagonal_over_row_sums():
    rules = ["a", "b"]
    conf = {f"conf_{x}_{y}": v for (x, y), v in zip([("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")], [3, 1, 0, 4])}
    table = pd.DataFrame([{"feature_set": "all", "split": 0, **conf}])
    r = recall_table(table, rules)
    assert r.set_index("rule")["recall"].to_dict() == {"a": 0.75, "b": 1.0}
    assert r["accuracy"].tolist() == [7 / 8, 7 / 8]
    with pytest.raises(ConfigError, match="lacks"):
        recall_table(table, ["a", "c"])


def test_figure_claims_recall_per_zoo_rule_and_accuracy_per_class(five_class_table, tmp_path):
    assert FIGURES["identify_pc"] is identify_pc
    out = tmp_path / "identify_pc.png"
    claims = {c.id: c for c in identify_pc([str(five_class_table)], str(out), {"labels": LABELS, "rules": ZOO})}
    for ext in ("png", "pdf", "csv"):
        assert out.with_suffix(f".{ext}").stat().st_size > 0
    recall_ids = {f"cross_study.identify_pc.recall.{r}" for r in LABELS.values()}
    assert recall_ids <= set(claims) and "cross_study.identify_pc.recall.sgd" not in claims
    table = pd.read_csv(five_class_table)
    t = recall_table(table[table["split_kind"] == "layer"], RULES)
    for rule, label in LABELS.items():
        c = claims[f"cross_study.identify_pc.recall.{label}"]
        v = t[(t["feature_set"] == "all") & (t["rule"] == rule)]["recall"]
        assert c.value == pytest.approx(v.mean()) and c.spread == pytest.approx(v.std(ddof=1))
        assert c.value >= 0.8 and not c.gated and c.threshold == pytest.approx(0.2)
    assert claims["cross_study.identify_pc.accuracy_weights"].value >= 0.95
    net = claims["cross_study.identify_pc.network_split_accuracy_all"]
    assert net.value == pytest.approx(table[table["split_kind"] == "network"]["accuracy"].mean()) and not net.gated
    assert claims["cross_study.identify_pc.accuracy_activations"].value < 0.45 and not claims["cross_study.identify_pc.accuracy_activations"].passed
    data = pd.read_csv(out.with_suffix(".csv"))
    conf = data[data["kind"] == "confusion_all"].pivot(index="rule", columns="predicted", values="value")
    np.testing.assert_allclose(conf.sum(axis=1), 1.0)


def test_figure_refuses_labels_outside_the_zoo(five_class_table, tmp_path):
    with pytest.raises(ConfigError, match="rule_zoo labels"):
        identify_pc([str(five_class_table)], str(tmp_path / "x.png"), {"labels": {**LABELS, "sgdm": "sgdm"}, "rules": ZOO})


def test_params_map_identify_rules_rules_onto_zoo_labels():
    import yaml
    from pathlib import Path

    p = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    ir, cs = p["identify_rules"], p["cross_study"]
    mapped = [ir["rules"][r]["name"] for r in ir["classify"]["rules"]] + [cs["identify_pc"]["label"]]
    assert set(mapped) <= set(cs["rules"]) and len(set(mapped)) == len(mapped) == 5
    assert cs["identify_pc"]["rule"]["name"] == "predictive_coding"
    assert "cross_study.identify_pc.recall.{rule}" in cs["atlas"]["columns"].values()
    json.dumps(cs["identify_pc"])
