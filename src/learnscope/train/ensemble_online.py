"""Seed ensembles of online-task runs (``learnscope.train.online``): S RNN runs of one configuration in
one process, vectorised across seeds.

Every seed is set up exactly as ``train_online`` sets up its run alone: its own task instance (cluster
centres) from its seed, ``torch.manual_seed(seed)`` before the model is built, its own rule (whose
ReduceLROnPlateau scheduler it keeps), its own sample streams (training batches, validation, the fixed
evaluation and probe sets). The S models' parameters are stacked along a leading seed axis
(``torch.func.stack_module_state``); a step runs the S networks on their own fresh batches with batched
matrix products (``stacked_forward``: the ``VanillaRNN`` recurrence, one bmm per time step for all seeds;
``vmap`` of ``functional_call`` costs more than training the seeds one by one at batch 10), and
``sum_s L_s`` is back-propagated (the seeds share no parameter, so each gets its own gradient).

The update is RMSprop (the only optimiser vectorised here, ``ONLINE_VECTORISED_RULES``), elementwise as in
PyTorch's single-tensor RMSprop (no momentum, not centred):

    v <- alpha v + (1 - alpha) g^2;    theta <- theta - lr_s g / (sqrt(v) + eps)

with lr_s the learning rate seed s's own scheduler has set (the plateau schedules of different seeds
diverge, so the rate is a per-seed vector, not one optimiser-wide number). Every epoch, each seed's
validation loss steps its own scheduler. Each seed writes the record ``train_online`` would (equal to
float tolerance: batched products may round differently, and a chaotic net's training can amplify that
over many epochs); a seed whose loss turns non-finite stops there with status ``diverged`` while the
others train on. No resume state is saved: a killed ensemble starts over.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch.func import stack_module_state, vmap

from learnscope.data.online import build_task
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.progress import Progress
from learnscope.provenance import step_digest
from learnscope.record import RunWriter
from learnscope.record.identity import run_id as make_run_id
from learnscope.rules import build_rule
from learnscope.train.device import deterministic_settings
from learnscope.train.online import _rng, online_loss

ONLINE_VECTORISED_RULES = ("rmsprop",)


def online_vectorisable(run: dict) -> str | None:
    """None when the online run ``run`` can train in a vectorised ensemble, else the reason it cannot."""
    if run["rule"]["name"] not in ONLINE_VECTORISED_RULES or run["rule"].get("optimizer", run["rule"]["name"]) != "rmsprop":
        return f"online rule {run['rule']['name']!r} is not vectorised (vectorised: {', '.join(ONLINE_VECTORISED_RULES)})"
    if run["model"]["kind"] != "rnn":
        return f"online model kind {run['model']['kind']!r} is not vectorised (vectorised: rnn)"
    if run["device"] not in ("cpu", "auto"):
        return f"online tasks train on the CPU (runtime.device is {run['device']!r})"
    return None


class _Seed:
    """One seed's own task, model (template for its slice of the stacks), rule, streams and record."""

    def __init__(self, run: dict, out: Path, code: str, runtime: dict):
        self.run, self.seed = run, int(run["seed"])
        train, rec = run["train"], run["record"]
        self.task = build_task(run["dataset"], self.seed)
        torch.manual_seed(self.seed)
        model = build_model(run["model"], (self.task.dim,), self.task.n_classes)
        self.rule = build_rule(run["rule"])
        self.model = self.rule.setup(model)
        self.model.train()
        as_t = torch.as_tensor
        self.x_eval, self.y_eval, _ = map(as_t, self.task.balanced(int(train["eval_samples"]), _rng(self.seed, 29)))
        self.probe = self.task.balanced(int(rec["probe_samples"]), _rng(self.seed, 31))
        self.batch_rng, self.val_rng = _rng(self.seed, 19), _rng(self.seed, 23)
        self.writer = RunWriter(out, run, make_run_id(run), code, int(train["epochs"]) + 1, runtime)
        self.trajectories: list[np.ndarray] = []
        self.batch_losses: list[float] = []
        self.diverged_at = -1
        self.path: Path | None = None


