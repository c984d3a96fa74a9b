"""Resumable training: a side folder of training state, saved every few minutes, so that a killed job (a
Slurm time limit, a pre-empted node, ``kill -9``) continues where it stopped instead of starting over.

``<out>.resume/`` beside the record holds:

- ``state.pt``: all the loop needs to continue bit for bit from the start of a step (fixed-step loop) or of
  an epoch (online loop): the model's state dict (parameters and buffers; feedback weights are
  parameters), the rule's optimiser state (momentum buffers, Adam's moments and step counts) and
  scheduler state, the RNG states (torch's CPU and CUDA generators, the numpy generators of online data
  streams), the loop's position, what the recorder has accumulated (per-step series, trackers' state) and
  how many record rows were written; and the run's config, run id and training-code digest, which must all
  match for a resume (any other state file is discarded and training starts over);
- ``row-<i>.pt``: record row i as it was handed to the :class:`~learnscope.record.RunWriter`, written once
  when it is recorded.

Files are written atomically (``learnscope.atomic``) with ``torch.save`` and read with
``torch.load(..., weights_only=True)`` (tensors and plain containers; numpy arrays travel as tensors). On
resume a fresh RunWriter is refilled with rows 0..n-1 in their original order, so the finished record is
byte-identical to an uninterrupted run's. The folder is removed once the record is published.

The fixed-step loop's batch stream (``loop.batches``) is a pure function of its seed: on resume it is
regenerated and advanced past the steps done, so it needs no saved state. Seed ensembles trained
vectorised (``learnscope.train.ensemble``) do not save state: a killed leader retrains its ensemble.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from learnscope.atomic import write_bytes
from learnscope.errors import ConfigError

FORMAT = "learnscope-resume/1"


@dataclass(frozen=True)
class ResumePolicy:
    """When to save: every ``every_seconds`` of wall time (``None``: never), or, when ``every_steps`` is
    set, at every step (epoch, for online tasks) that is a positive multiple of it (for tests)."""

    every_seconds: float | None = 300.0
    every_steps: int | None = None

    def __post_init__(self):
        if self.every_steps is not None and self.every_steps < 1:
            raise ConfigError(f"resume: save every N steps needs N >= 1 (got {self.every_steps})")
        if self.every_seconds is not None and self.every_seconds <= 0:
            raise ConfigError(f"resume: save every S seconds needs S > 0 (got {self.every_seconds}; 0 or none: never)")


NEVER = ResumePolicy(every_seconds=None)


def side_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".resume")


def as_tensors(arrays: dict) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.array(v, order="C")) for k, v in arrays.items()}  # a copy; 0-d stays 0-d


def as_arrays(tensors: dict) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in tensors.items()}


def _save(obj, path: Path) -> None:
    """Serialise in memory, then write atomically: a full disk is a StorageError (torch's own file writer
    reports it as a bare RuntimeError, 'basic_ios::clear: iostream error')."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def _load(path: Path):
    return torch.load(path, map_location="cpu", weights_only=True)


def rule_state(rule) -> dict:
    """The rule's state beyond the model: its optimiser and learning-rate scheduler, where it has them."""
    out = {}
    for name in ("optimizer", "scheduler"):
        part = getattr(rule, name, None)
        if part is not None:
            out[name] = part.state_dict()
    return out


def load_rule_state(rule, state: dict) -> None:
    for name, value in state.items():
        getattr(rule, name).load_state_dict(value)


def rng_state(device: torch.device) -> dict:
    out = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def load_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class JournalWriter:
    """A RunWriter that also keeps every record row in the side folder (``row-<i>.pt``)."""

    def __init__(self, writer, directory: Path):
        self.writer, self.directory = writer, directory

    def write_static(self, group: str, arrays: dict) -> None:
        self.writer.write_static(group, arrays)

    def record(self, step: int, *, scalars: dict, checkpoints: dict, activations: dict, tracked: dict | None = None) -> None:
        row = {"step": int(step), "scalars": {k: float(v) for k, v in scalars.items()}, "checkpoints": as_tensors(checkpoints),
               "activations": as_tensors(activations), "tracked": as_tensors(tracked or {})}
        _save(row, self.directory / f"row-{self.writer.row:06d}.pt")
        self.writer.record(step, scalars=scalars, checkpoints=checkpoints, activations=activations, tracked=tracked)

    @property
    def row(self) -> int:
        return self.writer.row


class Resumable:
    """The side folder of one run: ``load`` a matching state, ``due``/``save`` during training, ``replay``
    the saved rows into a fresh writer, ``finish`` (remove the folder) once the record is published."""

    def __init__(self, out: str | Path, run: dict, run_id: str, code: str, policy: ResumePolicy):
        self.dir, self.policy = side_dir(out), policy
        self.identity = {"format": FORMAT, "config": json.dumps(run, sort_keys=True), "run_id": run_id, "code_digest": code}
        self.enabled = policy.every_seconds is not None or policy.every_steps is not None
        self.last = time.monotonic()

    def load(self) -> dict | None:
        """The saved state if it belongs to this run and code, else None (a foreign state is discarded)."""
        path = self.dir / "state.pt"
        if not self.enabled or not path.exists():
            return None
        try:
            state = _load(path)
            if state.get("identity") == self.identity:  # its journal too, before anything is replayed
                for i in range(int(state["rows"])):
                    _load(self.dir / f"row-{i:06d}.pt")
        except Exception as e:  # a damaged side file costs the work since the start, nothing else
            # the exception's type only: torch's text advises weights_only=False, i.e. running the file's code
            print(f"{path}: unreadable resume state or journal ({type(e).__name__}); training from the start", file=sys.stderr)
            state = None
        if state is None or state.get("identity") != self.identity:
            if state is not None:
                print(f"{path}: saved for another config or training code; training from the start", file=sys.stderr)
            shutil.rmtree(self.dir, ignore_errors=True)
            return None
        print(f"{path}: resuming at {state['position']} (record rows written: {state['rows']})", file=sys.stderr)
        return state

    def journal(self, writer) -> JournalWriter | object:
        if not self.enabled:
            return writer
        self.dir.mkdir(parents=True, exist_ok=True)
        return JournalWriter(writer, self.dir)

    def replay(self, writer, rows: int) -> None:
        """Refill ``writer`` (a fresh RunWriter, static arrays written) with the saved rows 0..rows-1."""
        for i in range(rows):
            row = _load(self.dir / f"row-{i:06d}.pt")
            writer.record(row["step"], scalars=row["scalars"], checkpoints=as_arrays(row["checkpoints"]),
                          activations=as_arrays(row["activations"]), tracked=as_arrays(row["tracked"]))

    def due(self, position: int, start: int) -> bool:
        """Whether to save at ``position`` (a step or epoch), ``start`` being where this process began."""
        if not self.enabled or position == start:
            return False
        if self.policy.every_steps is not None:
            return position % self.policy.every_steps == 0
        return time.monotonic() - self.last >= self.policy.every_seconds

    def save(self, position: int, rows: int, state: dict) -> None:
        _save({"identity": self.identity, "position": int(position), "rows": int(rows), **state}, self.dir / "state.pt")
        self.last = time.monotonic()

    def finish(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def abandon(self) -> None:
        """After a failed run: keep the folder only if it holds a state to resume from (a rerun after, say,
        freeing disk space continues there); journalled rows without a state are of no use."""
        if not (self.dir / "state.pt").exists():
            self.finish()
