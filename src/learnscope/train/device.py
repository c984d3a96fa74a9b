"""Where a run trains and the settings that make it deterministic there (recorded in its run file)."""

from __future__ import annotations

import os

import torch

from learnscope.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (cuda when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("runtime.device is 'cuda' but no CUDA device is available (use 'cpu' or 'auto')")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"runtime.device {name!r} is not known (allowed: auto, cpu, cuda)")
    return torch.device(name)


def deterministic_settings(device: torch.device, threads: int) -> dict:
    """Make this process's training deterministic on ``device``; the settings go into the run file.

    CPU and CUDA both run with ``torch.use_deterministic_algorithms(True)``; CUDA additionally needs
    cuDNN's deterministic kernels without autotuning and a fixed cuBLAS workspace
    (``CUBLAS_WORKSPACE_CONFIG=:4096:8``, set before the first CUDA call unless the user set it).
    """
    cuda = device.type == "cuda"
    if cuda:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(threads)
    if cuda or not hasattr(torch._C, "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(True)
    else:  # the same switch without importing torch._inductor (for torch.compile, unused): ~2 s per job
        torch._C._set_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else "cpu",
        "threads": threads,
        "deterministic_algorithms": True,
        "cudnn_deterministic": True,
        "cudnn_benchmark": False,
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG", "") if cuda else "",
    }
