"""Seed ensembles: each seed's record equals training it alone; grouping of workflow jobs; the benchmark suite."""

import json

import h5py
import numpy as np
import pytest

from learnscope.config import make_run
from learnscope.data import prepare
from learnscope.errors import ConfigError
from learnscope.provenance import step_digest
from learnscope.record import open_run
from learnscope.record.identity import run_id
from learnscope.train import train_run
from learnscope.train import ensemble as ensemble_mod
from learnscope.train import ensemble_jobs
from learnscope.train.ensemble import ensemble_key, train_ensemble, vectorisable

DIGITS = {"kind": "digits", "probe_per_class": 2}
MLP = {"kind": "mlp", "hidden": [12], "activation": "tanh"}
CONV = {"kind": "convnet", "channels": [3], "hidden": [8], "activation": "relu"}
RNN = {"kind": "rnn", "hidden_size": 8, "steps": 3}
RULES = {
    "sgd": {"name": "sgd", "lr": 0.1, "weight_decay": 1e-3},
    "momentum": {"name": "momentum", "lr": 0.05, "momentum": 0.9},
    "adam": {"name": "adam", "lr": 0.01},
    "feedback_alignment": {"name": "feedback_alignment", "lr": 0.05, "momentum": 0.9},
    "information_alignment": {"name": "information_alignment", "lr": 0.05, "momentum": 0.9, "alpha": 0.1},
    "information_alignment_feedback_lr": {"name": "information_alignment", "lr": 0.05, "momentum": 0.9, "alpha": 0.1, "feedback_lr": 0.5},
}


@pytest.fixture(scope="module")
def digits():
    return prepare("digits", DIGITS)


def run_cfg(rule, model, seed, steps=25, per_step=("batch_loss", "grad_norm", "param_norm"), **train):
    return make_run(
        {"data": {"digits": DIGITS}, "runtime": {"device": "cpu"}},
        dataset="digits",
        model=model,
        rule=rule,
        train={"steps": steps, "batch_size": 16, **train},
        record={"points": 4, "per_step": list(per_step)},
        seed=seed,
    )


def datasets(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, np.asarray(obj)) if isinstance(obj, h5py.Dataset) else None)
        attrs = {k: f.attrs[k] for k in f.attrs}
    return out, attrs


def assert_same_record(ens_path, alone_path):
    ens, ens_attrs = datasets(ens_path)
    alone, alone_attrs = datasets(alone_path)
    assert sorted(ens) == sorted(alone)
    for name in alone:
        # float32 reduction-order differences scale with the array's magnitude, not each element's
        scale = max(1.0, float(np.abs(alone[name]).max())) if alone[name].size and alone[name].dtype.kind == "f" else 1.0
        np.testing.assert_allclose(ens[name], alone[name], rtol=1e-4, atol=2e-5 * scale, err_msg=name)
    for key in ("run_id", "config", "code_digest", "status", "n_records", "diverged_at_step"):
        assert ens_attrs[key] == alone_attrs[key], key
    assert json.loads(ens_attrs["runtime"])["ensemble_size"] >= 2


CASES = [(r, "mlp") for r in RULES] + [(r, "convnet") for r in RULES] + [("sgd", "rnn"), ("adam", "rnn")]


@pytest.mark.parametrize("rule,model", CASES)
def test_each_seed_equals_training_it_alone(digits, tmp_path, rule, model):
    spec = {"mlp": MLP, "convnet": CONV, "rnn": RNN}[model]
    runs = [run_cfg(RULES[rule], spec, seed) for seed in (0, 1, 2)]
    assert vectorisable(runs[0]) is None
    ens = train_ensemble(runs, digits, [tmp_path / f"e{s}.h5" for s in range(3)])
    for s, run in enumerate(runs):
        assert_same_record(ens[s], train_run(run, digits, tmp_path / f"a{s}.h5"))
    with open_run(ens[0]) as a, open_run(ens[1]) as b:  # the seeds really differ (init and data order)
        assert not np.allclose(a.per_step("batch_loss"), b.per_step("batch_loss"))


def test_data_seed_is_per_run(digits, tmp_path):
    runs = [run_cfg(RULES["sgd"], MLP, 0, data_seed=d) for d in (5, 6)]
    assert ensemble_key(runs[0]) == ensemble_key(runs[1])
    ens = train_ensemble(runs, digits, [tmp_path / "e0.h5", tmp_path / "e1.h5"])
    assert_same_record(ens[1], train_run(runs[1], digits, tmp_path / "a1.h5"))


