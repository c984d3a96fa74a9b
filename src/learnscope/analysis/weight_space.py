"""The 1 -> 2 weight-space example (Song et al. 2024, ``nature_example_122``; Fig. 1-2 style).

Input s = 1 feeds two hidden units through the learned weights w = (w_1, w_2); fixed read-out weights
v = (v_1, v_2) map them one-to-one onto two outputs with target t, so the solution is w_k = t_k / v_k.
With unequal v the loss is ill-conditioned: BP's steps, -lr * dL/dw, over-correct the steep direction
and zig-zag; PC changes w toward the relaxed hidden state x* (dF/dw_k = -(x*_k - w_k) s), which already
accounts for both outputs, and takes a straighter path. BP's gradient is computed by the Z-IL schedule
(exactly backprop, see ``rules.predictive_coding``), PC's at the relaxed state. One row per (rule,
iteration) with w and the path-length ratio sum ||w_{t+1} - w_t|| / ||w_T - w_0||.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from learnscope.analysis.toy_nets import squared_loss, toy_mlp
from learnscope.atomic import atomic_path
from learnscope.rules.predictive_coding import layer_gradient, mlp_layers, relax, zil_gradients


@torch.no_grad()
def trajectory(rule: str, lr: float, options: dict) -> np.ndarray:
    model = toy_mlp(1, [2], 2, "linear", seed=0)
    layers = mlp_layers(model)
    (w_in, _), (w_out, _) = layers
    w_in.weight.copy_(torch.tensor(options["w0"], dtype=torch.float64)[:, None])
    w_out.weight.copy_(torch.diag(torch.tensor(options["out_weights"], dtype=torch.float64)))
    s = torch.ones(1, 1, dtype=torch.float64)
    t = torch.tensor([options["target"]], dtype=torch.float64)
    path = [w_in.weight[:, 0].clone()]
    for _ in range(int(options["iterations"])):
        if rule == "BP":
            grad = zil_gradients(layers, s, t, squared_loss)[0][0]
        else:
            state = relax(layers, s, t, squared_loss, int(options["inference_steps"]), float(options["inference_rate"])).state
            grad = layer_gradient(layers, state, 0)[0]
        w_in.weight -= lr * grad  # the read-out weights stay fixed
        path.append(w_in.weight[:, 0].clone())
    return torch.stack(path).numpy()


def main(inputs: list[str], out: str, options: dict) -> None:
    rows = []
    for rule in ("BP", "PC"):
        w = trajectory(rule, float(options["lrs"][rule]), options)
        ratio = np.linalg.norm(np.diff(w, axis=0), axis=1).sum() / np.linalg.norm(w[-1] - w[0])
        rows += [{"rule": rule, "iteration": i, "w_1": a, "w_2": b, "path_ratio": ratio} for i, (a, b) in enumerate(w)]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
