"""Observable statistics of a network's layers over training (Nayebi et al., NeurIPS 2020, "Identifying
learning rules from neural network observables"; code: neuroailab/lr-identify, ``Metrics/functions.py``).

Three **measures** per layer, at each of the T record points (T = 21 in the paper):

- ``weight``: the layer's forward kernel W, every entry pooled;
- ``act``: the layer's output on the fixed probe inputs (after its nonlinearity, and pooling for conv
  blocks); statistics over the units of each example, then averaged over the probe examples;
- ``gradavg``: the instantaneous layer-wise activity change g_n = (1/N_out) Σ_i Σ_j ∂y_j/∂x_i for example
  n (y the layer's output, x its input), i.e. 1ᵀJ1 / N_out. Computed here as a forward-mode
  Jacobian-vector product through the *forward* weights W (a deliberate choice: the original's
  ``tf.gradients`` goes through FA/IA's custom gradient and so reads the feedback weights B).

Three **functions** applied elementwise: ``raw`` (x), ``abs`` (|x|), ``sq`` (x²). Seven **statistics**
over the reduction axis: ``norm`` (L2 / Frobenius), ``mean``, ``var`` (population, ddof = 0),
``median``, ``thirdquartile`` (75th percentile, numpy's linear interpolation), ``skew`` (Pearson's second
skewness coefficient 3(mean − median)/sd) and ``kurtosis`` (E[(x − mean)⁴]/var², *not* excess kurtosis:
scipy.stats.kurtosis(fisher=False)). ``gradavg`` keeps only ``id`` (the probe mean of g, |g| and g²).
Names are ``f"{measure}{function}_{statistic}"``: 21 + 21 + 3 = 45 observables, of which the 24 finite
for every model of the paper are **admissible** (``ADMISSIBLE``).

**Measurement model** (``obfuscate_tensor`` of the original), applied before the statistics:
Gaussian noise N(0, σ²) added to every measured element (fresh at every record point), and a fixed random
subset of units kept — the same units at every record point, like a chronic recording. Weights are
flattened and individual synapses subsampled; activations are subsampled along the unit axis (all
examples kept). For ``gradavg`` a subset S_in of input units and S_out of output units is kept:
g_n = (1/|S_out|) Σ_{j∈S_out} Σ_{i∈S_in} ∂y_j/∂x_i, and noise on each of the |S_out||S_in| Jacobian
entries sums to N(0, σ²|S_in|/|S_out|) added to g_n. A unit subset is ``fraction`` (ceil(f·n) units) or
``count`` (min(k, n) units) of a layer's n units. ``relative_noise`` r instead of ``noise`` scales the
noise to the quantity measured: σ = r · s.d. of that layer's measured elements over all record points
(weights, activations and g each their own), a control for the absolute σ, which is small next to
activations and large next to weights.

**Layer position** (``group_layers``): the L ordered layers fall in 3 groups of ⌊L/3⌋ (early, middle),
the deep group takes the remainder.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from learnscope.atomic import atomic_path
from learnscope.data.dataset import PREPARED_FORMAT, load_prepared
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.record import open_run

MEASURES = ("weight", "act", "gradavg")
FUNCTIONS = ("raw", "abs", "sq")
STATISTICS = ("norm", "mean", "var", "median", "thirdquartile", "skew", "kurtosis")
OBS_KEYS = tuple(
    [f"{m}{f}_{s}" for m in ("weight", "act") for f in FUNCTIONS for s in STATISTICS] + [f"gradavg{f}_id" for f in FUNCTIONS]
)
ADMISSIBLE = frozenset(
    [f"weight{f}_{s}" for f in ("raw", "abs") for s in ("mean", "median", "norm", "thirdquartile", "var")]
    + [f"weightsq_{s}" for s in ("mean", "median", "thirdquartile")]
    + [f"act{f}_{s}" for f in ("raw", "abs") for s in ("mean", "median", "norm", "thirdquartile")]
    + [f"gradavg{f}_id" for f in FUNCTIONS]
)
POSITIONS = ("early", "middle", "deep")
FORMAT = "learnscope-observables/1"


def apply_function(x: np.ndarray, function: str) -> np.ndarray:
    return {"raw": lambda a: a, "abs": np.abs, "sq": np.square}[function](x)


def statistics(x: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """The seven statistics of ``x`` reduced over ``axis`` (see the module docstring for conventions)."""
    mean = x.mean(axis=axis)
    c2 = np.square(x - np.expand_dims(mean, axis))
    var = c2.mean(axis=axis)
    median, q3 = np.quantile(x, [0.5, 0.75], axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = 3.0 * (mean - median) / np.sqrt(var)
        kurtosis = np.square(c2).mean(axis=axis) / var**2
    return {
        "norm": np.sqrt(np.square(x).sum(axis=axis)),
        "mean": mean,
        "var": var,
        "median": median,
        "thirdquartile": q3,
        "skew": skew,
        "kurtosis": kurtosis,
    }


def group_layers(n_layers: int) -> np.ndarray:
    """Position index (0 early, 1 middle, 2 deep) of each of ``n_layers`` ordered layers."""
    if n_layers < 3:
        raise ConfigError(f"layer positions need at least 3 recorded layers, got {n_layers} (use deeper models)")
    size = n_layers // 3
    return np.minimum(np.arange(n_layers) // size, 2)


def n_kept(n: int, spec: dict) -> int:
    """How many of ``n`` units a measurement keeps: ``fraction`` f -> ceil(f n), ``count`` k -> min(k, n)."""
    if "count" in spec:
        return min(int(spec["count"]), n)
    return min(n, max(1, math.ceil(float(spec.get("fraction", 1.0)) * n)))


def unit_subset(n: int, spec: dict, seed) -> np.ndarray:
    """A fixed random subset of unit indices (sorted), the same whenever called with the same seed."""
    return np.sort(np.random.default_rng(seed).permutation(n)[: n_kept(n, spec)])


def measure_weights(w: np.ndarray, spec: dict, seed) -> np.ndarray:
    """(T, ...) kernels -> (T, k) kept synapses plus measurement noise (fresh at every record point)."""
    flat = w.reshape(len(w), -1)
    kept = flat[:, unit_subset(flat.shape[1], spec, [*seed, 0])]
    return _noisy(kept, spec, [*seed, 1])


def measure_activations(a: np.ndarray, spec: dict, seed) -> np.ndarray:
    """(T, n, ...) activations -> (T, n, k) kept units plus measurement noise."""
    flat = a.reshape(a.shape[0], a.shape[1], -1)
    kept = flat[:, :, unit_subset(flat.shape[2], spec, [*seed, 2])]
    return _noisy(kept, spec, [*seed, 3])


def noise_sd(x: np.ndarray, spec: dict) -> float:
    """The measurement noise s.d. for the measured elements ``x``: ``noise``, or ``relative_noise`` times
    the s.d. of ``x`` (0 when neither is set)."""
    if "relative_noise" in spec:
        return float(spec["relative_noise"]) * float(np.std(x))
    return float(spec.get("noise", 0.0))


def _noisy(x: np.ndarray, spec: dict, seed) -> np.ndarray:
    sigma = noise_sd(x, spec)
    if sigma == 0.0:
        return x.astype(np.float64)
    return x + np.random.default_rng(seed).normal(0.0, sigma, size=x.shape)


def layer_observables(weights: np.ndarray, acts: np.ndarray, gradavg: np.ndarray) -> np.ndarray:
    """(T, 45) observables in ``OBS_KEYS`` order from measured weights (T, k), activations (T, n, k) and
    activity changes (T, n)."""
    row: dict[str, np.ndarray] = {}
    for f in FUNCTIONS:
        for s, v in statistics(apply_function(weights, f), axis=-1).items():
            row[f"weight{f}_{s}"] = v
        for s, v in statistics(apply_function(acts, f), axis=-1).items():
            row[f"act{f}_{s}"] = v.mean(axis=-1)
        row[f"gradavg{f}_id"] = apply_function(gradavg, f).mean(axis=-1)
    return np.stack([row[k] for k in OBS_KEYS], axis=-1)


def _kernel(block: nn.Module) -> nn.Module:
    for m in block.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            return m
    raise ConfigError(f"layer {block} has no Linear or Conv2d kernel to observe")


class LayerProbe:
    """A network rebuilt from its run config, loaded with each checkpoint in turn (feedback weights of
    FA/IA are dropped: every observable reads the forward pathway)."""

    def __init__(self, config: dict, input_shape: tuple[int, ...], n_outputs: int):
        torch.manual_seed(0)
        self.model = build_model(config["model"], input_shape, n_outputs).double().eval()
        self.layers = self.model.layer_modules()

    def load(self, state: dict[str, np.ndarray]) -> None:
        own = self.model.state_dict()
        self.model.load_state_dict({k: torch.as_tensor(state[k], dtype=own[k].dtype) for k in own})

    def forward(self, x: np.ndarray) -> tuple[dict, dict, dict]:
        """Per layer: kernel W, output activations (n, ...) and input (n, ...) on probe inputs ``x``."""
        inputs: dict[str, torch.Tensor] = {}
        outputs: dict[str, torch.Tensor] = {}

        def keep(name):
            def hook(module, inp, out):
                inputs[name], outputs[name] = inp[0], out

            return hook

        hooks = [m.register_forward_hook(keep(n)) for n, m in self.layers.items()]
        try:
            with torch.no_grad():
                self.model(torch.as_tensor(x, dtype=torch.float64))
        finally:
            for h in hooks:
                h.remove()
        kernels = {n: _kernel(b).weight.detach().numpy().copy() for n, b in self.layers.items()}
        return kernels, {n: o.numpy().copy() for n, o in outputs.items()}, inputs

    def activity_change(self, name: str, xin: torch.Tensor, s_in: np.ndarray, s_out: np.ndarray) -> np.ndarray:
        """g_n = (1/|S_out|) Σ_{j∈S_out} Σ_{i∈S_in} ∂y_j/∂x_i for each example n, as one vector-Jacobian
        product: the gradient of Σ_n Σ_{j∈S_out} y_nj with respect to the inputs (examples are
        independent in eval mode), summed over S_in."""
        x = xin.detach().requires_grad_(True)
        with torch.enable_grad():
            y = self.layers[name](x).reshape(len(x), -1)
            (vjp,) = torch.autograd.grad(y[:, torch.as_tensor(s_out)].sum(), x)
        return (vjp.reshape(len(x), -1)[:, torch.as_tensor(s_in)].sum(1) / len(s_out)).numpy()


def run_observables(path: str | Path, dataset, variants: dict[str, dict]) -> tuple[dict, dict[str, np.ndarray]]:
    """Observables of every layer of one run record: (meta, {variant: (L, T, 45)}). Every variant
    measures the same network states; its units, noise and seeds come from its spec."""
    with open_run(path) as run:
        cfg = run.config
        states = {k: run.checkpoint(k) for k in run.checkpoint_names}
        steps = run.steps
        final_acc = float(run.scalar("test_acc")[-1]) if "test_acc" in run.scalar_names else float("nan")
    probe = LayerProbe(cfg, dataset.input_shape, dataset.n_outputs)
    names = list(probe.layers)
    x = dataset.probe_x
    kernels = {n: [] for n in names}
    acts = {n: [] for n in names}
    grads = {v: {n: [] for n in names} for v in variants}
    subsets: dict[str, dict] = {}
    for t in range(len(steps)):
        probe.load({k: v[t] for k, v in states.items()})
        w, a, xin = probe.forward(x)
        if not subsets:
            for v, spec in variants.items():
                seed = int(spec.get("seed", 0))
                subsets[v] = {
                    n: (unit_subset(xin[n][0].numel(), spec, [seed, i, 4]), unit_subset(a[n][0].size, spec, [seed, i, 5]))
                    for i, n in enumerate(names)
                }
        for n in names:
            kernels[n].append(w[n])
            acts[n].append(a[n])
            for v in variants:
                grads[v][n].append(probe.activity_change(n, xin[n], *subsets[v][n]))
    kernels = {n: np.stack(v) for n, v in kernels.items()}
    acts = {n: np.stack(v) for n, v in acts.items()}
    out: dict[str, np.ndarray] = {}
    for v, spec in variants.items():
        seed = int(spec.get("seed", 0))
        layers = []
        for i, n in enumerate(names):
            g = np.stack(grads[v][n])
            s_in, s_out = subsets[v][n]
            # relative noise: r times g's own s.d.; absolute: the Jacobian entries' noise summed over S_in, / |S_out|
            sigma = noise_sd(g, spec) if "relative_noise" in spec else noise_sd(g, spec) * math.sqrt(len(s_in) / len(s_out))
            if sigma:
                g = g + np.random.default_rng([seed, i, 6]).normal(0.0, sigma, size=g.shape)
            layers.append(layer_observables(measure_weights(kernels[n], spec, [seed, i]), measure_activations(acts[n], spec, [seed, i]), g))
        out[v] = np.stack(layers)
    return {"layers": names, "config": cfg, "steps": steps, "test_acc": final_acc}, out


def _probe_subset(dataset, n: int | None):
    """``n`` probe examples evenly spread over the class-sorted probe set (all of it when ``n`` is None)."""
    if not n or n >= len(dataset.probe_index):
        return dataset
    keep = np.unique(np.linspace(0, len(dataset.probe_index) - 1, int(n)).round().astype(int))
    return dataclasses.replace(dataset, probe_index=dataset.probe_index[keep])


def _one_run(path: str, dataset, variants: dict[str, dict]) -> tuple[dict, dict[str, np.ndarray]]:
    torch.set_num_threads(1)
    return run_observables(path, dataset, variants)


META_FIELDS = ("rule", "arch", "task", "batch_size", "seed", "data_seed", "network", "layer", "layer_index", "n_layers", "position", "test_acc")


def build_dataset(runs: list[str], datasets: dict, variants: dict[str, dict], probe_examples: int | None = None, threads: int = 1) -> dict:
    """The observables dataset (the paper's ``dataset.pkl``): one row per layer of every complete run.

    Returns ``{"X": {variant: (N, T, 45)}, "meta": {field: (N,)}, "skipped": [run ids]}``; diverged runs
    (or runs with fewer record points than the others) are skipped and listed.
    """
    from joblib import Parallel, delayed

    if not runs:
        raise ConfigError("identify_rules observables: no run records given")
    configs = []
    for p in runs:
        with open_run(p) as r:
            configs.append((r.config, r.status, r.n_records, r.run_id))
    missing = sorted({c["dataset"]["name"] for c, *_ in configs} - set(datasets))
    if missing:
        raise ConfigError(f"identify_rules observables: prepared dataset(s) {missing} not among the inputs (add data/prepared/<name>.h5)")
    n_points = max(n for _, _, n, _ in configs)
    keep = [i for i, (_, status, n, _) in enumerate(configs) if status == "complete" and n == n_points]
    probes = {name: _probe_subset(ds, probe_examples) for name, ds in datasets.items()}
    results = Parallel(n_jobs=threads)(delayed(_one_run)(runs[i], probes[configs[i][0]["dataset"]["name"]], variants) for i in keep)
    meta: dict[str, list] = {k: [] for k in META_FIELDS}
    X: dict[str, list] = {v: [] for v in variants}
    for i, (m, obs) in zip(keep, results):
        cfg, run_id = configs[i][0], configs[i][3]
        positions = group_layers(len(m["layers"]))
        for li, layer in enumerate(m["layers"]):
            row = {
                "rule": cfg["labels"]["rule"],
                "arch": cfg["labels"]["model"],
                "task": cfg["dataset"]["name"],
                "batch_size": int(cfg["train"]["batch_size"]),
                "seed": int(cfg["seed"]),
                "data_seed": int(cfg["train"].get("data_seed", cfg["seed"])),
                "network": run_id,
                "layer": layer,
                "layer_index": li,
                "n_layers": len(m["layers"]),
                "position": int(positions[li]),
                "test_acc": m["test_acc"],
            }
            for k in META_FIELDS:
                meta[k].append(row[k])
        for v in variants:
            X[v].append(obs[v])
    return {
        "X": {v: np.concatenate(x) for v, x in X.items()},
        "meta": {k: np.asarray(v) for k, v in meta.items()},
        "skipped": [configs[i][3] for i in range(len(runs)) if i not in keep],
    }


def write_dataset(path: str | Path, data: dict, variants: dict[str, dict]) -> None:
    """``observables.h5``: ``X/<variant>`` (N, T, 45) float64, ``meta/<field>`` (N,), ``obs_keys``,
    ``admissible`` (bool, 45), attributes ``format``, ``variants`` (JSON) and ``skipped`` (JSON)."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["format"] = FORMAT
            f.attrs["variants"] = json.dumps(variants, sort_keys=True)
            f.attrs["skipped"] = json.dumps(data["skipped"])
            f.attrs["positions"] = json.dumps(POSITIONS)
            f.create_dataset("obs_keys", data=np.asarray(OBS_KEYS, dtype="S"))
            f.create_dataset("admissible", data=np.asarray([k in ADMISSIBLE for k in OBS_KEYS]))
            for v, x in data["X"].items():
                f.create_dataset(f"X/{v}", data=x)
            for k, v in data["meta"].items():
                f.create_dataset(f"meta/{k}", data=v.astype("S") if v.dtype.kind == "U" else v)


def read_dataset(path: str | Path) -> dict:
    """Inverse of :func:`write_dataset`: ``{"X": {variant: array}, "meta": {field: array}, "obs_keys": [...],
    "admissible": bool array, "variants": {...}}``."""
    p = Path(path)
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        raise ConfigError(f"{p}: not a readable observables file ({e}); rerun `snakemake {p}` or `dvc pull`") from None
    with f:
        if f.attrs.get("format") != FORMAT:
            raise ConfigError(f"{p}: not a {FORMAT} file; rerun `snakemake {p}`")
        meta = {k: f[f"meta/{k}"][()] for k in f["meta"]}
        meta = {k: v.astype(str) if v.dtype.kind == "S" else v for k, v in meta.items()}
        return {
            "X": {v: f[f"X/{v}"][()] for v in f["X"]},
            "meta": meta,
            "obs_keys": [k.decode() for k in f["obs_keys"][()]],
            "admissible": f["admissible"][()],
            "variants": json.loads(f.attrs["variants"]),
        }


def merge_datasets(datasets: list[dict], names: list[str] | None = None) -> dict:
    """Several observables datasets (as :func:`read_dataset` returns them) as one: rows concatenated in
    order, the measurement variants every dataset has (``clean`` at least). They must share the
    observables (``obs_keys``), the number of record points T and the meta fields, and no network may
    appear twice."""
    if not datasets:
        raise ConfigError("observables: no datasets to merge")
    names = names or [f"dataset {i}" for i in range(len(datasets))]
    first = datasets[0]
    variants = [v for v in first["X"] if all(v in d["X"] for d in datasets)]
    if "clean" not in variants:
        raise ConfigError(f"observables: the datasets {names} do not all have the 'clean' variant; rebuild them")
    for name, d in zip(names[1:], datasets[1:]):
        if list(d["obs_keys"]) != list(first["obs_keys"]) or set(d["meta"]) != set(first["meta"]):
            raise ConfigError(f"observables: {name} has other observables or meta fields than {names[0]}; rebuild both with the same code")
        if d["X"]["clean"].shape[1:] != first["X"]["clean"].shape[1:]:
            raise ConfigError(
                f"observables: {name} has {d['X']['clean'].shape[1]} record points, {names[0]} {first['X']['clean'].shape[1]} "
                "(train both with the same record spec)"
            )
    networks = [set(d["meta"]["network"]) for d in datasets]
    for i in range(len(datasets)):
        for j in range(i):
            if networks[i] & networks[j]:
                raise ConfigError(f"observables: {names[j]} and {names[i]} share networks {sorted(networks[i] & networks[j])[:3]}; merge each network once")
    return {
        "X": {v: np.concatenate([d["X"][v] for d in datasets]) for v in variants},
        "meta": {k: np.concatenate([d["meta"][k] for d in datasets]) for k in first["meta"]},
        "obs_keys": list(first["obs_keys"]),
        "admissible": first["admissible"],
        "variants": {v: first["variants"].get(v, {}) for v in variants},
    }


def read_datasets(paths: list[str | Path]) -> dict:
    """:func:`read_dataset` of each path, merged (:func:`merge_datasets`); one path reads as it is."""
    paths = list(paths)
    if len(paths) == 1:
        return read_dataset(paths[0])
    return merge_datasets([read_dataset(p) for p in paths], [str(p) for p in paths])


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze observables``: inputs are run records and the prepared datasets they used."""
    runs, datasets = [], {}
    for p in inputs:
        with h5py.File(p, "r") as f:
            is_data = f.attrs.get("format") == PREPARED_FORMAT
        if is_data:
            ds = load_prepared(p)
            datasets[ds.name] = ds
        else:
            runs.append(p)
    variants = options["variants"]
    if "clean" not in variants:
        raise ConfigError("identify_rules.observables.variants needs a 'clean' entry (no noise, every unit)")
    data = build_dataset(runs, datasets, variants, options.get("probe_examples"), int(options.get("threads", 1)))
    write_dataset(out, data, variants)
