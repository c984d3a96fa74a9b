"""Training runs and their HDF5 records: determinism, atomicity, divergence, damaged files."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from learnscope.config import make_run
from learnscope.data import prepare, save_prepared
from learnscope.errors import ConfigError, RecordError
from learnscope.provenance import step_digest
from learnscope.record import FORMAT, open_run
from learnscope.record.identity import run_id
from learnscope.train import record_schedule, train_run

DIGITS = {"kind": "digits", "probe_per_class": 3}


@pytest.fixture(scope="module")
def digits():
    return prepare("digits", DIGITS)


def run_cfg(rule=None, steps=60, model=None, record=None, seed=0):
    return make_run(
        {"data": {"digits": DIGITS}, "runtime": {"device": "cpu"}},
        dataset="digits",
        model=model or {"kind": "mlp", "hidden": [16], "activation": "relu"},
        rule=rule or {"name": "sgd", "lr": 0.1},
        train={"steps": steps, "batch_size": 16},
        record=record or {"points": 5, "per_step": ["batch_loss", "grad_norm"]},
        seed=seed,
    )


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_record_schedule():
    np.testing.assert_array_equal(record_schedule(100, 5), [0, 25, 50, 75, 100])
    log = record_schedule(1000, 5, "log")
    assert log[0] == 0 and log[1] == 1 and log[-1] == 1000 and np.all(np.diff(log) > 0)
    assert list(record_schedule(3, 10)) == [0, 1, 2, 3]


def test_run_record_contents(tmp_path, digits):
    run = run_cfg()
    path = train_run(run, digits, tmp_path / "r.h5")
    with open_run(path) as r:
        assert r.status == "complete" and r.n_records == 5 and not r.diverged
        assert r.config == run and r.run_id == run_id(run)
        assert r.code_digest == step_digest("train")
        assert {"torch", "numpy", "h5py", "python"} <= set(r.versions)
        assert r.runtime == {"device": "cpu", "device_name": "cpu", "threads": 1, "deterministic_algorithms": True,
                             "cudnn_deterministic": True, "cudnn_benchmark": False, "cublas_workspace_config": ""}
        np.testing.assert_array_equal(r.steps, [0, 15, 30, 45, 60])
        assert set(r.scalar_names) == {"train_loss", "train_acc", "test_loss", "test_acc"}
        assert r.scalar("train_loss")[-1] < r.scalar("train_loss")[0]
        assert r.activations("fc1").shape == (5, 30, 16) and r.activations("out").shape == (5, 30, 10)
        assert r.checkpoint("net.fc1.0.weight").shape == (5, 16, 64)
        assert r.per_step("batch_loss").shape == (60,) and np.all(r.per_step("grad_norm") > 0)
        np.testing.assert_array_equal(r.probe_labels, digits.probe_y)
        # the last checkpoint reproduces the recorded test accuracy
        import torch
        from learnscope.models import build_model

        model = build_model(run["model"], digits.input_shape, 10)
        model.load_state_dict({k: torch.as_tensor(r.checkpoint(k)[-1]) for k in r.checkpoint_names})
        acc = (model(torch.as_tensor(digits.x_test)).argmax(1).numpy() == digits.y_test).mean()
        assert acc == pytest.approx(r.scalar("test_acc")[-1])
        with pytest.raises(RecordError, match="has no activations/fc9 \\(available: fc1, out\\)"):
            r.activations("fc9")


def test_same_config_and_code_give_identical_bytes(tmp_path, digits):
    a = train_run(run_cfg(model={"kind": "convnet", "channels": [4], "batchnorm": True}), digits, tmp_path / "a.h5")
    b = train_run(run_cfg(model={"kind": "convnet", "channels": [4], "batchnorm": True}), digits, tmp_path / "b.h5")
    assert sha(a) == sha(b)
    c = train_run(run_cfg(model={"kind": "convnet", "channels": [4], "batchnorm": True}, seed=1), digits, tmp_path / "c.h5")
    assert sha(a) != sha(c)


def records_equal(a: Path, b: Path, rtol: float) -> None:
    """Every recorded array of two runs agrees (to ``rtol``)."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = _names(fa)
        assert names and names == _names(fb)
        for n in names:
            np.testing.assert_allclose(fa[n][()], fb[n][()], rtol=rtol, atol=rtol, err_msg=n)


def _names(f: h5py.File) -> list[str]:
    out = []
    f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return out


