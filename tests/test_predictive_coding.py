"""The predictive-coding rule: closed-form gradients, energy descent, the two limits where PC equals BP."""

from __future__ import annotations

import pytest
import torch

from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.rules import build_rule
from learnscope.rules.losses import Loss, batch_total, loss_function
from learnscope.rules.predictive_coding import evaluate, feedforward_values, half_squared_error, layer_gradient, mlp_layers, output_error, relax, value_gradients

torch.set_num_threads(1)


def squared(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/2 sum over outputs of the squared error, mean over the batch (the paper's loss per sample)."""
    return 0.5 * ((out - y) ** 2).sum(1).mean()


def net(hidden, activation, seed=0, bias=True, n_in=64, n_out=10):
    torch.manual_seed(seed)
    return build_model({"kind": "mlp", "hidden": hidden, "activation": activation, "bias": bias}, (n_in,), n_out).double()


def batch(seed=1, n=8, n_in=64, n_out=10):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g, dtype=torch.float64)
    y = torch.nn.functional.one_hot(torch.randint(0, n_out, (n,), generator=g), n_out).double()
    return x, y


def bp_gradients(model, x, y, loss_fn):
    model.zero_grad()
    loss_fn(model(x), y).backward()
    return [(lin.weight.grad.clone(), lin.bias.grad.clone()) for lin, _ in mlp_layers(model)]


def rel_error(a, b):
    return max(float((ga - gb).norm() / gb.norm()) for (ga, _), (gb, _) in zip(a, b))


def energy_autograd(layers, s, xs, y, loss_fn, beta):
    h, total = s, 0.0
    for (lin, act), x in zip(layers[:-1], xs):
        total = total + 0.5 * ((x - torch.nn.functional.linear(h, lin.weight, lin.bias)) ** 2).sum()
        h = act(x)
    return total + beta * len(s) * loss_fn(torch.nn.functional.linear(h, layers[-1][0].weight, layers[-1][0].bias), y)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "linear"])
