"""Classifying the learning rule from observable trajectories (Nayebi et al., NeurIPS 2020;
neuroailab/lr-identify ``fit_pipeline.py``, ``cross_validation.py``, ``metrics.py``, ``cls_cv_params.py``).

One datapoint is one layer of one network across training: its (T, n_obs) trajectory of observable
statistics plus the one-hot layer position (early/middle/deep). For Random Forest and the linear SVM the
trajectory is flattened observable-major, (n_obs, T) -> n_obs·T columns, with the 3 position columns
prepended; the Conv1D model sees it as n_obs + 3 channels over T time points.

**Splits** (``get_splits``): ``n_splits`` category-balanced splits from ``RandomState(seed)``: per class,
``round(test_fraction · m)`` test items drawn at random and the rest (up to m, the smallest class count)
for training, so train/test are 75/25 per class. The **network-level** split (a control the paper lacks)
holds out whole initialisations: the initial weights (and FA/IA's B) depend only on the architecture and
the model seed (``torch.manual_seed(seed)`` before the build; the tasks share input and output widths), so
networks are grouped by (architecture, model seed) across tasks, batch sizes, data seeds and rules, and a
held-out group's networks are all test items: no layer of a test network, nor its initialisation, is seen
in training. Held-out architecture / task splits train on one pool and test on another.

**Negative control** (``shuffled``): within each network configuration (architecture, task, batch size,
seeds) the four rules' labels are permuted at random, so every configuration still holds one network of
each label and the labels carry no rule; a classifier scored on these labels must sit at chance.

**Model selection** (``run_cv``): on each train split, ``StratifiedKFold(5)`` over the classifier's grid,
the best mean validation accuracy is refit on the whole train split and scored on the test split.
Features are z-scored with the train split's mean and s.d. (floor 1e-5); position columns are not.

**Metrics** (``evaluate_results``): confusion matrix per split (rows = true rule), accuracy, per-class
balanced accuracy (TPR + TNR)/2 and d' = Φ⁻¹(TPR) − Φ⁻¹(FPR) clipped to ±5.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm as gaussian
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from learnscope.analysis.observables import ADMISSIBLE, OBS_KEYS, POSITIONS, read_datasets
from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError

FEATURE_SETS = {
    "all": [k for k in OBS_KEYS if k in ADMISSIBLE],
    "weights": [k for k in OBS_KEYS if k in ADMISSIBLE and k.startswith("weight")],
    "activations": [k for k in OBS_KEYS if k in ADMISSIBLE and k.startswith("act")],
    "activity_change": [k for k in OBS_KEYS if k in ADMISSIBLE and k.startswith("gradavg")],
}
DPRIME_CLIP = 5.0
ZSCORE_FLOOR = 1e-5


# ---------------------------------------------------------------------------------------------- features
def features(X: np.ndarray, position: np.ndarray, obs: list[str], times: list[int] | None = None) -> np.ndarray:
    """(N, T, 45) observables -> (N, 3 + n_obs·T') design matrix: position one-hot, then each observable's
    trajectory (observable-major, as ``utils.cls_dataset_transform``)."""
    cols = [OBS_KEYS.index(k) for k in obs]
    x = X[:, :, cols] if times is None else X[:, times][:, :, cols]
    onehot = np.eye(len(POSITIONS))[position]
    return np.concatenate([onehot, x.transpose(0, 2, 1).reshape(len(x), -1)], axis=1)


def zscore(train: np.ndarray, test: np.ndarray, skip: int = len(POSITIONS)) -> tuple[np.ndarray, np.ndarray]:
    """Z-score every column after the first ``skip`` with the train rows' mean and s.d. (floor 1e-5)."""
    mu = train[:, skip:].mean(0)
    sd = np.maximum(train[:, skip:].std(0), ZSCORE_FLOOR)
    f = lambda a: np.concatenate([a[:, :skip], (a[:, skip:] - mu) / sd], axis=1)
    return f(train), f(test)


# ------------------------------------------------------------------------------------------------ splits
def balanced_splits(labels: np.ndarray, n_splits: int, test_fraction: float = 0.25, seed: int = 0, pool: np.ndarray | None = None):
    """Category-balanced splits: per class ``round(test_fraction·m)`` test and ``m − that`` train items,
    m the smallest class count within ``pool`` (a boolean mask; all items by default)."""
    pool = np.ones(len(labels), bool) if pool is None else pool
    classes = np.unique(labels)
    m = min(int(((labels == c) & pool).sum()) for c in classes)
    n_test = int(round(test_fraction * m))
    if n_test < 1 or m - n_test < 1:
        raise ConfigError(f"identify_rules: {m} items in the smallest class are too few for a {test_fraction:.2f} test split")
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n_splits):
        train, test = [], []
        for c in classes:
            idx = rng.permutation(np.flatnonzero((labels == c) & pool))
            test.append(idx[:n_test])
            train.append(idx[n_test:m])
        out.append((np.sort(np.concatenate(train)), np.sort(np.concatenate(test))))
    return out


