# Study `neural_mechanics`: its runs and figures (registered for the generic train and figure rules).
# Python helpers live here, apart from the rule file, which stays declarative.

# Study `neural_mechanics` (Kunin et al., ICLR 2021): symmetries, broken conservation laws, exact theory.
# SGD + weight decay runs (model x learning rate x weight decay) and momentum runs record the symmetry
# tracker; analyses tabulate them; the toy fields and the quadratic need no training.

from learnscope.config import neural_mechanics_momentum_runs, neural_mechanics_momentum_sweep, study_run

NM = config["neural_mechanics"]


def nm_sgd_run(model, lr, wd):
    return study_run(config, "neural_mechanics", model, {"name": "sgd", "lr": lr, "weight_decay": wd}, f"sgd_lr{lr:g}_wd{wd:g}")


NM_SGD_RUNS = run_files(nm_sgd_run(m, lr, wd) for m in ("bn", "nobn") for lr in NM["sgd"]["lr"][m] for wd in NM["sgd"]["weight_decay"])
NM_EXACT_RUNS = run_files(nm_sgd_run(m, NM["sgd"]["lr"][m][0], wd) for m in ("bn", "nobn") for wd in NM["sgd"]["weight_decay"])
NM_MOMENTUM_RUNS = run_files(neural_mechanics_momentum_runs(config).values())
# Appendix momentum sweep: model x beta x weight decay x dampening at its own train settings; a point equal
# to a figure-6 run is that run (reuse_runs), so it trains once.
NM_MOMENTUM_SWEEP_RUNS = run_files(neural_mechanics_momentum_sweep(config))
NM_NEURON_RUN = run_files([nm_sgd_run(NM["neurons"]["model"], NM["sgd"]["lr"][NM["neurons"]["model"]][0], NM["neurons"]["weight_decay"])])

FIGURES["neural_mechanics"] = {
    "neuron_dynamics": {"inputs": ["results/neural_mechanics/neuron_dynamics.csv"], "options": NM["claims"]},
    "symmetry_fields": {"inputs": ["results/neural_mechanics/symmetry_fields.csv"], "options": NM["claims"]},
    "conservation_geometry": {"inputs": ["results/neural_mechanics/toy_trajectories.csv"], "options": NM["claims"]},
    "modified_equation": {"inputs": ["results/neural_mechanics/modified_equation.csv"], "options": NM["claims"]},
    "exact_dynamics": {"inputs": ["results/neural_mechanics/exact_dynamics.csv"], "options": NM["claims"]},
    "momentum_dynamics": {"inputs": ["results/neural_mechanics/momentum_dynamics.csv"], "options": NM["claims"]},
    "sweep": {"inputs": ["results/neural_mechanics/sweep.csv"], "options": NM["claims"]},
    "momentum_sweep": {"inputs": ["results/neural_mechanics/momentum_sweep.csv"], "options": NM["claims"]},
}
