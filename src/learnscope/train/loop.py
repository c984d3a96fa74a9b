"""The training loop, top to bottom: seed, build, then for each step record (on schedule) and update.

Runs on an online task (``learnscope.data.online``: no prepared file, fresh samples every epoch) go to the
epoch loop of ``learnscope.train.online``.

With a ``ResumePolicy``, the loop saves its state beside the record every few minutes and a restarted job
resumes from it (``learnscope.train.resume``).

A run whose loss becomes NaN or infinite stops there and is written with status ``diverged`` (the
records up to that point are kept); it is a result, not a crash of the pipeline.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from learnscope.record.identity import run_id as make_run_id
from learnscope.data import Dataset
from learnscope.data.online import is_online
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.progress import Progress
from learnscope.train.device import deterministic_settings, resolve_device
from learnscope.provenance import step_digest
from learnscope.record import RunWriter
from learnscope.rules import build_rule
from learnscope.train.online import train_online
from learnscope.rules.losses import loss_function
from learnscope.train.recorder import Recorder, as_input, record_schedule
from learnscope.train.resume import NEVER, Resumable, ResumePolicy, load_rng_state, load_rule_state, rng_state, rule_state


def batches(n: int, batch_size: int, steps: int, seed: int):
    """Index arrays for ``steps`` mini-batches: epochs of fresh permutations from a seeded generator."""
    rng = np.random.default_rng([seed, 3])
    order, pos = rng.permutation(n), 0
    for _ in range(steps):
        if pos + batch_size > n:
            order, pos = rng.permutation(n), 0
        yield order[pos : pos + batch_size]
        pos += batch_size


def per_class_subset(dataset: Dataset, per_class: int, seed: int) -> Dataset:
    """The dataset with its training split cut to ``per_class`` items of every class (a seeded draw,
    in index order); test split and probe set unchanged. Regression data has no classes: an error."""
    if dataset.task != "classification":
        raise ConfigError(f"train.per_class needs a classification dataset; {dataset.name!r} is {dataset.task}")
    rng = np.random.default_rng([seed, 5])
    picks = []
    for c in np.unique(dataset.y_train):
        members = np.flatnonzero(dataset.y_train == c)
        if per_class > len(members):
            raise ConfigError(f"train.per_class {per_class} exceeds the {len(members)} training items of class {c} in {dataset.name!r}")
        picks.append(rng.choice(members, per_class, replace=False))
    idx = np.sort(np.concatenate(picks))
    return dataclasses.replace(dataset, x_train=dataset.x_train[idx], y_train=dataset.y_train[idx])


def train_run(run: dict, dataset: Dataset | None, out: str | Path, threads: int = 1, resume: ResumePolicy = NEVER) -> Path:
    """Train the run described by ``run`` (see ``learnscope.config.make_run``) and write its record.

    ``dataset`` is the prepared dataset, or None for a run on an online task. ``train.per_class`` trains
    on a subset of the training split (``per_class_subset``, seeded by the data seed); the record's train
    metrics are then measured on that subset. ``resume``: when to save the training state beside ``out``
    (``learnscope.train.resume``); a state saved there for this run and code is resumed from."""
    if is_online(run["dataset"]):
        return train_online(run, out, threads, resume)
    if dataset is None:
        raise ConfigError(f"run on dataset {run['dataset']['name']!r} needs its prepared file (--data data/prepared/<name>.h5)")
    device = resolve_device(run["device"])
    runtime = deterministic_settings(device, threads)
    seed = int(run["seed"])
    train = run["train"]
    if "per_class" in train:
        dataset = per_class_subset(dataset, int(train["per_class"]), int(train.get("data_seed", seed)))
    steps, batch_size = int(train["steps"]), int(train["batch_size"])
    if batch_size > len(dataset.x_train):
        raise ConfigError(f"train.batch_size {batch_size} exceeds the {len(dataset.x_train)} training items of {dataset.name!r}")

    dtype = {"float32": torch.float32, "float64": torch.float64}[train.get("dtype", "float32")]
    torch.manual_seed(seed)
    model = build_model(run["model"], dataset.input_shape, dataset.n_outputs).to(device=device, dtype=dtype)
    rule = build_rule(run["rule"])
    model = rule.setup(model)
    model.train()
    loss_fn = loss_function(dataset.task, train)
    x_train = as_input(dataset.x_train, device, dtype)
    y_train = as_input(dataset.y_train, device, dtype)

    schedule = record_schedule(steps, int(run["record"]["points"]), run["record"].get("spacing", "linear"))
    rid, code = make_run_id(run), step_digest("train")
    side = Resumable(out, run, rid, code, resume)
    saved = side.load()
    writer = RunWriter(out, run, rid, code, len(schedule), runtime)
    progress = Progress(f"train {rid}", steps)
    try:
        recorder = Recorder(side.journal(writer), model, rule, dataset, run["record"], device, dtype, loss_fn)
        data_seed = int(train.get("data_seed", seed))
        batch_iter = batches(len(x_train), batch_size, steps, data_seed)
        record_at = set(int(s) for s in schedule)
        diverged_at, start, loss = -1, 0, None
        if saved is not None:
            start = saved["position"]
            side.replay(writer, saved["rows"])
            model.load_state_dict(saved["model"])
            load_rule_state(rule, saved["rule"])
            recorder.load_state(saved["recorder"])
            load_rng_state(saved["rng"], device)
            for _ in range(start):  # the batch stream is a function of its seed: advance it past the steps done
                next(batch_iter)
        for step in range(start, steps + 1):
            if step < steps and side.due(step, start):
                side.save(step, writer.row, {"model": model.state_dict(), "rule": rule_state(rule), "recorder": recorder.state(), "rng": rng_state(device)})
            if step in record_at:
                recorder.record(step)
                progress.update(step, **({"loss": loss} if loss is not None else {}))
            if step == steps:
                break
            idx = torch.as_tensor(next(batch_iter), device=device)
            recorder.before_step()
            res = rule.step(model, x_train[idx], y_train[idx], loss_fn)
            recorder.after_step(res)
            loss = float(res.loss)
            if not math.isfinite(loss):
                diverged_at = step
                break
        status = "diverged" if diverged_at >= 0 else "complete"
        path = writer.close(status, {k: np.asarray(v) for k, v in recorder.per_step.items()}, diverged_at)
    except BaseException:
        writer.abort()
        side.abandon()
        raise
    side.finish()
    return path
