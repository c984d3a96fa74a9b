"""The Dataset record and its on-disk form (``data/prepared/<name>.h5``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from learnscope.atomic import write_bytes
from learnscope.errors import DatasetError
from learnscope.record.integrity import IntegrityError, check_structure, read_checked, seal

PREPARED_FORMAT = "learnscope-dataset/2"
_ARRAYS = ("x_train", "y_train", "x_test", "y_test", "probe_index")


@dataclass(frozen=True)
class Dataset:
    """Arrays of one prepared dataset.

    ``x_*`` are float32 with the model's input shape after the sample axis ((N, C, H, W) for images,
    (N, D) for vectors, (N, T, D) for sequences); ``y_*`` are int64 class labels for classification
    and float32 targets for regression. ``probe_index`` picks the fixed probe set out of the test split:
    the inputs on which activations are recorded, the same for every run on this dataset.
    """

    name: str
    task: str
    n_outputs: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    probe_index: np.ndarray
    spec: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def probe_x(self) -> np.ndarray:
        return self.x_test[self.probe_index]

    @property
    def probe_y(self) -> np.ndarray:
        return self.y_test[self.probe_index]


def save_prepared(ds: Dataset, path: str | Path) -> None:
    """Write ``ds`` atomically and byte-deterministically, sealed with its content digests
    (``learnscope.record.integrity``); built in memory, so a full disk is a StorageError."""
    with h5py.File(f"{path}.in-memory", "w", driver="core", backing_store=False) as f:
        f.attrs["format"] = PREPARED_FORMAT
        f.attrs["name"] = ds.name
        f.attrs["task"] = ds.task
        f.attrs["n_outputs"] = ds.n_outputs
        f.attrs["spec"] = json.dumps(ds.spec, sort_keys=True)
        for key in _ARRAYS:
            f.create_dataset(key, data=getattr(ds, key))
        seal(f)
        f.flush()
        image = f.id.get_file_image()
    write_bytes(path, image)


def load_prepared(path: str | Path) -> Dataset:
    """Read a prepared dataset, checked against its content digests; a missing, damaged or unsafe file
    (external links or storage) is a DatasetError saying how to rebuild it."""
    p = Path(path)
    rebuild = f"rebuild it with `snakemake --cores 1 {p}` (or fetch it with `dvc pull`)"
    if not p.is_file():
        raise DatasetError(f"{p}: prepared dataset not found; {rebuild}")
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("format") != PREPARED_FORMAT:
                raise DatasetError(f"{p}: not a learnscope prepared dataset (format {f.attrs.get('format')!r}); {rebuild}")
            datasets = check_structure(f)
            missing = [k for k in _ARRAYS if k not in datasets]
            if missing:
                raise DatasetError(f"{p}: prepared dataset lacks {', '.join(missing)}; delete it and {rebuild}")
            arrays = {k: read_checked(datasets[k]) for k in _ARRAYS}
            return Dataset(
                name=str(f.attrs["name"]),
                task=str(f.attrs["task"]),
                n_outputs=int(f.attrs["n_outputs"]),
                spec=json.loads(f.attrs["spec"]),
                **arrays,
            )
    except IntegrityError as e:
        raise DatasetError(f"{p}: damaged or not a learnscope prepared dataset: {e}; delete it and {rebuild}") from None
    except (OSError, KeyError, ValueError) as e:
        raise DatasetError(f"{p}: unreadable or truncated prepared dataset ({e}); delete it and {rebuild}") from None
