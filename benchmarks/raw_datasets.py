"""Tiny datasets in the real on-disk formats of the paper tier's readers (``learnscope.data``), for the
paper-shape run (docs/paper_tier.md): real image shapes and class counts, few images.

- MNIST / FashionMNIST: ``<root>/{MNIST,FashionMNIST}/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``,
  big-endian IDX files (magic 2051 / 2049), 28x28 uint8, 10 classes;
- CIFAR-10: ``<root>/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``, CIFAR-100:
  ``<root>/cifar-100-python/{train,test,meta}``: pickled dicts of a (N, 3072) uint8 ``data`` array (channel
  planes R, G, B of 32x32) and ``labels`` / ``fine_labels`` + ``coarse_labels`` lists; keys and names are
  str, as the originals (pickled by Python 2) load under ``encoding="latin1"``, the array data as bytes;
- Tiny ImageNet: ``<root>/tiny-imagenet-200/{wnids.txt,words.txt,train/<wnid>/images/<wnid>_<i>.JPEG,
  train/<wnid>/<wnid>_boxes.txt,val/images/val_<i>.JPEG,val/val_annotations.txt}``, 64x64 RGB JPEGs, 200
  classes.

Images are learnable: class c's images are a fixed random template of class c plus noise (seeded).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

SIZES = {"mnist": (300, 100), "fashion_mnist": (300, 100), "cifar10": (300, 100), "cifar100": (300, 100)}
TINY_TRAIN_PER_CLASS, TINY_VAL_PER_CLASS = 2, 1


def _images(n: int, shape: tuple[int, ...], n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images of ``shape``: labels 0, 1, .., n_classes - 1 in turn, template of the class + noise."""
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 255, size=(n_classes, *shape))
    labels = np.arange(n) % n_classes
    x = 0.6 * templates[labels] + 0.4 * rng.uniform(0, 255, size=(n, *shape))
    return x.clip(0, 255).astype(np.uint8), labels.astype(np.int64)


def _idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    path.write_bytes(struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes())


def write_mnist_like(root: Path, folder: str, seed: int) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    n_train, n_test = SIZES["mnist"]
    for prefix, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        x, y = _images(n, (28, 28), 10, s)
        _idx(raw / f"{prefix}-images-idx3-ubyte", x)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", y)


def _pickle(path: Path, obj: dict) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def write_cifar10(root: Path, seed: int = 10) -> None:
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True, exist_ok=True)
    n_train, n_test = SIZES["cifar10"]
    x, y = _images(n_train + n_test, (3, 32, 32), 10, seed)
    per = n_train // 5
    for i in range(5):
        sl = slice(i * per, (i + 1) * per)
        _pickle(base / f"data_batch_{i + 1}", {"batch_label": f"training batch {i + 1} of 5", "labels": y[sl].tolist(),
                                                 "data": x[sl].reshape(per, -1), "filenames": [f"img_{j}.png" for j in range(per)]})
    _pickle(base / "test_batch", {"batch_label": "testing batch 1 of 1", "labels": y[n_train:].tolist(), "data": x[n_train:].reshape(n_test, -1),
                                  "filenames": [f"test_{j}.png" for j in range(n_test)]})
    _pickle(base / "batches.meta", {"label_names": [f"class{c}" for c in range(10)], "num_cases_per_batch": per, "num_vis": 3072})


def write_cifar100(root: Path, seed: int = 100) -> None:
    base = root / "cifar-100-python"
    base.mkdir(parents=True, exist_ok=True)
    n_train, n_test = SIZES["cifar100"]
    x, y = _images(n_train + n_test, (3, 32, 32), 100, seed)
    for name, sl in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        _pickle(base / name, {"filenames": ["x.png"] * len(y[sl]), "batch_label": name, "fine_labels": y[sl].tolist(),
                              "coarse_labels": (y[sl] // 5).tolist(), "data": x[sl].reshape(len(y[sl]), -1)})
    _pickle(base / "meta", {"fine_label_names": [f"fine{c}" for c in range(100)], "coarse_label_names": [f"coarse{c}" for c in range(20)]})


def write_tiny_imagenet(root: Path, seed: int = 200) -> None:
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = [f"n{1440000 + 37 * c:08d}" for c in range(200)]
    (base / "val" / "images").mkdir(parents=True, exist_ok=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (base / "words.txt").write_text("".join(f"{w}\tclass {c}\n" for c, w in enumerate(wnids)))
    x, y = _images(200 * (TINY_TRAIN_PER_CLASS + TINY_VAL_PER_CLASS), (64, 64, 3), 200, seed)
    n_train = 200 * TINY_TRAIN_PER_CLASS
    counts = [0] * 200
    for img, c in zip(x[:n_train], y[:n_train]):
        folder = base / "train" / wnids[c] / "images"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{wnids[c]}_{counts[c]}.JPEG"
        Image.fromarray(img).save(folder / name, format="JPEG", quality=95)
        with open(base / "train" / wnids[c] / f"{wnids[c]}_boxes.txt", "a") as fh:
            fh.write(f"{name}\t0\t0\t63\t63\n")
        counts[c] += 1
    lines = []
    for i, (img, c) in enumerate(zip(x[n_train:], y[n_train:])):
        Image.fromarray(img).save(base / "val" / "images" / f"val_{i}.JPEG", format="JPEG", quality=95)
        lines.append(f"val_{i}.JPEG\t{wnids[c]}\t0\t0\t63\t63")
    (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")


def write_all(root: str | Path) -> Path:
    """Every format under ``root`` (the ``root`` of config/paper_shape.yaml's data entries)."""
    root = Path(root)
    write_mnist_like(root, "MNIST", 1)
    write_mnist_like(root, "FashionMNIST", 3)
    write_cifar10(root)
    write_cifar100(root)
    write_tiny_imagenet(root)
    return root
