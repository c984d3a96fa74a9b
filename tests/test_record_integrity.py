"""Run records against damage and crafted files: content digests, unsafe HDF5 structure, header bounds,
stale temporary files, the output cache's location. A full disk: tests/test_faults.py."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from learnscope.atomic import sweep_stale, temp_name
from learnscope.config import make_run
from learnscope.data import prepare
from learnscope.errors import CacheError, RecordError
from learnscope.output_cache import ENVVAR, ensure_output_cache, verify_artifact
from learnscope.record import open_run, verify_run
from learnscope.record.integrity import seal
from learnscope.train import train_run

DIGITS = {"kind": "digits", "probe_per_class": 2}


@pytest.fixture(scope="module")
def digits():
    return prepare("digits", DIGITS)


def run_cfg(seed=0):
    return make_run(
        {"data": {"digits": DIGITS}, "runtime": {"device": "cpu"}},
        dataset="digits",
        model={"kind": "mlp", "hidden": [8], "activation": "relu"},
        rule={"name": "sgd", "lr": 0.1},
        train={"steps": 20, "batch_size": 16},
        record={"points": 3, "per_step": ["batch_loss"]},
        seed=seed,
    )


@pytest.fixture(scope="module")
def record(tmp_path_factory, digits) -> Path:
    return train_run(run_cfg(), digits, tmp_path_factory.mktemp("rec") / "r.h5")


def copy(record: Path, dest: Path) -> Path:
    shutil.copyfile(record, dest)
    return dest


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_equal_runs_give_equal_bytes_and_verify(tmp_path, digits, record):
    again = train_run(run_cfg(), digits, tmp_path / "again.h5")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(record.read_bytes()).digest()
    verify_run(again)
    verify_artifact(again)
    with open_run(again) as r:
        assert r.scalar("test_acc").shape == (3,)


@pytest.mark.parametrize("key", ["scalars/test_acc", "record/step", "checkpoints/net.fc1.0.weight", "per_step/batch_loss"])
def test_one_changed_byte_in_any_array_is_refused(tmp_path, record, key):
    bad = copy(record, tmp_path / "bad.h5")
    with h5py.File(bad, "r") as f:
        offset = f[key].id.get_offset() + f[key].id.get_storage_size() - 1
    flip_byte(bad, offset)
    with pytest.raises(RecordError, match=rf"bad.h5: damaged .*'{key}' does not match its content digest.*delete it \(`rm .*bad.h5`\)"):
        with open_run(bad) as r:
            r.verify()
    with pytest.raises(CacheError, match=f"'{key}' does not match its content digest"):
        verify_artifact(bad)


def test_changed_attribute_is_refused(tmp_path, record):
    bad = copy(record, tmp_path / "bad.h5")
    with h5py.File(bad, "r+") as f:
        f.attrs["git_commit"] = "0" * len(str(f.attrs["git_commit"]))
    with pytest.raises(RecordError, match="attributes or layout do not match its content digest"):
        open_run(bad)


def craft(record: Path, dest: Path, change) -> Path:
    """A copy of ``record`` changed by ``change(file)`` and re-sealed where possible (a forger's record)."""
    copy(record, dest)
    with h5py.File(dest, "r+") as f:
        change(f)
    return dest


def test_external_link_to_another_file_is_refused(tmp_path, record):
    def link(f):
        del f["scalars/test_acc"]
        f["scalars/test_acc"] = h5py.ExternalLink("/etc/passwd", "/")

    bad = craft(record, tmp_path / "link.h5", link)
    with pytest.raises(RecordError, match="'scalars/test_acc' is an external link to /etc/passwd"):
        open_run(bad)


def test_external_raw_storage_and_virtual_datasets_are_refused(tmp_path, record):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(3, dtype=np.float64).tobytes())

    def external(f):
        del f["scalars/test_acc"]
        f.create_dataset("scalars/test_acc", shape=(3,), dtype=np.float64, external=[(str(secret), 0, 24)])

    with pytest.raises(RecordError, match="'scalars/test_acc' stores its bytes in external file"):
        open_run(craft(record, tmp_path / "ext.h5", external))

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(3,), dtype=np.float64)
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "x", shape=(3,))
        del f["scalars/test_acc"]
        f.create_virtual_dataset("scalars/test_acc", layout)

    with pytest.raises(RecordError, match="'scalars/test_acc' is a virtual dataset"):
        open_run(craft(record, tmp_path / "vds.h5", virtual))

    def soft(f):
        del f["scalars/test_acc"]
        f["scalars/test_acc"] = h5py.SoftLink("/scalars/train_acc")

    with pytest.raises(RecordError, match="'scalars/test_acc' is a soft link"):
        open_run(craft(record, tmp_path / "soft.h5", soft))


@pytest.mark.parametrize("attrs,match", [
    ({"n_records": 10**6}, "n_records 1000000 is out of range for a complete run of 3 record points"),
    ({"n_records": -1}, "n_records -1 is out of range"),
    ({"status": "diverged", "diverged_at_step": -1}, "diverged_at_step -1 contradicts status 'diverged'"),
    ({"status": "running"}, "status 'running' is not one of complete, diverged"),
    ({"config": "{not json"}, "a header attribute is missing or malformed"),
])
def test_header_is_bound_checked_even_when_resealed(tmp_path, record, attrs, match):
    def change(f):
        for k, v in attrs.items():
            f.attrs[k] = v
        seal(f)  # a forger recomputes the digest: the bounds must hold on their own

    with pytest.raises(RecordError, match=match):
        open_run(craft(record, tmp_path / "hdr.h5", change))


def test_stale_temporary_files_are_swept_when_a_writer_starts(tmp_path, digits):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = temp_name(tmp_path / "a.h5").with_name(f".a.h5.tmp-{os.uname().nodename}-{dead}")
    legacy = tmp_path / f".b.h5.tmp-{dead}"
    mine = temp_name(tmp_path / "c.h5")  # this process: alive
    other_host = tmp_path / f".d.h5.tmp-some-other-host-{dead}"  # a live writer elsewhere on a shared disk
    for p in (stale, legacy, mine, other_host):
        p.write_bytes(b"partial")
    train_run(run_cfg(), digits, tmp_path / "r.h5")
    assert not stale.exists() and not legacy.exists()
    assert mine.exists() and other_host.exists()
    assert sweep_stale(tmp_path) == []


def test_relative_output_cache_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENVVAR, "cache-here")
    assert ensure_output_cache() == tmp_path / "cache-here"
    assert os.environ[ENVVAR] == str(tmp_path / "cache-here") and (tmp_path / "cache-here").is_dir()
