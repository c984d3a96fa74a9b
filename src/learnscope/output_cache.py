"""Snakemake's between-workflow output cache (``$SNAKEMAKE_OUTPUT_CACHE``), with every entry verified.

Training rules carry ``cache: True``; with ``--cache`` (on in the default workflow profile) Snakemake
stores each trained run under a hash of its rule, params (the run's whole identity and the training
code digest) and inputs, and restores it instead of retraining. The default location is per user, so
every clone of the project shares it.

``install_verified_cache`` (called by the workflow at parse time, in every Snakemake process) replaces
Snakemake's local cache by one that
- checks the content digest of a job's output before storing it, and of an entry before restoring it: a
  damaged entry stops the job with a ``CacheError`` naming the output, the entry and the ``rm`` command
  that removes it, and nothing is published;
- makes entries read-only (0444), and restores them as copies, never as symlinks: a write to a result
  (even by root, whom 0444 does not stop) cannot reach the entry every clone shares.
See docs/reliability.md.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import h5py

from learnscope.errors import CacheError, LearnscopeError

ENVVAR = "SNAKEMAKE_OUTPUT_CACHE"
ENTRY_MODE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0444
FOLDER_MODE = ENTRY_MODE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH  # 0555


def ensure_output_cache() -> Path:
    """Use ``$SNAKEMAKE_OUTPUT_CACHE`` if set, else ``$XDG_CACHE_HOME`` (or ~/.cache)/learnscope/snakemake-output;
    make a local path absolute (a relative one would give entries relative to each job's folder), create the
    folder (Snakemake requires it to exist) and return it."""
    if ENVVAR not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        os.environ[ENVVAR] = str(base / "learnscope" / "snakemake-output")
    if "://" in os.environ[ENVVAR]:
        return Path(os.environ[ENVVAR])  # a storage URI (Snakemake's storage-backed cache)
    path = Path(os.environ[ENVVAR]).expanduser().absolute()
    os.environ[ENVVAR] = str(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def verify_artifact(path: str | Path) -> None:
    """Check a cached artifact against its content digest: a run record (``learnscope.record``) or a prepared
    dataset; anything else carries no digest and is refused. Raises LearnscopeError saying what is wrong."""
    from learnscope.data.dataset import PREPARED_FORMAT
    from learnscope.errors import DamagedRecordError
    from learnscope.record import FORMAT, verify_run
    from learnscope.record.integrity import IntegrityError, verify_file

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            kind = f.attrs.get("format")
    except OSError as e:
        raise CacheError(f"{path}: not a readable HDF5 file, truncated or corrupted ({e})") from None
    if kind == FORMAT:
        try:
            verify_run(path)
        except DamagedRecordError as e:
            raise CacheError(f"{path}: {e.what}") from None
    elif kind == PREPARED_FORMAT:
        try:
            verify_file(path)
        except IntegrityError as e:
            raise CacheError(f"{path}: {e}") from None
    else:
        raise CacheError(f"{path}: format {kind!r} carries no learnscope content digest, so it cannot be cached")


def _copy(src: Path, dest: Path, keep_mtime: bool) -> None:
    """Copy ``src`` to ``dest`` through a temporary name (atomic), writable by its owner."""
    from learnscope.atomic import temp_name

    tmp = temp_name(dest)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        if keep_mtime:
            st = src.stat()
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def install_verified_cache() -> None:
    """Make Snakemake use ``VerifiedOutputFileCache`` for its local between-workflow cache."""
    import snakemake.workflow
    from snakemake.caching.local import OutputFileCache
    from snakemake.exceptions import WorkflowError
    from snakemake.logging import logger

    class VerifiedOutputFileCache(OutputFileCache):
        """Snakemake's local output cache, with entries verified, read-only and restored as copies."""

        def __init__(self):
            super().__init__()
            self.file_permissions, self.dir_permissions = ENTRY_MODE, FOLDER_MODE

        async def store(self, job):
            for outputfile, _ in await self.get_outputfiles_and_cachefiles(job):
                try:
                    verify_artifact(outputfile)
                except LearnscopeError as e:
                    raise WorkflowError(f"{outputfile}: not stored in the output cache: {e}") from None
            await super().store(job)

        async def fetch(self, job):
            pairs = await self.get_outputfiles_and_cachefiles(job)
            for outputfile, cachefile in pairs:
                if not cachefile.exists():
                    self.raise_cache_miss_exception(job)
                self.check_readable(cachefile)
                if cachefile.is_dir():
                    raise WorkflowError(f"{cachefile}: a folder in the output cache; learnscope caches single files only")
                try:
                    verify_artifact(cachefile)
                except LearnscopeError as e:
                    reason = str(e).removeprefix(f"{cachefile}: ")
                    raise WorkflowError(
                        f"{outputfile}: its output-cache entry {cachefile} is damaged and was not used ({reason}). "
                        f"Remove the entry with `rm -f {cachefile}` and rerun to retrain."
                    ) from None
            for outputfile, cachefile in pairs:
                self.symlink(cachefile, outputfile)

        def symlink(self, path, outputfile, utime=True):
            """Restore ``path`` at ``outputfile`` as a copy (Snakemake's name: it would symlink)."""
            logger.info(f"Copying output file {outputfile} from cache.")
            _copy(Path(path), Path(outputfile), keep_mtime=not utime)

    snakemake.workflow.LocalOutputFileCache = VerifiedOutputFileCache
