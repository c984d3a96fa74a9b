"""A name -> callable table whose entries are imported on first use, like an entry-point table.

Each entry is ``"package.module:attribute"``. Listing the names, or asking which module serves a name
(``module_of``), imports nothing, so a job imports only the module it runs and the code digests
(``learnscope.provenance``) can name that module without importing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any


class LazyRegistry(Mapping):
    """``{name: "module:attribute"}``, resolved (imported) on item access."""

    def __init__(self, entries: dict[str, str]):
        for name, target in entries.items():
            if target.count(":") != 1:
                raise ValueError(f"registry entry {name!r}: expected 'module:attribute', got {target!r}")
        self._entries = dict(entries)

    def module_of(self, name: str) -> str:
        """The dotted module that serves ``name`` (not imported)."""
        return self._entries[name].split(":")[0]

    def __getitem__(self, name: str) -> Any:
        module, attr = self._entries[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
