"""Neural mechanics: symmetry constraints, the exact discrete recurrences of SGD/heavy ball (notes §1.4),
the online tracker's closed forms and stable oscillator buffers, the toy models and the study target."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from learnscope.analysis import modified_equation, symmetry_fields
from learnscope.claims import KEYS
from learnscope.config import load_params, make_run
from learnscope.data import prepare
from learnscope.models import ConvNet
from learnscope.record import open_run
from learnscope.rules import build_rule
from learnscope.train import train_run
from learnscope.train.symmetry import _Driven, homogeneous, oscillator_roots, symmetry_groups

torch.set_num_threads(1)  # tiny float64 nets: extra threads only contend on a shared machine


def _net(bn: bool, seed: int = 0, exact_bn: bool = True) -> ConvNet:
    """A small conv net in float64. ``exact_bn``: batch norm eps negligible next to the batch variance, so
    the scale symmetry is exact (eps = 1e-5 breaks it at relative order eps / variance)."""
    torch.manual_seed(seed)
    model = ConvNet((1, 8, 8), 10, channels=[4, 6, 8], batchnorm=bn).double()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d) and exact_bn:
            m.eps = 1e-30  # torch needs eps > 0
    return model


def _data(seed: int = 0, n: int = 32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g, dtype=torch.float64), torch.randint(0, 10, (n,), generator=g)


def _group(model, family: str, layer: str | None = None):
    return next(g for g in symmetry_groups(model) if g.family == family and (layer is None or g.layer == layer))


def _train(model, rule_cfg: dict, steps: int, observe):
    """Run ``steps`` updates of the rule on fixed random batches, calling observe(model, rule) before each."""
    rule = build_rule(rule_cfg)
    model = rule.setup(model)
    model.train()
    for k in range(steps):
        x, y = _data(seed=k)
        observe(model, rule)
        rule.step(model, x, y, torch.nn.functional.cross_entropy)
    observe(model, rule)


def _relerr(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


# -- gradient and Hessian constraints -------------------------------------------------------------------


def _grad_and_hvp(model, vec_of: dict):
    """Loss gradient (flat) and the Hessian-vector product with the flat vector built from ``vec_of``."""
    params = list(model.parameters())
    x, y = _data(seed=123)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    vec = [vec_of.get(id(p), torch.zeros_like(p)) for p in params]
    hvp = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vec)), params)
    return [g.detach() for g in grads], list(hvp), params


def test_scale_constraints_with_batchnorm():
    """<g, theta_A> = 0 and H theta_A = -g_A for a conv channel followed by batch norm (eps negligible: exact)."""
    model = _net(bn=True)
    w = model.net.conv2[0].weight
    theta_a = torch.zeros_like(w)
    theta_a[3] = w.detach()[3]
    grads, hvp, params = _grad_and_hvp(model, {id(w): theta_a})
    i = next(i for i, p in enumerate(params) if p is w)
    g = grads[i]
    assert abs(float((g[3] * w.detach()[3]).sum())) <= 1e-10 * float(g[3].norm() * w.detach()[3].norm())
    g_a = torch.zeros_like(g)
    g_a[3] = g[3]
    for j, h in enumerate(hvp):
        target = -g_a if j == i else torch.zeros_like(h)
        assert torch.allclose(h, target, atol=1e-9 * float(g.norm() + 1)), f"H theta_A != -g_A in parameter {j}"


def test_translation_constraints_of_softmax_readout():
    """<g, 1_A> = 0 and H 1_A = 0 for each input column (and the bias) of the read-out."""
    model = _net(bn=True)
    out = model.net.out
    col = torch.zeros_like(out.weight)
    col[:, 5] = 1.0
    grads, hvp, params = _grad_and_hvp(model, {id(out.weight): col})
    i = next(i for i, p in enumerate(params) if p is out.weight)
    assert torch.allclose(grads[i].sum(0), torch.zeros(out.weight.shape[1], dtype=torch.float64), atol=1e-14)
    assert abs(float(grads[i + 1].sum())) <= 1e-14  # the bias column
    assert all(torch.allclose(h, torch.zeros_like(h), atol=1e-12) for h in hvp)


def test_rescale_constraints_of_relu_channel():
    """<g_in, theta_in> = <g_out, theta_out> and H(theta_in - theta_out) = -(g_in - g_out) for a ReLU channel."""
    model = _net(bn=False)
    c1, c2 = model.net.conv1[0], model.net.conv2[0]
    c = 2
    v_w1, v_b1, v_w2 = torch.zeros_like(c1.weight), torch.zeros_like(c1.bias), torch.zeros_like(c2.weight)
    v_w1[c], v_b1[c], v_w2[:, c] = c1.weight.detach()[c], c1.bias.detach()[c], -c2.weight.detach()[:, c]
    vec = {id(c1.weight): v_w1, id(c1.bias): v_b1, id(c2.weight): v_w2}
    grads, hvp, params = _grad_and_hvp(model, vec)
    idx = {id(p): i for i, p in enumerate(params)}
    inner = sum(float((grads[idx[k]] * v).sum()) for k, v in vec.items())
    assert abs(inner) <= 1e-12 * float(sum(grads[idx[k]].norm() for k in vec))
    for p in params:
        g = grads[idx[id(p)]]
        target = torch.zeros_like(g)
        if id(p) in vec:
            mask = (vec[id(p)] != 0).to(g.dtype)
            target = -g * mask * (1.0 if p is not c2.weight else -1.0)
        assert torch.allclose(hvp[idx[id(p)]], target, atol=1e-9), "Hessian rescale constraint broken"


# -- exact discrete recurrences (notes §1.4), float64 ---------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 5e-3])
def test_sgd_recurrences_scale_translation_rescale(lam):
    """x_{k+1} = (1-eta lam)^2 x_k + eta^2 |g_A|^2; y_{k+1} = (1-eta lam) y_k; the same as x for rescale."""
    eta = 0.1
    for bn, family, layer in ((True, "scale", "conv2"), (True, "translation", None), (False, "rescale", "conv1_conv2")):
        model = _net(bn)
        grp = _group(model, family, layer)
        emp, drive = [], []

        def observe(m, rule):
            emp.append(grp.value())
            if all(p.grad is not None for p, _, _ in grp.parts):
                drive.append(grp.drive([p.grad for p, _, _ in grp.parts]) if family != "translation" else None)

        _train(model, {"name": "sgd", "lr": eta, "weight_decay": lam}, 25, observe)
        pred = [emp[0]]
        for k in range(25):
            if family == "translation":
                pred.append((1 - eta * lam) * pred[-1])
            else:
                pred.append((1 - eta * lam) ** 2 * pred[-1] + eta**2 * drive[k])
        assert _relerr(emp, pred) <= 1e-5, f"{family}: discrete recurrence off by {_relerr(emp, pred):.2e}"
        if family != "translation":
            assert _relerr(emp, [emp[0]] * len(emp)) > 1e-4  # the law is not trivially constant


def test_heavy_ball_scale_recurrence():
    """q_k = <theta, v>: p = beta q + lam x; x' = x - 2 eta p + eta^2 |v'|^2; q' = p - eta |v'|^2."""
    eta, beta, lam = 0.05, 0.9, 1e-3
    model = _net(True)
    grp = _group(model, "scale", "conv1")
    w = grp.parts[0][0]
    xs, qs, v2 = [], [], []

    def observe(m, rule):
        xs.append(grp.value())
        buf = rule.optimizer.state[w].get("momentum_buffer") if w in rule.optimizer.state else None
        if buf is None:
            qs.append(np.zeros_like(xs[-1]))
        else:
            qs.append((w.detach() * buf).sum(dim=(1, 2, 3)).numpy())
            v2.append(grp.drive([buf]))

    _train(model, {"name": "momentum", "lr": eta, "momentum": beta, "weight_decay": lam}, 25, observe)
    x, q, pred = xs[0], qs[0], [xs[0]]
    for k in range(25):
        p = beta * q + lam * x
        x = x - 2 * eta * p + eta**2 * v2[k]
        q = p - eta * v2[k]
        pred.append(x)
    assert _relerr(xs, pred) <= 1e-5
    assert _relerr(xs, [xs[0]] * len(xs)) > 1e-3


# -- the tracker's closed forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("gamma,omega2", [(0.5, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 0.0)])
def test_stable_buffers_equal_explicit_green_sum(gamma, omega2):
    """The decayed recursive buffers equal sum_{j<k} G(t_k - t_j) s_j with the textbook Green's function."""
    r1, r2 = oscillator_roots(gamma, omega2)
    if abs(r1 - r2) < 1e-12:
        green = lambda s: s * math.exp(-gamma * s)
    elif abs(r1.imag) > 0:
        om = r1.imag
        green = lambda s: math.exp(-gamma * s) * math.sin(om * s) / om
    else:
        green = lambda s: (math.exp(r1.real * s) - math.exp(r2.real * s)) / (r1.real - r2.real)
    dt, rng = 0.05, np.random.default_rng(0)
    s = rng.random((60, 3))
    buf = _Driven(gamma, omega2, dt, 3)
    for k in range(60):
        explicit = sum(green(dt * (k - j)) * s[j] for j in range(k)) if k else np.zeros(3)
        np.testing.assert_allclose(buf.value(), explicit, rtol=1e-9, atol=1e-12)
        buf.add(s[k])


