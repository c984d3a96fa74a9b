"""Scale tiers as namespaces: where a tier's files live.

params' ``tier`` names the tier a configuration builds (``default`` in params.yaml; ``smoke``, ``paper``,
``paper_shape``, ``replicate``, ``smoke_replicate`` in the override files under config/). ``roots(cfg)`` is
the one place that maps a configuration to its folders; every rule file and every study plan builds its
paths from it, so two tiers never write the same file and each tier's build leaves the others' untouched.

The default tier keeps the historical layout, so the commands users type, dvc.yaml and ``make pull`` /
``make publish`` are unchanged::

    tier default          any other tier T
    results/...           results/T/...        (runs, ensembles, <study>/..., claims.md)
    figures/all           figures/T/all        (the tier's index)
    figures/<study>/...   figures/T/<study>/...
    data/prepared/...     data/T/prepared/...
    logs/...              logs/T/...
    metrics/<study>.json  metrics/T/<study>.json

Why ``data/T/prepared`` and not ``data/prepared/T``: ``data/prepared`` is one DVC output (stage ``data``),
so another tier's datasets inside it would be hashed and pushed by ``make publish`` and could be removed by
a ``dvc checkout`` of that directory. ``results/T`` and ``figures/T`` sit beside, never inside, the
default tier's DVC outputs (``results/<study>``, ``results/runs``, ``figures/<study>``), which is why a
tier may not be named after a study or any other folder of the default layout (``RESERVED``).

Run records (``results/runs/<run_id>.h5``) are per tier too (``results/T/runs``), although a run id is the
digest of the run's complete config (its dataset's spec included), so equal ids do mean equal configs:
(1) ``results/runs`` is the default tier's DVC output (stage ``runs``): records of other tiers inside it
would be pushed by ``make publish``; (2) a record is rewritten in place when the training code changes,
so a shared record rebuilt under one tier would make the other tier's analyses out of date, i.e. touch its
files. Nothing is trained twice for that: the training rule's between-workflow output cache is keyed by the
run's config and code digest, so a run another tier already trained is restored from it, as a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT = "default"

# Names a tier may not take: the default tier's own folders under results/, figures/, data/ and metrics/
# other than the studies' (``tier_problems`` takes those from the configuration).
RESERVED = frozenset({"all", "runs", "ensembles", "claims", "prepared", "raw"})


def tier_of(cfg: dict) -> str:
    """The configuration's tier (``default`` when the key is absent)."""
    return cfg.get("tier", DEFAULT)


def tier_problems(cfg: dict) -> list[str]:
    """A tier name that would put its files inside the default tier's folders (a study's, the runs'...)."""
    tier = tier_of(cfg)
    studies = {k for k, v in cfg.items() if isinstance(v, dict) and k not in ("runtime", "data")}
    if tier != DEFAULT and (tier in RESERVED or tier in studies):
        return [f"tier: {tier!r} would write inside the default tier's folders; a tier may not be named "
                f"{', '.join(sorted(RESERVED | studies))}"]
    return []


@dataclass(frozen=True)
class Roots:
    """A tier's folders (repository-relative, no trailing slash) and the paths built from them."""

    tier: str
    results: str
    figures: str
    data: str
    logs: str
    metrics: str

    @property
    def runs(self) -> str:
        return f"{self.results}/runs"

    @property
    def ensembles(self) -> str:
        return f"{self.results}/ensembles"

    def run(self, run_id: str) -> str:
        """A run's record."""
        return f"{self.runs}/{run_id}.h5"

    def prepared(self, dataset: str) -> str:
        """A prepared dataset's file."""
        return f"{self.data}/{dataset}.h5"

    def study(self, study: str) -> str:
        """A study's results folder."""
        return f"{self.results}/{study}"

    def study_figures(self, study: str) -> str:
        """A study's figures folder (its index is ``<that>/all``)."""
        return f"{self.figures}/{study}"

    def study_logs(self, study: str) -> str:
        return f"{self.logs}/{study}"

    @property
    def index(self) -> str:
        """The tier's all-studies index (``figures/all`` for the default tier)."""
        return f"{self.figures}/all"

    @property
    def claims_table(self) -> str:
        """The tier's all-studies claims table (``results/claims.md`` for the default tier)."""
        return f"{self.results}/claims.md"


def roots(cfg: dict) -> Roots:
    """The folders of ``cfg``'s tier: the historical layout for ``default``, ``<folder>/<tier>`` otherwise."""
    tier = tier_of(cfg)
    if tier == DEFAULT:
        return Roots(tier, "results", "figures", "data/prepared", "logs", "metrics")
    return Roots(tier, f"results/{tier}", f"figures/{tier}", f"data/{tier}/prepared", f"logs/{tier}", f"metrics/{tier}")


_TIERED = ("results", "figures", "logs", "metrics")
_DEFAULT_ENTRIES = {"all", "runs", "ensembles", "claims.md", "README.md", "train", "data", "figures"}


def command_line_targets(argv: list[str]) -> list[str]:
    """The words of a ``snakemake`` command line that name files under the tiered folders (results/, figures/,
    logs/, metrics/, data/): its file targets (option values name config files, profiles or rules); [] when the
    process is not Snakemake's command line."""
    if not argv or not Path(argv[0]).name.startswith("snakemake"):
        return []
    return [a for a in argv[1:] if a.split("/", 1)[0] in (*_TIERED, "data") and "/" in a]


def target_problem(targets, cfg_roots: Roots, studies) -> str | None:
    """Why a requested target is not a file of this configuration's tier (None when all are): the usual slip is
    the default tier's ``figures/all`` with an override file that sets another tier, or another tier's path
    without its override file. Rule names (no '/') pass."""
    studies = set(studies)
    for t in (str(t) for t in targets):
        parts = t.split("/")
        if len(parts) < 2 or parts[0] not in (*_TIERED, "data"):
            continue
        if parts[0] == "data":
            other = parts[1] if len(parts) > 2 and parts[1] not in ("prepared", "raw") and parts[2] == "prepared" else None
            own = t.startswith(cfg_roots.data + "/")
        else:
            name = parts[1]
            other = name if len(parts) > 2 and name not in studies and name not in _DEFAULT_ENTRIES else None
            own = t.startswith(getattr(cfg_roots, parts[0]) + "/") and (cfg_roots.tier != DEFAULT or other is None)
        if own:
            continue
        if cfg_roots.tier == DEFAULT:
            if other is None:
                continue
            return (f"{t} is a file of tier {other!r}, but this configuration's tier is 'default' (params.yaml's tier): "
                    f"pass that tier's override file(s) after the target, e.g. --configfile config/{other}.yaml")
        if parts[0] == "data" and parts[1] == "raw":
            continue
        return (f"{t} is not a file of this configuration's tier {cfg_roots.tier!r} (the override files set tier: "
                f"{cfg_roots.tier}): its files are under {cfg_roots.results}/, {cfg_roots.figures}/ (index "
                f"{cfg_roots.index}), {cfg_roots.data}/; figures/all and results/... without a tier are the default "
                "tier's (no override file)")
    return None
