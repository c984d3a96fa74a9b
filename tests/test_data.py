"""Datasets: one interface, real on-disk formats, clear errors."""

import hashlib
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from learnscope.data import load_prepared, prepare, save_prepared
from learnscope.errors import DatasetError


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_digits_split_probe_and_standardisation():
    ds = prepare("digits", {"kind": "digits", "test_fraction": 0.25, "seed": 0, "probe_per_class": 4})
    assert ds.x_train.shape == (1347, 1, 8, 8) and ds.x_test.shape == (450, 1, 8, 8)
    assert ds.task == "classification" and ds.n_outputs == 10
    # stratified split: every class in the test split in proportion to its size
    sizes = np.bincount(ds.y_train) + np.bincount(ds.y_test)
    assert np.all(np.abs(np.bincount(ds.y_test) - 0.25 * sizes) <= 1)
    # probe set: 4 per class, sorted by class, drawn from the test split
    assert ds.probe_x.shape == (40, 1, 8, 8)
    assert list(ds.probe_y) == sorted(ds.probe_y) and np.all(np.bincount(ds.probe_y) == 4)
    # z-scored with train statistics: per-feature mean 0, global std 1 on the train split
    assert np.abs(ds.x_train.mean(axis=0)).max() < 1e-5
    assert ds.x_train.std() == pytest.approx(1.0, rel=1e-4)


def test_synthetic_sets_are_seeded_and_learnable_shapes():
    spec = {"kind": "gaussian_clusters", "n_classes": 4, "dim": 16, "n_train": 200, "n_test": 40, "seed": 3, "probe_per_class": 2}
    a, b = prepare("g", spec), prepare("g", spec)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (200, 16) and np.all(np.bincount(a.y_train) == 50)
    c = prepare("g", {**spec, "seed": 4})
    assert not np.allclose(a.x_train, c.x_train)
    t = prepare("t", {"kind": "teacher", "n_classes": 3, "dim": 10, "n_train": 300, "n_test": 60, "seed": 0})
    assert set(np.unique(t.y_train)) == {0, 1, 2}


def test_prepared_file_round_trip_is_byte_deterministic(tmp_path: Path):
    ds = prepare("digits", {"kind": "digits", "probe_per_class": 2})
    save_prepared(ds, tmp_path / "a.h5")
    save_prepared(prepare("digits", {"kind": "digits", "probe_per_class": 2}), tmp_path / "b.h5")
    assert sha(tmp_path / "a.h5") == sha(tmp_path / "b.h5")
    back = load_prepared(tmp_path / "a.h5")
    np.testing.assert_array_equal(back.x_test, ds.x_test)
    np.testing.assert_array_equal(back.probe_index, ds.probe_index)
    assert back.spec == {"kind": "digits", "probe_per_class": 2}
    assert not list(tmp_path.glob(".*tmp*"))


