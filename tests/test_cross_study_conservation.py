"""cross_study figure `conservation`: the symmetry tracker under every rule (quantities always, theory only
for sgd / momentum, the reference law otherwise), the MLP groups and batch-norm option, the departure
metric (consistent with neural mechanics' relative error) and the figure's claims."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from learnscope.analysis import conservation as cons
from learnscope.analysis import symmetry_dynamics
from learnscope.config import load_params, make_run
from learnscope.data import prepare
from learnscope.errors import ConfigError, RecordError
from learnscope.figures.cross_study import FIGURES
from learnscope.models import build_model
from learnscope.record import open_run
from learnscope.rules import build_rule
from learnscope.train import train_run
from learnscope.train.symmetry import SymmetryTracker, symmetry_groups

torch.set_num_threads(1)

ZOO = {
    "sgd": {"name": "sgd", "lr": 0.05},
    "momentum": {"name": "momentum", "lr": 0.01, "momentum": 0.9},
    "adam": {"name": "adam", "lr": 0.001},
    "feedback_alignment": {"name": "feedback_alignment", "optimizer": "momentum", "lr": 0.01, "momentum": 0.9},
    "information_alignment": {"name": "information_alignment", "optimizer": "momentum", "lr": 0.01, "momentum": 0.9},
    "predictive_coding": {"name": "predictive_coding", "lr": 0.1, "inference_steps": 8, "inference_rate": 0.1},
}


def _mlp(batchnorm: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    spec = {"kind": "mlp", "hidden": [12, 10], "activation": "relu", **({"batchnorm": True} if batchnorm else {})}
    return build_model(spec, (16,), 5).double()


def _track(rule_cfg: dict, batchnorm: bool = False, steps: int = 6, exact_bn: bool = False):
    """Train the small float64 MLP for ``steps`` fixed random batches under the rule, recording the tracker
    at every step; returns (records, model, tracker). ``exact_bn``: batch norm eps negligible next to the
    batch variance, so that the scale symmetry is exact (eps = 1e-5 breaks it at order eps / variance)."""
    model = _mlp(batchnorm)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d) and exact_bn:
            m.eps = 1e-30
    rule = build_rule(rule_cfg)
    model = rule.setup(model)
    model.train()
    tracker = SymmetryTracker(model, rule)
    g = torch.Generator().manual_seed(1)
    records = [tracker.record()]
    for _ in range(steps):
        x, y = torch.randn(24, 16, generator=g, dtype=torch.float64), torch.randint(0, 5, (24,), generator=g)
        tracker.before_step()
        res = rule.step(model, x, y, torch.nn.functional.cross_entropy)
        tracker.after_step(res)
        records.append(tracker.record())
    return records, model, tracker


def _series(records, key):
    return np.stack([r[key] for r in records])


def _relerr(emp, pred) -> float:
    """Neural mechanics' relative error, worst unit: max_t |emp - pred| / max_t |emp|."""
    return float((np.abs(emp - pred).max(0) / np.abs(emp).max(0)).max())


# -- models and groups ------------------------------------------------------------------------------------


