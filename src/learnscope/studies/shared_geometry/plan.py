"""Study ``shared_geometry`` (Lu et al. 2018): per family, N seeds of one architecture recorded on the same
held-out images; SRM + RSA per family (a table and arrays each); the same families trained on shuffled
training labels (``shared_geometry.control``, the development claims' negative control, analysed the
same way under ``results/shared_geometry/control/``); the XOR copies simulation; five figures."""

from __future__ import annotations

from learnscope.config import family_runs

SIMULATION = ["results/shared_geometry/xor_simulation.csv", "results/shared_geometry/xor_simulation.npz"]


def runs(cfg: dict) -> dict[str, list[dict]]:
    """family -> its runs (one per seed)."""
    return family_runs(cfg, "shared_geometry")


def control_runs(cfg: dict) -> dict[str, list[dict]]:
    """family -> its runs on ``shared_geometry.control.dataset`` (the study's dataset with its training
    labels shuffled, checked by learnscope.references), one per ``control.seeds``."""
    sec = cfg["shared_geometry"]
    return family_runs({**cfg, "shared_geometry": {**sec, **sec["control"]}}, "shared_geometry")


def table(family: str, control: bool = False) -> str:
    return f"results/shared_geometry/{'control/' if control else ''}{family}.csv"


def arrays(family: str, control: bool = False) -> str:
    return f"results/shared_geometry/{'control/' if control else ''}{family}.npz"


def figures(cfg: dict) -> dict:
    sg = cfg["shared_geometry"]
    fig, tables = sg["figures"], [table(f) for f in sg["families"]]
    return {
        "three_rsms": {
            "inputs": [arrays(fig["three_rsms"]["family"]), *tables],
            "options": {**fig["three_rsms"], "controls": sg["controls"], "claims": sg["claims"]},
        },
        "main_grid": {
            "inputs": [*tables, *(table(f, control=True) for f in sg["families"])],
            "options": {"controls": sg["controls"], "claims": sg["claims"]},
        },
        "simulation": {"inputs": SIMULATION, "options": {"claims": sg["claims"], "n_copies": sg["simulation"]["n_copies"]}},
        "class_rsms": {"inputs": [arrays(fig["class_rsms"]["family"])], "options": {**fig["class_rsms"], "controls": sg["controls"]}},
        "trajectories": {"inputs": [arrays(fig["trajectories"]["family"])], "options": fig["trajectories"]},
    }
