"""Stateful trackers, selected by name in ``record.trackers``: they see every step (before and after the
update) and return arrays at each record point, written under ``trackers/<name>/`` of the run record.

A tracker class takes ``(model, rule)`` and has ``before_step()``, ``after_step(step_result)``,
``record() -> {path: array}`` and, for resumable training, ``state()`` / ``load_state(state)`` (what it has
accumulated, as tensors and plain containers).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from learnscope.errors import ConfigError
from learnscope.rules import LearningRule, StepResult
from learnscope.rules.feedback import FeedbackDiagnostics
from learnscope.train.symmetry import SymmetryTracker


class ParameterSampleTracker:
    """``N_SAMPLE`` individual conv weights, drawn once uniformly over all conv weights with a generator
    seeded by ``SEED`` (the same entries for every run of one architecture), at every record point: the
    single-parameter trajectories of Kunin et al. (ICLR 2021) Fig. 1, without storing checkpoints."""

    name = "parameter_sample"
    N_SAMPLE, SEED = 50, 0

    def __init__(self, model: nn.Module, rule: LearningRule):
        convs = [(name, m.weight) for name, block in model.layer_modules().items() for m in block.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ConfigError("record.trackers: 'parameter_sample' needs a model with conv layers")
        sizes = np.array([w.numel() for _, w in convs])
        rng = np.random.default_rng(self.SEED)
        picks = np.sort(rng.choice(sizes.sum(), size=min(self.N_SAMPLE, int(sizes.sum())), replace=False))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.samples = []
        for i, (name, w) in enumerate(convs):
            idx = picks[(picks >= offsets[i]) & (picks < offsets[i + 1])] - offsets[i]
            if len(idx):
                self.samples.append((name, w, torch.as_tensor(idx, device=w.device)))

    def before_step(self) -> None:
        pass

    def after_step(self, res: StepResult) -> None:
        pass

    def state(self) -> dict:
        return {}  # the sampled entries are a function of the architecture

    def load_state(self, state: dict) -> None:
        pass

    def record(self) -> dict[str, np.ndarray]:
        return {layer: w.detach().reshape(-1)[idx].double().cpu().numpy() for layer, w, idx in self.samples}


# name -> tracker class
TRACKERS = {cls.name: cls for cls in (SymmetryTracker, ParameterSampleTracker, FeedbackDiagnostics)}
