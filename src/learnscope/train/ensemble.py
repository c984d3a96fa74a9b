"""Seed ensembles: S runs of one configuration trained in one process, vectorised across seeds.

The S models are built exactly as ``train_run`` builds each alone (``torch.manual_seed(seed)``, build,
``rule.setup``), then their parameters and buffers are stacked along a new leading seed axis
(``torch.func.stack_module_state``). One step is ``vmap`` over seeds of ``functional_call`` of the
model on that seed's own mini-batch (``batches(..., data_seed)`` per seed, stacked to (S, B)), then
``sum_s L_s`` is back-propagated: since the seeds share no parameter, d(sum_s L_s)/d theta_s =
dL_s/d theta_s, each seed's own gradient. The optimisers used here (SGD, heavy-ball momentum, Adam,
L2 weight decay) are elementwise, so one optimiser over the stacked tensors is S independent ones.
Feedback alignment's custom backward has a generated vmap rule; information alignment's layer-local
loss is computed inside the same vmapped call and added to the objective (its gradient reaches B only).

At record points the evaluation (train/test loss and accuracy, probe activations) is vmapped over seeds
too; each seed's slice of the stacks is copied into its own module for its checkpoint, and the ordinary
:class:`~learnscope.train.recorder.Recorder` writes its row to its own ``RunWriter``, so every seed gets
the same HDF5 record as alone (equal to float tolerance: batched matrix products may round
differently from unbatched ones, so the bytes are not guaranteed identical).

A vectorised ensemble saves no resume state (``learnscope.train.resume``): a killed leader retrains its
ensemble from the start, and the runs it would have staged are trained by their own jobs.

Online-task runs (an RNN trained by RMSprop on fresh samples every epoch) have their own vectorised epoch
loop, ``learnscope.train.ensemble_online``.

Not vectorised (``vectorisable`` says why; ``train_ensemble`` then trains those runs one by one with
``train_run``): predictive coding (an inference loop with its own state per step), trackers (stateful
observers of a module every step), per-step quantities other than ``ENSEMBLE_PER_STEP``, and models
with batch norm (running statistics are updated in place inside the forward pass).
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from learnscope.data import Dataset
from learnscope.data.online import is_online
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.progress import Progress
from learnscope.provenance import step_digest
from learnscope.record import RunWriter
from learnscope.record.identity import digest
from learnscope.record.identity import run_id as make_run_id
from learnscope.rules import build_rule
from learnscope.rules.feedback import InformationAlignment, feedback_layers
from learnscope.rules.gradient import make_optimizer
from learnscope.train.device import deterministic_settings, resolve_device
from learnscope.train.ensemble_online import online_vectorisable, train_online_ensemble
from learnscope.train.loop import batches, train_run
from learnscope.rules.losses import loss_function
from learnscope.train.recorder import Recorder, as_input, record_schedule
from learnscope.train.resume import NEVER, ResumePolicy

VECTORISED_RULES = ("sgd", "momentum", "adam", "feedback_alignment", "information_alignment")
ENSEMBLE_PER_STEP = ("batch_loss", "grad_norm", "param_norm")


def ensemble_key(run: dict) -> str:
    """Runs with equal keys differ only in seed (and ``train.data_seed``) and can share an ensemble."""
    rest = copy.deepcopy(run)
    rest.pop("seed", None)
    rest["train"].pop("data_seed", None)
    rest.pop("labels", None)
    return digest(rest)[:12]


def vectorisable(run: dict) -> str | None:
    """None when ``run`` can train in a vectorised ensemble, else the reason it cannot."""
    if is_online(run["dataset"]):
        return online_vectorisable(run)
    if "per_class" in run["train"]:
        return "train.per_class draws a different training subset per data seed; not vectorised"
    if run["rule"]["name"] not in VECTORISED_RULES:
        return f"rule {run['rule']['name']!r} is not vectorised (vectorised: {', '.join(VECTORISED_RULES)})"
    if run["model"].get("batchnorm") or run["model"]["kind"] == "resnet":
        return "batch norm updates running statistics in place; not vectorised"
    if run["model"].get("dropout"):
        return "dropout draws a random mask in every forward pass; not vectorised"
    record = run["record"]
    if record.get("trackers"):
        return "trackers observe one module every step; not vectorised"
    extra = [n for n in record.get("per_step", ["batch_loss"]) if n not in ENSEMBLE_PER_STEP]
    if extra:
        return f"per-step quantities {extra} are not vectorised (vectorised: {', '.join(ENSEMBLE_PER_STEP)})"
    return None


class _Probe(nn.Module):
    """Forward pass that also returns the recorded layers' outputs (hooks set and removed inside the call)."""

    def __init__(self, model: nn.Module, layers: list[str]):
        super().__init__()
        self.model, self.layers = model, layers

    def forward(self, x: torch.Tensor):
        modules, captured = self.model.layer_modules(), {}
        handles = [modules[n].register_forward_hook(lambda mod, inp, out, n=n: captured.__setitem__(n, out)) for n in self.layers]
        try:
            out = self.model(x)
        finally:
            for h in handles:
                h.remove()
        return out, {n: captured[n] for n in self.layers}