def test_closed_form_gradients_equal_autograd(activation):
    model = net([16, 12], activation)
    layers = mlp_layers(model)
    x, y = batch(n=5)
    with torch.no_grad():
        xs = [v + 0.3 * torch.randn_like(v) for v in feedforward_values(layers, x)]
    st = evaluate(layers, x, xs, y, squared, 0.7)
    leaves = [v.clone().requires_grad_(True) for v in xs]
    model.zero_grad()
    energy = energy_autograd(layers, x, leaves, y, squared, 0.7)
    energy.backward()
    assert st.energy == pytest.approx(float(energy.detach()), rel=1e-12)
    for g, leaf in zip(value_gradients(layers, xs, st), leaves):
        torch.testing.assert_close(g, leaf.grad, rtol=1e-9, atol=1e-12)
    for i, (lin, _) in enumerate(layers):
        gw, gb = layer_gradient(layers, st, i)
        torch.testing.assert_close(gw, lin.weight.grad, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(gb, lin.bias.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss_fn", [torch.nn.functional.cross_entropy, torch.nn.functional.mse_loss])
def test_closed_form_output_errors_equal_autograd(loss_fn):
    g = torch.Generator().manual_seed(5)
    y_hat = torch.randn(7, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (7,), generator=g) if loss_fn is torch.nn.functional.cross_entropy else torch.randn(7, 4, generator=g, dtype=torch.float64)
    loss, grad = output_error(y_hat.detach(), y, loss_fn, 0.3)
    ref = 0.3 * 7 * loss_fn(y_hat, y)
    ref.backward()
    assert float(loss) == pytest.approx(float(ref.detach()), rel=1e-12)
    torch.testing.assert_close(grad, y_hat.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear"])
def test_energy_never_increases_during_inference(activation):
    """Smooth energies: gradient steps at gamma = 0.1 never raise F (ReLU's kinks can, once; gamma then halves)."""
    model = net([32, 32], activation)
    x, y = batch()
    r = relax(mlp_layers(model), x, y, torch.nn.functional.cross_entropy, steps=200, rate=0.1)
    diffs = torch.diff(torch.tensor(r.energies))
    assert float(diffs.max()) <= 1e-9
    assert r.energies[-1] < r.energies[0] - 1e-2  # and inference does lower it


def test_small_loss_weight_limit_is_backprop():
    """grad_W F / beta -> grad_W L_BP as beta -> 0, with an O(beta) error (sigmoid 64-32-32-10, B=8, T=300).

    With a constant inference rate (discount 1): the default discount halves the rate whenever the energy
    does not fall, and at beta <= 1e-3 the energy's steps reach rounding level, so where the rate collapses
    (and the error floor it leaves, about 1e-4 once divided by beta) depends on the CPU's rounding: on one
    machine errors were 3.0e-4, 6.4e-5 and 1.2e-4 for beta = 1e-2, 1e-3, 1e-4, not O(beta)."""
    model = net([32, 32], "sigmoid")
    x, y = batch()
    bp = bp_gradients(model, x, y, squared)
    errors = {}
    for beta in (1e-2, 1e-3, 1e-4):
        rule = build_rule({"name": "predictive_coding", "lr": 0.1, "inference_steps": 300, "inference_rate": 0.1,
                           "inference_discount": 1.0, "loss_weight": beta})
        rule.setup(model)
        errors[beta] = rel_error(rule.gradients(x, y, squared), bp)
    assert errors[1e-4] < 1e-5
    assert 0.05 < errors[1e-3] / errors[1e-2] < 0.2 and 0.05 < errors[1e-4] / errors[1e-3] < 0.2  # O(beta)
    # at beta = 1 PC's update differs from BP's: prospective configuration, not a reparametrised BP
    rule = build_rule({"name": "predictive_coding", "lr": 0.1, "inference_steps": 300, "inference_rate": 0.1})
    rule.setup(model)
    assert rel_error(rule.gradients(x, y, squared), bp) > 1e-2


@pytest.mark.parametrize("activation,hidden", [("sigmoid", [20, 16, 12]), ("tanh", [20, 16, 12, 8]), ("leaky_relu", [20, 16, 12])])
def test_zil_schedule_equals_backprop(activation, hidden):
    model = net(hidden, activation, seed=3)
    x, y = batch(n=6)
    for loss_fn in (squared, torch.nn.functional.cross_entropy):
        bp = bp_gradients(model, x, y, loss_fn)
        rule = build_rule({"name": "predictive_coding", "lr": 0.1, "schedule": "zil"})
        rule.setup(model)
        for (gw, gb), (bw, bb) in zip(rule.gradients(x, y, loss_fn), bp):
            assert float((gw - bw).abs().max()) < 1e-10
            assert float((gb - bb).abs().max()) < 1e-10


def test_step_updates_weights_and_lowers_the_loss():
    model = net([32], "tanh")
    x, y = batch(n=16)
    rule = build_rule({"name": "predictive_coding", "lr": 0.05, "inference_steps": 20})
    model = rule.setup(model)
    losses = [float(rule.step(model, x, y, squared).loss) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    assert len(rule.last_energies) == 21


def test_unsupported_models_and_keys_are_config_errors():
    torch.manual_seed(0)
    conv = build_model({"kind": "convnet", "channels": [4]}, (1, 8, 8), 10)
    with pytest.raises(ConfigError, match="MLP models only"):
        build_rule({"name": "predictive_coding", "lr": 0.1, "implementation": "closed_form"}).setup(conv)
    bn = build_model({"kind": "convnet", "channels": [4], "batchnorm": True}, (1, 8, 8), 10)
    with pytest.raises(ConfigError, match="batch norm"):
        build_rule({"name": "predictive_coding", "lr": 0.1}).setup(bn)
    with pytest.raises(ConfigError, match="schedule"):
        build_rule({"name": "predictive_coding", "lr": 0.1, "schedule": "sometimes"})
    with pytest.raises(ConfigError, match="implementation"):
        build_rule({"name": "predictive_coding", "lr": 0.1, "implementation": "magic"})


def convnet(activation="tanh", seed=0):
    torch.manual_seed(seed)
    return build_model({"kind": "convnet", "channels": [3, 5], "hidden": [12], "activation": activation}, (1, 8, 8), 10).double()


def images(seed=2, n=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g, dtype=torch.float64), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "relu"])
@pytest.mark.parametrize("loss_fn", [torch.nn.functional.cross_entropy, squared, half_squared_error])
def test_autograd_implementation_equals_closed_form_on_mlps(activation, loss_fn):
    """The general (autograd) path reproduces the closed-form MLP path: energies at every inference step,
    rate halvings and the weight gradients at the relaxed state, to float64 round-off."""
    model = net([16, 12], activation, seed=4)
    x, y = batch(n=6)
    if loss_fn is torch.nn.functional.cross_entropy:
        y = y.argmax(1)
    out = {}
    for impl in ("closed_form", "autograd"):
        rule = build_rule({"name": "predictive_coding", "lr": 0.1, "inference_steps": 60, "inference_rate": 0.1, "implementation": impl})
        rule.setup(model)
        out[impl] = (rule.gradients(x, y, loss_fn), rule.last_energies)
    assert rule.segments is not None and len(rule.segments.blocks) == 3
    torch.testing.assert_close(torch.tensor(out["autograd"][1]), torch.tensor(out["closed_form"][1]), rtol=1e-12, atol=1e-12)
    for (ga, ba), (gc, bc) in zip(out["autograd"][0], out["closed_form"][0]):
        torch.testing.assert_close(ga, gc, rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(ba, bc, rtol=1e-10, atol=1e-13)


def test_autograd_zil_on_a_conv_net_equals_backprop():
    """Z-IL through conv, pooling and flatten layers reproduces backprop exactly (Song et al. 2020)."""
    model = convnet()
    x, y = images()
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    rule = build_rule({"name": "predictive_coding", "lr": 0.1, "schedule": "zil"})
    rule.setup(model)
    grads = rule.gradients(x, y, torch.nn.functional.cross_entropy)
    assert [type(m).__name__ for m in rule.weights] == ["Conv2d", "Conv2d", "Linear", "Linear"]
    for (gw, gb), m in zip(grads, rule.weights):
        assert float((gw - m.weight.grad).abs().max()) < 1e-10
        assert float((gb - m.bias.grad).abs().max()) < 1e-10


def test_conv_net_inference_lowers_the_energy_and_segments_reproduce_the_model():
    model = convnet()
    x, y = images(n=8)
    rule = build_rule({"name": "predictive_coding", "lr": 0.05, "inference_steps": 40, "inference_rate": 0.1})
    rule.setup(model)
    h = x
    for block in rule.segments.blocks:
        h = block(h)
    torch.testing.assert_close(h, model(x), rtol=0, atol=0)
    losses = [float(rule.step(model, x, y, torch.nn.functional.cross_entropy).loss) for _ in range(15)]
    energies = torch.tensor(rule.last_energies)
    # max-pooling makes F non-smooth: a step across a kink can raise it (then gamma halves), rarely
    assert int((torch.diff(energies) > 1e-9).sum()) <= 3 and energies[-1] < energies[0] - 1.0
    assert losses[-1] < losses[0] - 0.1 and all(b < a for a, b in zip(losses, losses[1:]))


def test_loss_functions_with_their_own_closed_form_and_half_squared_error():
    g = torch.Generator().manual_seed(6)
    y_hat = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 3, generator=g, dtype=torch.float64)
    loss, grad = output_error(y_hat.detach(), y, half_squared_error, 0.4)
    ref = 0.4 * 4 * half_squared_error(y_hat, y)
    ref.backward()
    assert float(loss) == pytest.approx(float(ref.detach()), rel=1e-12)
    torch.testing.assert_close(grad, y_hat.grad)

    def first_output(out, target):
        return 0.5 * ((out[:, 0] - target[:, 0]) ** 2).mean()

    first_output.summed_with_gradient = lambda out, target: (torch.tensor(7.0), torch.ones_like(out))
    loss, grad = output_error(y_hat.detach(), y, first_output, 2.0)  # the function's own form is used
    assert float(loss) == 14.0 and float(grad.sum()) == 24.0


LOSS_OPTIONS = [(k, r) for k in ("squared_error", "cross_entropy") for r in ("sum", "mean")]


@pytest.mark.parametrize("kind,reduction", LOSS_OPTIONS)
def test_loss_options_closed_form_equals_autograd(kind, reduction):
    g = torch.Generator().manual_seed(3)
    out = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 4, (6,), generator=g)
    loss_fn = Loss(kind, reduction, "classification")
    per = torch.nn.functional.cross_entropy(out, labels, reduction="none") if kind == "cross_entropy" else 0.5 * ((out - torch.nn.functional.one_hot(labels, 4)) ** 2).sum(1)
    ref = per.sum() if reduction == "sum" else per.mean()
    assert float(loss_fn(out.detach(), labels)) == pytest.approx(float(ref.detach()), rel=1e-12)
    summed, grad = loss_fn.summed_with_gradient(out.detach(), labels)
    per.sum().backward()
    assert float(summed) == pytest.approx(float(per.sum()), rel=1e-12)
    torch.testing.assert_close(grad, out.grad)
    assert float(batch_total(loss_fn, out.detach(), labels)) == pytest.approx(float(per.sum()), rel=1e-12)


def test_loss_from_train_section_and_its_errors():
    assert loss_function("classification", {}) is torch.nn.functional.cross_entropy
    assert loss_function("regression", {"steps": 3}) is torch.nn.functional.mse_loss
    paper = loss_function("classification", {"loss": "squared_error"})
    assert (paper.kind, paper.reduction) == ("squared_error", "sum")
    with pytest.raises(ConfigError, match="cross_entropy needs a classification"):
        loss_function("regression", {"loss": "cross_entropy"})
    with pytest.raises(ConfigError, match="reduction 'avg'"):
        loss_function("classification", {"reduction": "avg"})


@pytest.mark.parametrize("kind,reduction", LOSS_OPTIONS)
def test_energy_gradients_with_the_loss_options_equal_autograd(kind, reduction):
    """dF/dx and dF/dW of the closed form equal autograd on F = sum 1/2 eps^2 + beta * batch-summed loss."""
    model = net([16, 12], "tanh", n_in=10, n_out=5)
    layers = mlp_layers(model)
    g = torch.Generator().manual_seed(4)
    s = torch.randn(7, 10, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 5, (7,), generator=g)
    loss_fn, beta = Loss(kind, reduction, "classification"), 0.7
    xs = [x.detach() + 0.3 * torch.randn(x.shape, generator=g, dtype=torch.float64) for x in feedforward_values(layers, s)]
    st = evaluate(layers, s, xs, labels, loss_fn, beta)
    leaves = [x.detach().clone().requires_grad_(True) for x in xs]
    h, total = s, 0.0
    for (lin, act), x in zip(layers[:-1], leaves):
        total = total + 0.5 * ((x - lin(h)) ** 2).sum()
        h = act(x)
    total = total + beta * batch_total(loss_fn, layers[-1][0](h), labels)
    assert st.energy == pytest.approx(float(total), rel=1e-12)
    model.zero_grad()
    total.backward()
    for x, gx in zip(leaves, value_gradients(layers, xs, st)):
        torch.testing.assert_close(gx, x.grad)
    for i, (lin, _) in enumerate(layers):
        torch.testing.assert_close(layer_gradient(layers, st, i)[0], lin.weight.grad)


@pytest.mark.parametrize("kind,reduction", LOSS_OPTIONS)
def test_small_loss_weight_limit_is_backprop_of_the_same_loss_and_reduction(kind, reduction):
    model = net([16, 16], "sigmoid", n_in=12, n_out=4)
    g = torch.Generator().manual_seed(5)
    x, labels = torch.randn(6, 12, generator=g, dtype=torch.float64), torch.randint(0, 4, (6,), generator=g)
    loss_fn = Loss(kind, reduction, "classification")
    bp = bp_gradients(model, x, labels, loss_fn)
    rule = build_rule({"name": "predictive_coding", "lr": 0.1, "inference_steps": 300, "inference_rate": 0.1, "loss_weight": 1e-4})
    rule.setup(model)
    assert rel_error(rule.gradients(x, labels, loss_fn), bp) < 1e-3


@pytest.mark.parametrize("implementation", ["closed_form", "autograd"])
def test_schedule_all_takes_a_weight_step_at_every_inference_step(implementation):
    """Without hidden layers F is beta x the loss: T steps of ``all`` are T optimiser steps of BP."""
    model, twin = net([], "linear", n_in=5, n_out=3), net([], "linear", n_in=5, n_out=3)
    g = torch.Generator().manual_seed(8)
    x, labels = torch.randn(4, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (4,), generator=g)
    loss_fn = Loss("squared_error", "sum", "classification")
    pc = build_rule({"name": "predictive_coding", "lr": 0.05, "inference_steps": 5, "schedule": "all", "implementation": implementation, "optimizer": "adam", "weight_decay": 0.01})
    bp = build_rule({"name": "adam", "lr": 0.05, "weight_decay": 0.01})
    pc.setup(model)
    bp.setup(twin)
    pc.step(model, x, labels, loss_fn)
    for _ in range(5):
        bp.step(twin, x, labels, loss_fn)
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b)


