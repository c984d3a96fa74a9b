"""Models and the gradient rules of the zoo."""

import math

import pytest
import torch

from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.rules import RULES, build_rule


@pytest.mark.parametrize(
    "spec,shape,layers",
    [
        ({"kind": "mlp", "hidden": [16, 8], "activation": "tanh"}, (1, 8, 8), {"fc1": (16,), "fc2": (8,), "out": (10,)}),
        ({"kind": "convnet", "channels": [4, 6], "hidden": [12], "batchnorm": True}, (1, 8, 8), {"conv1": (4, 4, 4), "conv2": (6, 2, 2), "fc1": (12,), "out": (10,)}),
        ({"kind": "vgg", "channels": [4, 6, 6], "pool_after": [1, 3], "hidden": [12], "batchnorm": True}, (1, 8, 8), {"conv1": (4, 4, 4), "conv2": (6, 4, 4), "conv3": (6, 2, 2), "fc1": (12,), "out": (10,)}),
        ({"kind": "vgg", "cfg": "11", "width_scale": 0.125, "hidden": []}, (3, 8, 8),
         {"conv1": (8, 4, 4), "conv2": (16, 2, 2), "conv3": (32, 2, 2), "conv4": (32, 1, 1), "conv5": (64, 1, 1), "conv6": (64, 1, 1),
          "conv7": (64, 1, 1), "conv8": (64, 1, 1), "out": (10,)}),
        ({"kind": "rnn", "hidden_size": 20, "steps": 5}, (12,), {"hidden": (5, 20), "out": (10,)}),
        ({"kind": "rnn", "hidden_size": 20}, (7, 12), {"hidden": (7, 20), "out": (10,)}),
    ],
)
def test_models_output_and_layer_shapes(spec, shape, layers):
    torch.manual_seed(0)
    model = build_model(spec, shape, 10)
    captured = {}
    for name, module in model.layer_modules().items():
        module.register_forward_hook(lambda m, i, o, n=name: captured.__setitem__(n, o.shape[1:]))
    out = model(torch.randn(3, *shape))
    assert out.shape == (3, 10)
    assert {k: tuple(v) for k, v in captured.items()} == layers


def test_rnn_recurrent_weights_follow_the_gain():
    torch.manual_seed(0)
    n, gain = 400, 1.7
    w = build_model({"kind": "rnn", "hidden_size": n, "gain": gain}, (5,), 2).hidden.recurrent.weight
    assert float(w.detach().std()) == pytest.approx(gain / math.sqrt(n), rel=0.02)


def test_unknown_model_and_option_are_config_errors():
    with pytest.raises(ConfigError, match="model kind 'transformer' is not known"):
        build_model({"kind": "transformer"}, (4,), 2)
    with pytest.raises(ConfigError, match="unexpected keyword argument 'widht'"):
        build_model({"kind": "mlp", "hidden": [3], "widht": 2}, (4,), 2)