@torch.no_grad()
def _evaluate_all(probe: _Probe, params: dict, buffers: dict, seeds: list[int], recorder: Recorder, loss_fn, task: str):
    """Per seed in ``seeds``: (scalars, activations) as ``Recorder.record`` computes them, vmapped over seeds."""
    p = {f"model.{k}": v.detach()[seeds] for k, v in params.items()}
    b = {f"model.{k}": v[seeds] for k, v in buffers.items()}
    forward = vmap(lambda p_, b_, x: functional_call(probe, (p_, b_), (x,)), in_dims=(0, 0, None))
    per_loss = vmap(loss_fn, in_dims=(0, None))
    probe.model.eval()
    try:
        scalars: list[dict[str, float]] = [{} for _ in seeds]
        for split in ("train", "test"):
            x, y = recorder.tensors[split]
            total, correct = np.zeros(len(seeds)), np.zeros(len(seeds), dtype=np.int64)
            for start in range(0, len(x), 1024):
                out, _ = forward(p, b, x[start : start + 1024])
                yb = y[start : start + 1024]
                total += per_loss(out, yb).double().cpu().numpy() * (1 if getattr(loss_fn, "reduction", "mean") == "sum" else len(yb))
                if task == "classification":
                    correct += (out.argmax(-1) == yb).sum(-1).cpu().numpy()
            for i in range(len(seeds)):
                scalars[i][f"{split}_loss"] = float(total[i]) / len(x)
                if task == "classification":
                    scalars[i][f"{split}_acc"] = int(correct[i]) / len(x)
        _, acts = forward(p, b, recorder.probe_x)
    finally:
        probe.model.train()
    return [(scalars[i], {n: a[i].cpu().numpy() for n, a in acts.items()}) for i in range(len(seeds))]


class _Objective(nn.Module):
    """Forward pass, loss and (information alignment) the layer-local alignment loss, in one call."""

    def __init__(self, model: nn.Module, rule, loss_fn):
        super().__init__()
        self.model, self.rule, self.loss_fn = model, rule, loss_fn

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        out = self.model(x)
        loss = self.loss_fn(out, y)
        extra = self.rule.alignment_loss(self.model) if isinstance(self.rule, InformationAlignment) else loss.new_zeros(())
        return out, loss, extra


def train_ensemble(runs: list[dict], dataset: Dataset, outs: list[str | Path], threads: int = 1, resume: ResumePolicy = NEVER) -> list[Path]:
    """Train ``runs`` (one configuration, several seeds) and write ``outs[i]`` for ``runs[i]``.

    Each record equals ``train_run(runs[i], dataset, outs[i])``'s to float tolerance. Runs that cannot
    be vectorised (see :func:`vectorisable`) are trained one after another with ``train_run`` (each
    resumable under ``resume``); a vectorised ensemble saves no resume state (a killed one starts over).
    """
    if len(runs) != len(outs) or not runs:
        raise ConfigError(f"train_ensemble needs one output per run (got {len(runs)} runs, {len(outs)} outputs)")
    keys = {ensemble_key(r) for r in runs}
    if len(keys) > 1:
        raise ConfigError("an ensemble's runs must differ only in seed and train.data_seed (got several configurations)")
    reason = vectorisable(runs[0])
    if reason is not None or len(runs) == 1:
        if reason:
            print(f"ensemble of {len(runs)}: {reason}; training the runs one by one", file=sys.stderr)
        return [train_run(r, dataset, o, threads=threads, resume=resume) for r, o in zip(runs, outs)]
    if resume != NEVER:
        print(f"ensemble of {len(runs)}: vectorised seed ensembles save no resume state; a killed one starts over", file=sys.stderr)
    if is_online(runs[0]["dataset"]):
        return train_online_ensemble(runs, [Path(o) for o in outs], threads)
    return _train_vectorised(runs, dataset, [Path(o) for o in outs], threads)