def test_homogeneous_regimes():
    """x(0) = 1, x'(0) = 0 solutions of the damped oscillator in the three regimes (notes §1.5)."""
    t = 1.3
    g, w2 = 0.4, 1.0  # under-damped
    om = math.sqrt(w2 - g * g)
    assert homogeneous(t, g, w2) == pytest.approx(math.exp(-g * t) * (math.cos(om * t) + g / om * math.sin(om * t)), rel=1e-12)
    assert homogeneous(t, 1.0, 1.0) == pytest.approx(math.exp(-t) * (1 + t), rel=1e-12)
    ap, am = -2 + math.sqrt(3), -2 - math.sqrt(3)  # over-damped, gamma 2, omega^2 1
    assert homogeneous(t, 2.0, 1.0) == pytest.approx((ap * math.exp(am * t) - am * math.exp(ap * t)) / (ap - am), rel=1e-12)


@pytest.fixture(scope="module")
def digits():
    cfg = load_params("params.yaml")
    return cfg, prepare("digits", cfg["data"]["digits"])


def _tracked_run(cfg, ds, tmp_path, model, rule, steps=60):
    run = make_run(
        cfg, dataset="digits", model=model, rule=rule, train={"steps": steps, "batch_size": 32, "dtype": "float64"},
        record={"points": 7, "layers": ["out"], "checkpoints": False, "per_step": [], "trackers": ["symmetry", "parameter_sample"]}, seed=0,
    )
    return open_run(train_run(run, ds, tmp_path / "run.h5"))


