"""Study ``shared_geometry`` (Lu et al. 2018): per family, N seeds of one architecture recorded on the same
held-out images; SRM + RSA per family (a table and arrays each); the same families trained on shuffled
training labels (``shared_geometry.control``, the development claims' negative control, analysed the
same way under ``results/shared_geometry/control/``); the XOR copies simulation; five figures."""

from __future__ import annotations

from learnscope.config import family_runs
from learnscope.tiers import roots


def simulation(cfg: dict) -> list[str]:
    """The XOR simulation's table and arrays."""
    out = roots(cfg).study("shared_geometry")
    return [f"{out}/xor_simulation.csv", f"{out}/xor_simulation.npz"]


def runs(cfg: dict) -> dict[str, list[dict]]:
    """family -> its runs (one per seed)."""
    return family_runs(cfg, "shared_geometry")


def control_runs(cfg: dict) -> dict[str, list[dict]]:
    """family -> its runs on ``shared_geometry.control.dataset`` (the study's dataset with its training
    labels shuffled, checked by learnscope.references), one per ``control.seeds``."""
    sec = cfg["shared_geometry"]
    return family_runs({**cfg, "shared_geometry": {**sec, **sec["control"]}}, "shared_geometry")


def table(cfg: dict, family: str, control: bool = False) -> str:
    return f"{roots(cfg).study('shared_geometry')}/{'control/' if control else ''}{family}.csv"


def arrays(cfg: dict, family: str, control: bool = False) -> str:
    return f"{roots(cfg).study('shared_geometry')}/{'control/' if control else ''}{family}.npz"


def figures(cfg: dict) -> dict:
    sg = cfg["shared_geometry"]
    fig, tables = sg["figures"], [table(cfg, f) for f in sg["families"]]
    return {
        "three_rsms": {
            "inputs": [arrays(cfg, fig["three_rsms"]["family"]), *tables],
            "options": {**fig["three_rsms"], "controls": sg["controls"], "claims": sg["claims"]},
        },
        "main_grid": {
            "inputs": [*tables, *(table(cfg, f, control=True) for f in sg["families"])],
            "options": {"controls": sg["controls"], "claims": sg["claims"]},
        },
        "simulation": {"inputs": simulation(cfg), "options": {"claims": sg["claims"], "n_copies": sg["simulation"]["n_copies"]}},
        "class_rsms": {"inputs": [arrays(cfg, fig["class_rsms"]["family"])], "options": {**fig["class_rsms"], "controls": sg["controls"]}},
        "trajectories": {"inputs": [arrays(cfg, fig["trajectories"]["family"])], "options": fig["trajectories"]},
    }
