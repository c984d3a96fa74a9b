"""The recorder: on a step schedule it stores checkpoints, probe-set activations and evaluation scalars;
every step it stores the per-step quantities an analysis asked for.

``record`` params: ``points`` (T record points from initialisation to the end, inclusive),
``spacing`` (``linear`` or ``log``: log-spaced points resolve early training), ``layers`` (``all`` or a
list of layer names), ``checkpoints`` (store the state dict at each point), ``per_step`` (names
from ``PER_STEP``) and ``trackers`` (names from ``TRACKERS``: stateful observers that see every step,
before and after the update, and write arrays at each record point under ``trackers/<name>/``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from learnscope.data import Dataset
from learnscope.errors import ConfigError
from learnscope.record import RunWriter
from learnscope.rules import LearningRule, StepResult
from learnscope.rules.losses import batch_total, loss_function
from learnscope.train.trackers import TRACKERS


def _grad_norm(model: nn.Module, rule: LearningRule, res: StepResult) -> float:
    """Euclidean norm of all parameter gradients the rule produced at this step (NaN if none)."""
    grads = [p.grad.detach().reshape(-1) for p in model.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.cat(grads))) if grads else float("nan")


def _param_norm(model: nn.Module, rule: LearningRule, res: StepResult) -> float:
    """Euclidean norm of all parameters after the update."""
    return float(torch.linalg.vector_norm(torch.cat([p.detach().reshape(-1) for p in model.parameters()])))


# name -> f(model, rule, step_result) -> float, evaluated after every update.
PER_STEP: dict[str, Callable[[nn.Module, LearningRule, StepResult], float]] = {
    "batch_loss": lambda model, rule, res: float(res.loss),
    "grad_norm": _grad_norm,
    "param_norm": _param_norm,
}


def record_schedule(steps: int, points: int, spacing: str = "linear") -> np.ndarray:
    """Sorted unique steps in [0, steps] at which to record; always includes 0 and ``steps``.

    ``linear``: round(linspace(0, steps, points)); ``log``: 0 plus round(geomspace(1, steps, points - 1)).
    Duplicates after rounding are dropped, so fewer than ``points`` may come back for short runs.
    """
    if spacing == "linear":
        s = np.linspace(0, steps, points)
    elif spacing == "log":
        s = np.concatenate([[0], np.geomspace(1, max(steps, 1), points - 1)])
    else:
        raise ConfigError(f"record.spacing {spacing!r} is not known (allowed: linear, log)")
    return np.unique(np.round(s).astype(np.int64))


def as_input(array: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A dataset array on ``device``; floating arrays in the training precision ``dtype``, labels as they are."""
    t = torch.as_tensor(array, device=device)
    return t.to(dtype) if t.is_floating_point() else t


class Recorder:
    """Collects what the run record holds and hands it to a :class:`RunWriter`."""

    def __init__(
        self,
        writer: RunWriter,
        model: nn.Module,
        rule: LearningRule,
        dataset: Dataset,
        spec: dict,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        loss_fn=None,
    ):
        self.writer, self.model, self.rule, self.dataset = writer, model, rule, dataset
        self.device = device
        self.loss_fn = loss_fn or loss_function(dataset.task)
        available = model.layer_modules()
        wanted = spec.get("layers", "all")
        names = list(available) if wanted == "all" else list(wanted)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ConfigError(f"record.layers: {unknown} not in this model (available: {', '.join(available)})")
        self.layers = {n: available[n] for n in names}
        self.checkpoints = bool(spec.get("checkpoints", True))
        unknown = [n for n in spec.get("per_step", ["batch_loss"]) if n not in PER_STEP]
        if unknown:
            raise ConfigError(f"record.per_step: {unknown} are not per-step quantities (allowed: {', '.join(PER_STEP)})")
        self.per_step_names = list(spec.get("per_step", ["batch_loss"]))
        self.per_step: dict[str, list[float]] = {n: [] for n in self.per_step_names}
        unknown = [n for n in spec.get("trackers", []) if n not in TRACKERS]
        if unknown:
            raise ConfigError(f"record.trackers: {unknown} are not trackers (allowed: {', '.join(TRACKERS)})")
        self.trackers = {n: TRACKERS[n](model, rule) for n in spec.get("trackers", [])}
        self.tensors = {
            split: (as_input(getattr(dataset, f"x_{split}"), device, dtype), as_input(getattr(dataset, f"y_{split}"), device, dtype))
            for split in ("train", "test")
        }
        self.probe_x = as_input(dataset.probe_x, device, dtype)
        writer.write_static("probe", {"index": dataset.probe_index, "labels": dataset.probe_y})

    @torch.no_grad()
    def _evaluate(self, split: str) -> dict[str, float]:
        x, y = self.tensors[split]
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), 1024):
            out = self.model(x[start : start + 1024])
            yb = y[start : start + 1024]
            total_loss += float(batch_total(self.loss_fn, out, yb))
            if self.dataset.task == "classification":
                correct += int((out.argmax(1) == yb).sum())
        res = {f"{split}_loss": total_loss / len(x)}  # the per-sample loss, averaged
        if self.dataset.task == "classification":
            res[f"{split}_acc"] = correct / len(x)
        return res

    @torch.no_grad()
    def _activations(self) -> dict[str, np.ndarray]:
        captured: dict[str, torch.Tensor] = {}
        handles = [m.register_forward_hook(lambda mod, inp, out, n=n: captured.__setitem__(n, out.detach())) for n, m in self.layers.items()]
        try:
            self.model(self.probe_x)
        finally:
            for h in handles:
                h.remove()
        return {n: captured[n].cpu().numpy() for n in self.layers}

    def record(self, step: int, evaluated: tuple[dict[str, float], dict[str, np.ndarray]] | None = None) -> None:
        """Evaluate in eval mode (batch norm uses running statistics), store a record row, restore mode.

        ``evaluated``: (scalars, activations) computed elsewhere (seed ensembles evaluate all seeds at once).
        """
        if evaluated is not None:
            scalars, acts = evaluated
        else:
            was_training = self.model.training
            self.model.eval()
            try:
                scalars = {**self._evaluate("train"), **self._evaluate("test")}
                acts = self._activations()
            finally:
                self.model.train(was_training)
        ckpt = {}
        if self.checkpoints:
            ckpt = {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
            ckpt.update({f"rule.{k}": v.detach().cpu().numpy() for k, v in self.rule.extra_state().items()})
        tracked = {f"{n}/{k}": v for n, tr in self.trackers.items() for k, v in tr.record().items()}
        self.writer.record(step, scalars=scalars, checkpoints=ckpt, activations=acts, tracked=tracked)

    def state(self) -> dict:
        """What the recorder has accumulated between record points (for resumable training)."""
        return {"per_step": {n: torch.tensor(v, dtype=torch.float64) for n, v in self.per_step.items()},
                "trackers": {n: tr.state() for n, tr in self.trackers.items()}}

    def load_state(self, state: dict) -> None:
        self.per_step = {n: state["per_step"][n].tolist() for n in self.per_step_names}
        for n, tr in self.trackers.items():
            tr.load_state(state["trackers"][n])

    def before_step(self) -> None:
        for tr in self.trackers.values():
            tr.before_step()

    def after_step(self, res: StepResult) -> None:
        for n in self.per_step_names:
            self.per_step[n].append(PER_STEP[n](self.model, self.rule, res))
        for tr in self.trackers.values():
            tr.after_step(res)