def test_tracker_lambda0_theory_is_exact(digits, tmp_path):
    """At lambda = 0 the closed form equals the discrete recurrence: theory matches up to the symmetry
    breaking of batch norm's eps (1e-5), while the gradient-flow conservation law is visibly broken."""
    cfg, ds = digits
    with _tracked_run(cfg, ds, tmp_path, {"kind": "convnet", "channels": [8, 8, 8], "batchnorm": True}, {"name": "sgd", "lr": 0.1}) as run:
        assert "symmetry/scale/conv2/theory" in run.tracked_names
        np.testing.assert_allclose(run.tracked("symmetry/time"), 0.1 * run.steps)
        emp, th = run.tracked("symmetry/scale/conv2/empirical"), run.tracked("symmetry/scale/conv2/theory")
        gf = run.tracked("symmetry/scale/conv2/gradient_flow")
        assert emp.shape == (7, 8)
        assert _relerr(emp, th) <= 5e-5
        assert _relerr(emp, gf) >= 100 * _relerr(emp, th)
        y, yth = run.tracked("symmetry/translation/out/empirical"), run.tracked("symmetry/translation/out/theory")
        assert y.shape == (7, 9) and _relerr(y, yth) <= 1e-9
        sampled = [n for n in run.tracked_names if n.startswith("parameter_sample/")]
        assert sum(run.tracked(n).shape[1] for n in sampled) == 50
        assert all(np.ptp(run.tracked(n), axis=0).min() > 0 for n in sampled)  # the weights move