def test_divergence_per_seed_as_alone(digits, tmp_path):
    runs = [run_cfg({"name": "sgd", "lr": 1e8}, {**MLP, "activation": "relu"}, seed, per_step=("batch_loss",)) for seed in (0, 1)]
    ens = train_ensemble(runs, digits, [tmp_path / "e0.h5", tmp_path / "e1.h5"])
    for s, run in enumerate(runs):
        alone = train_run(run, digits, tmp_path / f"a{s}.h5")
        with open_run(ens[s]) as e, open_run(alone) as a:
            assert e.status == a.status == "diverged"
            assert e.diverged_at_step == a.diverged_at_step
            assert len(e.per_step("batch_loss")) == len(a.per_step("batch_loss")) == a.diverged_at_step + 1


def test_mixed_configurations_are_refused(digits, tmp_path):
    runs = [run_cfg(RULES["sgd"], MLP, 0), run_cfg(RULES["adam"], MLP, 1)]
    assert ensemble_key(runs[0]) != ensemble_key(runs[1])
    with pytest.raises(ConfigError, match="differ only in seed"):
        train_ensemble(runs, digits, [tmp_path / "a.h5", tmp_path / "b.h5"])


def test_what_is_not_vectorised_falls_back_to_training_alone(digits, tmp_path, monkeypatch):
    pc = run_cfg({"name": "predictive_coding", "lr": 0.1, "inference_steps": 4, "inference_rate": 0.1}, MLP, 0)
    assert "predictive_coding" in vectorisable(pc)
    tracked = make_run(
        {"data": {"digits": DIGITS}, "runtime": {"device": "cpu"}}, dataset="digits", model=CONV, rule=RULES["sgd"],
        train={"steps": 5, "batch_size": 8}, record={"points": 2, "trackers": ["parameter_sample"]}, seed=0,
    )
    assert "trackers" in vectorisable(tracked)
    assert "batch norm" in vectorisable({**tracked, "model": {**CONV, "batchnorm": True}, "record": {"points": 2}})
    monkeypatch.setattr(ensemble_mod, "_train_vectorised", lambda *a, **k: pytest.fail("must not vectorise"))
    runs = [{**pc, "seed": s} for s in (0, 1)]
    paths = train_ensemble(runs, digits, [tmp_path / "p0.h5", tmp_path / "p1.h5"])
    with open_run(paths[1]) as r:
        assert r.status == "complete" and "ensemble_size" not in r.runtime


def test_train_job_leads_then_siblings_take_staged_records(digits, tmp_path, monkeypatch):
    runs = {run_id(r): r for r in (run_cfg(RULES["adam"], MLP, s, steps=10) for s in (0, 1, 2))}
    ids = sorted(runs)
    ensembles, out_dir = tmp_path / "ensembles", tmp_path / "runs"
    out_dir.mkdir()
    assert len(ensemble_jobs.write_manifests(runs, ensembles, 2)) == 1
    mtime = (ensembles / f"{ensemble_key(runs[ids[0]])}.json").stat().st_mtime_ns
    ensemble_jobs.write_manifests(runs, ensembles, 2)  # unchanged: not rewritten
    assert (ensembles / f"{ensemble_key(runs[ids[0]])}.json").stat().st_mtime_ns == mtime
    (ensembles / "0123456789ab.json").write_text("{}")  # a key from an earlier configuration
    ensemble_jobs.write_manifests(runs, ensembles, 2)
    assert sorted(p.name for p in ensembles.glob("*.json")) == [f"{ensemble_key(runs[ids[0]])}.json"]

    sizes = []
    real = ensemble_jobs.train_ensemble
    monkeypatch.setattr(ensemble_jobs, "train_ensemble", lambda rs, *a, **k: (sizes.append(len(rs)), real(rs, *a, **k))[1])

    def job(i):
        return ensemble_jobs.train_job(runs[ids[i]], digits, out_dir / f"{ids[i]}.h5", directory=ensembles)

    job(0)  # leader: itself + the first sibling without a record (max_seeds = 2)
    assert sizes == [2] and (ensembles / "staged" / f"{ids[1]}.h5").exists()
    job(1)  # follower: moves the staged record in, trains nothing
    assert sizes == [2] and not (ensembles / "staged" / f"{ids[1]}.h5").exists()
    assert_same_record(out_dir / f"{ids[1]}.h5", train_run(runs[ids[1]], digits, tmp_path / "alone1.h5"))
    job(2)  # last one: no sibling left without a record, trains alone
    assert sizes == [2, 1]
    for i in range(3):
        with open_run(out_dir / f"{ids[i]}.h5") as r:
            assert r.status == "complete" and r.run_id == ids[i] and r.code_digest == step_digest("train")


