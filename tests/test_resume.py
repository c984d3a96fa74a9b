"""Resumable training (``learnscope.train.resume``): a job killed at a random step (``kill -9``) and rerun
finishes with a record byte-identical to an uninterrupted run's, for the fixed-step loop (momentum, batch
norm, symmetry tracker: optimiser, buffers and tracker state) and the online-epoch loop (RMSprop with a
plateau schedule, numpy data streams); a state saved for other code or another config is discarded."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from learnscope.config import load_params, make_run
from learnscope.data import prepare, save_prepared
from learnscope.train import train_run
from learnscope.train.resume import ResumePolicy, side_dir

REPO = Path(__file__).resolve().parents[1]
DIGITS = {"kind": "digits", "probe_per_class": 3}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fixed_run(steps: int = 400) -> dict:
    return make_run(
        {"data": {"digits": DIGITS}, "runtime": {"device": "cpu"}},
        dataset="digits",
        model={"kind": "convnet", "channels": [4, 6], "hidden": [12], "batchnorm": True},
        rule={"name": "momentum", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.001},
        train={"steps": steps, "batch_size": 32},
        record={"points": 9, "layers": ["conv2", "out"], "per_step": ["batch_loss", "grad_norm"], "trackers": ["symmetry", "parameter_sample"]},
        seed=3,
    )


def _online_run(epochs: int = 12) -> dict:
    cfg = load_params(REPO / "params.yaml")
    rr = cfg["robust_rnn"]
    model = {**rr["model"], "hidden_size": 24, "gain": 250.0}
    train = {**rr["train"], "epochs": epochs, "samples_per_epoch": 200, "validation_samples": 40, "eval_samples": 100}
    record = {**rr["record"], "probe_samples": 60, "probe_steps": 12, "trajectory_epochs": [0, 5]}
    rule = {**rr["rule"], "scheduler": {"kind": "plateau", "factor": 0.5, "patience": 1, "threshold": 1e-7}}
    return make_run(cfg, dataset="clusters_low_d", model=model, rule=rule, train=train, record=record, seed=1)


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "digits.h5"
    save_prepared(prepare("digits", DIGITS), path)
    return path


def _train_cmd(run: dict, out: Path, data: Path | None, every_steps: int | None) -> list[str]:
    """`learnscope train`, saving its state every ``every_steps`` steps (None: never)."""
    cmd = [sys.executable, "-m", "learnscope.cli", "train", "--run", json.dumps(run), "--out", str(out)]
    cmd += ["--resume-every", "0"] if every_steps is None else ["--resume-every-steps", str(every_steps)]
    return cmd + (["--data", str(data)] if data else [])


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}


def _kill_then_finish(run: dict, out: Path, data: Path | None, every_steps: int, seed: int) -> None:
    """Start `learnscope train`, kill -9 it at a random moment after its first saved state, check that it
    died mid-run (no record, a state on disk), then rerun it to the end."""
    state = side_dir(out) / "state.pt"
    proc = subprocess.Popen(_train_cmd(run, out, data, every_steps), cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not state.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no resume state saved within 120 s"
            time.sleep(0.01)
        time.sleep(random.Random(seed).uniform(0.0, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the job finished before it was killed: make it longer"
    assert not out.exists() and state.exists()
    at = torch.load(state, weights_only=True)["position"]
    res = subprocess.run(_train_cmd(run, out, data, every_steps), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"resuming at {at} " in res.stderr, res.stderr
    assert out.exists() and not side_dir(out).exists()  # the side folder goes when the record is published
    assert not list(out.parent.glob(f".{out.name}.tmp-*"))  # the killed process's unfinished file is gone


def _killed_equals_uninterrupted(tmp_path, run: dict, data: Path | None, every_steps: int) -> None:
    ref = tmp_path / "ref.h5"
    res = subprocess.run(_train_cmd(run, ref, data, None), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert not side_dir(ref).exists()  # --resume-every 0: no side folder
    out = tmp_path / "killed.h5"
    _kill_then_finish(run, out, data, every_steps, seed=int.from_bytes(os.urandom(2), "little"))
    assert _sha(out) == _sha(ref)


def test_kill9_fixed_step_loop_resumes_to_identical_bytes(tmp_path, digits_file):
    _killed_equals_uninterrupted(tmp_path, _fixed_run(), digits_file, every_steps=7)


def test_kill9_online_epoch_loop_resumes_to_identical_bytes(tmp_path):
    # 120 epochs take about 3 s after the first save, well past the kill's random delay (up to 0.5 s):
    # 12 epochs (0.3 s) let the job publish its record before the kill landed, on a fast machine.
    _killed_equals_uninterrupted(tmp_path, _online_run(epochs=120), None, every_steps=1)


@pytest.mark.parametrize("crash_at", [0, 1, 5])
def test_resume_from_every_save_point_in_process(tmp_path, digits_file, crash_at, monkeypatch):
    """Crash (an exception) right after the (crash_at+1)-th save; the rerun resumes there: identical bytes."""
    from learnscope.data import load_prepared
    from learnscope.train import resume

    ds = load_prepared(digits_file)
    run = _fixed_run(steps=120)
    ref = train_run(run, ds, tmp_path / "ref.h5")
    policy = ResumePolicy(every_seconds=None, every_steps=11)
    saves, real_save = [], resume.Resumable.save

    def crashing_save(self, position, rows, state):
        real_save(self, position, rows, state)
        saves.append(position)
        if len(saves) == crash_at + 1:
            raise RuntimeError("killed")

    monkeypatch.setattr(resume.Resumable, "save", crashing_save)
    out = tmp_path / "out.h5"
    with pytest.raises(RuntimeError, match="killed"):
        train_run(run, ds, out, resume=policy)
    monkeypatch.setattr(resume.Resumable, "save", real_save)
    assert not out.exists() and (side_dir(out) / "state.pt").exists()
    train_run(run, ds, out, resume=policy)
    assert _sha(out) == _sha(ref) and not side_dir(out).exists()


def test_state_of_other_code_or_config_is_discarded(tmp_path, digits_file, monkeypatch, capsys):
    from learnscope.data import load_prepared
    from learnscope.train import resume

    ds = load_prepared(digits_file)
    run = _fixed_run(steps=60)
    ref = train_run(run, ds, tmp_path / "ref.h5")
    policy = ResumePolicy(every_seconds=None, every_steps=20)
    out = tmp_path / "out.h5"

    def crash(self, position, rows, state):
        resume._save({"identity": {**self.identity, "code_digest": "other"}, "position": position, "rows": rows, **state}, self.dir / "state.pt")
        raise RuntimeError("killed")

    monkeypatch.setattr(resume.Resumable, "save", crash)
    with pytest.raises(RuntimeError):
        train_run(run, ds, out, resume=policy)
    monkeypatch.undo()
    train_run(run, ds, out, resume=policy)
    assert "another config or training code; training from the start" in capsys.readouterr().err
    assert _sha(out) == _sha(ref)


@pytest.mark.parametrize("damage", ["row", "pickle"])
def test_damaged_journal_or_code_carrying_state_trains_from_the_start(tmp_path, digits_file, monkeypatch, capsys, damage):
    """A journal row cut short, or a state file that is a pickle of code (refused by weights_only=True): the
    rerun says so in one line (without torch's advice to load with weights_only=False) and trains from the
    start, to the uninterrupted bytes."""
    import pickle

    from learnscope.data import load_prepared
    from learnscope.train import resume

    ds = load_prepared(digits_file)
    run = _fixed_run(steps=60)
    ref = train_run(run, ds, tmp_path / "ref.h5")
    policy = ResumePolicy(every_seconds=None, every_steps=20)
    out = tmp_path / "out.h5"
    real_save = resume.Resumable.save

    def crash(self, position, rows, state):
        real_save(self, position, rows, state)
        raise RuntimeError("killed")

    monkeypatch.setattr(resume.Resumable, "save", crash)
    with pytest.raises(RuntimeError):
        train_run(run, ds, out, resume=policy)
    monkeypatch.undo()
    if damage == "row":
        row = side_dir(out) / "row-000000.pt"
        row.write_bytes(row.read_bytes()[:100])
    else:
        (side_dir(out) / "state.pt").write_bytes(pickle.dumps(os.getcwd))  # a global: what code in a pickle calls
    capsys.readouterr()
    train_run(run, ds, out, resume=policy)
    err = capsys.readouterr().err
    assert "unreadable resume state or journal" in err and "weights_only" not in err and "resuming at" not in err
    assert _sha(out) == _sha(ref)
