"""A run's identity: where the raw data come from (``root``, ``download``) is not part of it."""

from __future__ import annotations

from learnscope.config import load_params, make_run
from learnscope.record.identity import FETCH_KEYS, digest, run_id

RUN = dict(model={"kind": "mlp", "hidden": [8]}, rule={"name": "sgd", "lr": 0.1}, train={"steps": 5, "batch_size": 4}, record={"points": 2}, seed=0)


def _run(spec: dict) -> dict:
    return make_run({"data": {"mnist": spec}, "runtime": {"device": "cpu"}}, dataset="mnist", **RUN)


def test_fetch_keys_change_no_run():
    """Turning ``download`` on or moving ``root`` gives the same run (config and id); any other key of the
    dataset's spec is part of the identity."""
    base = _run({"kind": "mnist", "probe_per_class": 10})
    for fetch in ({"download": True}, {"download": False}, {"root": "/elsewhere"}, {"root": "data/raw", "download": True}):
        run = _run({"kind": "mnist", "probe_per_class": 10, **fetch})
        assert run == base and run_id(run) == run_id(base)
        assert not set(FETCH_KEYS) & set(run["dataset"])
    assert run_id(_run({"kind": "mnist", "probe_per_class": 11})) != run_id(base)
    assert run_id(_run({"kind": "mnist", "probe_per_class": 10, "subset_train": 100})) != run_id(base)


def test_default_run_ids_unchanged():
    """Every data entry of params.yaml has no fetch key, so its runs keep the ids they had when the whole
    spec was the identity: run_id's digest is the digest of {name, **spec} (the identity before fetch keys
    were left out), for every dataset of the default tier."""
    cfg = load_params("params.yaml")
    for name, spec in cfg["data"].items():
        assert not set(FETCH_KEYS) & set(spec), name
        run = make_run(cfg, dataset=name, **RUN)
        old = {**run, "dataset": {"name": name, **spec}}
        assert run_id(run).endswith(digest(old)[:10]), name
