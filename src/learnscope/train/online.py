"""The epoch loop for online tasks (``learnscope.data.online``): fresh samples every epoch, a validation
loss per epoch driving the rule's learning-rate schedule, and hidden-state trajectories on a fixed probe set.

Per epoch e = 0 .. E (e = 0 is the untrained network, "before training", never a separate run):

1. draw ``validation_samples`` fresh samples, compute their loss; for e >= 1 hand it to
   ``rule.epoch_end`` (e.g. ReduceLROnPlateau, as Farrell et al. 2022 step it on the validation loss);
2. record row e: ``loss`` / ``acc`` on a fixed set of ``eval_samples`` training-distribution samples,
   ``val_loss``, ``lr`` (the rate epoch e+1 trains with), and the state dict under ``checkpoints/``;
   at the epochs in ``record.trajectory_epochs`` (the final epoch always) the hidden states
   h_1 .. h_T of the probe set for T = ``record.probe_steps`` (input at the first step, zero after:
   the network runs past its training horizon), stored as ``/trajectories/hidden`` (K, M, T, H) with
   ``/trajectories/epoch`` (K,);
3. unless e = E: ``samples_per_epoch / batch_size`` updates on fresh batches.

``train.loss``: ``cross_entropy`` on the output at the last step (default) or ``mse_onehot``: mean squared
error to ``target_scale`` * one-hot(label) (Farrell et al.'s 'mse', target 0.7). The probe set is
cluster-balanced (``ClusterTask.balanced``): ``/probe/x``, ``/probe/labels``, ``/probe/cluster``. Random
streams are seeded from the run's seed: the task instance, training batches, validation, and the fixed
evaluation / probe sets each have their own.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from learnscope.data.online import build_task
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.progress import Progress
from learnscope.provenance import step_digest
from learnscope.record import RunWriter
from learnscope.record.identity import run_id as make_run_id
from learnscope.rules import build_rule
from learnscope.train.device import deterministic_settings
from learnscope.train.resume import NEVER, Resumable, ResumePolicy, load_rng_state, load_rule_state, rng_state, rule_state

LOSSES = ("cross_entropy", "mse_onehot")


def online_loss(train: dict, n_classes: int):
    """The loss of ``train['loss']`` as f(outputs, labels)."""
    kind = train.get("loss", "cross_entropy")
    if kind == "cross_entropy":
        return torch.nn.functional.cross_entropy
    if kind == "mse_onehot":
        scale = float(train.get("target_scale", 0.7))
        return lambda out, y: torch.nn.functional.mse_loss(out, scale * torch.nn.functional.one_hot(y, n_classes).to(out.dtype))
    raise ConfigError(f"train.loss {kind!r} is not known (allowed: {', '.join(LOSSES)})")


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def train_online(run: dict, out: str | Path, threads: int = 1, resume: ResumePolicy = NEVER) -> Path:
    """Train the online-task run ``run`` (see ``learnscope.config.make_run``) and write its record; with
    ``resume``, the state is saved at the start of an epoch and a matching saved state resumed from."""
    if run["device"] not in ("cpu", "auto"):
        raise ConfigError(f"online tasks train on the CPU (runtime.device is {run['device']!r}; use cpu or auto)")
    runtime = deterministic_settings(torch.device("cpu"), threads)
    seed, train, rec = int(run["seed"]), run["train"], run["record"]
    epochs, batch_size = int(train["epochs"]), int(train["batch_size"])
    per_epoch = int(train["samples_per_epoch"])
    if per_epoch % batch_size:
        raise ConfigError(f"train.samples_per_epoch {per_epoch} is not a multiple of train.batch_size {batch_size}")
    task = build_task(run["dataset"], seed)
    torch.manual_seed(seed)
    model = build_model(run["model"], (task.dim,), task.n_classes)
    if not hasattr(model, "trajectory"):
        raise ConfigError(f"model kind {run['model']['kind']!r} has no hidden-state trajectory; online tasks need an rnn")
    rule = build_rule(run["rule"])
    model = rule.setup(model)
    model.train()
    loss_fn = online_loss(train, task.n_classes)

    as_t = lambda a: torch.as_tensor(a)
    x_eval, y_eval, _ = map(as_t, task.balanced(int(train["eval_samples"]), _rng(seed, 29)))
    probe_x, probe_y, probe_c = task.balanced(int(rec["probe_samples"]), _rng(seed, 31))
    probe_steps = int(rec["probe_steps"])
    traj_epochs = sorted({int(e) for e in rec.get("trajectory_epochs", [0]) if 0 <= int(e) <= epochs} | {epochs})
    batch_rng, val_rng = _rng(seed, 19), _rng(seed, 23)

    rid, code = make_run_id(run), step_digest("train")
    side = Resumable(out, run, rid, code, resume)
    saved = side.load()
    writer = RunWriter(out, run, rid, code, epochs + 1, runtime)
    progress = Progress(f"train {rid} (epochs)", epochs)
    try:
        writer.write_static("probe", {"x": probe_x, "labels": probe_y, "cluster": probe_c, "index": np.arange(len(probe_y))})
        journal = side.journal(writer)
        trajectories, batch_losses, diverged_at, start = [], [], -1, 0
        if saved is not None:
            start = saved["position"]
            side.replay(writer, saved["rows"])
            model.load_state_dict(saved["model"])
            load_rule_state(rule, saved["rule"])
            load_rng_state(saved["rng"], torch.device("cpu"))
            batch_rng.bit_generator.state, val_rng.bit_generator.state = saved["streams"]
            trajectories = [t.numpy() for t in saved["trajectories"]]
            batch_losses = saved["batch_losses"].tolist()

        @torch.no_grad()
        def evaluate(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
            model.eval()
            try:
                o = model(x)
                return float(loss_fn(o, y)), float((o.argmax(1) == y).double().mean())
            finally:
                model.train()

        for epoch in range(start, epochs + 1):
            if epoch < epochs and side.due(epoch, start):
                side.save(epoch, writer.row, {
                    "model": model.state_dict(), "rule": rule_state(rule), "rng": rng_state(torch.device("cpu")),
                    "streams": [batch_rng.bit_generator.state, val_rng.bit_generator.state],
                    "trajectories": [torch.from_numpy(t) for t in trajectories], "batch_losses": torch.tensor(batch_losses, dtype=torch.float64),
                })
            x_val, y_val, _ = map(as_t, task.sample(int(train["validation_samples"]), val_rng))
            val_loss, _ = evaluate(x_val, y_val)
            if epoch > 0:
                rule.epoch_end(val_loss)
            loss, acc = evaluate(x_eval, y_eval)
            ckpt = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
            journal.record(epoch * (per_epoch // batch_size), scalars={"loss": loss, "acc": acc, "val_loss": val_loss, "lr": rule.learning_rate()},
                           checkpoints=ckpt, activations={})
            progress.update(epoch, loss=loss, acc=acc)
            if epoch in traj_epochs:
                with torch.no_grad():
                    trajectories.append(model.trajectory(as_t(probe_x), probe_steps).numpy())
            if epoch == epochs:
                break
            for _ in range(per_epoch // batch_size):
                x, y, _ = map(as_t, task.sample(batch_size, batch_rng))
                res = rule.step(model, x, y, loss_fn)
                batch_losses.append(float(res.loss))
                if not math.isfinite(batch_losses[-1]):
                    diverged_at = len(batch_losses) - 1
                    break
            if diverged_at >= 0:
                break
        done = [e for e in traj_epochs if e <= epoch][: len(trajectories)]
        writer.write_static("trajectories", {"epoch": np.asarray(done, dtype=np.int64), "hidden": np.stack(trajectories).astype(np.float32)})
        status = "diverged" if diverged_at >= 0 else "complete"
        path = writer.close(status, {"batch_loss": np.asarray(batch_losses)}, diverged_at)
    except BaseException:
        writer.abort()
        side.abandon()
        raise
    side.finish()
    return path