def test_mlp_batchnorm_blocks_and_groups():
    """Batch norm after each hidden Linear (no bias there); the MLP's groups: scale per hidden Linear (a
    control without batch norm after it), rescale per consecutive Linear pair (the read-out included; a
    control with batch norm between), translation of the read-out."""
    plain, bn = _mlp(False), _mlp(True)
    assert isinstance(bn.net.fc1[1], torch.nn.BatchNorm1d) and bn.net.fc1[0].bias is None and bn.net.out.bias is not None
    assert len(plain.net.fc1) == 2 and plain.net.fc1[0].bias is not None
    # the first layer's weights are drawn first: the same with and without batch norm
    torch.testing.assert_close(plain.net.fc1[0].weight, bn.net.fc1[0].weight)
    groups = {(g.family, g.layer): len(g.value()) for g in symmetry_groups(plain)}
    assert groups == {("scale_control", "fc1"): 12, ("scale_control", "fc2"): 10, ("rescale", "fc1_fc2"): 12, ("rescale", "fc2_out"): 10, ("translation", "out"): 11}
    families = {(g.family, g.layer) for g in symmetry_groups(bn)}
    assert families == {("scale", "fc1"), ("scale", "fc2"), ("rescale_control", "fc1_fc2"), ("rescale_control", "fc2_out"), ("translation", "out")}
    w1, b1, w2 = plain.net.fc1[0].weight, plain.net.fc1[0].bias, plain.net.fc2[0].weight
    rescale = next(g for g in symmetry_groups(plain) if g.layer == "fc1_fc2").value()
    expected = (w2.detach() ** 2).sum(0) - (w1.detach() ** 2).sum(1) - b1.detach() ** 2
    np.testing.assert_allclose(rescale, expected.numpy(), rtol=1e-12)


def test_predictive_coding_refuses_batchnorm():
    rule = build_rule(ZOO["predictive_coding"])
    with pytest.raises(ConfigError, match="batch norm"):
        rule.setup(_mlp(batchnorm=True))


# -- the tracker under every rule -------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["adam", "feedback_alignment", "information_alignment", "predictive_coding"])
def test_other_rules_record_quantities_without_theory(rule):
    records, _, tracker = _track(ZOO[rule])
    keys = set(records[-1])
    assert not any(k.endswith("/theory") for k in keys)
    for name in ("translation/out", "rescale/fc1_fc2", "rescale/fc2_out", "scale_control/fc1"):
        assert {f"{name}/empirical", f"{name}/reference", f"{name}/gradient_flow"} <= keys
    assert not tracker.exact and records[-1]["rescale/fc1_fc2/empirical"].shape == (12,)
    emp = _series(records, "rescale/fc1_fc2/empirical")
    assert np.ptp(emp, axis=0).min() > 0  # the quantities move
    np.testing.assert_allclose(_series(records, "rescale/fc1_fc2/gradient_flow"), np.broadcast_to(emp[0], emp.shape))


@pytest.mark.parametrize("rule", ["sgd", "momentum"])
def test_gradient_rules_record_theory(rule):
    records, _, tracker = _track(ZOO[rule])
    assert tracker.exact and "translation/out/theory" in records[-1]
    assert not any(k.endswith("/reference") for k in records[-1])


def test_sgd_laws_exact_on_mlp():
    """Plain SGD at lambda = 0 on the MLP: translation and rescale follow the theory to round-off, and the
    scale law holds on the MLP with batch norm (eps set negligible) but not on the one without."""
    records, _, _ = _track(ZOO["sgd"])
    for name in ("translation/out", "rescale/fc1_fc2", "rescale/fc2_out"):
        assert _relerr(_series(records, f"{name}/empirical"), _series(records, f"{name}/theory")) <= 1e-10, name
    assert _relerr(_series(records, "scale_control/fc1/empirical"), _series(records, "scale_control/fc1/theory")) >= 1e-3  # no batch norm: broken

    recs, _, _ = _track(ZOO["sgd"], batchnorm=True, exact_bn=True)
    for layer in ("fc1", "fc2"):
        assert _relerr(_series(recs, f"scale/{layer}/empirical"), _series(recs, f"scale/{layer}/theory")) <= 1e-10


