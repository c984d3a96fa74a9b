"""Online tasks: datasets sampled fresh during training instead of read from ``data/prepared/``.

A ``data.<name>`` entry whose ``kind`` is in ``ONLINE_KINDS`` has no prepared file: its spec (copied into
every run's identity by ``learnscope.config.make_run``) and the run's seed define the task instance, and
the training loop (``learnscope.train.online``) draws new samples every epoch.
"""

from __future__ import annotations

from learnscope.data.synthetic import ClusterTask
from learnscope.errors import ConfigError

ONLINE_KINDS = {"delayed_clusters": ClusterTask}


def is_online(spec: dict) -> bool:
    """Whether a dataset spec is an online task (no prepared file)."""
    return spec.get("kind") in ONLINE_KINDS


def build_task(spec: dict, seed: int):
    """The task instance of an online dataset spec for one run seed."""
    if not is_online(spec):
        raise ConfigError(f"dataset kind {spec.get('kind')!r} is not an online task (online kinds: {', '.join(ONLINE_KINDS)})")
    return ONLINE_KINDS[spec["kind"]](spec, seed)
