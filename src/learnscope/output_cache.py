"""Where Snakemake's between-workflow output cache lives (``$SNAKEMAKE_OUTPUT_CACHE``).

Training rules carry ``cache: True``; with ``--cache`` (on in the default workflow profile) Snakemake
stores each trained run under a hash of its rule, params (the run's whole identity and the training
code digest) and inputs, and restores it instead of retraining. The default location is per user, so
every clone of the project shares it.
"""

from __future__ import annotations

import os
from pathlib import Path

ENVVAR = "SNAKEMAKE_OUTPUT_CACHE"


def ensure_output_cache() -> Path:
    """Use ``$SNAKEMAKE_OUTPUT_CACHE`` if set, else ``$XDG_CACHE_HOME`` (or ~/.cache)/learnscope/snakemake-output;
    create the folder (Snakemake requires it to exist) and return it."""
    if ENVVAR not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        os.environ[ENVVAR] = str(base / "learnscope" / "snakemake-output")
    path = Path(os.environ[ENVVAR])
    path.mkdir(parents=True, exist_ok=True)
    return path
