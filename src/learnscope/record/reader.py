"""Reading run records, with errors that say what is wrong with the file and how to get a good one."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from learnscope.errors import DamagedRecordError, RecordError
from learnscope.record.integrity import IntegrityError, check_structure, read_checked
from learnscope.record.writer import FORMAT

STATUSES = ("complete", "diverged")


class RunRecord:
    """An open run record. Arrays are read on access, trimmed to the valid ``n_records`` rows.

    Use as a context manager (``with open_run(p) as run: ...``) or call ``close()``. Opening refuses unsafe
    structure (external links or storage, virtual datasets), checks the content digest of the header and
    the layout and the range of ``n_records`` / ``status``; each array is checked against its own digest
    when it is read (``learnscope.record.integrity``).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise RecordError(f"{self.path}: run record not found; run `snakemake --cores all {self.path}` (or `dvc pull`)")
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as e:
            what = f"not a readable HDF5 file, truncated or corrupted ({e})"
            raise DamagedRecordError(f"{self.path}: {what}; {self._retrain}", what) from None
        try:
            self._read_header()
        except BaseException:
            self.file.close()
            raise

    @property
    def _retrain(self) -> str:
        where = f"; it is a link to {self.path.resolve()}: remove that too (`rm {self.path.resolve()}`)" if self.path.is_symlink() else ""
        return (f"delete it (`rm {self.path}`) and rerun the pipeline (`snakemake --cores all {self.path}`, with the "
                f"--configfile options it was built with) to restore or retrain it{where}")

    def _damaged(self, what: str) -> DamagedRecordError:
        return DamagedRecordError(f"{self.path}: damaged or not a learnscope record: {what}; {self._retrain}", what)

    def _read_header(self) -> None:
        a = self.file.attrs
        if a.get("format") != FORMAT or "status" not in a:
            what = f"not a complete {FORMAT} record (format={a.get('format')!r})"
            raise DamagedRecordError(f"{self.path}: {what}; {self._retrain}", what)
        try:
            self._datasets = check_structure(self.file)
            self.config: dict = json.loads(a["config"])
            self.run_id = str(a["run_id"])
            self.status = str(a["status"])
            self.n_records = int(a["n_records"])
            self.diverged_at_step = int(a["diverged_at_step"])
            self.code_digest = str(a["code_digest"])
            self.versions: dict = json.loads(a["versions"])
            self.git_commit = str(a["git_commit"])
            self.runtime: dict = json.loads(a["runtime"]) if "runtime" in a else {}
        except IntegrityError as e:
            raise self._damaged(str(e)) from None
        except (KeyError, ValueError, TypeError) as e:
            raise self._damaged(f"a header attribute is missing or malformed ({e})") from None
        if self.status not in STATUSES:
            raise self._damaged(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        steps = self._datasets.get("record/step")
        if steps is None or steps.ndim != 1:
            raise self._damaged("it has no record/step series")
        points = steps.shape[0]
        complete = self.status == "complete"
        if not 0 <= self.n_records <= points or (complete and self.n_records != points):
            raise self._damaged(f"n_records {self.n_records} is out of range for a {self.status} run of {points} record points")
        if complete != (self.diverged_at_step == -1) or self.diverged_at_step < -1:
            raise self._damaged(f"diverged_at_step {self.diverged_at_step} contradicts status {self.status!r}")

    def _read(self, key: str) -> np.ndarray:
        """The whole dataset ``key`` after checking it against its digest."""
        try:
            return read_checked(self._datasets[key])
        except IntegrityError as e:
            raise self._damaged(str(e)) from None
        except OSError as e:
            raise self._damaged(f"'{key}' cannot be read ({e})") from None

    def verify(self) -> None:
        """Check every dataset against its digest (reading them all)."""
        for key in self._datasets:
            self._read(key)

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
        return self._read("record/step")[: self.n_records]

    def _names(self, group: str) -> list[str]:
        return list(self.file[group]) if group in self.file else []

    def _series(self, group: str, name: str) -> np.ndarray:
        key = f"{group}/{name}"
        if key not in self.file:
            raise RecordError(f"{self.path}: has no {key} (available: {', '.join(self._names(group)) or 'none'})")
        return self._read(key)[: self.n_records]

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
        return self._read(key)

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
        return self._read(key)[: self.n_records]

    def array(self, key: str) -> np.ndarray:
        """Any other stored array by its path (e.g. ``trajectories/hidden`` of an online-task run)."""
        if key not in self.file or not isinstance(self.file[key], h5py.Dataset):
            group = key.rsplit("/", 1)[0] if "/" in key else ""
            raise RecordError(f"{self.path}: has no {key} (available under '{group}': {', '.join(self._names(group)) if group else 'see the record layout'})")
        return self._read(key)

    @property
    def probe_labels(self) -> np.ndarray:
        return self._read("probe/labels")


def open_run(path: str | Path) -> RunRecord:
    return RunRecord(path)


def verify_run(path: str | Path) -> None:
    """Open the record at ``path`` and check every array against its digest (RecordError if damaged)."""
    with open_run(path) as run:
        run.verify()
