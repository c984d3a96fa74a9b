"""Study ``neural_mechanics`` (Kunin et al., ICLR 2021): symmetries, broken conservation laws, exact theory.
SGD + weight decay runs (model x learning rate x weight decay) and momentum runs record the symmetry
tracker; analyses tabulate them; the toy fields and the quadratic need no training."""

from __future__ import annotations

from learnscope.config import neural_mechanics_momentum_runs, neural_mechanics_momentum_sweep, study_run
from learnscope.tiers import roots

FIGURES = ("neuron_dynamics", "symmetry_fields", "conservation_geometry", "modified_equation", "exact_dynamics",
           "momentum_dynamics", "sweep", "momentum_sweep")
FIGURE_TABLE = {"conservation_geometry": "toy_trajectories"}  # figure -> its table, where the names differ


def sgd_run(cfg: dict, model: str, lr: float, wd: float) -> dict:
    return study_run(cfg, "neural_mechanics", model, {"name": "sgd", "lr": lr, "weight_decay": wd}, f"sgd_lr{lr:g}_wd{wd:g}")


def runs(cfg: dict) -> dict[str, list[dict]]:
    """The run groups its analyses read: the SGD sweep, the exact-dynamics runs (each model's first lr), figure 6's
    momentum runs, the appendix momentum sweep (a point equal to a figure-6 run is that run, so it trains
    once), and the one run of the neuron dynamics."""
    nm = cfg["neural_mechanics"]
    lr0 = {m: nm["sgd"]["lr"][m][0] for m in ("bn", "nobn")}
    neuron = nm["neurons"]["model"]
    return {
        "sweep": [sgd_run(cfg, m, lr, wd) for m in ("bn", "nobn") for lr in nm["sgd"]["lr"][m] for wd in nm["sgd"]["weight_decay"]],
        "exact_dynamics": [sgd_run(cfg, m, lr0[m], wd) for m in ("bn", "nobn") for wd in nm["sgd"]["weight_decay"]],
        "momentum_dynamics": list(neural_mechanics_momentum_runs(cfg).values()),
        "momentum_sweep": neural_mechanics_momentum_sweep(cfg),
        "neuron_dynamics": [sgd_run(cfg, neuron, nm["sgd"]["lr"][neuron][0], nm["neurons"]["weight_decay"])],
    }


def figures(cfg: dict) -> dict:
    claims, out = cfg["neural_mechanics"]["claims"], roots(cfg).study("neural_mechanics")
    return {f: {"inputs": [f"{out}/{FIGURE_TABLE.get(f, f)}.csv"], "options": claims} for f in FIGURES}
