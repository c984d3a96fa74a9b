"""shared_geometry's repaired gates (issue 17): the contrast shared r - |native r| with the untrained networks
as its control, and the unit-shuffle null as a Bonferroni-corrected integrity check. Synthetic tables, no build."""

import numpy as np
import pandas as pd
import pytest

from learnscope.figures import FIGURES
from learnscope.figures.shared_geometry import null_p_values

CLAIMS = {"native_max_abs_r": 0.2, "shared_min_r": 0.9, "contrast_min": 0.7, "control_min_r": 0.5, "native_null_alpha": 0.05}
SEEDS = [0, 1, 2]


def family_table(r: dict[tuple[int, str, str], float], null_sd: float = 0.1, n_null: int = 200) -> pd.DataFrame:
    """A family's analysis table: r[(point, layer, space)] for points 0 (untrained) and 1, layers fc1, fc2,
    out; per-network values equal the group's; a centred normal unit-shuffle null at the final point."""
    rows = []
    for (point, layer, space), v in r.items():
        for member in ["all", *map(str, SEEDS)]:
            rows.append(("mlp", layer, point, point * 100, f"{space}_vs_within", member, v))
    rng = np.random.default_rng(0)
    for layer in ("fc1", "fc2", "out"):
        for i, v in enumerate(rng.normal(0, null_sd, n_null)):
            rows.append(("mlp", layer, 1, 100, "native_null", str(i), v))
    return pd.DataFrame(rows, columns=["family", "layer", "point", "step", "metric", "member", "value"])


def scores(trained: dict, untrained: dict) -> dict:
    out = {}
    for point, layers in ((0, untrained), (1, trained)):
        for layer, (native, shared) in layers.items():
            out[(point, layer, "native")], out[(point, layer, "shared")] = native, shared
    return out


