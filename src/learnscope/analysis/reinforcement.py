"""Deep Q-learning with BP and PC Q-networks (Song et al. 2024, Fig. 4k; repository experiment
``nature_simple_dqn_new``), reduced to short runs on gymnasium's classic-control tasks.

Q-network: the zoo's MLP (one sigmoid hidden layer) from observations to one value per action,
trained by the zoo's rule (BP = plain SGD, or PC). No target network (as in the paper). After every
episode, ``updates`` mini-batches of ``batch_size`` transitions are drawn from a replay buffer of the
last ``replay`` transitions and regressed on the Bellman target

    y = r + gamma (1 - terminated) max_a' Q(s', a')      (computed before the update, held fixed),

with loss 1/2 (Q(s, a) - y)^2 on the taken action only, summed over the batch as the paper's (option
``reduction``; episodes cut by the time limit still bootstrap). Actions are epsilon-greedy, epsilon decaying linearly from 1 to ``epsilon_min`` over the
first ``explore_fraction`` of the episodes. Everything is seeded: the environment's resets (episode k
resets with seed [seed, k]), exploration and replay sampling, the network's initialisation. The
measure is the return of every episode; runs are compared by the mean return over all episodes
(learning speed). One row per (env, rule, lr, seed, episode).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from learnscope.analysis.toy_nets import toy_rule
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError
from learnscope.models import build_model


def bellman_targets(q_next: torch.Tensor, rewards: torch.Tensor, terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    """r + gamma (1 - terminated) max_a' Q(s', a') for a batch of transitions."""
    return rewards + gamma * (1.0 - terminated) * q_next.max(1).values


class TDLoss:
    """1/2 (Q(s, a) - target)^2 on the taken action, summed (the paper's) or averaged over the batch;
    y = [action, target] per row. ``summed_with_gradient`` is the closed form predictive coding uses."""

    def __init__(self, reduction: str = "sum"):
        if reduction not in ("sum", "mean"):
            raise ConfigError(f"reinforcement.reduction {reduction!r} is not known (allowed: sum, mean)")
        self.reduction = reduction

    def __call__(self, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        taken = q.gather(1, y[:, :1].long())[:, 0]
        per = 0.5 * (taken - y[:, 1]) ** 2
        return per.sum() if self.reduction == "sum" else per.mean()

    def summed_with_gradient(self, q: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = y[:, :1].long()
        diff = q.gather(1, a)[:, 0] - y[:, 1]
        return 0.5 * (diff * diff).sum(), torch.zeros_like(q).scatter_(1, a, diff[:, None])


def run(env_id: str, rule: str, lr: float, seed: int, options: dict) -> list[dict]:
    env = gym.make(env_id, max_episode_steps=int(options["max_steps"]))
    n_obs, n_act = env.observation_space.shape[0], int(env.action_space.n)
    torch.manual_seed(seed)
    model = build_model({"kind": "mlp", "hidden": [int(options["hidden"])], "activation": "sigmoid", "init": "xavier_uniform"}, (n_obs,), n_act)
    learner = toy_rule(rule, lr, options)
    model = learner.setup(model)
    td_loss = TDLoss(options.get("reduction", "sum"))
    rng = np.random.default_rng([seed, 17])
    episodes, gamma = int(options["episodes"]), float(options["gamma"])
    capacity, bs = int(options["replay"]), int(options["batch_size"])
    buffer = np.zeros((capacity, 2 * n_obs + 3), dtype=np.float32)  # s, a, r, s', terminated
    filled, rows = 0, []
    for ep in range(episodes):
        eps = max(float(options["epsilon_min"]), 1.0 - ep / max(1.0, float(options["explore_fraction"]) * episodes))
        obs, _ = env.reset(seed=int(np.random.SeedSequence([seed, ep]).generate_state(1)[0]))
        total, done = 0.0, False
        while not done:
            if rng.random() < eps:
                action = int(rng.integers(n_act))
            else:
                with torch.no_grad():
                    action = int(model(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax(1))
            nxt, reward, terminated, truncated, _ = env.step(action)
            buffer[filled % capacity] = np.concatenate([obs, [action, reward], nxt, [float(terminated)]])
            filled, total, obs, done = filled + 1, total + float(reward), nxt, terminated or truncated
        rows.append({"env": env_id, "rule": rule.upper(), "lr": lr, "seed": seed, "episode": ep, "return": total})
        for _ in range(int(options["updates"])):
            batch = torch.as_tensor(buffer[rng.integers(min(filled, capacity), size=bs)])
            s, a, r, s2, term = batch[:, :n_obs], batch[:, n_obs], batch[:, n_obs + 1], batch[:, n_obs + 2 : 2 * n_obs + 2], batch[:, -1]
            with torch.no_grad():
                y = torch.stack([a, bellman_targets(model(s2), r, term, gamma)], 1)
            if not torch.isfinite(learner.step(model, s, y, td_loss).loss):
                env.close()
                return rows + [{"env": env_id, "rule": rule.upper(), "lr": lr, "seed": seed, "episode": e, "return": float("nan")} for e in range(ep + 1, episodes)]
    env.close()
    return rows


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = [
        r
        for env_id in options["envs"]
        for rule in ("BP", "PC")
        for lr in options["lrs"][rule]
        for seed in options["seeds"]
        for r in run(env_id, rule.lower(), float(lr), int(seed), options)
    ]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
