"""shared_geometry (Lu et al. 2018): SRM against BrainIAK fixtures, RSA, the family analysis, the XOR
simulation, the ResNet model, and the study's Snakemake target on the smoke config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

from learnscope.analysis import rsa
from learnscope.analysis.shared_geometry import analyse_family, split_images, unit_shuffle_null, unit_subset
from learnscope.analysis.srm import deterministic_srm, probabilistic_srm
from learnscope.analysis.xor_simulation import copy_maps, xor_data
from learnscope.claims import KEYS
from learnscope.config import family_runs, load_params, validate_params
from learnscope.record.identity import run_id
from learnscope.data import prepare
from learnscope.models import build_model
from learnscope.train import train_run

FIXTURE = Path(__file__).parent / "fixtures" / "srm_brainiak.npz"
REPO = Path(__file__).resolve().parents[1]


def _problem(g, name: str) -> list[np.ndarray]:
    return [g[f"{name}.x{i}"] for i in range(3)]


@pytest.mark.parametrize("name,k", [("random", 20), ("helix", 3)])
def test_srm_matches_brainiak_fixtures(name, k):
    g = np.load(FIXTURE)
    xs = _problem(g, name)
    prob = probabilistic_srm(xs, k, n_iter=10, seed=0)
    det = deterministic_srm(xs, k, n_iter=10, seed=0)
    for i in range(3):
        np.testing.assert_allclose(prob.w[i], g[f"{name}.srm.w{i}"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(prob.mu[i], g[f"{name}.srm.mu{i}"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(det.w[i], g[f"{name}.det.w{i}"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(prob.s, g[f"{name}.srm.s"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(prob.sigma_s, g[f"{name}.srm.sigma_s"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(prob.rho2, g[f"{name}.srm.rho2"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(det.s, g[f"{name}.det.s"], rtol=0, atol=1e-10)
    # BrainIAK's transform does not subtract mu
    np.testing.assert_allclose(prob.transform(xs)[0], g[f"{name}.srm.transform0"], rtol=0, atol=1e-10)


@pytest.mark.crosscheck
def test_srm_matches_brainiak_itself():
    srm = pytest.importorskip("brainiak.funcalign.srm", reason="BrainIAK is a dev extra (pip install .[crosscheck])")
    rng = np.random.RandomState(7)
    xs = [rng.randn(15, 40) + 1.0 for _ in range(4)]
    b = srm.SRM(n_iter=5, features=15, rand_seed=3).fit(xs)
    ours = probabilistic_srm(xs, 15, n_iter=5, seed=3)
    np.testing.assert_allclose(ours.s, b.s_, atol=1e-10)
    np.testing.assert_allclose(ours.rho2, b.rho2_, atol=1e-10)


def _rotated(rng, m=12, n=200, nets=5, noise=0.0):
    s = rng.standard_normal((m, n)) * np.linspace(3, 0.5, m)[:, None]
    qs = [np.linalg.qr(rng.standard_normal((m, m)))[0] for _ in range(nets)]
    return s, [q @ s + noise * rng.standard_normal((m, n)) for q in qs]


@pytest.mark.parametrize("fit", [probabilistic_srm, deterministic_srm])
def test_srm_maps_are_orthonormal_and_recover_a_rotated_shared_space(fit):
    rng = np.random.default_rng(0)
    s, xs = _rotated(rng, noise=0.01)
    model = fit(xs, 12, n_iter=30, seed=0)
    for w in model.w:
        np.testing.assert_allclose(w.T @ w, np.eye(12), atol=1e-10)
    shared = model.transform(xs)
    # every network lands in the same shared space: its responses agree with each other's to noise level
    for a in shared[1:]:
        assert np.abs(a - shared[0]).max() / np.abs(shared[0]).max() < 0.05
    # and the shared space is an orthogonal transform of the true S (Procrustes residual ~ noise)
    u, _, vt = np.linalg.svd(shared[0] @ s.T)
    assert np.linalg.norm(u @ vt @ s - shared[0]) / np.linalg.norm(s) < 0.05


@pytest.mark.parametrize("fit", [probabilistic_srm, deterministic_srm])
def test_srm_records_its_objective_and_runs_to_convergence_with_a_tolerance(fit):
    """issue 20: BrainIAK's 10 iterations need not converge. Without tol a fit runs exactly n_iter
    iterations (the fixtures above stay BrainIAK's); with tol it stops when the objective (the
    probabilistic SRM's log-likelihood, DetSRM's −squared error) settles, and the objective never decreases."""
    rng = np.random.default_rng(0)
    _, xs = _rotated(rng, noise=0.3)
    fixed = fit(xs, 12, n_iter=10, seed=0)
    assert fixed.iterations == 10 and fixed.converged is None
    conv = fit(xs, 12, n_iter=5000, seed=0, tol=1e-8)
    assert conv.converged and conv.iterations < 5000
    assert np.all(np.diff(conv.trace) >= -1e-9 * np.abs(conv.trace[:-1]))       # EM / block descent: monotone
    n = min(10, conv.iterations)
    np.testing.assert_allclose(conv.trace[:n], fixed.trace[:n])                 # the same path, stopped elsewhere
    capped = fit(xs, 12, n_iter=3, seed=0, tol=1e-12)
    assert capped.iterations == 3 and capped.converged is False


def test_srm_rejects_bad_inputs():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="at least 2"):
        probabilistic_srm([rng.random((5, 20))], 3)
    with pytest.raises(ValueError, match="exceed the 4 samples"):
        deterministic_srm([rng.random((5, 4)), rng.random((5, 4))], 5)
    with pytest.raises(ValueError, match="same samples"):
        probabilistic_srm([rng.random((5, 20)), rng.random((5, 21))], 3)


def test_rsm_zscore_and_similarity():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 12)) * 3 + 2
    z = rsa.zscore_images(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-12)
    np.testing.assert_allclose(rsa.rsm(x), np.corrcoef(x.T), atol=1e-12)
    np.testing.assert_allclose(rsa.rsm(z), rsa.rsm(x), atol=1e-12)  # z-scoring images leaves the RSM
    a, b = rsa.rsm(x), rsa.rsm(rng.standard_normal((30, 12)))
    low = np.tril_indices(12, k=-1)
    assert rsa.similarity(a, b) == pytest.approx(np.corrcoef(a[low], b[low])[0, 1])
    assert rsa.similarity(a, b, method="kendall") == pytest.approx(scipy.stats.kendalltau(a[low], b[low]).statistic)
    assert rsa.similarity(a, a, entries="all") == pytest.approx(1.0)
    assert len(rsa.lower(a)) == 12 * 11 // 2


def test_loo_inter_rsm_native_vs_shared_for_permuted_copies():
    rng = np.random.default_rng(3)
    # z-scored images, as the pipeline does: Pearson RSMs are then (nearly) rotation invariant
    h_fit, h_ev = rsa.zscore_images(rng.random((20, 300))), rsa.zscore_images(rng.random((20, 60)))
    perms = [np.eye(20)[rng.permutation(20)] for _ in range(6)]
    fit = [p @ h_fit for p in perms]
    ev = [p @ h_ev for p in perms]
    within = rsa.within_rsms(ev).mean(0)
    # identical copies: the LOO iRSM is the within RSM exactly
    np.testing.assert_allclose(rsa.loo_inter_rsms([h_ev] * 4).mean(0), within, atol=1e-12)
    native = rsa.similarity(rsa.loo_inter_rsms(ev).mean(0), within)
    model = deterministic_srm(fit, 20, n_iter=20, seed=0)
    shared = rsa.similarity(rsa.loo_inter_rsms(model.transform(ev)).mean(0), within)
    assert shared > 0.95
    assert abs(native) < 0.3
    assert rsa.loo_inter_rsms(ev).shape == (6, 60, 60)


def test_variance_explained_bounds():
    rng = np.random.default_rng(4)
    _, exact = _rotated(rng, noise=0.0)
    model = deterministic_srm(exact, 12, n_iter=20, seed=0)
    np.testing.assert_allclose(rsa.variance_explained(model.w, exact), 1.0, atol=1e-6)
    _, noisy = _rotated(rng, noise=1.0)
    model = deterministic_srm(noisy, 12, n_iter=20, seed=0)
    ve = rsa.variance_explained(model.w, noisy)
    assert np.all(ve < 0.95) and np.all(ve > 0.3)
    # unrelated networks: the mean shared response explains little
    unrelated = [rng.standard_normal((12, 200)) for _ in range(5)]
    ve0 = rsa.variance_explained(deterministic_srm(unrelated, 12, seed=0).w, unrelated)
    assert np.all(ve0 < ve.min())


def test_consistency_and_class_rsm():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 40))
    c = rsa.pairwise_consistency(np.stack([rsa.rsm(x)] * 3 + [rsa.rsm(rng.standard_normal((10, 40)))]))
    assert c.shape == (6,)
    np.testing.assert_allclose(c[[0, 1, 3]], 1.0)  # pairs (0,1), (0,2), (1,2) of identical RSMs
    assert np.all(np.abs(c[[2, 4, 5]]) < 0.5)
    labels = np.repeat(np.arange(4), 10)
    cr = rsa.class_rsm(x, labels)
    np.testing.assert_allclose(cr, np.corrcoef(np.stack([x[:, labels == k].mean(1) for k in range(4)])), atol=1e-12)


def test_split_and_unit_subset():
    labels = np.repeat(np.arange(5), 20)
    fit, ev = split_images(labels, 0.8, 0)
    assert len(fit) == 80 and len(ev) == 20 and not set(fit) & set(ev)
    assert np.all(np.diff(labels[ev]) >= 0) and np.all(np.bincount(labels[ev]) == 4)
    np.testing.assert_array_equal(split_images(labels, 0.8, 0)[1], ev)
    sub = unit_subset(500, 64, 0, network_seed=3, layer_index=1)
    assert len(sub) == 64 and len(set(sub)) == 64
    np.testing.assert_array_equal(sub, unit_subset(500, 64, 0, 3, 1))
    assert not np.array_equal(sub, unit_subset(500, 64, 0, 4, 1))
    np.testing.assert_array_equal(unit_subset(50, 64, 0, 3, 1), np.arange(50))


def test_resnet_layers_and_shapes():
    torch.manual_seed(0)
    net = build_model({"kind": "resnet", "width": 8, "blocks": 3, "pool_after": [2]}, (1, 8, 8), 10)
    shapes = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: shapes.__setitem__(n, tuple(o.shape))) for n, m in net.layer_modules().items()]
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    for h in hooks:
        h.remove()
    assert shapes == {"stem": (2, 8, 4, 4), "block1": (2, 8, 4, 4), "block2": (2, 8, 2, 2), "block3": (2, 8, 2, 2), "gap": (2, 8), "out": (2, 10)}
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_xor_data_and_copy_maps():
    rng = np.random.default_rng(0)
    x, y = xor_data(rng, 50, 0.3, 1.0)
    assert x.shape == (200, 2) and np.bincount(y).tolist() == [100, 100]
    np.testing.assert_allclose(x.mean(0), [1.0, 1.0], atol=0.1)  # the original's +1 offset
    for q in copy_maps(rng, "orthogonal", 6, 3) + copy_maps(rng, "permutation", 6, 3):
        np.testing.assert_allclose(q.T @ q, np.eye(6), atol=1e-12)


def test_family_analysis_on_real_runs(tmp_path):
    ds = prepare("d", {"kind": "digits", "test_fraction": 0.4, "seed": 0, "probe_per_class": 1000, "standardize": True})
    paths = []
    for seed in range(3):
        run = {"dataset": {"name": "d"}, "model": {"kind": "mlp", "hidden": [16]}, "rule": {"name": "adam", "lr": 0.001},
               "train": {"steps": 40, "batch_size": 32}, "record": {"points": 3, "spacing": "log", "layers": ["fc1", "out"], "checkpoints": False, "per_step": []},
               "seed": seed, "device": "cpu", "labels": {"rule": "adam", "model": "mlp"}}
        paths.append(str(train_run(run, ds, tmp_path / f"r{seed}.h5")))
    table, arrays = analyse_family("mlp", paths, ["fc1", "out"], {"max_units": 16, "null_shuffles": 4})
    final = table[(table["point"] == table["point"].max()) & (table["member"] == "all")].set_index(["layer", "metric"])["value"]
    assert final[("fc1", "shared_vs_within")] > 0.9
    assert abs(final[("fc1", "native_vs_within")]) < final[("fc1", "shared_vs_within")]
    assert final[("fc1", "development")] == pytest.approx(final[("fc1", "shared_vs_within")])
    # issue 20's control: image order shuffled independently per network before the SRM leaves nothing shared
    assert abs(final[("fc1", "shared_vs_within_image_shuffled")]) < 0.3 < final[("fc1", "shared_vs_within")]
    # every SRM fit records its iterations and objective (the paper's fixed 10 iterations by default)
    assert (table[table["metric"] == "srm_iterations"]["value"] == 10).all() and not (table["metric"] == "srm_converged").any()
    conv = analyse_family("mlp", paths, ["fc1"], {"max_units": 16, "null_shuffles": 4, "srm_tol": 1e-6, "n_iter": 5000, "ve_ks": [2, 8, 16, 40]})[0]
    assert (conv[conv["metric"] == "srm_converged"]["value"] == 1).all() and conv[conv["metric"] == "srm_iterations"]["value"].max() > 10
    # variance explained against k < #units (16), untrained and trained: more features explain more
    vek = conv[conv["metric"] == "variance_explained_k"].pivot(index="member", columns="point", values="value")
    assert sorted(vek.index, key=int) == ["2", "8"] and list(vek.columns) == [0, conv["point"].max()]
    assert (vek.loc["8"] > vek.loc["2"]).all() and vek.to_numpy().max() <= 1
    ve = table[table["metric"] == "variance_explained"]["value"]
    assert ve.between(-1, 1).all() and len(ve) == 3 * 2 * 3
    null = table[table["metric"] == "native_null"]
    assert len(null) == 2 * 4 and null["value"].abs().max() < 1
    # the logits correspond to classes in every network: natively aligned, far outside the unit-shuffle null
    assert final[("out", "native_vs_within")] > null[null["layer"] == "out"]["value"].max()
    assert arrays["fc1__wrsm"].shape == (len(arrays["eval_labels"]),) * 2
    assert arrays["fc1__class_rsm__0"].shape == (10, 10)


def _native_z(xs):
    z = [rsa.zscore_images(x) for x in xs]
    wrsm = rsa.within_rsms(z).mean(0)
    native = rsa.similarity(rsa.loo_inter_rsms(z).mean(0), wrsm)
    null = unit_shuffle_null(z, wrsm, 20, np.random.default_rng(0))
    return native, (native - np.mean(null)) / np.std(null, ddof=1), np.std(null, ddof=1)


def test_native_score_of_unrelated_networks_is_chance_not_zero():
    """Ten independent random ReLU layers on the digits probe share no units, yet r(iRSM_native, wRSM) is
    a chance correlation whose s.d. is far from 0 (so a fixed |r| bound fails by chance); the unit-shuffle
    null has that s.d. and places them inside it, while networks that do share units fall far outside."""
    ds = prepare("d", {"kind": "digits", "test_fraction": 0.4, "seed": 0, "probe_per_class": 1000, "standardize": True})
    x = torch.as_tensor(ds.probe_x.reshape(len(ds.probe_y), -1)[:150], dtype=torch.float32)
    layers = []
    for seed in range(10):
        torch.manual_seed(seed)
        with torch.no_grad():
            layers.append(torch.relu(torch.nn.Linear(x.shape[1], 100)(x)).numpy().T.astype(np.float64))
    _, z, null_sd = _native_z(layers)
    assert abs(z) < 3 and null_sd > 0.05
    rng = np.random.default_rng(1)
    shared_units = [layers[0] + 0.5 * rng.standard_normal(layers[0].shape) for _ in range(10)]
    native, z, _ = _native_z(shared_units)
    assert native > 0.5 and z > 3


@pytest.mark.parametrize("override", [[], ["config/smoke.yaml"], ["config/paper.yaml"]])
def test_study_config_and_runs(override):
    cfg = load_params(REPO / "params.yaml", [REPO / o for o in override])
    validate_params(cfg, REPO / "workflow/schemas/params.schema.yaml")
    sec = cfg["shared_geometry"]
    runs = family_runs(cfg, "shared_geometry")
    assert list(runs) == list(sec["families"])
    ids = {run_id(r) for rs in runs.values() for r in rs}
    assert len(ids) == len(sec["families"]) * len(sec["seeds"])
    for family, rs in runs.items():
        assert [r["seed"] for r in rs] == sec["seeds"]
        assert all(r["record"]["layers"] == sec["families"][family]["layers"] and r["labels"]["model"] == family for r in rs)
    # every figure's family and layer exist
    figs = sec["figures"]
    assert figs["three_rsms"]["layer"] in sec["families"][figs["three_rsms"]["family"]]["layers"]
    assert figs["trajectories"]["layer"] in sec["families"][figs["trajectories"]["family"]]["layers"]
    assert set(sec["claims"]["ve_lower_layers"]) <= set(sec["families"][sec["claims"]["ve_lower_family"]]["layers"])


@pytest.mark.integration
def test_snakemake_shared_geometry_smoke(smoke_build):
    project = smoke_build.study("shared_geometry")
    for fig in ("three_rsms", "main_grid", "simulation", "class_rsms", "trajectories"):
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/shared_geometry/{fig}.{ext}").stat().st_size > 0
        assert len(pd.read_csv(project.path(f"figures/smoke/shared_geometry/{fig}.csv"))) > 0
    claims = json.loads(project.path("results/smoke/shared_geometry/claims.json").read_text())
    assert claims and all(set(c) == set(KEYS) for c in claims)
    ids = {c["id"] for c in claims}
    assert {"shared_geometry.simulation.orthogonal_shared", "shared_geometry.three_rsms.mlp_native", "shared_geometry.main_grid.mlp_development_rises"} <= ids
    by_id = {c["id"]: c for c in claims}
    # the gate is the contrast, controlled on the untrained networks; the unit-shuffle null is an integrity
    # check; the pilot's |r| bound is reported
    contrast = by_id["shared_geometry.three_rsms.mlp_contrast"]
    assert contrast["gated"] and contrast["kind"] == "claim" and "untrained" in contrast["control"]["description"]
    assert by_id["shared_geometry.three_rsms.mlp_shared"]["control"] is not None
    assert "shuffled" in by_id["shared_geometry.main_grid.mlp_development_rises"]["control"]["description"]
    assert all(c["control"] is not None for c in claims if c["gated"] and c["kind"] == "claim")
    assert by_id["shared_geometry.three_rsms.mlp_native_chance"]["kind"] == "check"
    assert not by_id["shared_geometry.three_rsms.mlp_native"]["gated"]
