"""GPU check (``make gpu-check``): on a machine with CUDA,

1. trains one default-tier run per model kind (mlp, convnet, resnet, vgg, rnn) on the CPU and on the GPU
   and compares the records: every recorded scalar (train / test loss and accuracy) and the final
   checkpoint, to tolerance (float32 reductions run in another order on the GPU, so the records agree to
   rounding that training amplifies, not bit for bit);
2. trains one paper-tier job (neural_mechanics' VGG-16 with batch norm on Tiny ImageNet's shape, batch 256,
   config/paper.yaml; the images from benchmarks/raw_datasets.py) for ``--steps`` steps on the GPU and
   reports steps per second.

Without CUDA it prints why it skipped and exits 0. Exit 1 when a comparison is out of tolerance.

    python -m benchmarks.gpu_check [--steps 300] [--compare-steps 200] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# one small model of every kind, trained on digits (the default tier's dataset) by the fixed-step loop
KINDS = {
    "mlp": {"kind": "mlp", "hidden": [64, 32], "activation": "relu"},
    "convnet": {"kind": "convnet", "channels": [16, 16, 32], "batchnorm": True},
    "resnet": {"kind": "resnet", "width": 16, "blocks": 2, "pool_after": [1]},
    "vgg": {"kind": "vgg", "cfg": "11", "width_scale": 0.125, "hidden": [64], "batchnorm": True},
    "rnn": {"kind": "rnn", "hidden_size": 64, "steps": 5},
}
TOLERANCE = {"loss_rtol": 1e-2, "acc_atol": 0.03, "param_rtol": 1e-2}


def no_gpu_reason() -> str | None:
    import torch

    if not torch.cuda.is_available():
        build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        return f"no CUDA device visible to torch {torch.__version__} ({build})"
    return None


def _records(path: Path) -> tuple[dict, dict]:
    from learnscope.record import open_run

    with open_run(path) as run:
        scalars = {k: run.scalar(k) for k in run.scalar_names}
        last = {k: run.checkpoint(k)[-1] for k in run.checkpoint_names}
    return scalars, last


def compare_kind(kind: str, spec: dict, steps: int, out: Path) -> dict:
    """Train ``spec`` on digits on cpu and cuda; the largest deviations and whether they are in tolerance."""
    from learnscope.config import load_params, make_run
    from learnscope.data import prepare
    from learnscope.train import train_run

    cfg = load_params(REPO / "params.yaml")
    ds = prepare("digits", cfg["data"]["digits"])
    paths = {}
    for device in ("cpu", "cuda"):
        run = make_run({**cfg, "runtime": {"device": device}}, dataset="digits", model=spec, rule={"name": "momentum", "lr": 0.05},
                       train={"steps": steps, "batch_size": 32}, record={"points": 5, "layers": "all", "checkpoints": True}, seed=0)
        paths[device] = train_run(run, ds, out / f"{kind}-{device}.h5")
    (sc, pc), (sg, pg) = _records(paths["cpu"]), _records(paths["cuda"])
    loss = max(float(np.max(np.abs(sc[k] - sg[k]) / np.maximum(np.abs(sc[k]), 1e-12))) for k in sc if k.endswith("loss"))
    acc = max(float(np.max(np.abs(sc[k] - sg[k]))) for k in sc if k.endswith("acc"))
    param = max(float(np.linalg.norm(pc[k] - pg[k]) / max(np.linalg.norm(pc[k]), 1e-12)) for k in pc if pc[k].dtype.kind == "f")
    ok = loss <= TOLERANCE["loss_rtol"] and acc <= TOLERANCE["acc_atol"] and param <= TOLERANCE["param_rtol"]
    return {"kind": kind, "loss_rel": loss, "acc_abs": acc, "param_rel": param, "pass": ok}


def paper_job_speed(steps: int, out: Path) -> dict:
    """Steps per second of neural_mechanics' paper-tier VGG-16 BN run (batch 256, symmetry trackers) on cuda."""
    import torch

    from benchmarks.raw_datasets import write_all
    from learnscope.config import load_params, study_run
    from learnscope.data import prepare
    from learnscope.train import train_run

    cfg = load_params(REPO / "params.yaml", [REPO / "config/paper.yaml"])
    spec = {**cfg["data"]["tiny_imagenet"], "root": str(write_all(out / "raw"))}
    ds = prepare("tiny_imagenet", spec)
    sec = cfg["neural_mechanics"]
    rule = {"name": "sgd", "lr": sec["sgd"]["lr"]["bn"][0], "weight_decay": sec["sgd"]["weight_decay"][1]}
    run = study_run({**cfg, "runtime": {"device": "cuda"}}, "neural_mechanics", "bn", rule, "sgd", train={"steps": steps})
    run["record"] = {**run["record"], "points": 3}  # the speed of training, not of 201 evaluations
    torch.cuda.synchronize()
    start = time.perf_counter()
    train_run(run, ds, out / "paper-vgg16.h5")
    torch.cuda.synchronize()
    wall = time.perf_counter() - start
    return {"job": "neural_mechanics bn sgd (VGG-16-BN, Tiny ImageNet shape, batch 256)", "steps": steps, "seconds": wall,
            "steps_per_second": steps / wall, "device": torch.cuda.get_device_name(0)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300, help="steps of the paper-tier job (default 300)")
    p.add_argument("--compare-steps", type=int, default=200, help="steps of each CPU/GPU comparison run (default 200)")
    p.add_argument("--out", help="folder for the records and the JSON summary (default: a temporary folder)")
    a = p.parse_args(argv)
    reason = no_gpu_reason()
    if reason:
        print(f"gpu-check: skipped: {reason}; run it on a machine with a GPU (docs/paper_tier.md)")
        return 0
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="learnscope-gpu-check-"))
    out.mkdir(parents=True, exist_ok=True)
    results = [compare_kind(kind, spec, a.compare_steps, out) for kind, spec in KINDS.items()]
    for r in results:
        print(f"gpu-check: {r['kind']:8s} cpu vs gpu: loss rel {r['loss_rel']:.2e}, acc abs {r['acc_abs']:.3f}, "
              f"final params rel {r['param_rel']:.2e}: {'PASS' if r['pass'] else 'FAIL'}")
    speed = paper_job_speed(a.steps, out)
    print(f"gpu-check: {speed['job']} on {speed['device']}: {speed['steps']} steps in {speed['seconds']:.1f} s = {speed['steps_per_second']:.2f} steps/s")
    (out / "gpu_check.json").write_text(json.dumps({"tolerance": TOLERANCE, "compare": results, "speed": speed}, indent=1))
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