def train_online_ensemble(runs: list[dict], outs: list[Path], threads: int = 1) -> list[Path]:
    """Train the online runs ``runs`` (one configuration, several seeds) and write ``outs[i]`` for ``runs[i]``."""
    first = runs[0]
    reason = online_vectorisable(first)
    if reason is not None:
        raise ConfigError(f"train_online_ensemble: {reason}")
    runtime = {**deterministic_settings(torch.device("cpu"), threads), "ensemble_size": len(runs)}
    train, rec = first["train"], first["record"]
    epochs, batch_size, per_epoch = int(train["epochs"]), int(train["batch_size"]), int(train["samples_per_epoch"])
    if per_epoch % batch_size:
        raise ConfigError(f"train.samples_per_epoch {per_epoch} is not a multiple of train.batch_size {batch_size}")
    updates, probe_steps = per_epoch // batch_size, int(rec["probe_steps"])
    traj_epochs = sorted({int(e) for e in rec.get("trajectory_epochs", [0]) if 0 <= int(e) <= epochs} | {epochs})
    code = step_digest("train")
    seeds = [_Seed(r, Path(o), code, runtime) for r, o in zip(runs, outs)]
    template = seeds[0].model
    loss_fn = online_loss(train, seeds[0].task.n_classes)
    params, buffers = stack_module_state([s.model for s in seeds])
    trained = {k: p for k, p in params.items() if p.requires_grad}
    square_avg = {k: torch.zeros_like(p) for k, p in trained.items()}
    alpha, eps = float(first["rule"].get("alpha", 0.99)), float(first["rule"].get("eps", 1e-8))
    weight_decay = float(first["rule"].get("weight_decay", 0.0))

    phi = template.hidden.phi
    outputs = lambda p, b, x: stacked_forward(p, x, template.hidden.steps, phi)
    per_seed_loss = vmap(loss_fn)

    @torch.no_grad()
    def evaluate(x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        o = outputs(params, buffers, x)
        return per_seed_loss(o, y).double().numpy(), (o.argmax(-1) == y).double().mean(-1).numpy()

    probe_x = torch.as_tensor(np.stack([s.probe[0] for s in seeds]))
    x_eval, y_eval = torch.stack([s.x_eval for s in seeds]), torch.stack([s.y_eval for s in seeds])
    progress = Progress(f"train online ensemble of {len(runs)} ({make_run_id(first)} ...)", epochs)
    alive = list(range(len(seeds)))
    try:
        for s in seeds:
            x, y, c = s.probe
            s.writer.write_static("probe", {"x": x, "labels": y, "cluster": c, "index": np.arange(len(y))})
        for epoch in range(epochs + 1):
            val = [s.task.sample(int(train["validation_samples"]), s.val_rng) for s in seeds]
            val_loss, _ = evaluate(torch.as_tensor(np.stack([v[0] for v in val])), torch.as_tensor(np.stack([v[1] for v in val])))
            loss, acc = evaluate(x_eval, y_eval)
            with torch.no_grad():
                traj = stacked_states(params, probe_x, probe_steps, phi).numpy() if epoch in traj_epochs else None
            for i in alive:
                s = seeds[i]
                if epoch > 0:
                    s.rule.epoch_end(float(val_loss[i]))
                ckpt = {k: v[i].detach().numpy().copy() for k, v in {**params, **buffers}.items()}
                s.writer.record(epoch * updates, scalars={"loss": float(loss[i]), "acc": float(acc[i]), "val_loss": float(val_loss[i]),
                                                          "lr": s.rule.learning_rate()}, checkpoints=ckpt, activations={})
                if traj is not None:
                    s.trajectories.append(traj[i])
            progress.update(epoch, loss=float(loss[alive].mean()) if alive else math.nan)
            if epoch == epochs or not alive:
                break
            neg_lr = torch.tensor([-s.rule.learning_rate() for s in seeds], dtype=next(iter(trained.values())).dtype)
            for _ in range(updates):
                batch = [s.task.sample(batch_size, s.batch_rng) for s in seeds]
                x, y = torch.as_tensor(np.stack([b[0] for b in batch])), torch.as_tensor(np.stack([b[1] for b in batch]))
                for p in trained.values():
                    p.grad = None
                losses = per_seed_loss(outputs(params, buffers, x), y)
                losses.sum().backward()
                _rmsprop(trained, square_avg, neg_lr, alpha, eps, weight_decay)
                losses = losses.detach()
                for i in list(alive):
                    seeds[i].batch_losses.append(float(losses[i]))
                    if not math.isfinite(seeds[i].batch_losses[-1]):
                        seeds[i].diverged_at = len(seeds[i].batch_losses) - 1
                        alive.remove(i)
                        _close(seeds[i], epoch)
        for i in alive:
            _close(seeds[i], epochs)
        return [s.path for s in seeds]  # type: ignore[misc]
    except BaseException:
        for s in seeds:
            if s.path is None:
                s.writer.abort()
        raise


def stacked_states(p: dict, x: torch.Tensor, steps: int, phi) -> torch.Tensor:
    """Hidden states (S, M, steps, H) of S stacked ``VanillaRNN``s (``p``: their stacked parameters) for
    static inputs x (S, M, D) shown at the first step only: h_1 = phi(U x + b), h_{t+1} = phi(W h_t + b),
    as ``models.rnn.Recurrence`` computes them for one network, batched over seeds with bmm."""
    w_in, bias, w = p["hidden.input.weight"], p["hidden.input.bias"].unsqueeze(1), p["hidden.recurrent.weight"]
    h = phi(torch.baddbmm(bias, x, w_in.transpose(1, 2)))
    states, w_t = [h], w.transpose(1, 2)
    for _ in range(steps - 1):
        h = phi(torch.baddbmm(bias, h, w_t))
        states.append(h)
    return torch.stack(states, dim=2)


def stacked_forward(p: dict, x: torch.Tensor, steps: int, phi) -> torch.Tensor:
    """Outputs (S, M, C) of S stacked ``VanillaRNN``s, read out from the state at ``steps``."""
    h = stacked_states(p, x, steps, phi)[:, :, -1]
    return torch.baddbmm(p["out.bias"].unsqueeze(1), h, p["out.weight"].transpose(1, 2))


@torch.no_grad()
def _rmsprop(params: dict, square_avg: dict, neg_lr: torch.Tensor, alpha: float, eps: float, weight_decay: float) -> None:
    """One RMSprop step on stacked parameters (seed axis first), seed s at rate -neg_lr[s]; the operations
    and their order are PyTorch's single-tensor RMSprop's (addcdiv: (value * g) / avg)."""
    for name, p in params.items():
        g = p.grad if weight_decay == 0 else p.grad.add(p, alpha=weight_decay)
        v = square_avg[name]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        avg = v.sqrt().add_(eps)
        p.add_(neg_lr.view(-1, *([1] * (p.dim() - 1))) * g / avg)


def _close(s: _Seed, last_epoch: int) -> None:
    """Write seed ``s``'s trajectories and close its record (``diverged`` if its loss turned non-finite)."""
    rec = s.run["record"]
    traj_epochs = sorted({int(e) for e in rec.get("trajectory_epochs", [0]) if 0 <= int(e) <= int(s.run["train"]["epochs"])} | {int(s.run["train"]["epochs"])})
    done = [e for e in traj_epochs if e <= last_epoch][: len(s.trajectories)]
    s.writer.write_static("trajectories", {"epoch": np.asarray(done, dtype=np.int64), "hidden": np.stack(s.trajectories).astype(np.float32)})
    status = "diverged" if s.diverged_at >= 0 else "complete"
    s.path = s.writer.close(status, {"batch_loss": np.asarray(s.batch_losses)}, s.diverged_at)
    print(f"{s.path}: {status}", file=sys.stderr)
