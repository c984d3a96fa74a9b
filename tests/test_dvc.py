"""DVC for a second user: claims as metrics (`dvc metrics diff`, `dvc exp show`), figures as image plots
(`dvc plots diff`), raw datasets as imports of the official archives (`dvc pull` / `dvc update`, offline
against a local HTTP server), and a dry run in a fresh clone. The published lock (`make publish`, then a
fresh clone's `dvc pull`) is tested on the smoke build in tests/test_workflow.py."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import BIN, REPO, make_project

STUDIES = ["rule_zoo", "prospective_configuration", "neural_mechanics", "shared_geometry", "robust_rnn", "identify_rules", "cross_study"]
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1", "PYTHONPATH": str(REPO / "src")}


def sh(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(list(cmd), cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh(cwd, str(BIN / "dvc"), *args, check=check)


def commit(cwd: Path, message: str) -> None:
    sh(cwd, "git", "add", "-A")
    sh(cwd, "git", "-c", "user.name=t", "-c", "user.email=t@learnscope.invalid", "commit", "-qm", message)


def dvc_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    sh(root, "git", "init", "-q")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    return root


def claim(id: str, value: float, threshold: float) -> dict:
    """A contract-v2 claim whose negative control (value 0.0) fails."""
    return {"id": id, "figure": id.split(".")[1], "claim": f"{id} above {threshold}", "kind": "claim",
            "source": "learnscope", "source_ref": None, "value": value, "threshold": threshold, "spread": None,
            "control": {"description": "shuffled", "value": 0.0, "pass": False}, "gated": True, "pass": value >= threshold}


# ------------------------------------------------------------------------------------------- metrics


def test_claims_merge_writes_one_metrics_mapping_per_study(tmp_path):
    rows = [claim("s.a.x", 0.9, 0.5), claim("s.b.y", 0.1, 0.5)]
    for r in rows:
        (tmp_path / f"{r['figure']}.json").write_text(json.dumps([r]))
    sh(tmp_path, str(BIN / "learnscope"), "claims", "merge", "--inputs", "a.json", "b.json", "--out", "claims.json",
       "--metrics-out", "metrics.json")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    control = {"control_value": 0.0, "control_pass": False}
    assert metrics == {"claims": {
        "s.a.x": {"value": 0.9, "threshold": 0.5, "spread": None, "gated": True, "pass": True, **control},
        "s.b.y": {"value": 0.1, "threshold": 0.5, "spread": None, "gated": True, "pass": False, **control},
    }, "checks": {}}
    assert json.loads((tmp_path / "claims.json").read_text()) == rows


STAGE_SCRIPT = """import json, sys, yaml
p = yaml.safe_load(open("params.yaml"))
rows = [{"id": f"toy.fig.{k}", "figure": "fig", "claim": k, "kind": "check", "source": "learnscope", "source_ref": None,
         "value": v, "threshold": p["threshold"], "spread": None, "control": None,
         "gated": True, "pass": v >= p["threshold"]} for k, v in p["values"].items()]