def test_tracker_momentum_close(digits, tmp_path):
    """Heavy ball on the net without batch norm: the oscillator closed forms track rescale and translation."""
    cfg, ds = digits
    rule = {"name": "momentum", "lr": 0.02, "momentum": 0.9, "weight_decay": 0.005}
    with _tracked_run(cfg, ds, tmp_path, {"kind": "convnet", "channels": [8, 8, 8]}, rule, steps=100) as run:
        for name in ("rescale/conv1_conv2", "translation/out"):
            emp, th = run.tracked(f"symmetry/{name}/empirical"), run.tracked(f"symmetry/{name}/theory")
            assert (np.max(np.abs(emp - th), 0) / np.max(np.abs(emp), 0)).max() <= 5e-2, name


@pytest.mark.parametrize("batchnorm,lr", [(True, 0.1), (False, 0.05)])
def test_tracker_on_tiny_vgg(digits, tmp_path, batchnorm, lr):
    """The paper-scale model kind: a VGG with scaled-down widths gets the same groups as ConvNet (scale
    per conv, a control without batch norm, rescale per consecutive conv pair, also across a max-pool, translation of the read-out), and
    at lambda = 0 the closed form tracks the symmetric family far better than the gradient-flow law."""
    cfg, ds = digits
    model = {"kind": "vgg", "cfg": "11", "width_scale": 0.125, "hidden": [], "batchnorm": batchnorm}
    with _tracked_run(cfg, ds, tmp_path, model, {"name": "sgd", "lr": lr}) as run:
        names = {n.split("/")[2] for n in run.tracked_names if n.startswith("symmetry/") and n.count("/") == 3}
        assert names == {*(f"conv{i}" for i in range(1, 9)), *(f"conv{i}_conv{i + 1}" for i in range(1, 8)), "out"}
        scale = "scale" if batchnorm else "scale_control"  # a conv is a scale group only with batch norm after it
        assert run.tracked(f"symmetry/{scale}/conv3/empirical").shape == (7, 32)
        assert run.tracked("symmetry/translation/out/empirical").shape == (7, 65)
        name = "scale/conv3" if batchnorm else "rescale/conv2_conv3"  # the rescale pair spans the pool after conv2
        emp, th, gf = (run.tracked(f"symmetry/{name}/{k}") for k in ("empirical", "theory", "gradient_flow"))
        assert _relerr(emp, th) <= 1e-4
        assert _relerr(emp, gf) >= 100 * _relerr(emp, th)


def test_tracker_rejects_rules_without_a_law(digits, tmp_path):
    """Every rule is tracked (tests/test_cross_study_conservation.py), except where no law is defined:
    Nesterov momentum, and Adam with weight decay (its decay passes through the preconditioner)."""
    from learnscope.errors import ConfigError

    cfg, ds = digits
    with pytest.raises(ConfigError, match="no reference law for adam with weight decay"):
        _tracked_run(cfg, ds, tmp_path, {"kind": "convnet", "channels": [4]}, {"name": "adam", "lr": 1e-3, "weight_decay": 1e-4}, steps=2)
    with pytest.raises(ConfigError, match="Nesterov"):
        _tracked_run(cfg, ds, tmp_path, {"kind": "convnet", "channels": [4]}, {"name": "momentum", "lr": 1e-2, "nesterov": True}, steps=2)


# -- the negative controls: a wrong lambda, a learning-rate drop, the equilibrium ----------------------------


