"""Feedback alignment and information alignment: exact backward passes and the IA local loss."""

import copy

import pytest
import torch
import torch.nn.functional as F

from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.rules import build_rule
from learnscope.rules.feedback import FALinear, feedback_layers


def setup(rule_name, spec, shape, **cfg):
    torch.manual_seed(0)
    model = build_model(spec, shape, 4).double()
    reference = copy.deepcopy(model)
    rule = build_rule({"name": rule_name, "lr": 0.1, **cfg})
    return rule.setup(model), reference, rule


MLP = ({"kind": "mlp", "hidden": [7, 5], "activation": "tanh"}, (6,))
CNN = ({"kind": "convnet", "channels": [3, 4], "hidden": [5]}, (2, 6, 6))


def grads(model, x, y):
    model.zero_grad()
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}, x.grad


def test_fa_keeps_names_and_forward_values():
    model, reference, _ = setup("feedback_alignment", *MLP)
    x = torch.randn(3, 6, dtype=torch.float64)
    torch.testing.assert_close(model(x), reference(x))
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert len(feedback_layers(model)) == 3
    assert all("feedback" in n for n in model.state_dict() if n not in reference.state_dict())


def test_fa_backward_uses_b_exactly():
    torch.manual_seed(1)
    layer = FALinear(5, 3).double()
    layer._init_feedback(learn=False)
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    gy = torch.randn(4, 3, dtype=torch.float64)
    layer(x).backward(gy)
    torch.testing.assert_close(x.grad, gy @ layer.feedback)
    torch.testing.assert_close(layer.weight.grad, gy.T @ x.detach())
    torch.testing.assert_close(layer.bias.grad, gy.sum(0))
    assert not torch.allclose(layer.feedback, layer.weight)


@pytest.mark.parametrize("spec,shape", [MLP, CNN])
def test_fa_with_b_equal_to_w_is_backprop_and_differs_otherwise(spec, shape):
    model, reference, _ = setup("feedback_alignment", spec, shape)
    x, y = torch.randn(5, *shape, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0])
    g_bp, gx_bp = grads(reference, x, y)
    g_fa, _ = grads(model, x, y)
    first = next(n for n in g_bp if n.endswith("weight"))
    assert not torch.allclose(g_fa[first], g_bp[first])  # random B: early layers get other gradients
    last = [n for n in g_bp if n.endswith("weight")][-1]
    torch.testing.assert_close(g_fa[last], g_bp[last])  # the read-out's own update is local
    for layer in feedback_layers(model):
        layer.feedback.copy_(layer.weight.detach())
    g_fa, gx_fa = grads(model, x, y)
    for n in g_bp:
        torch.testing.assert_close(g_fa[n], g_bp[n], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gx_fa, gx_bp, rtol=1e-12, atol=1e-12)


def test_ia_feedback_gradient_is_the_closed_form():
    alpha, beta, gamma = 2e-3, 1e-3, 1e-3
    model, _, rule = setup("information_alignment", *MLP, alpha=alpha, beta=beta, gamma=gamma)
    x = torch.randn(9, 6, dtype=torch.float64)
    model(x)
    for layer in feedback_layers(model):
        layer.feedback.grad = None
    rule.alignment_loss(model).backward()
    for layer in feedback_layers(model):
        xi, B = layer.last_input, layer.feedback.detach()
        P = F.linear(xi, layer.weight.detach(), layer.bias.detach())
        n = xi.shape[0]
        closed = -(alpha / n) * P.T @ xi + (2 * beta / n) * P.T @ P @ B + 2 * gamma * B
        torch.testing.assert_close(layer.feedback.grad, closed, rtol=1e-10, atol=1e-14)
        assert layer.weight.grad is None  # the local loss does not reach W


def test_ia_learns_b_and_fa_keeps_it_fixed():
    x, y = torch.randn(16, 2, 6, 6, dtype=torch.float64), torch.arange(16) % 4
    for name, moves in (("feedback_alignment", False), ("information_alignment", True)):
        model, _, rule = setup(name, *CNN, alpha=1.0, beta=0.5, gamma=0.01)
        before = [layer.feedback.detach().clone() for layer in feedback_layers(model)]
        losses = [float(rule.step(model, x, y, F.cross_entropy).loss) for _ in range(15)]
        after = [layer.feedback.detach() for layer in feedback_layers(model)]
        assert losses[-1] < losses[0], name
        assert all(not torch.equal(a, b) for a, b in zip(after, before)) == moves, name


def test_ia_feedback_lr_steps_b_at_its_own_rate_and_only_ia_takes_it():
    """One plain-SGD step: W moves by -lr * its gradient, B by -feedback_lr * dR_IA/dB (closed form above)."""
    alpha, beta, gamma, lr, feedback_lr = 2e-3, 1e-3, 1e-2, 0.1, 3.0
    x, y = torch.randn(9, 6, dtype=torch.float64), torch.arange(9) % 4
    moved = {}
    for b_lr in (None, feedback_lr):
        extra = {} if b_lr is None else {"feedback_lr": b_lr}
        model, _, rule = setup("information_alignment", *MLP, optimizer="sgd", alpha=alpha, beta=beta, gamma=gamma, **extra)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        rule.step(model, x, y, F.cross_entropy)
        moved[b_lr] = {n: p.detach() - before[n] for n, p in model.named_parameters()}
        assert rule.learning_rate() == pytest.approx(lr)            # the first group is W's
    for n, step in moved[feedback_lr].items():
        scale = feedback_lr / lr if n.endswith("feedback") else 1.0
        torch.testing.assert_close(step, scale * moved[None][n], rtol=1e-9, atol=1e-15)
        assert step.abs().max() > 0, n
    for name in ("sgd", "momentum", "adam", "feedback_alignment", "predictive_coding"):
        with pytest.raises(ConfigError, match="feedback_lr"):
            build_rule({"name": name, "lr": 0.1, "feedback_lr": 1.0})
