"""What travels with every artifact: a digest of the code that made it, package versions, git commit.

The code digest is the identity of a step's code in Snakemake's params (and so in its between-workflow
cache key) and, through ``learnscope.workflow_dvc``, in dvc.yaml's deps. Snakemake does not hash
imported modules, so the digest covers the step's *import closure*: the modules the step's CLI command
imports, and recursively every ``learnscope`` module their ``import`` / ``from ... import`` statements
name (function-level imports included), with the ``__init__`` of every package on the way, which Python
executes. Nothing is listed by hand: an edit to any module a step can execute changes its digest, and an
edit to a module it cannot reach does not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PACKAGE = PACKAGE_ROOT.name

# Pipeline step -> the ``learnscope.cli`` functions that run it; their imports are the step's entry points.
STEP_COMMANDS: dict[str, tuple[str, ...]] = {
    "data": ("cmd_prepare",),
    "train": ("cmd_train", "cmd_train_ensemble"),
    "analysis": ("cmd_analyze",),
    "figure": ("cmd_figure",),
}


def module_file(module: str) -> Path | None:
    """The source file of a ``learnscope`` module (a package's ``__init__.py``), or None if there is none."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for f in (base / "__init__.py", base.with_suffix(".py")):
        if f.is_file():
            return f
    return None


def _imports(tree: ast.AST) -> set[str]:
    """Every ``learnscope`` module an AST's import statements name (``from a import b``: ``a``, and ``a.b``
    when that is a module rather than a name defined in ``a``)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in out if module_file(m) is not None}


@functools.cache
def _module_imports(path: Path) -> frozenset[str]:
    return frozenset(_imports(ast.parse(path.read_bytes(), filename=str(path))))


def import_closure(*modules: str) -> tuple[Path, ...]:
    """The files importing ``modules`` can execute: each module, every package above it, and recursively
    every ``learnscope`` module they import. Sorted; raises if a named entry module has no source file."""
    seen: set[Path] = set()
    todo: list[str] = []
    for m in modules:
        if module_file(m) is None:
            raise FileNotFoundError(f"code digest: no source file for module {m!r} under {PACKAGE_ROOT}")
        todo.append(m)
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):  # the packages above it run their __init__ first
            f = module_file(".".join(parts[:i]))
            if f is not None and f not in seen:
                seen.add(f)
                todo.extend(_module_imports(f))
    return tuple(sorted(seen))


def files_digest(files: tuple[Path, ...]) -> str:
    """sha256 over the package-relative path and bytes of every file."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


@functools.cache
def command_modules(step: str) -> tuple[str, ...]:
    """The modules the CLI imports to run ``step`` (``STEP_COMMANDS``), read from cli.py's source:
    the imports inside its command functions plus cli.py's own module-level imports."""
    tree = ast.parse((PACKAGE_ROOT / "cli.py").read_bytes())
    found = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    missing = [c for c in STEP_COMMANDS[step] if c not in found]
    if missing:
        raise LookupError(f"code digest: learnscope/cli.py has no {', '.join(missing)} (see provenance.STEP_COMMANDS)")
    top = set().union(*(_imports(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))))
    return tuple(sorted(top.union(*(_imports(found[c]) for c in STEP_COMMANDS[step]))))


def step_closure(step: str, *modules: str) -> tuple[Path, ...]:
    """The import closure of pipeline step ``step`` running ``modules`` (an analysis or figure module)."""
    return import_closure(*command_modules(step), *modules)


@functools.cache
def step_digest(step: str, *modules: str) -> str:
    """Digest of the code pipeline step ``step`` executes (``step_closure``)."""
    return files_digest(step_closure(step, *modules))


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