def network_splits(labels: np.ndarray, groups: np.ndarray, n_splits: int, test_fraction: float = 0.25, seed: int = 0):
    """Splits over network groups (e.g. initialisations): ``round(test_fraction·K)`` (at least 1) of the K
    groups (each trained by every rule) go wholly to test, the rest to train; no group is in both."""
    keys = np.unique(groups)
    if len(keys) < 2:
        raise ConfigError(f"identify_rules: a network-level split needs at least 2 network groups (initialisations); the dataset has {len(keys)}")
    n_test = min(len(keys) - 1, max(1, int(round(test_fraction * len(keys)))))
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n_splits):
        held = set(rng.permutation(keys)[:n_test])
        is_test = np.isin(groups, list(held))
        out.append((np.flatnonzero(~is_test), np.flatnonzero(is_test)))
    return out


def initialisation_groups(X0: np.ndarray, networks: np.ndarray) -> np.ndarray:
    """One group label per row: networks are joined when any of their layers starts from the same weights.

    ``X0``: (N, k) weight statistics of each row (one layer of one network) at the first record point;
    rows with equal statistics (to 10 significant digits) share an initialisation. This catches what the
    model seed alone does not: all four rules share each initialisation, a ReLU and a tanh MLP of the
    same widths start alike, and MLPs of different depths share their first layer's initial weights."""
    parent = {n: n for n in np.unique(networks)}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first: dict[tuple, str] = {}
    for net, row in zip(networks, X0):
        key = tuple(float(f"{v:.10g}") for v in row)
        other = first.setdefault(key, net)
        parent[root(net)] = root(other)
    return np.array([root(n) for n in networks])


def shuffled_labels(labels: np.ndarray, configs: np.ndarray, networks: np.ndarray, seed: int = 0) -> np.ndarray:
    """The negative control's labels: within each network configuration the networks' labels are
    permuted at random (``RandomState(seed)``), every layer of a network keeping its network's new label;
    each configuration still holds one network per label, and the labels carry no rule."""
    rng = np.random.RandomState(seed)
    out = labels.copy()
    for c in np.unique(configs):
        rows = configs == c
        nets, first = np.unique(networks[rows], return_index=True)
        perm = rng.permutation(labels[rows][first])
        for net, lab in zip(nets, perm):
            out[networks == net] = lab
    return out


def transfer_splits(labels: np.ndarray, train_pool: np.ndarray, test_pool: np.ndarray, n_splits: int, seed: int = 0):
    """Generalisation splits: per class the same number of training items (the smallest class count in
    ``train_pool``, drawn anew per split from ``RandomState(seed)``) and every item of ``test_pool``."""
    classes = np.unique(labels)
    m = min(int(((labels == c) & train_pool).sum()) for c in classes)
    if m < 2 or not test_pool.any():
        raise ConfigError("identify_rules: a generalisation split has an empty train or test pool (check the held-out names)")
    rng = np.random.RandomState(seed)
    test = np.flatnonzero(test_pool)
    return [
        (np.sort(np.concatenate([rng.permutation(np.flatnonzero((labels == c) & train_pool))[:m] for c in classes])), test)
        for _ in range(n_splits)
    ]


# ----------------------------------------------------------------------------------------------- metrics
def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    c = np.zeros((n_classes, n_classes))
    np.add.at(c, (y_true, y_pred), 1)
    return c