def test_wrong_lambda_control_and_lr_drop_control(digits, tmp_path):
    """The same small BN run trained twice: by the train loop, and by the lr-drop analysis with eta x 0.1 from
    half time. Until the drop the two are the same run (same initialisation and batches); after it the
    constant-eta theory the laws assume departs from the norms (the equilibrium's control), while on the
    plain run it holds. The translation law with a wrong lambda (lambda + 1e-3, the control of the
    translation claims) misses the plain run's column sums by about 1e-3 t, above the claim's bar 1e-3."""
    from learnscope.analysis import lr_drop, symmetry_dynamics as sd

    cfg, ds = digits
    run = make_run(cfg, dataset="digits", model={"kind": "convnet", "channels": [4, 6], "batchnorm": True}, rule={"name": "sgd", "lr": 0.1, "weight_decay": 0.05},
                   train={"steps": 40, "batch_size": 32, "dtype": "float64"},
                   record={"points": 5, "layers": ["out"], "checkpoints": False, "per_step": [], "trackers": ["symmetry"]}, seed=0, model_label="bn")
    path = train_run(run, ds, tmp_path / "plain.h5")
    plain = sd.run_table(path, control_lambda_offset=1e-3)
    dropped = lr_drop.train_with_drop(run, ds, at=0.5, factor=0.1)
    assert set(dropped["lr_drop_step"]) == {20} and set(dropped["seed"]) == {0}
    cols = ["family", "layer", "unit", "step"]
    both = plain.merge(dropped, on=cols, suffixes=("", "_drop"))
    assert len(both) == len(plain)
    before, after = both[both["step"] <= 20], both[both["step"] > 20]
    np.testing.assert_allclose(before["empirical_drop"], before["empirical"], rtol=1e-12)
    err = lambda t, fam: float(sd.relative_errors(t[t["family"] == fam])["relerr_theory"].max())
    assert err(plain, "scale") <= 5e-3  # the law holds on the constant-eta run
    assert err(dropped, "scale") >= 0.05  # and not once eta drops: the constant-eta theory fails
    assert not np.allclose(after["empirical_drop"], after["empirical"], rtol=1e-3)
    e = sd.relative_errors(plain)
    tr = e[e["family"] == "translation"]
    assert tr["relerr_theory"].max() <= 1e-3  # the claim's bar; (1 - eta lambda)^k vs e^{-lambda t}: 5e-4 here
    t_end = 0.1 * 40
    assert tr["relerr_wrong_lambda"].min() > 1e-3  # the control fails the same bar
    assert tr["relerr_wrong_lambda"].max() <= 1.2 * (1 - math.exp(-1e-3 * t_end))  # about delta t (less the discretisation's own drift)
    assert e[e["family"] != "translation"]["relerr_wrong_lambda"].isna().all()


def _recurrence_sums(eta: float, lam: float, steps: int, drop_at: int | None = None, factor: float = 0.1, every: int = 10) -> pd.DataFrame:
    """Layer sums of one synthetic scale group: x_{k+1} = (1 - eta_k lam)^2 x_k + eta_k^2 |g_k|^2 with a
    stationary |g_k|^2 (mean 2, noisy), and the tracker's constant-eta theory e^{-2 lam t} x0 + eta^2 sum
    e^{-2 lam eta (k - j)} |d_j|^2, |d|^2 = |g|^2 + lam^2 x, recorded every ``every`` steps; eta_k drops by
    ``factor`` at ``drop_at``."""
    rng = np.random.default_rng(0)
    x, buf, x0, rows = 10.0, 0.0, 10.0, []
    for k in range(steps + 1):
        if k % every == 0:
            t = eta * k
            rows.append({"run_id": "r", "model": "bn", "seed": 0, "lr": eta, "weight_decay": lam, "family": "scale", "layer": "conv1",
                         "step": k, "time": t, "empirical": x, "theory": math.exp(-2 * lam * t) * x0 + buf})
        g2 = 2.0 * (1 + 0.3 * rng.standard_normal())
        e = eta * (factor if drop_at is not None and k >= drop_at else 1.0)
        buf = math.exp(-2 * lam * eta) * (buf + eta**2 * (g2 + lam**2 * x))
        x = (1 - e * lam) ** 2 * x + e**2 * g2
    return pd.DataFrame(rows)


def test_equilibrium_points_recover_the_fixed_point_and_the_lr_drop_leaves_it():
    from learnscope.figures.neural_mechanics import equilibrium_points

    eta, lam = 0.1, 0.05
    p = equilibrium_points(_recurrence_sums(eta, lam, 3000), window=0.2).iloc[0]
    assert p["grad_sq"] == pytest.approx(2.0, rel=0.05)  # the drive read back from the theory series
    assert p["x_star"] == pytest.approx(eta * 2.0 / (2 * lam), rel=0.05)
    assert p["deviation"] <= 0.05 and p["two_lambda_t_window"] == pytest.approx(2 * lam * 0.8 * eta * 3000)
    drop = equilibrium_points(_recurrence_sums(eta, lam, 3000, drop_at=1500), window=0.2).iloc[0]
    assert drop["deviation"] >= 0.5  # with eta dropped the norms leave the constant-eta equilibrium
    # before 2 lambda t >> 1 the memory of x(0) = 10 (far above x* = 2) keeps the norm off the equilibrium
    early = equilibrium_points(_recurrence_sums(eta, lam, 200), window=0.2).iloc[0]
    assert early["deviation"] >= 0.3 and early["two_lambda_t_window"] < 2


