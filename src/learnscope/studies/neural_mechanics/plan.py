"""Study ``neural_mechanics`` (Kunin et al., ICLR 2021): symmetries, broken conservation laws, exact theory.
SGD + weight decay runs (model x learning rate x weight decay) and momentum runs record the symmetry
tracker; analyses tabulate them; the toy fields and the quadratic need no training.

Seeds: figure 5's runs (each model's first rate x every weight decay), figure 1's runs and the equilibrium
runs are trained for every seed of ``neural_mechanics.seeds``; the eta x lambda sweep, figure 6 and the
momentum sweep for ``neural_mechanics.seed`` alone. The learning-rate-drop control of the equilibrium is
trained inside its analysis (``learnscope analyze lr-drop``): the training loop has no learning-rate drop."""

from __future__ import annotations

from learnscope.config import neural_mechanics_momentum_runs, neural_mechanics_momentum_sweep, study_run
from learnscope.tiers import roots

FIGURES = ("neuron_dynamics", "symmetry_fields", "conservation_geometry", "modified_equation", "exact_dynamics",
           "momentum_dynamics", "sweep", "momentum_sweep", "equilibrium")
FIGURE_TABLE = {"conservation_geometry": "toy_trajectories"}  # figure -> its table, where the names differ
FIGURE_EXTRA = {"equilibrium": ["lr_drop"]}  # figure -> further tables it reads


def sgd_run(cfg: dict, model: str, lr: float, wd: float, seed: int | None = None) -> dict:
    if seed is not None:  # the section with this seed (study_run reads one seed per section)
        cfg = {**cfg, "neural_mechanics": {**cfg["neural_mechanics"], "seed": seed}}
    return study_run(cfg, "neural_mechanics", model, {"name": "sgd", "lr": lr, "weight_decay": wd}, f"sgd_lr{lr:g}_wd{wd:g}")


def lr_drop_run(cfg: dict) -> dict:
    """The equilibrium's control run (the section's seed), trained by ``learnscope analyze lr-drop``."""
    eq = cfg["neural_mechanics"]["equilibrium"]
    return sgd_run(cfg, eq["model"], eq["lr"], eq["weight_decay"])


def runs(cfg: dict) -> dict[str, list[dict]]:
    """The run groups its analyses read: the SGD sweep, the exact-dynamics runs (each model's first lr, every
    seed), figure 6's momentum runs, the appendix momentum sweep (a point equal to a figure-6 run is that run,
    so it trains once), the runs of the neuron dynamics (the BN model and, as the control, the model without
    BN, every seed) and the equilibrium runs (every seed)."""
    nm = cfg["neural_mechanics"]
    lr0 = {m: nm["sgd"]["lr"][m][0] for m in ("bn", "nobn")}
    seeds = [int(s) for s in nm["seeds"]]
    eq = nm["equilibrium"]
    neurons = [nm["neurons"]["model"], nm["neurons"]["control"]]
    return {
        "sweep": [sgd_run(cfg, m, lr, wd) for m in ("bn", "nobn") for lr in nm["sgd"]["lr"][m] for wd in nm["sgd"]["weight_decay"]],
        "exact_dynamics": [sgd_run(cfg, m, lr0[m], wd, s) for s in seeds for m in ("bn", "nobn") for wd in nm["sgd"]["weight_decay"]],
        "momentum_dynamics": list(neural_mechanics_momentum_runs(cfg).values()),
        "momentum_sweep": neural_mechanics_momentum_sweep(cfg),
        "neuron_dynamics": [sgd_run(cfg, m, nm["sgd"]["lr"][m][0], nm["neurons"]["weight_decay"], s) for m in neurons for s in seeds],
        "equilibrium": [sgd_run(cfg, eq["model"], eq["lr"], eq["weight_decay"], s) for s in seeds],
    }


def figures(cfg: dict) -> dict:
    nm, out = cfg["neural_mechanics"], roots(cfg).study("neural_mechanics")
    options = {**nm["claims"], "equilibrium_window": nm["equilibrium"]["window"], "control_beta": nm["quadratic"]["control_beta"]}
    return {f: {"inputs": [f"{out}/{t}.csv" for t in (FIGURE_TABLE.get(f, f), *FIGURE_EXTRA.get(f, ()))], "options": options}
            for f in FIGURES}