def test_convergence_is_the_last_inference_move_of_every_value_node():
    model = net([16, 16], "tanh", n_in=10, n_out=5)
    layers = mlp_layers(model)
    x, y = batch(n=4, n_in=10, n_out=5)
    before, after = relax(layers, x, y, squared, 19, 0.1), relax(layers, x, y, squared, 20, 0.1)
    expected = [float((a - b).norm()) for a, b in zip(after.values, before.values)]
    assert after.last_moves == pytest.approx(expected, rel=1e-9)
    rule = build_rule({"name": "predictive_coding", "lr": 0.1, "inference_steps": 20})
    rule.setup(model)
    rule.step(model, x, y, squared)
    assert rule.last_convergence["moves"] == pytest.approx(expected, rel=1e-9)
    assert rule.last_convergence["energy"] == pytest.approx(after.energies[-1], rel=1e-9)


def test_step_matched_control_moves_along_backprop_by_the_size_of_pc_update():
    model, twin = net([12], "tanh", n_in=6, n_out=3), net([12], "tanh", n_in=6, n_out=3)
    g = torch.Generator().manual_seed(9)
    x, labels = torch.randn(5, 6, generator=g, dtype=torch.float64), torch.randint(0, 3, (5,), generator=g)
    loss_fn = Loss("squared_error", "sum", "classification")
    keys = {"name": "predictive_coding", "lr": 0.1, "inference_steps": 50}
    pc, matched = build_rule(keys), build_rule({**keys, "direction": "backprop_matched"})
    pc.setup(model)
    matched.setup(twin)
    before = [p.detach().clone() for p in twin.parameters()]
    bp = [g.flatten() for g in torch.autograd.grad(loss_fn(twin(x), labels), list(twin.parameters()))]
    pc_size = torch.cat([g.flatten() for pair in pc.gradients(x, labels, loss_fn) for g in pair]).norm()
    matched.step(twin, x, labels, loss_fn)
    move = torch.cat([(b - p.detach()).flatten() for b, p in zip(before, twin.parameters())])
    assert float(move.norm()) == pytest.approx(0.1 * float(pc_size), rel=1e-9)
    assert float(torch.nn.functional.cosine_similarity(move, torch.cat(bp), dim=0)) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ConfigError, match="direction"):
        build_rule({**keys, "direction": "backprop_matched", "schedule": "all"})
