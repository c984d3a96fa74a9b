"""Seed ensembles inside the workflow's per-run ``train`` jobs, without changing any job's identity.

Snakemake keeps one cached ``train`` job per run (its between-workflow cache stores one entry per job
and accepts several outputs only as ``multiext``, i.e. one entry for the whole group, so a group rule
would retrain every seed when the seed list changes). Grouping therefore happens when jobs execute:

- ``write_manifests`` (the workflow's ``onstart``, so ``snakemake -n`` writes nothing) writes, for every
  ensemble key (runs equal up to seed, see ``ensemble_key``) with more than one vectorisable run,
  ``<dir>/<key>.json`` = {run_id: run config}, and the ensemble size in ``<dir>/max_seeds``. Both are
  scheduling hints, not inputs: they are in no job's provenance hash or shell command, so adding a seed
  or switching ensembles on or off changes no run's cache entry (without ``<dir>/max_seeds``, every job
  trains alone).
- ``train_job`` is what ``learnscope train`` does for one job. Under ``<dir>/<key>.lock`` it takes the
  record staged for this run by an earlier job of the same key if there is one (checked: same config,
  same training-code digest) and moves it into place; otherwise this job leads: it trains its run
  together with up to ``max_seeds - 1`` manifest siblings that have neither a current record nor a
  staged one, writes its own record and stages the siblings' under ``<dir>/staged/``. When their jobs
  run they only move the staged file. A sibling that Snakemake restores from the cache instead was
  trained needlessly; its staged file is removed by ``clean_staged``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

import h5py

from learnscope.atomic import write_text
from learnscope.provenance import step_digest
from learnscope.record.identity import run_id as make_run_id
from learnscope.train.ensemble import ensemble_key, train_ensemble, vectorisable
from learnscope.train.loop import train_run
from learnscope.train.resume import NEVER, ResumePolicy, side_dir


MAX_SEEDS = "max_seeds"


def write_manifests(runs: dict[str, dict], directory: str | Path, max_seeds: int) -> list[Path]:
    """One ``<key>.json`` per ensemble key with several vectorisable runs, and ``max_seeds``; unchanged
    files are not rewritten, manifests of keys no longer registered are removed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_text(directory / MAX_SEEDS, f"{int(max_seeds)}\n")
    groups: dict[str, dict[str, dict]] = {}
    for rid, run in runs.items():
        if vectorisable(run) is None:
            groups.setdefault(ensemble_key(run), {})[rid] = run
    written = []
    for key, members in groups.items():
        if len(members) < 2:
            continue
        path = directory / f"{key}.json"
        text = json.dumps(members, sort_keys=True)
        if not path.exists() or path.read_text() != text:
            directory.mkdir(parents=True, exist_ok=True)
            write_text(path, text)
        written.append(path)
    for stale in set(directory.glob("*.json")) - set(written) if directory.exists() else []:
        stale.unlink()  # a key no longer in the workflow: its leader must not train runs nobody asked for
    return written


def _current(path: Path, run: dict, code: str) -> bool:
    """Whether ``path`` is a finished record of ``run`` made by the current training code."""
    if not path.exists():
        return False
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("config") == json.dumps(run, sort_keys=True) and f.attrs.get("code_digest") == code
    except OSError:
        return False


def ensemble_size(directory: str | Path | None) -> int:
    """The ensemble size ``write_manifests`` left in ``directory``; 1 (train alone) when there is none."""
    path = Path(directory) / MAX_SEEDS if directory else None
    return int(path.read_text()) if path is not None and path.exists() else 1


def train_job(run: dict, dataset, out: str | Path, *, threads: int = 1, directory: str | Path | None = None, resume: ResumePolicy = NEVER) -> Path:
    """Produce ``out`` for ``run``: from a staged ensemble record, as an ensemble leader, or alone (alone:
    resumable under ``resume``; a run with saved resume state resumes alone rather than lead an ensemble)."""
    out = Path(out)
    max_seeds = ensemble_size(directory)
    manifest = Path(directory) / f"{ensemble_key(run)}.json" if directory else None
    if max_seeds < 2 or manifest is None or not manifest.exists() or (side_dir(out) / "state.pt").exists():
        return train_run(run, dataset, out, threads=threads, resume=resume)
    siblings: dict[str, dict] = json.loads(manifest.read_text())
    rid, code = make_run_id(run), step_digest("train")
    staged_dir = manifest.parent / "staged"
    staged_dir.mkdir(parents=True, exist_ok=True)
    with open(manifest.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        mine = staged_dir / f"{rid}.h5"
        if _current(mine, run, code):
            os.replace(mine, out)
            print(f"{out}: taken from its seed ensemble's staged record", file=sys.stderr)
            return out
        mine.unlink(missing_ok=True)
        others = [
            (sid, sib)
            for sid, sib in sorted(siblings.items())
            if sid != rid and ensemble_key(sib) == ensemble_key(run)
            and not _current(out.parent / f"{sid}.h5", sib, code)
            and not _current(staged_dir / f"{sid}.h5", sib, code)
        ][: max_seeds - 1]
        runs = [run] + [sib for _, sib in others]
        outs = [out] + [staged_dir / f"{sid}.h5" for sid, _ in others]
        print(f"{out}: training as the leader of a seed ensemble of {len(runs)}", file=sys.stderr)
        train_ensemble(runs, dataset, outs, threads=threads, resume=resume)
        return out


def clean_staged(directory: str | Path) -> int:
    """Remove staged records left over (their runs were restored from the cache); returns how many."""
    staged = Path(directory) / "staged"
    n = 0
    for f in staged.glob("*.h5") if staged.exists() else []:
        f.unlink(missing_ok=True)
        n += 1
    return n
