"""Writer of a run record: rows are recorded into an in-memory HDF5 file (h5py's core driver, no backing
store), which is sealed with its content digests (``learnscope.record.integrity``) and written to disk in one
atomic write when the run ends. Nothing is on disk while a run trains, so a killed job leaves nothing, and
a full disk is an ordinary ``StorageError`` from Python's own write (HDF5 swallows write errors on close
and can then crash the process)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from learnscope.atomic import sweep_stale, write_bytes
from learnscope.provenance import git_commit, package_versions
from learnscope.record.integrity import seal

FORMAT = "learnscope-run/2"


class RunWriter:
    """Build one run record in memory; ``close(status)`` seals it and writes it atomically to ``path``.

    ``n_points`` is the number of record points T; each ``record(...)`` call fills the next row.
    ``runtime`` (the device and determinism settings the run trained under) is stored as an attribute.
    """

    def __init__(self, path: str | Path, config: dict, run_id: str, code_digest: str, n_points: int, runtime: dict | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(self.path.parent)  # temporary files of killed jobs
        self.n_points = n_points
        self.row = 0
        name = f"{self.path}.in-memory-{os.getpid()}"  # an identifier only: nothing is written there
        self.file = h5py.File(name, "w", driver="core", backing_store=False, track_order=False)
        a = self.file.attrs
        a["format"] = FORMAT
        a["run_id"] = run_id
        a["config"] = json.dumps(config, sort_keys=True)
        a["code_digest"] = code_digest
        a["versions"] = json.dumps(package_versions(), sort_keys=True)
        a["git_commit"] = git_commit()
        a["runtime"] = json.dumps(runtime or {}, sort_keys=True)
        self._steps = self.file.create_dataset("record/step", shape=(n_points,), dtype=np.int64)

    def write_static(self, group: str, arrays: dict[str, np.ndarray]) -> None:
        """Arrays that do not change over training (probe index and labels)."""
        for name, value in arrays.items():
            self.file.create_dataset(f"{group}/{name}", data=np.asarray(value))

    def _put(self, group: str, name: str, value: np.ndarray) -> None:
        key = f"{group}/{name}"
        if key not in self.file:
            self.file.create_dataset(key, shape=(self.n_points, *value.shape), dtype=value.dtype)
        self.file[key][self.row] = value

    def record(
        self,
        step: int,
        *,
        scalars: dict[str, float],
        checkpoints: dict[str, np.ndarray],
        activations: dict[str, np.ndarray],
        tracked: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Fill the next record row. ``tracked`` holds trackers' arrays, keyed ``<tracker>/<path>``."""
        if self.row >= self.n_points:
            raise IndexError(f"{self.path}: more record points than the {self.n_points} scheduled")
        self._steps[self.row] = step
        for name, v in scalars.items():
            self._put("scalars", name, np.asarray(v, dtype=np.float64))
        for name, v in checkpoints.items():
            self._put("checkpoints", name, np.asarray(v))
        for name, v in activations.items():
            self._put("activations", name, np.asarray(v, dtype=np.float32))
        for name, v in (tracked or {}).items():
            self._put("trackers", name, np.asarray(v, dtype=np.float64))
        self.row += 1

    def close(self, status: str, per_step: dict[str, np.ndarray], diverged_at_step: int = -1) -> Path:
        """Write per-step series and the final status, seal the file, then atomically publish it."""
        for name, values in per_step.items():
            self.file.create_dataset(f"per_step/{name}", data=np.asarray(values, dtype=np.float64))
        self.file.attrs["status"] = status
        self.file.attrs["n_records"] = self.row
        self.file.attrs["diverged_at_step"] = int(diverged_at_step)
        seal(self.file)
        self.file.flush()
        image = self.file.id.get_file_image()
        self.file.close()
        write_bytes(self.path, image)
        return self.path

    def abort(self) -> None:
        """Drop the unfinished record (on an exception): nothing at ``path`` appears."""
        if self.file:
            self.file.close()