def rates(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class one-vs-rest (TPR, FPR) from a confusion matrix (rows = true class)."""
    tp = np.diag(conf)
    pos = conf.sum(1)
    fp = conf.sum(0) - tp
    neg = conf.sum() - pos
    return tp / pos, fp / neg


def balanced_accuracy(conf: np.ndarray) -> np.ndarray:
    """Per class (TPR + TNR) / 2."""
    tpr, fpr = rates(conf)
    return (tpr + 1.0 - fpr) / 2.0


def dprime(conf: np.ndarray, clip: float = DPRIME_CLIP) -> np.ndarray:
    """Per class Φ⁻¹(TPR) − Φ⁻¹(FPR), clipped to ±clip (each Φ⁻¹ is clipped first, so rates of 0 or 1
    give finite values and TPR = FPR = 1 gives 0 rather than inf − inf)."""
    tpr, fpr = rates(conf)
    z = lambda p: np.clip(gaussian.ppf(p), -clip, clip)  # rates of 0 or 1: ±inf -> ±clip
    return np.clip(z(tpr) - z(fpr), -clip, clip)


# ------------------------------------------------------------------------------------------- classifiers
class Conv1DClassifier(ClassifierMixin, BaseEstimator):
    """The paper's Conv1D "MLP" in PyTorch: a temporal Conv1d (``filters``, ``kernel``, ``stride``, valid
    padding, ReLU) over the n_obs + 3 channels, pooling over time (``flatten``, ``max`` or ``avg``) and a
    linear read-out; softmax cross-entropy plus L2 ``weight_decay`` on the weights, Adam(``lr``) full batch
    for ``epochs`` epochs, Glorot-uniform initialisation. Takes the flattened design matrix of
    :func:`features` and reshapes it with ``n_times``."""

    def __init__(self, n_times=21, filters=20, kernel=6, stride=1, pool="avg", lr=1e-3, weight_decay=1e-4, epochs=100, seed=0):
        self.n_times, self.filters, self.kernel, self.stride, self.pool = n_times, filters, kernel, stride, pool
        self.lr, self.weight_decay, self.epochs, self.seed = lr, weight_decay, epochs, seed

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        pos, traj = X[:, : len(POSITIONS)], X[:, len(POSITIONS) :]
        traj = traj.reshape(len(X), -1, self.n_times)
        pos = np.repeat(pos[:, :, None], self.n_times, axis=2)
        return torch.as_tensor(np.concatenate([traj, pos], axis=1), dtype=torch.float32)

    def _net(self, channels: int, n_classes: int) -> torch.nn.Module:
        kernel = min(int(self.kernel), self.n_times)
        conv = torch.nn.Conv1d(channels, int(self.filters), kernel, stride=int(self.stride))
        steps = (self.n_times - kernel) // int(self.stride) + 1
        pools = {"flatten": torch.nn.Flatten(), "max": torch.nn.AdaptiveMaxPool1d(1), "avg": torch.nn.AdaptiveAvgPool1d(1)}
        width = int(self.filters) * (steps if self.pool == "flatten" else 1)
        net = torch.nn.Sequential(conv, torch.nn.ReLU(), pools[self.pool], torch.nn.Flatten(), torch.nn.Linear(width, n_classes))
        for m in net:
            if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear)):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)
        return net

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        self.classes_, yi = np.unique(y, return_inverse=True)
        x = self._tensor(X)
        self.net_ = self._net(x.shape[1], len(self.classes_))
        target = torch.as_tensor(yi)
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        weights = [m.weight for m in self.net_ if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
        for _ in range(int(self.epochs)):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(self.net_(x), target) + self.weight_decay * sum((w**2).sum() for w in weights)
            loss.backward()
            opt.step()
        return self

    def predict(self, X):
        with torch.no_grad():
            return self.classes_[self.net_(self._tensor(X)).argmax(1).numpy()]


def make_classifier(name: str, n_times: int, seed: int = 0) -> BaseEstimator:
    if name == "rf":
        return RandomForestClassifier(random_state=seed, n_jobs=1)
    if name == "svm":
        return LinearSVC(dual="auto", max_iter=5000, random_state=seed)
    if name == "svm_pca":
        return Pipeline([("pca", PCA(random_state=seed)), ("svm", LinearSVC(dual="auto", max_iter=5000, random_state=seed))])
    if name == "conv1d":
        return Conv1DClassifier(n_times=n_times, seed=seed)
    raise ConfigError(f"identify_rules: classifier {name!r} is not known (allowed: rf, svm, svm_pca, conv1d)")


def _grid(name: str, grid: dict) -> dict:
    """Params grid in sklearn's naming (the PCA pipeline's keys get their step prefix)."""
    if name == "svm_pca":
        return {("pca__n_components" if k == "n_components" else f"svm__{k}"): list(v) for k, v in grid.items()}
    return {k: list(v) for k, v in grid.items()}


def fit_split(name: str, grid: dict, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, n_times: int, folds: int, seed: int) -> dict:
    """One split: z-score on train, grid search with stratified ``folds``-fold CV (skipped for a single
    configuration), refit the best, predict the test items."""
    torch.set_num_threads(1)
    with threadpool_limits(1):  # one BLAS thread per split: the splits run in parallel
        return _fit_split(name, grid, X, y, train, test, n_times, folds, seed)


def _fit_split(name: str, grid: dict, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, n_times: int, folds: int, seed: int) -> dict:
    xtr, xte = zscore(X[train], X[test])
    est = make_classifier(name, n_times, seed)
    grid = _grid(name, grid)
    if name == "svm_pca":
        cap = min(len(train) - len(train) // folds, xtr.shape[1])
        grid["pca__n_components"] = sorted({min(int(n), cap) for n in grid["pca__n_components"]})
    if np.prod([len(v) for v in grid.values()]) > 1:
        search = GridSearchCV(est, grid, cv=StratifiedKFold(folds, shuffle=True, random_state=seed), n_jobs=1, refit=True)
        search.fit(xtr, y[train])
        model, best = search.best_estimator_, search.best_params_
    else:
        model = est.set_params(**{k: v[0] for k, v in grid.items()}).fit(xtr, y[train])
        best = {k: v[0] for k, v in grid.items()}
    pred = model.predict(xte)
    importances = getattr(model, "feature_importances_", None)
    return {"pred": pred, "best": best, "importances": importances}


def evaluate(name: str, grid: dict, X: np.ndarray, y: np.ndarray, splits, n_times: int, folds: int, threads: int, seed: int = 0) -> list[dict]:
    """Fit every split (joblib, ``threads`` workers) and score it: per split accuracy, mean balanced
    accuracy, mean d', the confusion matrix (rows true) and RF importances where the model has them."""
    from joblib import Parallel, delayed

    n_classes = int(y.max()) + 1
    fits = Parallel(n_jobs=threads)(delayed(fit_split)(name, grid, X, y, tr, te, n_times, folds, seed + i) for i, (tr, te) in enumerate(splits))
    rows = []
    for i, ((_, te), fit) in enumerate(zip(splits, fits)):
        conf = confusion(y[te], fit["pred"], n_classes)
        rows.append(
            {
                "split": i,
                "accuracy": float(np.trace(conf) / conf.sum()),
                "balanced_accuracy": float(np.nanmean(balanced_accuracy(conf))),
                "dprime": float(np.nanmean(dprime(conf))),
                "confusion": conf,
                "best": fit["best"],
                "importances": fit["importances"],
            }
        )
    return rows