def test_every_device_path_gives_the_cpu_results(tmp_path, digits):
    import torch

    model = {"kind": "convnet", "channels": [4], "batchnorm": True}
    cpu = train_run(run_cfg(model=model), digits, tmp_path / "cpu.h5")
    auto = train_run({**run_cfg(model=model), "device": "auto"}, digits, tmp_path / "auto.h5")
    with open_run(auto) as r:
        assert r.runtime["device"] == ("cuda:0" if torch.cuda.is_available() else "cpu")
        assert r.runtime["deterministic_algorithms"] and r.runtime["cudnn_deterministic"] and not r.runtime["cudnn_benchmark"]
    if not torch.cuda.is_available():
        records_equal(cpu, auto, rtol=0)  # 'auto' on a CPU-only machine is exactly the CPU path
        with pytest.raises(ConfigError, match="no CUDA device is available"):
            train_run({**run_cfg(model=model), "device": "cuda"}, digits, tmp_path / "cuda.h5")
    else:  # the GPU path: same results as the CPU to float32 tolerance, and deterministic on the GPU
        cuda = [train_run({**run_cfg(model=model), "device": "cuda"}, digits, tmp_path / f"cuda{i}.h5") for i in range(2)]
        records_equal(cuda[0], cuda[1], rtol=0)
        records_equal(cpu, cuda[0], rtol=2e-3)
        with open_run(cuda[0]) as r:
            assert r.runtime["cublas_workspace_config"] == ":4096:8" and r.runtime["device_name"] != "cpu"


def test_progress_is_live_on_a_terminal_and_one_line_per_milestone_in_a_log():
    import io

    from learnscope.progress import Progress

    log = io.StringIO()
    p = Progress("train x", 100, stream=log)
    p.update(0)
    p.update(50, loss=0.25)
    p.update(100, loss=0.125)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and lines[1].startswith("train x: 50/100 (50%, ") and lines[1].endswith("loss 0.25")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    tty = Terminal()
    p = Progress("grid", 2, stream=tty)
    p.update(1)
    p.update(2)
    out = tty.getvalue()
    assert out.startswith("\rgrid: 1/2 (50%") and out.count("\r") == 2 and out.endswith("\n") and out.count("\n") == 1


def test_diverged_run_is_recorded_not_raised(tmp_path, digits):
    path = train_run(run_cfg(rule={"name": "sgd", "lr": 1e4}, steps=200, record={"points": 11}), digits, tmp_path / "d.h5")
    with open_run(path) as r:
        assert r.status == "diverged" and 0 <= r.diverged_at_step < 200
        assert r.n_records == len(r.steps) < 11
        assert np.all(r.steps <= r.diverged_at_step)
        assert not np.isfinite(r.per_step("batch_loss")[-1])


def test_crash_mid_run_leaves_no_file(tmp_path, digits, monkeypatch):
    from learnscope.train import recorder

    calls = {"n": 0}
    original = recorder.Recorder.record

    def failing(self, step):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        original(self, step)

    monkeypatch.setattr(recorder.Recorder, "record", failing)
    with pytest.raises(KeyboardInterrupt):
        train_run(run_cfg(), digits, tmp_path / "k.h5")
    assert list(tmp_path.iterdir()) == []


def test_damaged_records_give_clear_errors(tmp_path, digits):
    path = train_run(run_cfg(), digits, tmp_path / "r.h5")
    data = path.read_bytes()
    (tmp_path / "trunc.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordError, match="truncated or corrupted.*delete it .* and rerun"):
        open_run(tmp_path / "trunc.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(RecordError, match=f"not a complete {FORMAT} record"):
        open_run(tmp_path / "other.h5")
    with pytest.raises(RecordError, match="run record not found"):
        open_run(tmp_path / "missing.h5")


def test_bad_record_layer_and_batch_size(tmp_path, digits):
    with pytest.raises(ConfigError, match=r"record.layers: \['fc7'\] not in this model \(available: fc1, out\)"):
        train_run(run_cfg(record={"points": 3, "layers": ["fc7"]}), digits, tmp_path / "x.h5")
    run = run_cfg()
    run["train"]["batch_size"] = 5000
    with pytest.raises(ConfigError, match="batch_size 5000 exceeds the 1347 training items"):
        train_run(run, digits, tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []


def cli(*args):
    return subprocess.run([sys.executable, "-m", "learnscope.cli", *args], capture_output=True, text=True)


def test_cli_train_end_to_end_and_errors(tmp_path, digits):
    save_prepared(digits, tmp_path / "digits.h5")
    run = json.dumps(run_cfg(rule={"name": "sgd", "lr": 1e4}, steps=50))
    res = cli("train", "--run", run, "--data", str(tmp_path / "digits.h5"), "--out", str(tmp_path / "r.h5"))
    assert res.returncode == 0, res.stderr
    assert "diverged at step" in res.stdout
    res = cli("train", "--run", run, "--data", str(tmp_path / "nope.h5"), "--out", str(tmp_path / "s.h5"))
    assert res.returncode == 2
    assert "nope.h5: prepared dataset not found" in res.stderr and "Traceback" not in res.stderr
    res = cli("train", "--run", "{not json", "--data", str(tmp_path / "digits.h5"), "--out", str(tmp_path / "s.h5"))
    assert res.returncode == 2 and "expected a JSON object" in res.stderr
