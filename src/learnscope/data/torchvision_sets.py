"""torchvision's datasets, read from ``data/raw/`` (option ``root``) in their standard on-disk layout.

- MNIST / FashionMNIST: ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (and the
  same under ``FashionMNIST/``), read here from the IDX format (torchvision only downloads them). Only
  the idx files are read: torchvision's legacy ``<root>/MNIST/processed/*.pt`` files, which its dataset
  class would prefer and unpickle, are ignored.
- CIFAR-10 / CIFAR-100: ``<root>/cifar-10-batches-py/{data_batch_1..5,test_batch}`` and
  ``<root>/cifar-100-python/{train,test}``: Python pickles, read with a restricted unpickler that admits
  only plain containers and numpy arrays (torchvision's reader would unpickle arbitrary objects and
  insists on the published md5 sums).

Files arrive with ``dvc pull`` or with one online run that sets ``download: true`` on the dataset entry.
Options: ``subset_train`` / ``subset_test`` keep the first N items of each split.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

from learnscope.errors import DatasetError

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _missing(name: str, where: Path, what: str) -> DatasetError:
    return DatasetError(
        f"dataset {name!r} not found: expected {what} under {where}. Run `dvc pull` to fetch the prepared "
        f"data, or, on a machine with internet, set `download: true` on its entry under 'data' in "
        f"params.yaml for one run."
    )


def _subset(spec: dict, x: np.ndarray, y: np.ndarray, key: str) -> tuple[np.ndarray, np.ndarray]:
    n = spec.get(key)
    return (x[:n], y[:n]) if n else (x, y)


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An unsigned-byte IDX array (LeCun's MNIST format): bytes 0, 0, 0x08, ndim; ndim big-endian uint32
    sizes; the values. Anything else is a DatasetError naming the file."""
    data = path.read_bytes()
    bad = f"{path}: not an unsigned-byte IDX file with {ndim} dimensions"
    if len(data) < 4 + 4 * ndim or data[:4] != bytes([0, 0, 0x08, ndim]):
        raise DatasetError(f"{bad} (header {data[:4].hex()}); re-fetch it with `dvc pull`")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    if len(body) != int(np.prod(shape)):
        raise DatasetError(f"{bad}: {len(body)} value bytes for shape {shape} (truncated?); re-fetch it with `dvc pull`")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _mnist_like(spec: dict, cls_name: str) -> tuple:
    root = Path(spec.get("root", "data/raw"))
    raw = root / cls_name / "raw"
    if spec.get("download", False) and not all((raw / f).is_file() for f in _MNIST_FILES):
        import torchvision.datasets as tvd

        getattr(tvd, cls_name)(root=str(root), train=True, download=True)
    if not all((raw / f).is_file() for f in _MNIST_FILES):
        raise _missing(cls_name, raw, ", ".join(_MNIST_FILES))
    splits = []
    for prefix, key in (("train", "subset_train"), ("t10k", "subset_test")):
        x = read_idx(raw / f"{prefix}-images-idx3-ubyte", 3).astype(np.float32)[:, None, :, :] / 255.0
        y = read_idx(raw / f"{prefix}-labels-idx1-ubyte", 1).astype(np.int64)
        if len(x) != len(y):
            raise DatasetError(f"{raw}: {len(x)} {prefix} images but {len(y)} labels; re-fetch the files with `dvc pull`")
        splits.append(_subset(spec, x, y, key))
    (x_tr, y_tr), (x_te, y_te) = splits
    return "classification", 10, x_tr, y_tr, x_te, y_te


def mnist(spec: dict) -> tuple:
    return _mnist_like(spec, "MNIST")


def fashion_mnist(spec: dict) -> tuple:
    return _mnist_like(spec, "FashionMNIST")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles containers and numpy arrays only; anything else is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: CIFAR batches hold only arrays")


def _read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """A CIFAR batch's images (N, 3, 32, 32) uint8 and labels; anything else is a DatasetError."""
    refetch = "re-fetch it with `dvc pull`"
    with open(path, "rb") as fh:
        try:
            batch = _ArrayUnpickler(fh, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
            raise DatasetError(f"{path}: not a readable CIFAR batch ({e}); {refetch}") from None
    if not isinstance(batch, dict) or "data" not in batch or label_key not in batch:
        what = f"keys {sorted(map(str, batch))}" if isinstance(batch, dict) else f"a {type(batch).__name__}"
        raise DatasetError(f"{path}: not a CIFAR batch (expected a dict with 'data' and {label_key!r}, got {what}); {refetch}")
    try:
        x = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
    except (ValueError, TypeError) as e:
        raise DatasetError(f"{path}: CIFAR batch with malformed 'data' or {label_key!r} ({e}); {refetch}") from None
    if len(x) != len(y):
        raise DatasetError(f"{path}: {len(x)} images but {len(y)} labels; {refetch}")
    return x, y


def _cifar(spec: dict, name: str, folder: str, train_files: list[str], test_files: list[str], label_key: str, n_classes: int) -> tuple:
    root = Path(spec.get("root", "data/raw"))
    base = root / folder
    if spec.get("download", False) and not base.is_dir():
        import torchvision.datasets as tvd

        getattr(tvd, name)(root=str(root), train=True, download=True)
    splits = []
    for files, key in ((train_files, "subset_train"), (test_files, "subset_test")):
        if not all((base / f).is_file() for f in files):
            raise _missing(name, base, ", ".join(files))
        batches = [_read_batch(base / f, label_key) for f in files]
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])
        splits.append(_subset(spec, x.astype(np.float32) / 255.0, y, key))
    (x_tr, y_tr), (x_te, y_te) = splits
    return "classification", n_classes, x_tr, y_tr, x_te, y_te


def cifar10(spec: dict) -> tuple:
    return _cifar(spec, "CIFAR10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "labels", 10)


def cifar100(spec: dict) -> tuple:
    return _cifar(spec, "CIFAR100", "cifar-100-python", ["train"], ["test"], "fine_labels", 100)