def test_staged_record_of_other_code_is_not_taken(digits, tmp_path):
    runs = {run_id(r): r for r in (run_cfg(RULES["sgd"], MLP, s, steps=5) for s in (0, 1))}
    ids = sorted(runs)
    ensembles = tmp_path / "ensembles"
    ensemble_jobs.write_manifests(runs, ensembles, 4)
    staged = ensembles / "staged" / f"{ids[1]}.h5"
    staged.parent.mkdir(parents=True)
    train_run(runs[ids[1]], digits, staged)
    with h5py.File(staged, "r+") as f:
        f.attrs["code_digest"] = "stale"
    out = ensemble_jobs.train_job(runs[ids[1]], digits, tmp_path / "r1.h5", directory=ensembles)
    with open_run(out) as r:
        assert r.code_digest == step_digest("train")
    assert ensemble_jobs.clean_staged(ensembles) == 1  # the leader staged its sibling ids[0]


def test_disabled_or_single_trains_alone(digits, tmp_path, monkeypatch):
    run = run_cfg(RULES["sgd"], MLP, 0, steps=5)
    monkeypatch.setattr(ensemble_jobs, "train_ensemble", lambda *a, **k: pytest.fail("ensemble disabled"))
    ensemble_jobs.train_job(run, digits, tmp_path / "a.h5", directory=tmp_path / "none")
    pair = {run_id(run): run, run_id({**run, "seed": 1}): {**run, "seed": 1}}
    ensemble_jobs.write_manifests(pair, tmp_path / "ens", 1)
    ensemble_jobs.train_job(run, digits, tmp_path / "b.h5", directory=tmp_path / "ens")
    ensemble_jobs.write_manifests(pair, tmp_path / "ens", 16)
    (tmp_path / "ens" / "max_seeds").unlink()  # what the workflow's onstart does when ensembles are off
    ensemble_jobs.train_job(run, digits, tmp_path / "c.h5", directory=tmp_path / "ens")


