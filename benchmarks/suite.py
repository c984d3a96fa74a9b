"""The measurements of issue 9, each with its target. Every function returns a list of result rows
``{"name", "value", "unit", "target", "passed", "note"}`` (``passed`` is None where there is no
target, e.g. a reference number such as the matmul peak).

Sizes come from a ``Sizes`` object: ``FULL`` is the issue's, ``QUICK`` runs the whole suite in a couple
of minutes (for checking that the suite works, not for its numbers).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Sizes:
    ensemble_sizes: tuple[int, ...]
    steps: int
    sequential_seeds: int        # seeds actually trained one by one (their throughput does not depend on S)
    matmul_n: int
    dry_run_configs: tuple[tuple[str, str | None], ...]   # (label, configfile)
    memo_target: str
    memo_config: str
    hdf5_mb: int
    srm_shape: tuple[int, int, int]                       # networks, units, images
    srm_k: int


FULL = Sizes((1, 4, 16, 64), 540, 3, 2048, (("default", None), ("paper", "config/paper.yaml")),
             "figures/smoke/all", "config/smoke.yaml", 512, (10, 1000, 8000), 50)
QUICK = Sizes((1, 4), 30, 1, 512, (("smoke", "config/smoke.yaml"),),
              "figures/smoke/rule_zoo/all", "config/smoke.yaml", 16, (3, 100, 400), 10)

# The default-tier models (params.yaml: rule_zoo's MLP, shared_geometry's conv net) and an RNN of the same scale.
MODELS = {
    "mlp": {"kind": "mlp", "hidden": [64, 64], "activation": "relu"},
    "convnet": {"kind": "convnet", "channels": [16, 32], "hidden": [64], "activation": "relu"},
    "rnn": {"kind": "rnn", "hidden_size": 64, "steps": 10},
}


def row(name, value, unit, target=None, passed=None, note=""):
    return {"name": name, "value": value, "unit": unit, "target": target, "passed": passed, "note": note}


def _timed(program: str, args: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one run of the venv's ``program``; a failure raises with the end of its stderr."""
    t = time.perf_counter()
    res = subprocess.run([str(BIN / program), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"{program} {' '.join(args)[:300]} failed:\n{res.stderr[-3000:]}")
    return time.perf_counter() - t, res


# 1. training throughput -------------------------------------------------------------------------


def matmul_peak_gflops(n: int, threads: int) -> float:
    """Best of 5 float32 n x n matmuls: 2 n^3 flops each."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def _throughput_run(model: dict, seed: int, steps: int) -> dict:
    """A whole job as the workflow runs it (sgd, batch 32 on digits), recording only at the start and the end."""
    from learnscope.config import make_run

    return make_run(
        {"data": {"digits": {"kind": "digits"}}, "runtime": {"device": "cpu"}},
        dataset="digits", model=model, rule={"name": "sgd", "lr": 0.01},
        train={"steps": steps, "batch_size": 32},
        record={"points": 2, "layers": ["out"], "checkpoints": False, "per_step": ["batch_loss"]},
        seed=seed,
    )


def _flops_per_step(model_spec: dict, dataset) -> float:
    """Forward + backward flops of one 32-sample step, counted by torch's FlopCounterMode."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from learnscope.models import build_model

    model = build_model(model_spec, dataset.input_shape, dataset.n_outputs)
    x = torch.as_tensor(dataset.x_train[:32], dtype=torch.float32)
    y = torch.as_tensor(dataset.y_train[:32])
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    return float(counter.get_total_flops())


def throughput(sizes: Sizes, threads: int) -> list[dict]:
    from learnscope.data import prepare
    from learnscope.train import train_run
    from learnscope.train.ensemble import train_ensemble

    dataset = prepare("digits", {"kind": "digits"})
    peak = matmul_peak_gflops(sizes.matmul_n, threads)
    rows = [row("matmul peak (float32)", round(peak, 1), "GFLOP/s", note=f"{sizes.matmul_n}^2 matmul, {threads} thread(s)")]
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in MODELS.items():
            flops = _flops_per_step(spec, dataset)
            train_run(_throughput_run(spec, 99, 5), dataset, Path(tmp) / "warmup.h5", threads=threads)  # lazy init off the clock
            t = time.perf_counter()
            for s in range(sizes.sequential_seeds):
                train_run(_throughput_run(spec, s, sizes.steps), dataset, Path(tmp) / f"seq{s}.h5", threads=threads)
            seq = sizes.sequential_seeds * sizes.steps * 32 / (time.perf_counter() - t)
            rows.append(row(f"{name}: one seed at a time", round(seq), "samples/s",
                            note=f"train_run per seed, process start-up not counted; {flops / 32 / 1e6:.2f} MFLOP/sample (fwd+bwd)"))
            for S in sizes.ensemble_sizes:
                runs = [_throughput_run(spec, s, sizes.steps) for s in range(S)]
                t = time.perf_counter()
                train_ensemble(runs, dataset, [Path(tmp) / f"ens{s}.h5" for s in range(S)], threads=threads)
                dt = time.perf_counter() - t
                rate = S * sizes.steps * 32 / dt
                gflops = S * sizes.steps * flops / dt / 1e9
                rows.append(row(f"{name}: ensemble S={S}", round(rate), "samples/s",
                                note=f"{rate / seq:.2f}× one seed at a time in one process; {gflops:.2f} GFLOP/s = {100 * gflops / peak:.1f}% of peak"))
            rows += _per_process(name, spec, sizes, threads, Path(tmp))
    return rows


def _cli(args: list[str]) -> float:
    return _timed("learnscope", args)[0]


def _per_process(name: str, spec: dict, sizes: Sizes, threads: int, tmp: Path) -> list[dict]:
    """The workflow's way vs the ensemble's: one ``learnscope train`` process per seed (start-up, imports,
    data loading and record writing included, as each Snakemake train job pays them) against one
    ``learnscope train-ensemble`` process for S = 16 seeds. The per-seed process time is the mean over
    ``sequential_seeds`` processes (the seeds are independent jobs)."""
    data = tmp / "digits.h5"
    if not data.exists():
        _cli(["prepare", "--name", "digits", "--spec", json.dumps({"kind": "digits"}), "--out", str(data)])
    per_seed = sum(_cli(["train", "--run", json.dumps(_throughput_run(spec, s, sizes.steps)), "--data", str(data),
                         "--out", str(tmp / f"proc{s}.h5"), "--threads", str(threads)])
                   for s in range(sizes.sequential_seeds)) / sizes.sequential_seeds
    S = 16
    runs = tmp / "runs.json"
    runs.write_text(json.dumps([_throughput_run(spec, s, sizes.steps) for s in range(S)]))
    dt = _cli(["train-ensemble", "--runs", f"@{runs}", "--data", str(data), "--out", *[str(tmp / f"pens{s}.h5") for s in range(S)],
               "--threads", str(threads)])
    seq = sizes.steps * 32 / per_seed
    rate = S * sizes.steps * 32 / dt
    return [
        row(f"{name}: one process per seed", round(seq), "samples/s",
            note=f"`learnscope train` per seed, as the workflow runs it: {per_seed:.1f} s per {sizes.steps}-step job"),
        row(f"{name}: one ensemble process, S={S}", round(rate), "samples/s", "≥ 4× one process per seed", rate / seq >= 4,
            f"`learnscope train-ensemble`: {rate / seq:.2f}× one process per seed ({dt:.1f} s for {S} seeds)"),
    ]


# 2. pipeline overhead ---------------------------------------------------------------------------


def _snakemake(args: list[str], cwd: Path, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    return _timed("snakemake", args, cwd, env)


def dry_run(sizes: Sizes) -> list[dict]:
    targets = {"default": 5.0, "smoke": 5.0, "paper": 30.0}
    rows = []
    for label, configfile in sizes.dry_run_configs:
        # no target: the default target, the tier's index (figures/all, figures/<tier>/all for an override's tier)
        args = ["-n", "--cores", "1"] + (["--configfile", configfile] if configfile else []) + ["--quiet", "rules"]
        dt, res = _snakemake(args, REPO)
        rows.append(row(f"snakemake -n figures/all ({label})", round(dt, 2), "s", f"≤ {targets[label]:g} s", dt <= targets[label]))
    return rows


# 3. memoization (and 6. peak memory of the jobs of that build) --------------------------------


def project_copy(dest: Path) -> Path:
    """Tracked + untracked-not-ignored files of the repository, as a fresh clone would have them."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for rel in filter(None, out.decode().split("\0")):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _child_peak_mib() -> float:
    """Largest resident set of any finished child process so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def memoization(sizes: Sizes, cores: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = project_copy(Path(tmp) / "project"), Path(tmp) / "cache"
        cache.mkdir()
        env = {**os.environ, "SNAKEMAKE_OUTPUT_CACHE": str(cache), "PYTHONPATH": str(root / "src"), "DVC_NO_ANALYTICS": "1"}
        args = [sizes.memo_target, "--cores", str(cores), "--cache", "train", "--configfile", sizes.memo_config]
        scratch, _ = _snakemake(args, root, env)
        peak = _child_peak_mib()
        noop, _ = _snakemake(args, root, env)
        # results/ and figures/ both go: with figures/ present Snakemake has nothing to rebuild
        shutil.rmtree(root / "results")
        shutil.rmtree(root / "figures")
        restore, _ = _snakemake(args, root, env)
    tier = f"{sizes.memo_target} on {sizes.memo_config}"
    return [
        row("memoization: from scratch", round(scratch, 1), "s", note=tier),
        row("memoization: no-op rerun", round(noop, 2), "s", "≤ 5 s", noop <= 5),
        row("memoization: restore after deleting results/ and figures/", round(restore, 1), "s", "≤ 10% of from scratch", restore <= 0.1 * scratch,
            f"{100 * restore / scratch:.0f}% of from scratch (analyses and figures rerun; training restored from the cache)"),
        row("peak memory of any job", round(peak), "MiB", "≤ 2048 MiB", peak <= 2048, f"largest child RSS during the from-scratch build ({tier})"),
    ]


# 4. HDF5 record writing -------------------------------------------------------------------------


def hdf5_writing(sizes: Sizes) -> list[dict]:
    """A run record of ~hdf5_mb MB (checkpoints + probe activations at T points) vs raw write + fsync."""
    from learnscope.record import RunWriter

    points, probe, width = 21, 1000, 256
    per_point = sizes.hdf5_mb * 2**20 // points
    n_act = max(1, per_point // 2 // (probe * width * 4))
    ckpt = np.random.default_rng(0).standard_normal(max(1, per_point // 2 // 4)).astype(np.float32)
    acts = np.random.default_rng(1).standard_normal((probe, width)).astype(np.float32)
    nbytes = points * (ckpt.nbytes + n_act * acts.nbytes)
    with tempfile.TemporaryDirectory(dir=REPO / "results" if (REPO / "results").exists() else None) as tmp:
        t = time.perf_counter()
        w = RunWriter(Path(tmp) / "record.h5", {"bench": True}, "bench", "bench", points)
        for s in range(points):
            w.record(s, scalars={"loss": 0.0}, checkpoints={"w": ckpt}, activations={f"layer{i}": acts for i in range(n_act)})
        w.close("complete", {})
        t_h5 = time.perf_counter() - t
        payload = ckpt.tobytes() + b"".join(acts.tobytes() for _ in range(n_act))
        t = time.perf_counter()
        with open(Path(tmp) / "raw.bin", "wb") as fh:
            for _ in range(points):
                fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        t_raw = time.perf_counter() - t
    ratio = t_raw / t_h5
    return [row("HDF5 record write vs raw sequential write", round(100 * ratio), "%", "≥ 50%", ratio >= 0.5,
                f"{nbytes / 2**20:.0f} MiB: HDF5 {nbytes / 2**20 / t_h5:.0f} MiB/s, raw {nbytes / 2**20 / t_raw:.0f} MiB/s")]


# 5. SRM and RSA at paper size ----------------------------------------------------------------


def srm_rsa(sizes: Sizes) -> list[dict]:
    from learnscope.analysis.rsa import loo_inter_rsms, within_rsms
    from learnscope.analysis.srm import probabilistic_srm

    n_nets, units, images = sizes.srm_shape
    rng = np.random.default_rng(0)
    shared = rng.standard_normal((sizes.srm_k, images))
    xs = [np.linalg.qr(rng.standard_normal((units, sizes.srm_k)))[0] @ shared + 0.1 * rng.standard_normal((units, images)) for _ in range(n_nets)]
    t = time.perf_counter()
    probabilistic_srm(xs, sizes.srm_k, n_iter=10, seed=0)
    t_srm = time.perf_counter() - t
    t = time.perf_counter()
    within_rsms([x.T for x in xs[:2]])
    loo_inter_rsms([x.T for x in xs[:2]])
    t_rsa = time.perf_counter() - t
    shape = f"{n_nets} networks × {units} units × {images} images, k={sizes.srm_k}, 10 iterations"
    rows = [row("SRM (learnscope)", round(t_srm, 2), "s", note=shape),
            row("RSA within + leave-one-out (2 networks)", round(t_rsa, 2), "s", note=f"{images} × {images} RSMs")]
    try:
        from brainiak.funcalign.srm import SRM
    except ImportError:
        rows.append(row("SRM vs BrainIAK", None, "ratio", "no slower", None, "BrainIAK not installed: not compared"))
        return rows
    t = time.perf_counter()
    SRM(n_iter=10, features=sizes.srm_k, rand_seed=0).fit(xs)
    t_bk = time.perf_counter() - t
    rows.append(row("SRM vs BrainIAK", round(t_srm / t_bk, 2), "× BrainIAK's time", "≤ 1", t_srm <= t_bk, f"BrainIAK {t_bk:.2f} s"))
    return rows


# 7. end to end (opt-in) -----------------------------------------------------------------------


def end_to_end(cores: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = project_copy(Path(tmp) / "project"), Path(tmp) / "cache"
        cache.mkdir()
        env = {**os.environ, "SNAKEMAKE_OUTPUT_CACHE": str(cache), "PYTHONPATH": str(root / "src"), "DVC_NO_ANALYTICS": "1"}
        before = _child_peak_mib()
        dt, _ = _snakemake(["figures/all", "--cores", str(cores)], root, env)
        peak = _child_peak_mib()
    return [row(f"end to end: figures/all at default, {cores} cores", round(dt / 60, 1), "min", "≤ 20 min", dt <= 1200),
            row("peak memory of any job at default", round(peak), "MiB", "≤ 2048 MiB", peak <= 2048,
                "largest child RSS of the end-to-end build" + ("" if peak > before else " (no larger than earlier measurements)"))]
