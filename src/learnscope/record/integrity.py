"""Content digests and structural checks for the HDF5 files learnscope writes (run records, prepared data).

A sealed file carries, on every dataset, attribute ``sha256`` = sha256 of the dataset's bytes (C order),
and on the root, attribute ``content_digest`` = sha256 of the canonical JSON of
``{"attrs": <every other root attribute>, "datasets": {<path>: [<dtype>, <shape>, <sha256>]}}``.
Opening checks the root digest (metadata only: cheap); reading a dataset checks its own digest, so a
changed byte in any value, attribute, shape or dtype is an error, never a wrong number.

The digest guards against damage, not against a forger (who can recompute it), so the structure is checked
independently: a file holding an external link, a soft link, external raw storage, a virtual dataset or an
object reachable by two paths is refused before anything is read (each could pull bytes from another
file, e.g. ``/etc/passwd`` as "test accuracy").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np

DIGEST_ATTR = "content_digest"
DATASET_ATTR = "sha256"


class IntegrityError(Exception):
    """What is wrong with a file's structure or content (callers turn it into an error naming the fix)."""


def array_digest(value: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    return value.item() if isinstance(value, np.generic) else value


def _datasets(f: h5py.File) -> dict[str, h5py.Dataset]:
    """Every dataset by path, after refusing links, external storage, virtual datasets and shared objects."""
    out: dict[str, h5py.Dataset] = {}

    def walk(group: h5py.Group, prefix: str) -> None:
        for name in group:
            where = f"{prefix}{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise IntegrityError(f"'{where}' is an external link to {link.filename}:{link.path}")
            if isinstance(link, h5py.SoftLink):
                raise IntegrityError(f"'{where}' is a soft link to {link.path}")
            obj = group[name]
            if h5py.h5o.get_info(obj.id).rc != 1:
                raise IntegrityError(f"'{where}' is reachable by more than one path")
            if isinstance(obj, h5py.Group):
                walk(obj, f"{where}/")
            elif isinstance(obj, h5py.Dataset):
                if obj.is_virtual:
                    raise IntegrityError(f"'{where}' is a virtual dataset (it maps other files)")
                if obj.external:
                    raise IntegrityError(f"'{where}' stores its bytes in external file(s) {[e[0] for e in obj.external]}")
                out[where] = obj
            else:
                raise IntegrityError(f"'{where}' is a {type(obj).__name__}, not a group or dataset")

    walk(f, "")
    return out


def _manifest(f: h5py.File, datasets: dict[str, h5py.Dataset], digests: dict[str, str]) -> str:
    attrs = {k: _plain(v) for k, v in f.attrs.items() if k != DIGEST_ATTR}
    body = {
        "attrs": attrs,
        "datasets": {p: [d.dtype.str, list(d.shape), digests[p]] for p, d in sorted(datasets.items())},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def seal(f: h5py.File) -> str:
    """Write every dataset's digest and the root digest into the open, writable file ``f``; return it."""
    datasets = _datasets(f)
    digests = {}
    for p, d in datasets.items():
        digests[p] = array_digest(d[()])
        d.attrs[DATASET_ATTR] = digests[p]
    f.attrs[DIGEST_ATTR] = _manifest(f, datasets, digests)
    return str(f.attrs[DIGEST_ATTR])


def check_structure(f: h5py.File) -> dict[str, h5py.Dataset]:
    """Refuse unsafe structure and check the root digest; return the datasets by path (not yet read)."""
    datasets = _datasets(f)
    if DIGEST_ATTR not in f.attrs:
        raise IntegrityError("it has no content digest (written by an older learnscope, or not by learnscope)")
    digests = {}
    for p, d in datasets.items():
        if DATASET_ATTR not in d.attrs:
            raise IntegrityError(f"dataset '{p}' has no content digest")
        digests[p] = str(_plain(d.attrs[DATASET_ATTR]))
    if _manifest(f, datasets, digests) != str(_plain(f.attrs[DIGEST_ATTR])):
        raise IntegrityError("its attributes or layout do not match its content digest (the file was changed after it was written)")
    return datasets


def read_checked(d: h5py.Dataset) -> np.ndarray:
    """The whole dataset, after checking its bytes against its digest."""
    value = d[()]
    if array_digest(value) != str(_plain(d.attrs[DATASET_ATTR])):
        raise IntegrityError(f"dataset '{d.name.lstrip('/')}' does not match its content digest (the file was changed after it was written)")
    return value


def verify(f: h5py.File) -> None:
    """Check structure, root digest and every dataset's bytes."""
    for d in check_structure(f).values():
        read_checked(d)


def verify_file(path: str | Path) -> None:
    """``verify`` on the file at ``path``; an unreadable file is an IntegrityError too."""
    try:
        with h5py.File(path, "r") as f:
            verify(f)
    except OSError as e:
        raise IntegrityError(f"not a readable HDF5 file, truncated or corrupted ({e})") from None