# ------------------------------------------------------------------------------------------- experiments
class Study:
    """The observables dataset (one file, or several merged) with labels, positions and network
    configurations, ready to classify."""

    def __init__(self, path: str | Path | list, options: dict):
        d = read_datasets(path if isinstance(path, (list, tuple)) else [path])
        self.X, self.meta, self.variants = d["X"], d["meta"], d["variants"]
        self.rules = list(options["rules"])
        unknown = sorted(set(self.meta["rule"]) - set(self.rules))
        if unknown:
            raise ConfigError(f"identify_rules: rules {unknown} in the dataset are not in identify_rules.classify.rules {self.rules}")
        self.y = np.array([self.rules.index(r) for r in self.meta["rule"]])
        self.position = self.meta["position"].astype(int)
        m = self.meta
        self.configs = np.array([f"{a}|{t}|{b}|{s}|{ds}" for a, t, b, s, ds in zip(m["arch"], m["task"], m["batch_size"], m["seed"], m["data_seed"])])
        weights = [OBS_KEYS.index(k) for k in FEATURE_SETS["weights"]]
        self.init_groups = initialisation_groups(self.X["clean"][:, 0, weights], m["network"])
        self.n_times = self.X["clean"].shape[1]
        self.opt = options
        self.threads = int(options.get("threads", 1))

    def design(self, feature_set: str, variant: str = "clean", times=None) -> np.ndarray:
        return features(self.X[variant], self.position, FEATURE_SETS[feature_set], times)

    def score(self, classifier: str, grid: dict, X: np.ndarray, splits, n_times: int, y: np.ndarray | None = None, **labels) -> list[dict]:
        y = self.y if y is None else y
        rows = evaluate(classifier, grid, X, y, splits, n_times, int(self.opt["folds"]), self.threads)
        return [{**labels, "classifier": classifier, **r} for r in rows]

    def layer_splits(self, n: int | None = None, labels: np.ndarray | None = None):
        y = self.y if labels is None else labels
        return balanced_splits(y, n or int(self.opt["splits"]), float(self.opt["test_fraction"]), int(self.opt["split_seed"]))

    def network_splits(self, keep: np.ndarray | None = None):
        """Splits holding out whole initialisation groups (of the rows ``keep``, default all)."""
        groups = self.init_groups if keep is None else self.init_groups[keep]
        return network_splits(self.y, groups, int(self.opt["splits"]), float(self.opt["test_fraction"]), int(self.opt["split_seed"]))

    def shuffled(self) -> np.ndarray:
        return shuffled_labels(self.y, self.configs, self.meta["network"], int(self.opt["split_seed"]))