def test_adam_reference_is_the_orthogonal_step_law():
    """Adam (no law): reference = Q(0) + sum_j |step_j|^2 per unit, so for a scale/rescale quantity
    empirical - reference = 2 sum_j <theta_j, step_j> (signed per part), the steps' component along the
    generator; for the read-out columns (translation, linear in theta) reference = Q(0)."""
    model = _mlp()
    rule = build_rule(ZOO["adam"])
    model = rule.setup(model)
    tracker = SymmetryTracker(model, rule)
    w = model.net.fc2[0].weight  # incoming weights of fc2's units (the "rows" part of scale/fc2)
    b = model.net.fc2[0].bias
    cross = np.zeros(10)
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        x, y = torch.randn(24, 16, generator=g, dtype=torch.float64), torch.randint(0, 5, (24,), generator=g)
        before_w, before_b = w.detach().clone(), b.detach().clone()
        tracker.before_step()
        tracker.after_step(rule.step(model, x, y, torch.nn.functional.cross_entropy))
        dw, db = w.detach() - before_w, b.detach() - before_b
        cross += (2 * (before_w * dw).sum(1) + 2 * before_b * db).numpy()
    rec = tracker.record()
    np.testing.assert_allclose(rec["scale_control/fc2/empirical"] - rec["scale_control/fc2/reference"], cross, rtol=1e-9, atol=1e-14)
    assert np.abs(cross).max() > 1e-6  # Adam's steps do leave the sphere
    np.testing.assert_allclose(rec["translation/out/reference"], tracker.x0[id(next(gr for gr in tracker.groups if gr.family == "translation"))])


def test_rules_break_laws_differently():
    """Feedback alignment and predictive coding leave translation exact (the read-out's update is the true
    output-error outer product, whose column sums vanish under softmax) but break rescale; Adam's
    per-coordinate scaling breaks translation."""
    dep = {}
    for rule in ("feedback_alignment", "predictive_coding", "adam"):
        records, _, _ = _track(ZOO[rule], steps=8)
        for name in ("translation/out", "rescale/fc1_fc2"):
            dep[rule, name.split("/")[0]] = _relerr(_series(records, f"{name}/empirical"), _series(records, f"{name}/reference"))
    assert dep["feedback_alignment", "translation"] <= 1e-10 and dep["predictive_coding", "translation"] <= 1e-10
    assert dep["feedback_alignment", "rescale"] >= 1e-3 and dep["predictive_coding", "rescale"] >= 1e-3
    assert dep["adam", "translation"] >= 1e-2


# -- the departure metric ---------------------------------------------------------------------------------