def test_benchmark_suite_quick_parts_run(tmp_path):
    """The suite's cheapest measurements in --quick mode write JSON and the Markdown table (timings not checked)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    assert main(["--quick", "--only", "hdf5,srm_rsa", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    names = [r["name"] for r in results["rows"]]
    assert names[0] == "HDF5 record write vs raw sequential write" and "SRM (learnscope)" in names
    hdf5 = results["rows"][0]
    assert hdf5["target"] == "≥ 50%" and hdf5["passed"] == (hdf5["value"] >= 50)
    table = (tmp_path / "results.md").read_text()
    assert "| measurement | value |" in table and table.count("\n|") == len(names) + 2


@pytest.mark.integration
def test_rule_zoo_smoke_builds_with_seed_ensembles(project):
    import yaml

    from learnscope.data import load_prepared

    project.path("config/on.yaml").write_text(yaml.safe_dump({"runtime": {"ensemble": {"enabled": True, "max_seeds": 16}}}))
    project.snakemake("--cores", "1", "figures/smoke/rule_zoo/all", "--configfile", "config/smoke.yaml", "config/on.yaml")
    logs = {p.name: p.read_text() for p in project.path("logs/smoke/train").glob("*.log")}
    leaders = [n for n, text in logs.items() if "leader of a seed ensemble of 2" in text]
    followers = [n for n, text in logs.items() if "taken from its seed ensemble's staged record" in text]
    vectorised = ("sgd", "momentum", "adam", "feedback_alignment", "information_alignment")
    assert len(leaders) == len(followers) == len(vectorised)  # smoke: 2 seeds per rule; predictive coding alone
    assert not any(n.startswith("predictive_coding") for n in leaders + followers)
    assert not list(project.path("results/smoke/ensembles/staged").glob("*.h5"))
    # a follower's record (trained inside its leader's ensemble) equals training that run alone
    follower = project.path("results/smoke/runs") / followers[0].replace(".log", ".h5")
    with open_run(follower) as r:
        run = r.config
    assert_same_record(follower, train_run(run, load_prepared(project.path("data/smoke/prepared/digits.h5")), project.root / "alone.h5"))
    # scheduling only: switching ensembles off (the default) plans nothing; adding a seed trains only the new seed's runs
    res = project.snakemake("-n", "figures/smoke/rule_zoo/all", "--configfile", "config/smoke.yaml")
    assert "Nothing to be done" in res.stdout + res.stderr
    project.path("config/seeds.yaml").write_text(yaml.safe_dump({"rule_zoo": {"seeds": [0, 1, 2]}}))
    res = project.snakemake("-n", "figures/smoke/rule_zoo/all", "--configfile", "config/smoke.yaml", "config/on.yaml", "config/seeds.yaml")
    counts = [line.split() for line in (res.stdout + res.stderr).splitlines()]
    assert ["train", "6"] in counts  # the job stats: one new seed for each of the six rules, nothing else retrains


# --- online-task (RNN) seed ensembles -------------------------------------------------------------------

ONLINE_TASK = {"name": "c", "kind": "delayed_clusters", "dim": 5, "n_clusters": 12, "n_classes": 2, "sigma": 0.02}
ONLINE_RNN = {"kind": "rnn", "hidden_size": 16, "steps": 4, "recurrent_init": "identity_plus_normalized", "gain": 20.0, "dt": 0.01,
              "input_init": "orthogonal", "train_input": False, "readout_scale": 0.3, "zero_bias": True}


def online_run(seed, lr=1e-2, epochs=2, patience=0, loss="cross_entropy"):
    return {"dataset": ONLINE_TASK, "model": ONLINE_RNN,
            "rule": {"name": "rmsprop", "lr": lr, "alpha": 0.9, "scheduler": {"kind": "plateau", "patience": patience, "threshold": 1e-7}},
            "train": {"epochs": epochs, "samples_per_epoch": 20, "validation_samples": 12, "batch_size": 10, "eval_samples": 48, "loss": loss},
            "record": {"probe_samples": 24, "probe_steps": 6, "trajectory_epochs": [0, 1]},
            "seed": seed, "device": "cpu", "labels": {"rule": "cce", "model": "g20"}}


@pytest.mark.parametrize("loss", ["cross_entropy", "mse_onehot"])
def test_online_rnn_seeds_equal_training_them_alone(tmp_path, loss):
    # patience 0: the plateau schedules of the seeds halve their rates at different epochs (a per-seed rate)
    runs = [online_run(s, loss=loss) for s in (0, 1, 2)]
    assert vectorisable(runs[0]) is None
    ens = train_ensemble(runs, None, [tmp_path / f"e{s}.h5" for s in range(3)])
    lrs = []
    for s, r in enumerate(runs):
        alone = train_run(r, None, tmp_path / f"a{s}.h5")
        assert_same_record(ens[s], alone)
        with open_run(ens[s]) as rec:
            w = rec.checkpoint("hidden.input.weight")
            assert (w == w[0]).all()  # the input weights stay frozen
            lrs.append(tuple(rec.scalar("lr")))
    assert len(set(lrs)) > 1, "the seeds' schedules should differ"


def test_online_stacked_forward_is_the_rnn_forward():
    import torch
    from torch.func import stack_module_state

    from learnscope.models import build_model
    from learnscope.train.ensemble_online import stacked_forward, stacked_states

    models = []
    for s in (0, 1):
        torch.manual_seed(s)
        models.append(build_model({**ONLINE_RNN, "zero_bias": False}, (5,), 2))
    params, _ = stack_module_state(models)
    x = torch.randn(2, 7, 5)
    with torch.no_grad():
        out, states = stacked_forward(params, x, 4, torch.tanh), stacked_states(params, x, 9, torch.tanh)
        for s, m in enumerate(models):
            torch.testing.assert_close(out[s], m(x[s]))
            torch.testing.assert_close(states[s], m.trajectory(x[s], 9))


def test_online_ensemble_refuses_rules_it_does_not_vectorise(tmp_path):
    run = online_run(0)
    sgd = {**run, "rule": {"name": "sgd", "lr": 0.1}}
    assert "not vectorised" in vectorisable(sgd)
    paths = train_ensemble([sgd, {**sgd, "seed": 1}], None, [tmp_path / "s0.h5", tmp_path / "s1.h5"])
    with open_run(paths[1]) as r:
        assert r.status == "complete" and "ensemble_size" not in r.runtime
