"""Atomic file output: write to a temporary name in the same folder, then rename.

A killed job never leaves a file that looks finished: the final name appears only once the content is
complete (``os.replace`` is atomic on POSIX within one filesystem). The temporary name is
``.<name>.tmp-<host>-<pid>``; ``sweep_stale`` removes those whose writer (same host) is gone, so files
left by SIGKILL, the OOM killer or a crash do not pile up. A full disk or a file-size limit is a
``StorageError`` (one line, the temporary file removed), not a crash.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path
from typing import Iterator

from learnscope.errors import StorageError

_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _host() -> str:
    return socket.gethostname().replace("/", "_") or "localhost"


def temp_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp-{_host()}-{os.getpid()}")


def _writer_gone(name: str) -> bool:
    """Whether the writer of temporary file ``name`` (``.<x>.tmp-<host>-<pid>`` or the older
    ``.<x>.tmp-<pid>``) ran on this host and no longer exists."""
    tail = name.rsplit(".tmp-", 1)[1]
    host, _, pid = tail.rpartition("-")
    if (host and host != _host()) or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def sweep_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove ``folder``'s temporary files whose writer process is gone; return them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    gone = [p for p in folder.glob(".*.tmp-*") if p.is_file() and _writer_gone(p.name)]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def storage_error(e: OSError, final: Path) -> StorageError | None:
    """The StorageError for a full disk or file-size limit while writing ``final``; None for other errors."""
    if e.errno not in _FULL:
        return None
    return StorageError(f"{final}: could not be written ({os.strerror(e.errno)}); free space on {final.parent} (or raise the file-size limit) and rerun")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it to ``path``."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(final.parent)
    tmp = temp_name(final)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as e:
        full = storage_error(e, final)
        if full is None:
            raise
        raise full from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