def test_missing_or_truncated_prepared_file(tmp_path: Path):
    with pytest.raises(DatasetError, match="prepared dataset not found.*snakemake --cores 1"):
        load_prepared(tmp_path / "none.h5")
    save_prepared(prepare("digits", {"kind": "digits"}), tmp_path / "d.h5")
    data = (tmp_path / "d.h5").read_bytes()
    (tmp_path / "d.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError, match="unreadable or truncated"):
        load_prepared(tmp_path / "d.h5")


def write_idx(path: Path, array: np.ndarray) -> None:
    """The IDX format of MNIST: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian dims, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_mnist(root: Path, folder: str, n_train: int = 30, n_test: int = 20) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, size=(n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)


@pytest.mark.parametrize("kind,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_like_from_idx_files(tmp_path: Path, kind: str, folder: str):
    make_mnist(tmp_path, folder)
    ds = prepare(kind, {"kind": kind, "root": str(tmp_path), "probe_per_class": 1, "standardize": False, "subset_train": 25})
    assert ds.x_train.shape == (25, 1, 28, 28) and ds.x_test.shape == (20, 1, 28, 28)
    assert ds.x_train.max() <= 1.0 and ds.x_train.min() >= 0.0
    np.testing.assert_array_equal(ds.y_test, np.arange(20) % 10)
    raw = (tmp_path / folder / "raw" / "train-images-idx3-ubyte").read_bytes()[16:16 + 784]
    np.testing.assert_allclose(ds.x_train[0, 0].ravel(), np.frombuffer(raw, np.uint8) / 255.0, rtol=1e-6)


def test_missing_torchvision_dataset_says_where_and_how(tmp_path: Path):
    with pytest.raises(DatasetError) as e:
        prepare("mnist", {"kind": "mnist", "root": str(tmp_path)})
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg and "dvc pull" in msg and "download: true" in msg


def cifar_batch(path: Path, n: int, label_key: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    with open(path, "wb") as fh:
        pickle.dump({"data": data, label_key: [int(i) % 10 for i in range(n)], "batch_label": "x"}, fh, protocol=2)
    return data


def test_cifar10_and_cifar100_from_python_pickles(tmp_path: Path):
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    first = cifar_batch(base / "data_batch_1", 6, "labels", 1)
    for i in range(2, 6):
        cifar_batch(base / f"data_batch_{i}", 6, "labels", i)
    cifar_batch(base / "test_batch", 10, "labels", 9)
    ds = prepare("c10", {"kind": "cifar10", "root": str(tmp_path), "probe_per_class": 1, "standardize": False})
    assert ds.x_train.shape == (30, 3, 32, 32) and ds.x_test.shape == (10, 3, 32, 32)
    np.testing.assert_allclose(ds.x_train[0].ravel(), first[0] / 255.0, rtol=1e-6)

    base = tmp_path / "cifar-100-python"
    base.mkdir()
    cifar_batch(base / "train", 12, "fine_labels", 1)
    cifar_batch(base / "test", 10, "fine_labels", 2)
    ds = prepare("c100", {"kind": "cifar100", "root": str(tmp_path), "probe_per_class": 1})
    assert ds.n_outputs == 100 and ds.x_train.shape == (12, 3, 32, 32)


def test_cifar_reader_refuses_code_in_pickles(tmp_path: Path):
    base = tmp_path / "cifar-100-python"
    base.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    for name in ("train", "test"):
        with open(base / name, "wb") as fh:
            pickle.dump({"data": Evil(), "fine_labels": [0]}, fh)
    with pytest.raises(DatasetError, match="refusing to unpickle builtins.print"):
        prepare("c100", {"kind": "cifar100", "root": str(tmp_path)})


def make_tiny_imagenet(root: Path) -> dict[str, str]:
    """A 3-class tiny-imagenet-200 in the published layout; returns val file -> wnid (one image greyscale)."""
    from PIL import Image

    base = root / "tiny-imagenet-200"
    wnids = ["n02", "n01", "n03"]  # not sorted in the file: class index = sorted position
    base.mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    rng = np.random.default_rng(0)
    for wnid in wnids:
        folder = base / "train" / wnid / "images"
        folder.mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{wnid}_{i}.JPEG")
    val = {"val_3.JPEG": "n03", "val_0.JPEG": "n02", "val_1.JPEG": "n01", "val_2.JPEG": "n02"}
    (base / "val" / "images").mkdir(parents=True)
    for name in val:
        mode = "L" if name == "val_2.JPEG" else "RGB"
        pixels = rng.integers(0, 256, (64, 64) if mode == "L" else (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels, mode=mode).save(base / "val" / "images" / name)
    (base / "val" / "val_annotations.txt").write_text("".join(f"{n}\t{w}\t0\t0\t63\t63\n" for n, w in val.items()))
    return val


def test_tiny_imagenet_from_its_folder_layout(tmp_path: Path):
    from PIL import Image

    val = make_tiny_imagenet(tmp_path)
    ds = prepare("tin", {"kind": "tiny_imagenet", "root": str(tmp_path), "probe_per_class": 1, "standardize": False})
    assert ds.n_outputs == 3 and ds.x_train.shape == (6, 3, 64, 64) and ds.x_test.shape == (4, 3, 64, 64)
    index = {"n01": 0, "n02": 1, "n03": 2}
    names = sorted(val)
    np.testing.assert_array_equal(ds.y_test, [index[val[n]] for n in names])  # labels from the annotation file
    np.testing.assert_array_equal(ds.y_train, [0, 1, 2, 0, 1, 2])  # interleaved by class
    base = tmp_path / "tiny-imagenet-200"
    grey = np.asarray(Image.open(base / "val" / "images" / "val_2.JPEG"), dtype=np.float32) / 255.0
    np.testing.assert_allclose(ds.x_test[names.index("val_2.JPEG")], np.stack([grey] * 3), atol=1e-6)
    first = np.asarray(Image.open(base / "train" / "n01" / "images" / "n01_0.JPEG"), dtype=np.float32) / 255.0
    np.testing.assert_allclose(ds.x_train[0], first.transpose(2, 0, 1), atol=1e-6)
    sub = prepare("tin", {"kind": "tiny_imagenet", "root": str(tmp_path), "probe_per_class": 1, "subset_train": 3, "subset_test": 2})
    assert sub.x_train.shape[0] == 3 and sorted(sub.y_train) == [0, 1, 2] and sub.x_test.shape[0] == 2


def test_missing_tiny_imagenet_names_the_path(tmp_path: Path):
    with pytest.raises(DatasetError) as e:
        prepare("tin", {"kind": "tiny_imagenet", "root": str(tmp_path)})
    assert str(tmp_path / "tiny-imagenet-200" / "wnids.txt") in str(e.value) and "dvc pull" in str(e.value)
    make_tiny_imagenet(tmp_path)
    missing = tmp_path / "tiny-imagenet-200" / "val" / "images" / "val_1.JPEG"
    missing.unlink()
    with pytest.raises(DatasetError) as e:
        prepare("tin", {"kind": "tiny_imagenet", "root": str(tmp_path)})
    assert str(missing) in str(e.value) and "dvc pull" in str(e.value)


def test_prepared_file_is_checked_against_its_digest(tmp_path: Path):
    import h5py

    ds = prepare("digits", {"kind": "digits", "probe_per_class": 2})
    save_prepared(ds, tmp_path / "d.h5")
    with h5py.File(tmp_path / "d.h5", "r") as f:
        offset = f["y_test"].id.get_offset()
    data = bytearray((tmp_path / "d.h5").read_bytes())
    data[offset] ^= 1  # one label changed by one
    (tmp_path / "d.h5").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"d.h5: damaged .*'y_test' does not match its content digest.*delete it and rebuild"):
        load_prepared(tmp_path / "d.h5")
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.attrs["format"] = "learnscope-dataset/2"
        f["x_train"] = h5py.ExternalLink("/etc/passwd", "/")
    with pytest.raises(DatasetError, match="'x_train' is an external link to /etc/passwd"):
        load_prepared(tmp_path / "x.h5")


def test_mnist_reads_idx_files_never_processed_pickles(tmp_path: Path):
    make_mnist(tmp_path, "MNIST")
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir()
    for name in ("training.pt", "test.pt"):  # torchvision's legacy files, which its MNIST class would prefer
        (processed / name).write_bytes(b"\x80\x02crandom\nnot a tensor file")
    ds = prepare("mnist", {"kind": "mnist", "root": str(tmp_path), "probe_per_class": 1, "standardize": False})
    np.testing.assert_array_equal(ds.y_test, np.arange(20) % 10)
    raw = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    raw.write_bytes(raw.read_bytes()[:-3])
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: not an unsigned-byte IDX file .*truncated"):
        prepare("mnist", {"kind": "mnist", "root": str(tmp_path)})


@pytest.mark.parametrize("payload,match", [
    ([1, 2, 3], "not a CIFAR batch \\(expected a dict with 'data' and 'fine_labels', got a list\\)"),
    ({"data": np.zeros((2, 3072), np.uint8)}, "got keys \\['data'\\]"),
    ({"data": np.zeros((2, 7), np.uint8), "fine_labels": [0, 1]}, "malformed 'data'"),
])
def test_cifar_batch_of_the_wrong_shape_is_a_clear_error(tmp_path: Path, payload, match):
    base = tmp_path / "cifar-100-python"
    base.mkdir()
    for name in ("train", "test"):
        with open(base / name, "wb") as fh:
            pickle.dump(payload, fh, protocol=2)
    with pytest.raises(DatasetError, match=match):
        prepare("c100", {"kind": "cifar100", "root": str(tmp_path)})


@pytest.mark.parametrize("where", ["wnids", "annotations"])
def test_tiny_imagenet_names_cannot_leave_its_folder(tmp_path: Path, where: str):
    make_tiny_imagenet(tmp_path)
    base = tmp_path / "tiny-imagenet-200"
    if where == "wnids":
        (base / "wnids.txt").write_text("n01\nn02\n../../../etc\n")
        match = r"wnids.txt, line 3: '../../../etc' is not a plain file name"
    else:
        (base / "val" / "val_annotations.txt").write_text("../../../../etc/passwd\tn01\t0\t0\t63\t63\n")
        match = r"val_annotations.txt, line 1: '../../../../etc/passwd' is not a plain file name"
    with pytest.raises(DatasetError, match=match):
        prepare("tin", {"kind": "tiny_imagenet", "root": str(tmp_path)})