def exp_accuracy(s: Study) -> list[dict]:
    """Fig. 2: every classifier (its grid) x feature set, layer-level splits; RF on all statistics with
    the network-level split (whole initialisations held out); the negative control: RF (its grid) on
    every feature set, and the linear SVMs on all statistics, with the networks' labels shuffled within
    each configuration (split_kind ``shuffled_labels``, layer-level splits of the shuffled labels)."""
    rows = []
    splits = s.layer_splits()
    for clf, grid in s.opt["classifiers"].items():
        for fs in FEATURE_SETS:
            rows += s.score(clf, grid, s.design(fs), splits, s.n_times, feature_set=fs, split_kind="layer", condition="full")
    rf = s.opt["classifiers"]["rf"]
    if len(np.unique(s.init_groups)) >= 2:
        rows += s.score("rf", rf, s.design("all"), s.network_splits(), s.n_times, feature_set="all", split_kind="network", condition="full")
    else:
        print("identify_rules: the dataset holds one initialisation; no network-level split", file=sys.stderr)
    fake = s.shuffled()
    fake_splits = s.layer_splits(labels=fake)
    for fs in FEATURE_SETS:
        rows += s.score("rf", rf, s.design(fs), fake_splits, s.n_times, y=fake, feature_set=fs, split_kind="shuffled_labels", condition="full")
    for clf in ("svm", "svm_pca"):  # the control of RF − linear SVM: the same difference on the shuffled labels
        if clf in s.opt["classifiers"]:
            rows += s.score(clf, s.opt["classifiers"][clf], s.design("all"), fake_splits, s.n_times, y=fake, feature_set="all", split_kind="shuffled_labels", condition="full")
    return rows + accuracy_floor_rows(s)


def accuracy_floor_rows(s: Study) -> list[dict]:
    """Confound control: RF (its grid) on all statistics, layer-level splits, on the networks whose final
    test accuracy reaches ``classify.accuracy_floor`` only (split_kind ``accuracy_floor``), so the rule is
    not told by how well a network trained. None when a rule has too few such layers for a split."""
    floor = s.opt.get("accuracy_floor")
    if floor is None:
        return []
    pool = s.meta["test_acc"] >= float(floor)
    try:
        splits = balanced_splits(s.y, int(s.opt["splits"]), float(s.opt["test_fraction"]), int(s.opt["split_seed"]), pool=pool)
    except ConfigError:
        return []
    return s.score("rf", s.opt["classifiers"]["rf"], s.design("all"), splits, s.n_times, feature_set="all", split_kind="accuracy_floor", condition=f"test_acc >= {floor}")