def _train_vectorised(runs: list[dict], dataset: Dataset, outs: list[Path], threads: int) -> list[Path]:
    first = runs[0]
    device = resolve_device(first["device"])
    runtime = {**deterministic_settings(device, threads), "ensemble_size": len(runs)}
    train = first["train"]
    steps, batch_size = int(train["steps"]), int(train["batch_size"])
    if batch_size > len(dataset.x_train):
        raise ConfigError(f"train.batch_size {batch_size} exceeds the {len(dataset.x_train)} training items of {dataset.name!r}")
    dtype = {"float32": torch.float32, "float64": torch.float64}[train.get("dtype", "float32")]

    models, rules = [], []
    for run in runs:  # exactly train_run's construction, seed by seed
        torch.manual_seed(int(run["seed"]))
        model = build_model(run["model"], dataset.input_shape, dataset.n_outputs).to(device=device, dtype=dtype)
        rule = build_rule(run["rule"])
        model = rule.setup(model)
        model.train()
        models.append(model)
        rules.append(rule)
    params, buffers = stack_module_state(models)  # stacked leaves, requires_grad like the originals
    loss_fn = loss_function(dataset.task, first["train"])
    template = copy.deepcopy(models[0]).to("meta")
    objective = _Objective(template, rules[0], loss_fn)
    optimizer = make_optimizer(rules[0].optimizer_kind, rules[0].param_groups(params), first["rule"])

    def one_seed(p, b, x, y):
        return functional_call(objective, ({f"model.{k}": v for k, v in p.items()}, {f"model.{k}": v for k, v in b.items()}), (x, y))

    step_all = vmap(one_seed)
    x_train = as_input(dataset.x_train, device, dtype)
    y_train = as_input(dataset.y_train, device, dtype)

    schedule = record_schedule(steps, int(first["record"]["points"]), first["record"].get("spacing", "linear"))
    record_at = set(int(s) for s in schedule)
    code = step_digest("train")
    writers = [RunWriter(o, r, make_run_id(r), code, len(schedule), runtime) for r, o in zip(runs, outs)]
    progress = Progress(f"train ensemble of {len(runs)} ({make_run_id(first)} ...)", steps)
    paths: list[Path | None] = [None] * len(runs)
    try:
        recorders = [Recorder(w, m, rl, dataset, r["record"], device, dtype, loss_fn) for w, m, rl, r in zip(writers, models, rules, runs)]
        probe = _Probe(template, list(recorders[0].layers))
        batch_iters = [batches(len(x_train), batch_size, steps, int(r["train"].get("data_seed", r["seed"]))) for r in runs]
        names = list(first["record"].get("per_step", ["batch_loss"]))
        alive = list(range(len(runs)))
        losses = None
        for step in range(steps + 1):
            if step in record_at:
                _unstack(params, buffers, models, alive)
                evaluated = _evaluate_all(probe, params, buffers, alive, recorders[0], loss_fn, dataset.task)
                for s, ev in zip(alive, evaluated):
                    recorders[s].record(step, ev)
                progress.update(step, **({"loss": float(losses[alive].mean())} if step and alive else {}))
            if step == steps or not alive:
                break
            idx = torch.as_tensor(np.stack([next(it) for it in batch_iters]), device=device)
            optimizer.zero_grad(set_to_none=True)
            _, losses, extra = step_all(params, buffers, x_train[idx], y_train[idx])
            (losses.sum() + extra.sum()).backward()
            for layer in feedback_layers(objective):
                layer.last_input = None
            grad_norm = _norms([p.grad for p in params.values() if p.grad is not None]) if "grad_norm" in names else None
            optimizer.step()
            param_norm = _norms([p.detach() for p in params.values()]) if "param_norm" in names else None
            losses = losses.detach()
            values = {"batch_loss": losses, "grad_norm": grad_norm, "param_norm": param_norm}
            for s in list(alive):
                for n in names:
                    recorders[s].per_step[n].append(float(values[n][s]))
                if not math.isfinite(float(losses[s])):
                    paths[s] = _close(writers[s], recorders[s], "diverged", step)
                    alive.remove(s)
        for s in alive:
            paths[s] = _close(writers[s], recorders[s], "complete", -1)
        return paths  # type: ignore[return-value]
    except BaseException:
        for s, w in enumerate(writers):
            if paths[s] is None:
                w.abort()
        raise


def _norms(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Per-seed Euclidean norm over all ``tensors`` (each with the seed axis first)."""
    return torch.linalg.vector_norm(torch.cat([t.reshape(t.shape[0], -1) for t in tensors], dim=1), dim=1)


@torch.no_grad()
def _unstack(params: dict, buffers: dict, models: list[nn.Module], seeds: list[int]) -> None:
    """Copy each listed seed's slice of the stacked state into its own module (for recording)."""
    for s in seeds:
        own = dict(models[s].named_parameters())
        own.update(dict(models[s].named_buffers()))
        for name, stacked in {**params, **buffers}.items():
            own[name].copy_(stacked[s])


def _close(writer: RunWriter, recorder: Recorder, status: str, diverged_at: int) -> Path:
    return writer.close(status, {k: np.asarray(v) for k, v in recorder.per_step.items()}, diverged_at)