def one_step(rule_cfg, steps=1):
    torch.manual_seed(0)
    model = build_model({"kind": "mlp", "hidden": [5], "activation": "tanh"}, (4,), 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rule = build_rule(rule_cfg)
    model = rule.setup(model)
    x, y = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    grads = []
    for _ in range(steps):
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        grads.append({n: g.clone() for n, g in zip(dict(model.named_parameters()), torch.autograd.grad(loss, list(model.parameters())))})
        res = rule.step(model, x, y, torch.nn.functional.cross_entropy)
        assert float(res.loss) == pytest.approx(float(loss.detach()))
    return before, dict(model.named_parameters()), grads


def test_sgd_with_weight_decay_is_theta_minus_lr_grad():
    lr, wd = 0.1, 0.01
    before, after, grads = one_step({"name": "sgd", "lr": lr, "weight_decay": wd})
    for n, p in after.items():
        torch.testing.assert_close(p.detach(), before[n] - lr * (grads[0][n] + wd * before[n]))


def test_momentum_two_steps_is_heavy_ball():
    lr, mu = 0.1, 0.9
    before, after, g = one_step({"name": "momentum", "lr": lr, "momentum": mu}, steps=2)
    for n, p in after.items():
        v1 = g[0][n]
        v2 = mu * v1 + g[1][n]
        torch.testing.assert_close(p.detach(), before[n] - lr * v1 - lr * v2)


def test_adam_first_step_moves_each_weight_by_lr():
    # bias-corrected first Adam step: m/sqrt(v) = g/|g| -> every parameter moves by lr * sign(g)
    lr = 0.01
    before, after, g = one_step({"name": "adam", "lr": lr, "eps": 1e-12})
    for n, p in after.items():
        torch.testing.assert_close(p.detach(), before[n] - lr * torch.sign(g[0][n]), atol=1e-6, rtol=0)


def test_rule_zoo_registry():
    assert {"sgd", "momentum", "adam"} <= set(RULES)
    with pytest.raises(ConfigError, match="not in the zoo"):
        build_rule({"name": "hebb", "lr": 1})


@pytest.mark.parametrize("batchnorm", [False, True])
def test_vgg16_features_equal_torchvision(batchnorm):
    """cfg "16" is torchvision's VGG-16 (cfg D): same parameter count and, with the same weights, the same
    feature map; on 64x64 Tiny ImageNet inputs the classifier's input is 512 x 2 x 2 = 2048."""
    import torchvision

    torch.manual_seed(0)
    model = build_model({"kind": "vgg", "cfg": "16", "batchnorm": batchnorm}, (3, 64, 64), 200).eval()
    reference = (torchvision.models.vgg16_bn if batchnorm else torchvision.models.vgg16)(weights=None).features.eval()
    convs = [block for name, block in model.layer_modules().items() if name.startswith("conv")]
    assert len(convs) == 13
    ours = torch.nn.Sequential(*convs)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    with torch.no_grad():
        for mine, theirs in zip(ours.state_dict().values(), reference.state_dict().values(), strict=True):
            theirs.copy_(mine)
        x = torch.randn(1, 3, 64, 64)
        torch.testing.assert_close(ours(x), reference(x))
        assert model(x).shape == (1, 200)
    fc1, fc2, out = (model.layer_modules()[n] for n in ("fc1", "fc2", "out"))
    assert (fc1[0].in_features, fc1[0].out_features, fc2[0].out_features, out.in_features) == (2048, 1024, 1024, 1024)


def test_vgg16_by_name_equals_its_channels_and_pools():
    torch.manual_seed(0)
    named = build_model({"kind": "vgg", "cfg": "16", "width_scale": 0.25}, (3, 32, 32), 10)
    torch.manual_seed(0)
    listed = build_model({"kind": "vgg", "channels": [16, 16, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128],
                          "pool_after": [2, 4, 7, 10, 13], "width_scale": 1.0}, (3, 32, 32), 10)
    assert str(named) == str(listed)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(named(x), listed(x))


def test_vgg_bad_layout_is_a_config_error():
    with pytest.raises(ConfigError, match="cfg '15' is not a VGG configuration"):
        build_model({"kind": "vgg", "cfg": "15"}, (3, 32, 32), 10)
    with pytest.raises(ConfigError, match="either cfg .* or channels"):
        build_model({"kind": "vgg", "cfg": "16", "channels": [8]}, (3, 32, 32), 10)
    with pytest.raises(ConfigError, match=r"pool_after \[3\] must name convs 1..2"):
        build_model({"kind": "vgg", "channels": [8, 8], "pool_after": [3]}, (3, 32, 32), 10)


def test_schema_takes_the_paper_vgg_and_refuses_mixed_layouts():
    """config/paper.yaml turns params.yaml's convnet into VGG-16 on Tiny ImageNet; the merged config builds
    the same network as cfg "16", and the schema refuses a vgg entry with both layouts or a download flag."""
    from learnscope.config import load_params, validate_params

    schema = "workflow/schemas/params.schema.yaml"
    cfg = load_params("params.yaml", ["config/paper.yaml"])
    validate_params(cfg, schema)
    nm = cfg["neural_mechanics"]
    assert cfg["data"][nm["dataset"]]["kind"] == "tiny_imagenet"
    for label, bn in (("bn", True), ("nobn", False)):
        spec = {k: v for k, v in nm["models"][label].items() if k not in ("channels", "pool_after")}
        assert str(build_model(nm["models"][label], (3, 64, 64), 200)) == str(build_model({**spec, "cfg": "16"}, (3, 64, 64), 200))
        assert spec["batchnorm"] is bn
    nm["models"]["bn"]["cfg"] = "16"
    with pytest.raises(ConfigError, match="neural_mechanics.models.bn"):
        validate_params(cfg, schema)
    del nm["models"]["bn"]["cfg"]
    cfg["data"][nm["dataset"]]["download"] = True
    with pytest.raises(ConfigError, match="data.tiny_imagenet"):
        validate_params(cfg, schema)


def test_vgg_with_dropout_is_not_vectorised():
    from learnscope.train.ensemble import vectorisable

    run = {"dataset": {"kind": "digits"}, "train": {"steps": 1, "batch_size": 8}, "rule": {"name": "sgd", "lr": 0.1},
           "record": {}, "model": {"kind": "vgg", "channels": [4], "hidden": [8]}}
    assert vectorisable(run) is None
    assert "dropout" in vectorisable({**run, "model": {**run["model"], "dropout": 0.5}})
