"""Reading run records, with errors that say what is wrong with the file and how to get a good one."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from learnscope.errors import RecordError
from learnscope.record.writer import FORMAT


class RunRecord:
    """An open run record. Arrays are read on access, trimmed to the valid ``n_records`` rows.

    Use as a context manager (``with open_run(p) as run: ...``) or call ``close()``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        retrain = f"delete it and rerun the pipeline (`snakemake --cores all {self.path}`) to retrain"
        if not self.path.exists():
            raise RecordError(f"{self.path}: run record not found; run `snakemake --cores all {self.path}` (or `dvc pull`)")
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as e:
            raise RecordError(f"{self.path}: not a readable HDF5 file, truncated or corrupted ({e}); {retrain}") from None
        a = self.file.attrs
        if a.get("format") != FORMAT or "status" not in a:
            self.file.close()
            raise RecordError(f"{self.path}: not a complete {FORMAT} record (format={a.get('format')!r}); {retrain}")
        self.config: dict = json.loads(a["config"])
        self.run_id = str(a["run_id"])
        self.status = str(a["status"])
        self.n_records = int(a["n_records"])
        self.diverged_at_step = int(a["diverged_at_step"])
        self.code_digest = str(a["code_digest"])
        self.versions: dict = json.loads(a["versions"])
        self.git_commit = str(a["git_commit"])
        self.runtime: dict = json.loads(a["runtime"]) if "runtime" in a else {}

    def __enter__(self) -> RunRecord:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def steps(self) -> np.ndarray:
        return self.file["record/step"][: self.n_records]

    def _names(self, group: str) -> list[str]:
        return list(self.file[group]) if group in self.file else []

    def _series(self, group: str, name: str) -> np.ndarray:
        key = f"{group}/{name}"
        if key not in self.file:
            raise RecordError(f"{self.path}: has no {key} (available: {', '.join(self._names(group)) or 'none'})")
        return self.file[key][: self.n_records]

    @property
    def scalar_names(self) -> list[str]:
        return self._names("scalars")

    @property
    def checkpoint_names(self) -> list[str]:
        return self._names("checkpoints")

    @property
    def layer_names(self) -> list[str]:
        return self._names("activations")

    def scalar(self, name: str) -> np.ndarray:
        return self._series("scalars", name)

    def checkpoint(self, name: str) -> np.ndarray:
        return self._series("checkpoints", name)

    def activations(self, layer: str) -> np.ndarray:
        return self._series("activations", layer)

    def per_step(self, name: str) -> np.ndarray:
        key = f"per_step/{name}"
        if key not in self.file:
            raise RecordError(f"{self.path}: has no {key} (available: {', '.join(self._names('per_step')) or 'none'})")
        return self.file[key][()]

    @property
    def tracked_names(self) -> list[str]:
        """Paths of every tracker array, ``<tracker>/<path>`` (e.g. ``symmetry/scale/conv1/theory``)."""
        if "trackers" not in self.file:
            return []
        names: list[str] = []
        self.file["trackers"].visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        return sorted(names)

    def tracked(self, name: str) -> np.ndarray:
        """A tracker's array over the valid record points, shape (n_records, ...)."""
        key = f"trackers/{name}"
        if key not in self.file or not isinstance(self.file[key], h5py.Dataset):
            raise RecordError(f"{self.path}: has no {key} (available: {', '.join(self.tracked_names) or 'none'})")
        return self.file[key][: self.n_records]

    @property
    def probe_labels(self) -> np.ndarray:
        return self.file["probe/labels"][()]


def open_run(path: str | Path) -> RunRecord:
    return RunRecord(path)
