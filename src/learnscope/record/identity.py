"""A run's identity: the digest of its resolved config and the readable file stem built from it."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON form of ``obj`` (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def run_id(run: dict) -> str:
    """A readable, content-addressed file stem: ``<rule>-<model>-<dataset>-s<seed>-<digest10>``."""
    lab = run["labels"]
    return f"{lab['rule']}-{lab['model']}-{run['dataset']['name']}-s{run['seed']}-{digest(run)[:10]}"