def exp_importance(s: Study) -> list[dict]:
    """Fig. 3: fixed RF on all admissible statistics; importances summed over the time columns."""
    rows = s.score("rf", s.opt["fixed_rf"], s.design("all"), s.layer_splits(int(s.opt["ablation_splits"])), s.n_times, feature_set="all", split_kind="layer", condition="full")
    names = list(POSITIONS) + [k for k in FEATURE_SETS["all"] for _ in range(s.n_times)]
    for r in rows:
        imp = pd.Series(r["importances"], index=names).groupby(level=0, sort=False).sum()
        r["importances"] = imp.to_dict()
    return rows


def access_conditions(n_times: int, window: int) -> dict[str, list[int]]:
    """Trajectory access: the full trajectory, sparse subsamplings of all of it, contiguous windows, and
    ``spread <window>``: as many points as a window, spread evenly over all of learning (the control of
    the early-window claim: fewer points, but not early ones)."""
    last = n_times - 1
    spread = sorted({int(round(t)) for t in np.linspace(0, last, min(window, n_times))})
    return {
        "full": list(range(n_times)),
        "every 2nd": list(range(0, n_times, 2)),
        "every 4th": list(range(0, n_times, 4)),
        "every 10th": list(range(0, n_times, 10)),
        "endpoints": [0, last],
        f"spread {window}": spread,
        f"first {window}": list(range(window)),
        f"middle {window}": list(range((n_times - window) // 2, (n_times - window) // 2 + window)),
        f"last {window}": list(range(n_times - window, n_times)),
        "final only": [last],
        "init only": [0],
    }


def exp_access(s: Study) -> list[dict]:
    """Fig. 4: fixed RF on all statistics, restricted to time points."""
    rows = []
    splits = s.layer_splits(int(s.opt["ablation_splits"]))
    for cond, times in access_conditions(s.n_times, int(s.opt["window"])).items():
        rows += s.score("rf", s.opt["fixed_rf"], s.design("all", times=times), splits, len(times), feature_set="all", split_kind="layer", condition=cond)
    return rows


def exp_robustness(s: Study) -> list[dict]:
    """Fig. 5: fixed RF per measure on every measurement variant (unit subsampling, noise); the negative
    control: weights and activations on every variant with the networks' labels shuffled within each
    configuration (split_kind ``shuffled_labels``: no rule information, so no drop to compare)."""
    rows = []
    n = int(s.opt["ablation_splits"])
    splits = s.layer_splits(n)
    fake = s.shuffled()
    fake_splits = s.layer_splits(n, labels=fake)
    for variant in s.variants:
        for fs in ("weights", "activations", "activity_change"):
            rows += s.score("rf", s.opt["fixed_rf"], s.design(fs, variant), splits, s.n_times, feature_set=fs, split_kind="layer", condition=variant)
        for fs in ("weights", "activations"):
            rows += s.score("rf", s.opt["fixed_rf"], s.design(fs, variant), fake_splits, s.n_times, y=fake, feature_set=fs, split_kind="shuffled_labels", condition=variant)
    return rows


def exp_generalisation(s: Study) -> list[dict]:
    """Fig. 6: fixed RF on all statistics, trained without one architecture group (or task), tested on it.
    Groups none of whose architectures is in the dataset are skipped. The negative control: the same
    held-out-architecture splits with the networks' labels shuffled within each configuration (split_kind
    ``shuffled_labels``)."""
    rows = []
    n = int(s.opt["ablation_splits"])
    X = s.design("all")
    fake = s.shuffled()
    for label, archs in s.opt["heldout_architectures"].items():
        held = np.isin(s.meta["arch"], archs)
        if not held.any():  # a tier that trains fewer architectures (override files merge mappings)
            continue
        rows += s.score("rf", s.opt["fixed_rf"], X, transfer_splits(s.y, ~held, held, n), s.n_times, feature_set="all", split_kind="heldout_architecture", condition=label)
        rows += s.score("rf", s.opt["fixed_rf"], X, transfer_splits(fake, ~held, held, n), s.n_times, y=fake, feature_set="all", split_kind="shuffled_labels", condition=label)
    for task in np.unique(s.meta["task"]):
        held = s.meta["task"] == task
        rows += s.score("rf", s.opt["fixed_rf"], X, transfer_splits(s.y, ~held, held, n), s.n_times, feature_set="all", split_kind="heldout_task", condition=str(task))
    return rows


def shared_architectures(y: np.ndarray, arch: np.ndarray) -> np.ndarray:
    """Rows whose architecture every class (rule) has rows of: a rule trained on fewer architectures
    (predictive coding: MLPs only) must not be identifiable by its architecture."""
    classes = np.unique(y)
    common = [a for a in np.unique(arch) if all(((arch == a) & (y == c)).any() for c in classes)]
    keep = np.isin(arch, common)
    if not keep.any():
        raise ConfigError("rule classification: no architecture was trained with every rule")
    return keep


def exp_classes(s: Study) -> list[dict]:
    """Cross-study (learnscope's own; issue 10): the rules of ``classify.rules`` (e.g. the study's four and
    predictive coding) as classes; RF with its grid on every feature set, layer-level splits, on the rows
    of the architectures every rule was trained on; and on all statistics the network-level split (whole
    initialisations held out, as identify_rules' control)."""
    keep = shared_architectures(s.y, s.meta["arch"])
    y = s.y[keep]
    layer = balanced_splits(y, int(s.opt["splits"]), float(s.opt["test_fraction"]), int(s.opt["split_seed"]))
    runs = [(fs, "layer", layer) for fs in FEATURE_SETS]
    if len(np.unique(s.init_groups[keep])) >= 2:  # one initialisation (e.g. one seed of one MLP): no such split
        runs.append(("all", "network", s.network_splits(keep)))
    else:
        print("identify_pc: the shared architectures hold one initialisation; no network-level split", file=sys.stderr)
    rows = []
    for fs, kind, splits in runs:
        fits = evaluate("rf", s.opt["classifiers"]["rf"], s.design(fs)[keep], y, splits, s.n_times, int(s.opt["folds"]), s.threads)
        rows += [{"feature_set": fs, "split_kind": kind, "condition": "shared_architectures", "classifier": "rf", **r} for r in fits]
    return rows


EXPERIMENTS = {
    "accuracy": exp_accuracy,
    "importance": exp_importance,
    "access": exp_access,
    "robustness": exp_robustness,
    "generalisation": exp_generalisation,
    "classes": exp_classes,
}


def to_table(rows: list[dict], rules: list[str]) -> pd.DataFrame:
    """One row per (condition, split): scores, the confusion matrix as ``conf_<true>_<pred>`` columns,
    the chosen configuration and, for importances, ``imp_<feature>`` columns."""
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("confusion", "best", "importances")}
        row["best"] = ";".join(f"{k}={v}" for k, v in sorted(r["best"].items()))
        for (i, a), (j, b) in itertools.product(enumerate(rules), repeat=2):
            row[f"conf_{a}_{b}"] = r["confusion"][i, j]
        if isinstance(r.get("importances"), dict):
            row.update({f"imp_{k}": v for k, v in r["importances"].items()})
        out.append(row)
    return pd.DataFrame(out)


def main(inputs: list[str], out: str, options: dict) -> None:
    """``learnscope analyze rule-classifiers``: inputs the observables file(s), merged when several (e.g.
    identify_rules' and the cross-study's extra rules); ``options.experiment`` names the experiment
    (accuracy, importance, access, robustness, generalisation, classes)."""
    if not inputs:
        raise ConfigError("rule-classifiers needs an observables file, e.g. results/identify_rules/observables.h5")
    exp = options.get("experiment")
    if exp not in EXPERIMENTS:
        raise ConfigError(f"rule-classifiers: experiment {exp!r} is not known (allowed: {', '.join(EXPERIMENTS)})")
    study = Study(list(inputs), options)
    table = to_table(EXPERIMENTS[exp](study), study.rules)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.9g")
