"""Progress of long steps (training, classifier grids) on stderr.

On a terminal one line is rewritten in place; otherwise (a Snakemake job writing to its log file) each
update is one plain line, so a log shows where a job got to without flooding the console.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress("train sgd-mlp", total=1200)``; ``update(done, loss=0.3)`` at each milestone."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None):
        self.label, self.total = label, max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, **info: float) -> None:
        fields = " ".join(f"{k} {v:.4g}" for k, v in info.items())
        elapsed = time.perf_counter() - self.start
        line = f"{self.label}: {done}/{self.total} ({100 * done / self.total:.0f}%, {elapsed:.1f} s) {fields}".rstrip()
        if self.live:
            self.stream.write("\r" + line + ("\n" if done >= self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
