"""A run's identity: the digest of its resolved config and the readable file stem built from it.

Where a dataset's raw files come from (``FETCH_KEYS``: the folder ``root`` and the ``download`` switch) is
not what the data are: the prepared dataset is the same either way, so these keys are no part of a run's
identity (``dataset_identity``), and turning ``download`` on, or moving the raw files, retrains nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON form of ``obj`` (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


FETCH_KEYS = ("download", "root")


def dataset_identity(name: str, spec: dict) -> dict:
    """A run's ``dataset`` entry: the name and the dataset's spec without ``FETCH_KEYS``."""
    return {"name": name, **{k: v for k, v in spec.items() if k not in FETCH_KEYS}}


def run_id(run: dict) -> str:
    """A readable, content-addressed file stem: ``<rule>-<model>-<dataset>-s<seed>-<digest10>``."""
    lab = run["labels"]
    return f"{lab['rule']}-{lab['model']}-{run['dataset']['name']}-s{run['seed']}-{digest(run)[:10]}"