json.dump(rows, open("fig.json", "w"))
"""


def toy_claims_repo(root: Path) -> Path:
    """A DVC repo whose one stage writes claims the way the workflow does (claims merge --metrics-out) and
    declares the metrics file as a study stage does (cache: false, in git)."""
    repo = dvc_repo(root)
    (repo / "make_claims.py").write_text(STAGE_SCRIPT)
    (repo / "params.yaml").write_text(yaml.safe_dump({"threshold": 0.5, "values": {"a": 0.9, "b": 0.7, "c": 0.2}}))
    real = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["rule_zoo"]["metrics"]
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"toy": {
        "cmd": f"{sys.executable} make_claims.py && learnscope claims merge --inputs fig.json --out claims.json "
               "--metrics-out metrics/toy.json",
        "deps": ["make_claims.py"], "params": ["threshold", "values"],
        "outs": [{"claims.json": {"cache": False}}],
        "metrics": [{"metrics/toy.json": real[0]["metrics/rule_zoo.json"]}],
    }}}))
    (repo / "metrics").mkdir()
    dvc(repo, "repro")
    commit(repo, "first build")
    return repo


def test_dvc_metrics_diff_and_exp_show_compare_claims(tmp_path):
    repo = toy_claims_repo(tmp_path / "toy")
    shown = json.loads(dvc(repo, "metrics", "show", "--json").stdout)
    assert shown[""]["data"]["metrics/toy.json"]["data"]["checks"]["toy.fig.a"]["value"] == 0.9

    # a second build in which claim b's value changes and claim c's verdict flips; a's does not change
    (repo / "params.yaml").write_text(yaml.safe_dump({"threshold": 0.5, "values": {"a": 0.9, "b": 0.6, "c": 0.8}}))
    dvc(repo, "repro")
    commit(repo, "second build")
    diff = json.loads(dvc(repo, "metrics", "diff", "HEAD~1", "HEAD", "--json").stdout)["metrics/toy.json"]
    assert diff["checks.toy.fig.b.value"]["old"] == 0.7 and diff["checks.toy.fig.b.value"]["new"] == 0.6
    assert (diff["checks.toy.fig.c.pass"]["old"], diff["checks.toy.fig.c.pass"]["new"]) == (False, True)
    assert not any(k.startswith("checks.toy.fig.a.") for k in diff), diff

    # an experiment that moves the threshold: its claims are columns of `dvc exp show`
    dvc(repo, "exp", "run", "-S", "threshold=0.85", "-n", "strict")
    exps = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    runs = [e for rev in exps for e in (rev.get("experiments") or [])]
    strict = [r for r in runs if r.get("name") == "strict"]
    assert strict, exps
    data = strict[0]["revs"][0]["data"]
    metrics = data["metrics"]["metrics/toy.json"]["data"]["checks"]
    assert metrics["toy.fig.a"]["pass"] is True and metrics["toy.fig.b"]["pass"] is False
    assert metrics["toy.fig.b"]["threshold"] == 0.85


def test_every_study_stage_declares_its_claims_as_git_tracked_metrics():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for study in STUDIES:
        assert stages[study]["metrics"] == [{f"metrics/{study}.json": {"cache": False, "persist": True}}], study
        outs = [next(iter(o)) if isinstance(o, dict) else o for o in stages[study]["outs"]]
        assert f"results/{study}" in outs and f"figures/{study}" in outs, (study, outs)
    # the workflow writes exactly that file, and git does not ignore it
    rules = (REPO / "workflow/rules/figures.smk").read_text()
    assert 'metrics=f"{FIG_TIER.metrics}/{{study}}.json"' in rules and "--metrics-out {output.metrics}" in rules
    from learnscope.config import load_params
    from learnscope.tiers import roots

    assert roots(load_params(REPO / "params.yaml")).metrics == "metrics"   # the default tier's: metrics/<study>.json
    ignored = subprocess.run(["git", "check-ignore", "-q", "metrics/rule_zoo.json"], cwd=REPO)
    assert ignored.returncode == 1


def test_no_stage_depends_on_another_stages_outputs():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    outs = {next(iter(o)) if isinstance(o, dict) else o for s in stages.values() for o in s.get("outs", [])}
    for name, stage in stages.items():
        for dep in stage.get("deps", []):
            assert not any(dep == o or dep.startswith(o + "/") or o.startswith(dep + "/") for o in outs), (name, dep)


def test_dvc_repro_dry_runs_in_a_fresh_clone(tmp_path):
    project = make_project(tmp_path)
    assert not project.path("data/prepared").exists()
    res = project.dvc("repro", "--dry")
    out = res.stdout + res.stderr
    for stage in ["data", "runs", *STUDIES, "all"]:
        assert f"Running stage '{stage}'" in out, out[-3000:]
    assert not project.path("data/prepared").exists() and not project.path("results/runs").exists()


# ------------------------------------------------------------------------------------------- plots


def png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def test_dvc_plots_diff_renders_the_figures_of_two_revisions(tmp_path):
    repo = dvc_repo(tmp_path / "toy")
    real = yaml.safe_load((REPO / "dvc.yaml").read_text())["plots"]
    assert "figures/rule_zoo/learning_curves.png" in real
    (repo / "figures/rule_zoo").mkdir(parents=True)
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"plots": ["figures/rule_zoo/learning_curves.png"]}))
    for i, color in enumerate([(255, 0, 0), (0, 0, 255)]):
        (repo / "figures/rule_zoo/learning_curves.png").write_bytes(png(color))
        commit(repo, f"build {i}")
    out = json.loads(dvc(repo, "plots", "diff", "HEAD~1", "HEAD", "--json").stdout)
    images = out["data"]["figures/rule_zoo/learning_curves.png"]
    assert sorted(i["revisions"][0] for i in images) == ["HEAD", "HEAD~1"], images
    assert all(i["type"] == "image" for i in images)
    html = dvc(repo, "plots", "diff", "HEAD~1", "HEAD", "-o", "plots")
    page = (repo / "plots/index.html").read_text()
    assert page.count("<img") == 2, html.stdout


# ------------------------------------------------------------------------------------------- raw data

# the published md5 sums, from torchvision's own dataset tables (an independent source)
def published_md5s() -> dict[str, str]:
    import torchvision.datasets as tvd

    md5 = {f"MNIST/raw/{f}": m for f, m in tvd.MNIST.resources}
    md5 |= {f"FashionMNIST/raw/{f}": m for f, m in tvd.FashionMNIST.resources}
    md5 |= {tvd.CIFAR10.filename: tvd.CIFAR10.tgz_md5, tvd.CIFAR100.filename: tvd.CIFAR100.tgz_md5}
    return md5


def test_committed_raw_imports_name_the_official_archives_and_their_published_md5s():
    files = sorted((REPO / "data/raw").glob("*.dvc"))
    imports = {}
    for f in files:
        spec = yaml.safe_load(f.read_text())
        assert spec["frozen"] is True, f      # `dvc repro` never re-downloads; `dvc update` does
        (dep,), (out,) = spec["deps"], spec["outs"]
        assert dep["path"].startswith("http"), f
        imports[out["path"]] = out["md5"]
        assert subprocess.run(["git", "check-ignore", "-q", str(f)], cwd=REPO).returncode == 1, f
    for path, md5 in published_md5s().items():
        assert imports.pop(path) == md5, path
    assert imports == {"tiny-imagenet-200.zip": "90528d7ca1a48142e341f4ef8d21d0de"}


def idx(data: np.ndarray) -> bytes:
    """An idx file (LeCun's MNIST format): magic 0x08 (ubyte) + ndim, big-endian dims, then the bytes."""
    head = bytes([0, 0, 0x08, data.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in data.shape)
    return gzip.compress(head + data.astype(np.uint8).tobytes())


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def small_archives(rng: np.random.Generator) -> tuple[dict[str, bytes], dict]:
    """The official archives' formats at a few items each, and what the readers must get from them."""
    files, truth = {}, {}
    for name in ("MNIST", "FashionMNIST"):
        x = {s: rng.integers(0, 256, (n, 28, 28)) for s, n in (("train", 3), ("t10k", 2))}
        y = {s: rng.integers(0, 10, len(x[s])) for s in x}
        for s in x:
            files[f"{name}/raw/{s}-images-idx3-ubyte.gz"] = idx(x[s])
            files[f"{name}/raw/{s}-labels-idx1-ubyte.gz"] = idx(y[s])
        truth[name] = (x["train"], y["train"])
    batch = lambda n: {"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8), "labels": [int(v) for v in rng.integers(0, 10, n)]}
    batches = {f"data_batch_{i}": batch(2) for i in range(1, 6)} | {"test_batch": batch(2)}
    files["cifar-10-python.tar.gz"] = tar_gz({f"cifar-10-batches-py/{k}": pickle.dumps(v) for k, v in batches.items()})
    truth["cifar10"] = batches["data_batch_1"]["data"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("tiny-imagenet-200/wnids.txt", "n01\nn02\n")
        for w in ("n01", "n02"):
            z.writestr(f"tiny-imagenet-200/train/{w}/images/{w}_0.JPEG", jpeg(rng))
        z.writestr("tiny-imagenet-200/val/images/val_0.JPEG", jpeg(rng))
        z.writestr("tiny-imagenet-200/val/val_annotations.txt", "val_0.JPEG\tn02\t0\t0\t63\t63\n")
    files["tiny-imagenet-200.zip"] = buf.getvalue()
    return files, truth


def jpeg(rng: np.random.Generator) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


class Server:
    """A static file server on 127.0.0.1 (an ephemeral port) that sends an ETag (the content's md5), as
    the archives' hosts do; DVC records it to tell whether the source changed."""

    def __init__(self, root: Path):
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def end_headers(self):
                path = Path(self.translate_path(self.path))
                if path.is_file():
                    self.send_header("ETag", f'"{hashlib.md5(path.read_bytes()).hexdigest()}"')
                super().end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def test_raw_imports_pull_from_the_remote_and_update_from_the_source(tmp_path):
    files, truth = small_archives(np.random.default_rng(0))
    site = tmp_path / "site"
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    repo = dvc_repo(tmp_path / "maintainer")
    (repo / ".gitignore").write_text((REPO / ".gitignore").read_text())
    dvc(repo, "remote", "add", "-d", "team", str(tmp_path / "remote"))
    (repo / "data/raw").mkdir(parents=True)
    with Server(site) as server:
        for rel in files:
            # the committed files' form: --no-exec (no download), one .dvc per archive beside data/raw
            name = rel.replace("/raw/", "-").replace("/", "-")
            dvc(repo, "import-url", "--no-exec", f"{server.url}/{rel}", f"data/raw/{Path(rel).name}")
            made = repo / f"data/raw/{Path(rel).name}.dvc"
            spec = yaml.safe_load(made.read_text())
            spec["outs"][0]["path"] = rel
            made.unlink()
            (repo / f"data/raw/{name}.dvc").write_text(yaml.safe_dump(spec))
        # the maintainer fetches from the source once and fills in the hashes, then pushes
        dvc(repo, "update", *[str(p) for p in sorted((repo / "data/raw").glob("*.dvc"))])
        for rel, data in files.items():
            assert (repo / "data/raw" / rel).read_bytes() == data
        recorded = {yaml.safe_load(p.read_text())["outs"][0]["path"]: yaml.safe_load(p.read_text())["outs"][0]["md5"]
                    for p in (repo / "data/raw").glob("*.dvc")}
        assert recorded == {rel: hashlib.md5(data).hexdigest() for rel, data in files.items()}
        # a plain `dvc push` skips import-url outputs in DVC 3.67 ("Everything is up to date"): name them
        dvc(repo, "push", *[str(p) for p in sorted((repo / "data/raw").glob("*.dvc"))])
        commit(repo, "raw datasets")

    # a newcomer, with the source gone: `dvc pull` gets the archives from the team remote
    clone = tmp_path / "newcomer"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    # named, as docs/dvc.md says: a plain `dvc pull` skips import-url outputs in DVC 3.67
    dvc(clone, "pull", *[str(p) for p in sorted((clone / "data/raw").glob("*.dvc"))])
    for rel, data in files.items():
        assert (clone / "data/raw" / rel).read_bytes() == data, rel
    # unpacked as docs/dvc.md says, the project's readers load them
    raw = clone / "data/raw"
    sh(raw, "gunzip", "-k", *[str(p) for p in raw.glob("*/raw/*.gz")])
    sh(raw, "tar", "-xzf", "cifar-10-python.tar.gz")
    sh(raw, "python", "-c", "import zipfile; zipfile.ZipFile('tiny-imagenet-200.zip').extractall('.')")
    from learnscope.data import tiny_imagenet, torchvision_sets

    for name, reader in (("MNIST", torchvision_sets.mnist), ("FashionMNIST", torchvision_sets.fashion_mnist)):
        _, _, x_tr, y_tr, _, _ = reader({"root": str(raw)})
        assert np.array_equal(x_tr[:, 0] * 255, truth[name][0].astype(np.float32))
        assert np.array_equal(y_tr, truth[name][1])
    _, _, x_tr, _, _, _ = torchvision_sets.cifar10({"root": str(raw)})
    assert np.allclose(x_tr[:2].reshape(2, -1) * 255, truth["cifar10"])
    _, n_classes, x_tr, y_tr, x_te, y_te = tiny_imagenet.load({"root": str(raw)})
    assert x_tr.shape == (2, 3, 64, 64) and list(y_te) == [1]

    # the source publishes a new version: `dvc update` fetches it and records its hash
    new = idx(np.arange(10) % 10)
    (site / "MNIST/raw/t10k-labels-idx1-ubyte.gz").write_bytes(new)
    with Server(site) as server:
        dvc_file = repo / "data/raw/MNIST-t10k-labels-idx1-ubyte.gz.dvc"
        spec = yaml.safe_load(dvc_file.read_text())
        port_old = spec["deps"][0]["path"].split("/")[2]
        spec["deps"][0]["path"] = spec["deps"][0]["path"].replace(port_old, server.url.split("/")[2])
        dvc_file.write_text(yaml.safe_dump(spec))
        dvc(repo, "update", str(dvc_file))
    assert yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"] == hashlib.md5(new).hexdigest()
    assert (repo / "data/raw/MNIST/raw/t10k-labels-idx1-ubyte.gz").read_bytes() == new