def render(tmp_path, table) -> dict:
    n = 20
    labels = np.repeat(np.arange(4), n // 4)
    arrays = {"eval_labels": labels, **{f"fc1__{k}": np.eye(n) for k in ("irsm_shared", "wrsm", "irsm_native")}}
    np.savez(tmp_path / "mlp.npz", **arrays)
    table.to_csv(tmp_path / "mlp.csv", index=False)
    options = {"family": "mlp", "layer": "fc1", "controls": ["out"], "claims": CLAIMS}
    claims = FIGURES["shared_geometry"]["three_rsms"]([str(tmp_path / "mlp.npz"), str(tmp_path / "mlp.csv")], str(tmp_path / "f.png"), options)
    return {c.id.rsplit(".", 1)[1]: c for c in claims}


TRAINED = {"fc1": (0.05, 0.98), "fc2": (-0.1, 0.95), "out": (0.8, 0.99)}


def test_the_contrast_passes_only_when_the_untrained_networks_lack_it(tmp_path):
    c = render(tmp_path, family_table(scores(TRAINED, {"fc1": (0.0, 0.3), "fc2": (0.1, 0.2), "out": (0.1, 0.3)})))
    contrast = c["mlp_contrast"]
    assert contrast.value == pytest.approx(0.85) and contrast.control.value == pytest.approx(0.1)
    assert contrast.passed and contrast.gated and contrast.kind == "claim" and contrast.source == "pilot"
    assert c["mlp_shared"].passed and c["mlp_shared"].control.value == pytest.approx(0.2)
    # untrained networks that align as well as trained ones: the value passes, the control too, the claims fail
    c = render(tmp_path, family_table(scores(TRAINED, {"fc1": (0.05, 0.97), "fc2": (0.0, 0.96), "out": (0.1, 0.9)})))
    assert not c["mlp_contrast"].passed and c["mlp_contrast"].control.passed
    assert not c["mlp_shared"].passed and c["mlp_shared"].control.passed


def test_the_native_null_is_a_corrected_check_not_a_reproduction(tmp_path):
    untrained = {"fc1": (0.0, 0.3), "fc2": (0.1, 0.2), "out": (0.1, 0.3)}
    c = render(tmp_path, family_table(scores(TRAINED, untrained)))
    chance = c["mlp_native_chance"]
    assert chance.kind == "check" and chance.control is None and chance.passed and "200 shuffles" in chance.claim
    # a layer 4 null s.d. out (p ~ 1/201 before correction): beyond chance after Bonferroni over 2 layers too
    c = render(tmp_path, family_table(scores({**TRAINED, "fc2": (0.4, 0.95)}, untrained)))
    assert not c["mlp_native_chance"].passed and c["mlp_native_chance"].value == pytest.approx(2 / 201)


def test_empirical_p_values_are_two_sided_and_never_zero():
    null = pd.DataFrame({"layer": "a", "value": np.linspace(-1, 1, 199)})
    p = null_p_values(pd.Series({"a": 5.0}), null)
    assert p["a"] == pytest.approx(1 / 200)
    p = null_p_values(pd.Series({"a": -0.5}), null)
    assert p["a"] == pytest.approx((1 + np.sum(np.abs(np.linspace(-1, 1, 199)) >= 0.5)) / 200)


def test_simulation_controls_unrelated_copies_do_not_align_and_identical_copies_align_natively():
    from learnscope.analysis.xor_simulation import DEFAULTS, simulate

    rows, _ = simulate({**DEFAULTS, "n_copies": 4, "hidden": 12, "epochs": 50, "n_per_cloud": 20}, 0)
    t = pd.DataFrame(rows, columns=["sim", "transform", "space", "measure", "value"])
    r = t[t["measure"] == "pearson"].set_index(["transform", "space"])["value"]
    assert r[("identity", "native")] == pytest.approx(1.0)
    for transform in ("permutation", "orthogonal"):
        assert r[(f"{transform}_unrelated", "shared_probabilistic")] < 0.5 < r[(transform, "shared_probabilistic")]


def grid_table(rise: float) -> pd.DataFrame:
    """main_grid's metrics for family mlp, layers fc1 and out, points 0 and 1: development rises by ``rise``."""
    rows = []
    for point in (0, 1):
        for layer in ("fc1", "out"):
            for member in ["all", *map(str, SEEDS)]:
                rows.append(("mlp", layer, point, point * 100, "development", member, 0.5 + rise * point))
                rows.append(("mlp", layer, point, point * 100, "variance_explained", member, 0.8))
                rows.append(("mlp", layer, point, point * 100, "variance_explained_deterministic", member, 0.9))
            for pair in ("0-1", "0-2", "1-2"):
                rows.append(("mlp", layer, point, point * 100, "consistency", pair, 0.6 + 0.1 * point))
    return pd.DataFrame(rows, columns=["family", "layer", "point", "step", "metric", "member", "value"])


@pytest.mark.parametrize("shuffled_rise, passes", [(-0.02, True), (0.3, False)])
def test_development_rises_only_when_shuffled_label_networks_do_not(tmp_path, shuffled_rise, passes):
    (tmp_path / "control").mkdir()
    grid_table(0.4).to_csv(tmp_path / "mlp.csv", index=False)
    grid_table(shuffled_rise).to_csv(tmp_path / "control" / "mlp.csv", index=False)
    options = {"controls": ["out"], "claims": {**CLAIMS, "ve_lower_family": "resnet", "ve_lower_layers": ["block1"], "ve_higher_family": "convnet"}}
    claims = FIGURES["shared_geometry"]["main_grid"]([str(tmp_path / "mlp.csv"), str(tmp_path / "control" / "mlp.csv")], str(tmp_path / "g.png"), options)
    dev = {c.id: c for c in claims}["shared_geometry.main_grid.mlp_development_rises"]
    assert dev.value == pytest.approx(0.4) and dev.control.value == pytest.approx(shuffled_rise)
    assert dev.passed is passes and "shuffled" in dev.control.description
