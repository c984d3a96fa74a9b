"""``learnscope snakemake ARGS``: Snakemake, after refusing config files it would run as code.

Snakemake renders a config file that holds ``__use_yte__`` as a YTE template, evaluating its Python
expressions, while it loads the file: before the workflow's own code (workflow/rules/common.smk) runs, so
no check inside the workflow can prevent it. This wrapper checks ``params.yaml`` and every ``--configfile``
first and only then starts Snakemake (``make figures`` goes through it). See docs/reliability.md.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from learnscope.config import refuse_templates
from learnscope.errors import ConfigError

_CONFIG_OPTIONS = ("--configfile", "--configfiles")


def config_files(args: list[str]) -> list[str]:
    """The files given to ``--configfile``/``--configfiles`` (as ``--opt a b`` or ``--opt=a``) in ``args``."""
    files: list[str] = []
    taking = False
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in _CONFIG_OPTIONS:
            taking = not eq
            if eq:
                files.append(value)
        elif arg.startswith("-"):
            taking = False
        elif taking:
            files.append(arg)
    return files


def run_snakemake(args: list[str]) -> None:
    """Refuse templated config files, then replace this process by ``snakemake ARGS``."""
    refuse_templates(["params.yaml", *config_files(args)])
    exe = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    if not Path(exe).exists():
        raise ConfigError("snakemake is not installed in this environment; run `make env`")
    os.execv(exe, [exe, *args])