def test_modified_equation_controls_fail():
    """The negative controls of figure 4: the modified loss with its correction's sign reversed, and the
    oscillator flow of a wrong beta, track the iterates no better than gradient flow (ratio > 0.3)."""
    w0 = np.array([1.0, 0.0])
    for panel in (modified_equation.gd_panel(w0, 0.1, 20), modified_equation.momentum_panel(w0, 0.01, 0.9, 50, control_beta=0.8)):
        dist = {k: np.mean(np.linalg.norm(v - panel["iterates"], axis=1)) for k, v in panel.items()}
        control = next(k for k in dist if k.startswith("control_"))
        modified = control.removeprefix("control_")
        assert dist[modified] <= 0.3 * dist["gradient_flow"] < dist[control]


# -- toy models and the quadratic -------------------------------------------------------------------------


def test_toy_fields_orthogonal_and_flow_conserves():
    f = symmetry_fields.fields(6, 16, 0)
    assert f["abs_cos_generator"].max() <= 1e-9
    tr = symmetry_fields.trajectories([0.6, -0.3], 0.1, 30, 16, 0)
    flow = tr[tr["method"] == "gradient_flow"].groupby("model")["conserved"].agg(lambda c: np.ptp(c))
    assert flow.max() <= 1e-8
    gd = tr[(tr["method"] == "gradient_descent") & (tr["model"] == "scale")]["conserved"].to_numpy()
    assert gd[-1] > gd[0]  # finite steps push the scale-invariant weights outward


def test_modified_equation_quadratic():
    np.testing.assert_allclose(modified_equation.A, [[2.5, -1.5], [-1.5, 2.5]])
    gd = modified_equation.gd_panel(np.array([1.0, 0.0]), 0.1, 20)
    dist = {k: np.mean(np.linalg.norm(v - gd["iterates"], axis=1)) for k, v in gd.items()}
    assert dist["modified_loss"] <= 0.3 * dist["gradient_flow"]
    rot = modified_equation.rotation_panel(0.1, 100)
    assert np.linalg.norm(rot["iterates"][-1]) == pytest.approx((1 + 0.1**2) ** 50, rel=1e-12)
    assert np.linalg.norm(rot["iterates"][-1]) == pytest.approx(math.exp(0.5), rel=1e-2)


# -- the study, end to end --------------------------------------------------------------------------------


@pytest.mark.integration
def test_neural_mechanics_target_smoke(smoke_build):
    project = smoke_build.study("neural_mechanics")
    figures = ["neuron_dynamics", "symmetry_fields", "conservation_geometry", "modified_equation", "exact_dynamics", "momentum_dynamics", "sweep", "momentum_sweep", "equilibrium"]
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/neural_mechanics/{fig}.{ext}").stat().st_size > 0
    claims = json.loads(project.path("results/smoke/neural_mechanics/claims.json").read_text())
    assert {c["figure"] for c in claims} == set(figures)
    assert all(tuple(c) == KEYS for c in claims)  # claims contract v2
    assert all(c["kind"] in ("claim", "check") and c["source"] for c in claims)
    gated = [c for c in claims if c["gated"] and c["kind"] == "claim"]
    assert gated and all(c["control"] is not None for c in gated)  # every reproduction gate has its control
    # the smoke tier exercises the new structure: the beta sweep, the equilibrium and its lr-drop control, two seeds
    sweep = pd.read_csv(project.path("figures/smoke/neural_mechanics/momentum_sweep.csv"))
    assert set(sweep["momentum"].dropna()) >= {0.8, 0.9, 0.99}
    eq = {c["id"].split(".")[-1]: c for c in claims if c["figure"] == "equilibrium"}
    assert eq["reached"]["control"]["value"] is not None and eq["reached"]["spread"] is not None
    assert next(c for c in claims if c["id"].endswith("exact_dynamics.scale"))["spread"] is not None
    toy = [c for c in claims if c["figure"] in ("symmetry_fields", "conservation_geometry", "modified_equation") and c["gated"]]
    assert toy and all(c["pass"] for c in toy)  # no training involved: these hold at any scale
