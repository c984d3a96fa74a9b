"""Tiny ImageNet (cs231n, 200 classes of 64x64 RGB images), read from its standard on-disk layout.

``<root>/tiny-imagenet-200/`` as unpacked from ``tiny-imagenet-200.zip``:
- ``wnids.txt``: the class WordNet ids, one a line; class index = position in the sorted list (the
  order torchvision's ImageFolder gives the ``train/<wnid>`` folders);
- ``train/<wnid>/images/*.JPEG``: 500 training images per class;
- ``val/images/*.JPEG`` with ``val/val_annotations.txt`` (tab-separated: file name, wnid, box): the
  10,000 labelled validation images, used as the test split (the official test split has no labels).

Images are decoded with PIL, converted to RGB (a few are greyscale) and scaled to [0, 1] as float32 arrays
(N, 3, 64, 64). Files arrive with ``dvc pull`` (no torchvision downloader exists for this set).
Options: ``root`` (default ``data/raw``), ``subset_train`` / ``subset_test`` keep the first N items of
each split (train items interleaved by class: the first file of every class, then the second, ...;
val items in file-name order), so a subset covers all classes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from learnscope.errors import DatasetError

FOLDER = "tiny-imagenet-200"
SIZE = 64


def _missing(path: Path, what: str) -> DatasetError:
    return DatasetError(
        f"dataset 'tiny_imagenet' not found: expected {what} at {path}. Run `dvc pull` to fetch the data, or "
        f"unpack tiny-imagenet-200.zip (http://cs231n.stanford.edu/tiny-imagenet-200.zip) under the entry's "
        f"'root' folder."
    )


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _plain_name(name: str, where: Path, line: int) -> str:
    """``name`` if it is one plain file or folder name (no separator, not '..'), so paths joined from the
    dataset's own text files stay inside its folder; else a DatasetError naming the file and line."""
    if not _NAME.fullmatch(name) or name in (".", ".."):
        raise DatasetError(f"{where}, line {line}: {name!r} is not a plain file name (letters, digits, '_', '.', '-'); the file is damaged or crafted, re-fetch it with `dvc pull`")
    return name


def _read_images(paths: list[Path]) -> np.ndarray:
    from PIL import Image

    x = np.empty((len(paths), 3, SIZE, SIZE), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                arr = np.asarray(img.convert("RGB"))
        except OSError as e:
            raise DatasetError(f"{path}: not a readable image ({e}); re-fetch the data with `dvc pull`") from None
        if arr.shape != (SIZE, SIZE, 3):
            raise DatasetError(f"{path}: expected a {SIZE}x{SIZE} image, got {arr.shape[1]}x{arr.shape[0]}")
        x[i] = arr.transpose(2, 0, 1)
    return x


def _train_items(base: Path, wnids: list[str]) -> tuple[list[Path], list[int]]:
    """Interleaved by class: the r-th file (by name) of every class, for r = 0, 1, ... ."""
    ranked = []
    for label, wnid in enumerate(wnids):
        folder = base / "train" / wnid / "images"
        if not folder.is_dir():
            raise _missing(folder, f"the training images of class {wnid}")
        ranked += [(rank, label, path) for rank, path in enumerate(sorted(folder.glob("*.JPEG")))]
    ranked.sort()
    return [path for _, _, path in ranked], [label for _, label, _ in ranked]


def _val_items(base: Path, index: dict[str, int]) -> tuple[list[Path], list[int]]:
    annotations = base / "val" / "val_annotations.txt"
    if not annotations.is_file():
        raise _missing(annotations, "the validation labels")
    items = []
    for n, line in enumerate(annotations.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in index:
            raise DatasetError(f"{annotations}, line {n}: expected '<file>\\t<wnid>...' with a wnid from wnids.txt, got {line!r}")
        items.append((_plain_name(fields[0], annotations, n), index[fields[1]]))
    items.sort()
    paths = [base / "val" / "images" / name for name, _ in items]
    for path in paths:
        if not path.is_file():
            raise _missing(path, "a validation image listed in val_annotations.txt")
    return paths, [label for _, label in items]


def load(spec: dict) -> tuple:
    """(task, n_classes, x_train, y_train, x_test, y_test) from ``<root>/tiny-imagenet-200``."""
    base = Path(spec.get("root", "data/raw")) / FOLDER
    wnids_file = base / "wnids.txt"
    if not wnids_file.is_file():
        raise _missing(wnids_file, "the class list wnids.txt")
    lines = wnids_file.read_text().splitlines()
    wnids = sorted(_plain_name(w.strip(), wnids_file, n) for n, w in enumerate(lines, start=1) if w.strip())
    index = {w: i for i, w in enumerate(wnids)}
    splits = []
    for items, key in ((_train_items(base, wnids), "subset_train"), (_val_items(base, index), "subset_test")):
        paths, labels = items
        n = spec.get(key)
        paths, labels = (paths[:n], labels[:n]) if n else (paths, labels)
        x = _read_images(paths).astype(np.float32)
        x /= 255.0  # in place: the full train split is 4.9 GB in float32
        splits.append((x, np.asarray(labels, dtype=np.int64)))
    (x_tr, y_tr), (x_te, y_te) = splits
    return "classification", len(wnids), x_tr, y_tr, x_te, y_te
