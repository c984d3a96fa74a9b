"""What travels with every artifact: a digest of the code that made it, package versions, git commit.

The code digest is the identity of a step's code in Snakemake's params (and so in its between-workflow
cache key): Snakemake does not hash imported modules, so each step names the sub-packages it runs and
their digest changes exactly when that code changes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent

# The code each pipeline step runs, as paths relative to the package root. A step's digest covers
# exactly these, so editing an analysis does not invalidate trained runs.
_SHARED = ("atomic.py", "errors.py")
STEP_CODE: dict[str, tuple[str, ...]] = {
    "data": ("data", "record/integrity.py", *_SHARED),
    "train": ("data", "models", "rules", "train", "record", *_SHARED),
}


@functools.cache
def code_digest(*parts: str) -> str:
    """sha256 over the relative path and bytes of every ``.py`` file under the given package parts."""
    h = hashlib.sha256()
    files: list[Path] = []
    for part in sorted(set(parts)):
        p = PACKAGE_ROOT / part
        if not p.exists():
            raise FileNotFoundError(f"code digest: {p} does not exist (see learnscope.provenance.STEP_CODE)")
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    for f in files:
        h.update(f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def step_digest(step: str) -> str:
    """Digest of the code that pipeline step ``step`` runs (see ``STEP_CODE``)."""
    return code_digest(*STEP_CODE[step])


def analysis_digest(module: str, *extra: str) -> str:
    """Digest of ``analysis/<module>.py`` (plus ``extra`` parts it imports) and the record reader."""
    return code_digest(f"analysis/{module}.py", "analysis/__init__.py", "record", *extra, *_SHARED)


def figure_digest(study: str, *extra: str) -> str:
    """Digest of ``figures/<study>.py`` or the package ``figures/<study>/`` (plus ``extra`` parts it imports),
    the plotting and claims code."""
    module = f"figures/{study}" if (PACKAGE_ROOT / "figures" / study).is_dir() else f"figures/{study}.py"
    return code_digest(module, "figures/__init__.py", "figures/common.py", "claims.py", *extra, *_SHARED)


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that determine numerical results."""
    out = {"python": platform.python_version()}
    for name in ("learnscope", "torch", "numpy", "h5py", "scikit-learn", "scipy"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@functools.cache
def git_commit() -> str:
    """The commit of the source checkout, or "unknown" outside a git work tree."""
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return res.stdout.strip() if res.returncode == 0 else "unknown"
