"""Shared plotting plumbing: a headless backend, one style, deterministic atomic PNG/PDF/CSV output."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from learnscope.atomic import atomic_path  # noqa: E402

# Fixed metadata keeps output bytes equal across reruns (no creation dates, no version strings).
_METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}


def style() -> None:
    sns.set_theme(context="paper", style="ticks", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "svg.hashsalt": "learnscope", "pdf.compression": 6})


def save(fig: plt.Figure, out: str | Path, data: pd.DataFrame) -> None:
    """Write the figure as ``out`` (PNG) and the same name with ``.pdf``, and the plotted ``data`` as ``.csv``, atomically."""
    prefix = Path(out)
    for ext in ("png", "pdf"):
        with atomic_path(prefix.with_suffix(f".{ext}")) as tmp:
            fig.savefig(tmp, format=ext, metadata=_METADATA[ext], bbox_inches="tight")
    with atomic_path(prefix.with_suffix(".csv")) as tmp:
        data.to_csv(tmp, index=False, float_format="%.9g")
    plt.close(fig)


def seed_stats(table: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean, s.d. (ddof=1; NaN with one seed) and count of column ``value`` over the rows (seeds) of each
    group ``by``, groups sorted."""
    return table.groupby(by, sort=True)[value].agg(mean="mean", sd="std", n="count").reset_index()