def _synthetic(rule="adam", prediction="reference"):
    """Two units over three record points with known departures."""
    emp = np.array([[1.0, 2.0], [2.0, -4.0], [4.0, 2.0]])  # max|Q|: 4, 4
    pred = np.array([[1.0, 2.0], [1.0, -4.0], [4.0, 0.0]])  # |diff|: unit0 0,1,0; unit1 0,0,2
    rows = []
    for t in range(3):
        for u in range(2):
            rows.append(
                {
                    "run_id": "r", "rule": rule, "seed": 0, "model": "mlp", "status": "complete", "family": "rescale",
                    "layer": "fc1_fc2", "unit": u, "step": 10 * t, "empirical": emp[t, u], "gradient_flow": emp[0, u],
                    "theory": pred[t, u] if prediction == "theory" else np.nan,
                    "reference": pred[t, u] if prediction == "reference" else np.nan,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # any row order


def test_unit_and_family_departures_closed_form():
    t = cons.unit_departures(_synthetic())
    u0 = t[t["unit"] == 0].sort_values("step")
    np.testing.assert_allclose(u0["departure"], [0.0, 0.25, 0.0])
    np.testing.assert_allclose(u0["departure_so_far"], [0.0, 0.25, 0.25])
    np.testing.assert_allclose(u0["conserved_departure"], [0.0, 0.25, 0.75])
    fam = cons.family_departures(t).sort_values("step")
    np.testing.assert_allclose(fam["departure"], [0.0, 0.125, 0.25])  # median of two units = their mean
    np.testing.assert_allclose(fam["departure_so_far"], [0.0, 0.125, 0.375])
    assert fam["n_units"].tolist() == [2, 2, 2]
    final = cons.final_departures(fam)
    assert final["step"].tolist() == [20] and final["departure_so_far"].iloc[0] == pytest.approx(0.375)
    # the theory is the prediction where recorded
    t2 = cons.unit_departures(_synthetic("sgd", "theory"))
    np.testing.assert_allclose(t2.sort_values(["unit", "step"])["departure"], t.sort_values(["unit", "step"])["departure"])
    with pytest.raises(RecordError, match="neither theory nor reference"):
        cons.unit_departures(_synthetic().assign(reference=np.nan))


@pytest.fixture(scope="module")
def digits():
    cfg = load_params("params.yaml")
    return cfg, prepare("digits", cfg["data"]["digits"])


def _run(cfg, ds, tmp_path, rule_label, batchnorm=False, seed=0):
    model = {"kind": "mlp", "hidden": [8], "activation": "relu", **({"batchnorm": True} if batchnorm else {})}
    run = make_run(
        cfg, dataset="digits", model=model, rule=ZOO[rule_label], train={"steps": 20, "batch_size": 16},
        record={"points": 4, "spacing": "linear", "layers": ["out"], "checkpoints": False, "per_step": [], "trackers": ["symmetry"]},
        seed=seed, rule_label=rule_label, model_label="mlp_bn" if batchnorm else "mlp",
    )
    return train_run(run, ds, tmp_path / f"{rule_label}-{int(batchnorm)}-{seed}.h5")


def test_departure_matches_neural_mechanics_relative_error(digits, tmp_path):
    """On an SGD run record, the final departure per unit is symmetry_dynamics.relative_errors' theory error."""
    cfg, ds = digits
    path = _run(cfg, ds, tmp_path, "sgd")
    table = symmetry_dynamics.run_table(path)
    nm = symmetry_dynamics.relative_errors(table)
    ours = cons.unit_departures(symmetry_dynamics.run_table(path, series=("empirical", "gradient_flow"), optional=("theory", "reference")))
    last = ours[ours["step"] == ours["step"].max()].set_index(["family", "layer", "unit"])["departure_so_far"]
    merged = nm.set_index(["family", "layer", "unit"])["relerr_theory"].to_frame().join(last)
    np.testing.assert_allclose(merged["departure_so_far"], merged["relerr_theory"], rtol=1e-12)


def test_main_and_figure_claims(digits, tmp_path):
    """The analysis keeps each family on its model; the figure's claims are per family and rule, value the
    mean over seeds of the final median relative error, spread its s.d."""
    cfg, ds = digits
    paths = [str(_run(cfg, ds, tmp_path, r, bn, s)) for r in ("sgd", "adam") for bn in (False, True) for s in (0, 1)]
    out = tmp_path / "conservation.csv"
    cons.main(paths, str(out), {"families": {"translation": "mlp", "rescale": "mlp", "scale": "mlp_bn"}})
    table = pd.read_csv(out)
    assert set(zip(table["model"], table["family"])) == {("mlp", "translation"), ("mlp", "rescale"), ("mlp_bn", "scale")}
    with pytest.raises(RecordError, match="scale"):
        cons.main(paths[:2], str(tmp_path / "x.csv"), {"families": {"translation": "mlp", "scale": "mlp_bn"}})

    claims = FIGURES["conservation"]([str(out)], str(tmp_path / "fig.png"), {"rules": ["sgd", "momentum", "adam"], "threshold": 0.01})
    by_id = {c.id: c for c in claims}
    assert set(by_id) == {f"cross_study.conservation.{f}.{r}" for f in ("translation", "scale", "rescale") for r in ("sgd", "adam")}
    final = cons.final_departures(table)
    d = final[(final["family"] == "translation") & (final["rule"] == "adam")]["departure_so_far"]
    c = by_id["cross_study.conservation.translation.adam"]
    assert c.value == pytest.approx(d.mean()) and c.spread == pytest.approx(np.std(d, ddof=1))
    assert not c.gated and c.value > 0.01 and not c.passed
    assert by_id["cross_study.conservation.translation.sgd"].value < 1e-5
    assert (tmp_path / "fig.pdf").exists() and len(pd.read_csv(tmp_path / "fig.csv")) == 6
    json.dumps([c.to_json() for c in claims], allow_nan=False)
