"""The XOR simulation of Lu et al. (2018, nnsrm-neurips18 ``simulation/``): copies of one trained
network that differ only by a unit permutation or a random orthogonal transform of the hidden layer.

Per simulation (seeded): four Gaussian clouds centred at (±1, ±1) + ``offset`` (the original adds 1,
so its XOR is centred at (1, 1)), sd ``noise_sd``, ``n_per_cloud`` points each, label = XOR of the
signs; an independent test set is drawn the same way. A 2-``hidden``-1 sigmoid network is trained with
MSE on 0/1 targets, Adam (``lr``), ``epochs`` full-batch steps. Its hidden activity H (units x points)
is copied ``n_copies`` times as P_i H (P_i a random permutation: equal to permuting the network's
hidden units in its weights) or Q_i H (Q_i the Q factor of QR of a U[0,1) matrix), plus optional
Gaussian ``copy_noise``. An SRM with k = ``hidden`` is fitted on the training points' copies; on the
test points the truth is the mean within-copy RSM and the LOO inter-copy RSM is scored native and in
the shared space by Pearson r and (correctly, unlike the original's native "tau") Kendall tau-b, over
all entries of the matrices as in the original.

Negative controls (``CONTROLS``, drawn after the transforms so that their numbers do not change):
``<transform>_unrelated`` copies are made the same way from the network's activity with its points
shuffled independently per copy (in the training and the test points alike), so they share no geometry
for the SRM to find; ``identity`` copies are the network itself, so they are aligned natively.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from learnscope.analysis import rsa
from learnscope.analysis.srm import FITS
from learnscope.atomic import atomic_path

DEFAULTS = {
    "n_sims": 20,
    "n_copies": 10,
    "n_per_cloud": 50,
    "noise_sd": 0.3,
    "offset": 1.0,
    "hidden": 50,
    "epochs": 1000,
    "lr": 0.003,
    "copy_noise": 0.0,
    "n_iter": 10,
    "srm_tol": None,    # None: exactly n_iter SRM iterations (BrainIAK); else until the objective settles (n_iter: the cap)
    "seed": 0,
}
TRANSFORMS = ("permutation", "orthogonal")
CONTROLS = ("permutation_unrelated", "orthogonal_unrelated", "identity")


def xor_data(rng: np.random.Generator, n_per_cloud: int, noise_sd: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (4 n, 2) around (1,-1), (-1,1) [label 0] and (1,1), (-1,-1) [label 1], shifted by ``offset``."""
    centres = np.array([[1, -1], [-1, 1], [1, 1], [-1, -1]], dtype=np.float64)
    y = np.repeat([0, 0, 1, 1], n_per_cloud)
    x = np.repeat(centres, n_per_cloud, axis=0) + rng.normal(offset, noise_sd, size=(4 * n_per_cloud, 2))
    return x, y


def train_hidden(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, y_te: np.ndarray, o: dict, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Train the 2-hidden-1 sigmoid net; return hidden activity on train and test (units x points) and test accuracy."""
    torch.manual_seed(seed)
    hidden = torch.nn.Sequential(torch.nn.Linear(2, int(o["hidden"])), torch.nn.Sigmoid())
    readout = torch.nn.Linear(int(o["hidden"]), 1)
    params = list(hidden.parameters()) + list(readout.parameters())
    opt = torch.optim.Adam(params, lr=float(o["lr"]))
    xt, yt = torch.as_tensor(x_tr, dtype=torch.float32), torch.as_tensor(y_tr, dtype=torch.float32)[:, None]
    for _ in range(int(o["epochs"])):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(readout(hidden(xt)), yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        xe = torch.as_tensor(x_te, dtype=torch.float32)
        acc = float((readout(hidden(xe)).round().squeeze(1).numpy() == y_te).mean())
        return hidden(xt).numpy().T.astype(np.float64), hidden(xe).numpy().T.astype(np.float64), acc


def copy_maps(rng: np.random.Generator, transform: str, m: int, n: int) -> list[np.ndarray]:
    """``n`` m x m maps: permutation matrices, Q factors of QR(U[0,1)), or identities."""
    if transform == "identity":
        return [np.eye(m)] * n
    if transform == "permutation":
        return [np.eye(m)[rng.permutation(m)] for _ in range(n)]
    if transform == "orthogonal":
        return [np.linalg.qr(rng.random((m, m)))[0] for _ in range(n)]
    raise ValueError(f"transform {transform!r} is not known (allowed: {', '.join(TRANSFORMS)})")


def score(truth: np.ndarray, irsm: np.ndarray) -> dict[str, float]:
    return {m: rsa.similarity(irsm, truth, method=m, entries="all") for m in ("pearson", "kendall")}


def simulate(o: dict, sim: int) -> tuple[list[tuple], dict]:
    """One simulation: rows (sim, transform, space, measure, value) and its matrices."""
    rng = np.random.default_rng([int(o["seed"]), sim])
    x_tr, y_tr = xor_data(rng, int(o["n_per_cloud"]), float(o["noise_sd"]), float(o["offset"]))
    x_te, y_te = xor_data(rng, int(o["n_per_cloud"]), float(o["noise_sd"]), float(o["offset"]))
    h_tr, h_te, acc = train_hidden(x_tr, y_tr, x_te, y_te, o, seed=int(o["seed"]) * 100003 + sim)
    rows = [(sim, "none", "model", "test_acc", acc)]
    mats = {}
    m = h_tr.shape[0]
    for transform in TRANSFORMS + CONTROLS:
        base, _, unrelated = transform.partition("_")
        maps = copy_maps(rng, base, m, int(o["n_copies"]))
        noise = float(o["copy_noise"])
        points = (lambda h: h[:, rng.permutation(h.shape[1])]) if unrelated else (lambda h: h)
        tr = [q @ points(h_tr) + noise * rng.standard_normal(h_tr.shape) for q in maps]
        te = [q @ points(h_te) + noise * rng.standard_normal(h_te.shape) for q in maps]
        truth = rsa.within_rsms(te).mean(0)
        spaces = {"native": rsa.loo_inter_rsms(te).mean(0)}
        for variant in ("probabilistic", "deterministic"):
            fit = FITS[variant](tr, m, n_iter=int(o["n_iter"]), seed=0, tol=None if o["srm_tol"] is None else float(o["srm_tol"]))
            spaces[f"shared_{variant}"] = rsa.loo_inter_rsms(fit.transform(te)).mean(0)
            rows.append((sim, transform, f"shared_{variant}", "srm_iterations", fit.iterations))
            if fit.converged is not None:
                rows.append((sim, transform, f"shared_{variant}", "srm_converged", float(fit.converged)))
        for space, irsm in spaces.items():
            for measure, value in score(truth, irsm).items():
                rows.append((sim, transform, space, measure, value))
        mats[transform] = {"truth": truth, **spaces}
    mats["labels"] = y_te
    return rows, mats


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze xor-simulation --inputs <unused> --out T.csv --options '{...}'``; also
    writes ``T.npz`` with the first simulation's RSMs (truth, native, shared) per transform."""
    o = {**DEFAULTS, **options}
    torch.set_num_threads(1)
    rows, first = [], None
    for sim in range(int(o["n_sims"])):
        r, mats = simulate(o, sim)
        rows += r
        first = first or mats
    table = pd.DataFrame(rows, columns=["sim", "transform", "space", "measure", "value"])
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
    arrays = {f"{t}__{k}": v for t in TRANSFORMS for k, v in first[t].items()}
    arrays["labels"] = first["labels"]
    with atomic_path(Path(out).with_suffix(".npz")) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
