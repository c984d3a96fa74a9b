"""Target alignment vs depth for every credit-assignment rule of the zoo (cross_study; Song et al. 2024, Fig. 3).

The prospective-configuration study's measurement (``analysis.target_alignment``: its sample, its toy
MLP and its one-step cosine) applied to any rule config of the zoo: backprop (``sgd``), feedback
alignment, information alignment and predictive coding. For one learning step on one sample (s, y),

    TA = cos(y_hat_after - y_hat_before, y - y_hat_before)

(1: the step moves the output straight at the target). Networks: width ``width``, depth L weight layers,
bias-free, Xavier-uniform, float64; s, y ~ N(0, I). The rule is the zoo's own code (``build_rule`` on
the config in ``options['rules'][label]``), so FA / IA use their feedback layers and PC its inference.

Warm-up (``warmup``: a list of step counts K, e.g. [0, 100]): before the measured step the network
first takes K steps of the same rule (at the config's own ``lr``) on a learnable task (fresh batches of
``warmup_batch`` s ~ N(0, I), y = T s with a fixed linear teacher T ~ N(0, 1/width), drawn from a
generator seeded 20000 + seed), so that FA's forward weights can align with their fixed feedback B
(Lillicrap et al. 2016) and IA's B can learn. The measured step then uses ``lr`` with fresh optimiser
state (for momentum / Adam its first step), on the same sample as the PC study's. BP and PC need no
warm-up; every rule is reported at every K. With K = 0 the config's ``lr`` plays no part, and ``sgd`` and
``predictive_coding`` (inference keys as the PC study's) give exactly ``target_alignment.alignment``'s
'bp' / 'pc'.

What depends on B's initial scale: FA / IA draw B with PyTorch's Linear initialiser (Kaiming-uniform,
U(±1/sqrt(fan_in))), whose s.d. is about 0.58 of the Xavier-uniform W's here (width 64). The error
reaching layer l is scaled by that factor once per layer above it, so at K = 0 FA's step is dominated
by its read-out layer's (exact) update, for which Δy_hat = -lr ||h||² (y_hat - y), i.e. TA = 1, plus
small hidden updates in random directions. FA's TA at K = 0 therefore rises as B's scale falls (B -> 0
gives TA -> 1 at any depth) and is not evidence of better credit assignment; K > 0 (aligned W and B) is
the comparison to read, and its value still depends on that scale. BP and PC do not use B. IA's B learns
from a loss weighted alpha = 2e-3 (Neural-Alignment's default), so over 100 warm-up steps at lr 0.01 it
barely moves and IA equals FA to about 1e-3; a larger warm-up or alpha would separate them.

Output: one row per (activation, warmup, depth, seed, rule label) with ``target_alignment``.
"""

from __future__ import annotations

import pandas as pd
import torch

from learnscope.analysis.target_alignment import sample, step_alignment
from learnscope.analysis.toy_nets import squared_loss, toy_mlp
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError
from learnscope.rules import LearningRule, build_rule


def warm_up(learner: LearningRule, model: torch.nn.Module, steps: int, width: int, batch: int, seed: int) -> None:
    """``steps`` steps of ``learner`` on the linear-teacher task y = T s (fresh N(0, I) inputs each step)."""
    if steps == 0:
        return
    g = torch.Generator().manual_seed(20_000 + seed)
    teacher = torch.randn(width, width, generator=g, dtype=torch.float64) / width**0.5
    for _ in range(steps):
        s = torch.randn(batch, width, generator=g, dtype=torch.float64)
        learner.step(model, s, s @ teacher.T, squared_loss)


def fresh_step(learner: LearningRule, lr: float) -> None:
    """Set the learner's step size to ``lr`` and clear its optimiser state (momentum / Adam buffers)."""
    opt = getattr(learner, "optimizer", None)
    if opt is None:
        raise ConfigError(f"rule {learner.name!r} has no optimiser; target alignment needs a rule with a learning rate")
    opt.state.clear()
    for group in opt.param_groups:
        group["lr"] = lr


def rule_alignment(config: dict, activation: str, depth: int, seed: int, options: dict, warmup: int = 0) -> float:
    """TA of one step (size ``options['lr']``) of the rule ``config`` after ``warmup`` steps at its own lr."""
    width = int(options["width"])
    model = toy_mlp(width, [width] * (depth - 1), width, activation, seed)
    s, y = sample(width, seed)
    learner = build_rule(config)
    model = learner.setup(model)
    warm_up(learner, model, int(warmup), width, int(options.get("warmup_batch", 16)), seed)
    fresh_step(learner, float(options["lr"]))
    return step_alignment(learner, model, s, y)


def check_options(options: dict) -> dict[str, dict]:
    rules = options.get("rules")
    if not isinstance(rules, dict) or not rules:
        raise ConfigError("cross_study.target_alignment.rules must map rule_zoo labels to rule configs (e.g. sgd: {name: sgd})")
    for label, config in rules.items():
        if not isinstance(config, dict) or "name" not in config or "lr" not in config:
            raise ConfigError(f"cross_study.target_alignment.rules.{label} needs a rule config with 'name' and 'lr' (its warm-up step size)")
    if any(int(k) < 0 for k in options.get("warmup", [0])):
        raise ConfigError("cross_study.target_alignment.warmup: step counts must be >= 0")
    return rules


def main(inputs: list[str], out: str, options: dict) -> None:
    rules = check_options(options)
    rows = [
        {
            "activation": act,
            "warmup": int(k),
            "depth": depth,
            "seed": seed,
            "rule": label,
            "target_alignment": rule_alignment(config, act, depth, seed, options, int(k)),
        }
        for act in options["activations"]
        for k in options.get("warmup", [0])
        for depth in options["depths"]
        for seed in options["seeds"]
        for label, config in rules.items()
    ]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
