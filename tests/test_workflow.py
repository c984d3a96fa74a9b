"""The pipeline as a user runs it: Snakemake memoization (the four caching behaviours), bad params,
diverged runs, the report, lint, and DVC (repro twice, push / pull). Each runs on config/smoke.yaml in a
temporary copy of the project with its own output cache. The smoke tier writes its own tree (results/smoke/,
figures/smoke/ with its index figures/smoke/all, data/smoke/prepared/, logs/smoke/: learnscope.tiers)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import BIN, Project, job_counts, make_project
from learnscope.claims import KEYS

pytestmark = pytest.mark.integration

SMOKE = ("--configfile", "config/smoke.yaml")
INDEX = "figures/smoke/all"   # the smoke tier's index (figures/all is the default tier's)
# what a change to the rule zoo re-renders downstream in the cross-rule study: its figures, claims, index
# and findings, and whichever of its analyses read the rule zoo's runs -- never any training
CROSS_STUDY_RERENDER = {"figure", "study_claims", "study_index", "cross_study_findings"}


def only_rerenders(cross: dict[str, int]) -> bool:
    return CROSS_STUDY_RERENDER <= set(cross) and all(r in CROSS_STUDY_RERENDER or r.startswith("cross_study_") for r in cross)


def dry_run(project: Project, *extra: str) -> dict[str, int]:
    res = project.snakemake("-n", INDEX if extra else "figures/all", *extra)
    return job_counts(res.stdout + res.stderr)


def planned_by_study(project: Project, *extra: str) -> tuple[dict[str, int], dict[str, int]]:
    """A dry run of the smoke tier's index split into (jobs outside the cross-rule study, its jobs), each {rule: count}.

    cross_study reads other studies' runs and claims (the atlas tabulates the rule zoo's test accuracy), so
    a change there rightly re-renders its figures too; the tests pin the first part exactly and require the
    second to be only cross_study's analysis / figure / claims / index / findings jobs (`cross_study_*` rules
    or the generic rules with study=cross_study)."""
    res = project.snakemake("-n", INDEX, *extra)
    own: dict[str, int] = {}
    cross: dict[str, int] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", res.stdout + res.stderr)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)
        study = re.search(r"wildcards:.*?\bstudy=(\w+)", block)
        target = cross if rule.startswith("cross_study_") or (study and study.group(1) == "cross_study") else own
        target[rule] = target.get(rule, 0) + 1
    return own, cross


def n_runs(project: Project) -> int:
    return len(list(project.path("results/smoke/runs").glob("*.h5")))


def smoke_params(project: Project) -> dict:
    from learnscope.config import load_params

    return load_params(project.path("params.yaml"), [project.path("config/smoke.yaml")])


def zoo_adam_runs(params: dict) -> tuple[int, int]:
    """(training runs, RNN measurement jobs) that use the rule zoo's adam settings: the zoo's own seeds and its
    shuffled-label control's, and the cross-rule study's runs of every zoo rule with the zoo's settings
    (conservation's models, the RNN task of the dimensionality figure)."""
    cs = params["cross_study"]
    conservation = sum("adam" not in m.get("exclude_rules", []) for m in cs["conservation"]["models"].values()) * len(cs["conservation"]["seeds"])
    rnn = len(cs["dimensionality"]["rnn"]["seeds"]) if "adam" in cs["dimensionality"]["rnn"]["rules"] else 0
    assert rnn, "the smoke tier trains adam on the RNN task (this test counts its measurement jobs)"
    zoo = len(params["rule_zoo"]["seeds"]) + len(params["rule_zoo"]["control"]["seeds"])   # its shuffled-label control too
    return zoo + conservation + rnn, rnn


@pytest.fixture
def built(smoke_build) -> Project:
    """The session's smoke build (conftest.smoke_build): `snakemake --cores 2 figures/smoke/all` has run once."""
    return smoke_build


def test_first_run_builds_every_figure_with_claims(built: Project):
    assert built.returncode == 0, built.output[-6000:]
    claims = json.loads(built.path("results/smoke/rule_zoo/claims.json").read_text())
    assert claims and all(set(c) == set(KEYS) for c in claims)
    assert all(c["pass"] and c["control"]["pass"] is False for c in claims if c["gated"])
    for ext in ("png", "pdf", "csv"):
        assert built.path(f"figures/smoke/rule_zoo/learning_curves.{ext}").stat().st_size > 0
    assert "rule_zoo: figures/smoke/rule_zoo/all" in built.path(INDEX).read_text()
    assert "| rule_zoo | learning_curves |" in built.path("results/smoke/claims.md").read_text()
    # the smoke tier wrote nothing into the default tier's tree
    assert not any(built.path(d).exists() for d in ("figures/all", "results/claims.md", "results/runs", "results/rule_zoo",
                                                    "figures/rule_zoo", "data/prepared", "metrics/rule_zoo.json"))
    assert built.path("data/smoke/prepared/digits.h5").exists() and built.path("metrics/smoke/rule_zoo.json").exists()
    # every trained run went into the output cache as a read-only entry; results hold copies, never links
    # into the cache (writing a record in place must not damage the entry every clone restores from)
    assert built.planned["train"] >= len(smoke_params(built)["rule_zoo"]["seeds"])
    assert n_runs(built) == built.planned["train"]
    assert not any(p.is_symlink() for p in built.path("results/smoke/runs").glob("*.h5"))
    entries = [e for e in built.cache.rglob("*") if e.is_file()]
    assert len(entries) >= n_runs(built) and all(e.stat().st_mode & 0o222 == 0 for e in entries)


def test_1_second_run_does_nothing(built: Project):
    res = built.snakemake("--cores", "2", INDEX, *SMOKE)
    assert "Nothing to be done" in res.stdout + res.stderr


def test_2_deleted_results_are_restored_from_the_cache_without_retraining(built: Project):
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in built.path("results/smoke/runs").glob("*.h5")}
    for d in ("results/smoke", "figures/smoke/rule_zoo", "logs/smoke"):
        shutil.rmtree(built.path(d))
    built.path(INDEX).unlink()
    res = built.snakemake("--cores", "2", INDEX, *SMOKE)
    out = res.stdout + res.stderr
    assert out.count("from cache.") == len(digest)
    # a training job prints its run's status into its log; a restored one leaves the log empty
    assert all(p.stat().st_size == 0 for p in built.path("logs/smoke").glob("train/*.log")), "a run was retrained"
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in built.path("results/smoke/runs").glob("*.h5")} == digest
    assert built.path(INDEX).exists()


def test_3_changing_one_param_reruns_only_the_jobs_it_affects(built: Project):
    override = built.path("config/adam_lr.yaml")
    override.write_text(yaml.safe_dump({"rule_zoo": {"rules": {"adam": {"name": "adam", "lr": 0.003}}}}))
    own, cross = planned_by_study(built, "--configfile", "config/smoke.yaml", "config/adam_lr.yaml")
    # only the runs trained with the zoo's adam settings retrain; the other rules' runs and the dataset are untouched
    trained, rnn = zoo_adam_runs(smoke_params(built))
    assert own == {"train": trained, "robust_rnn_measure": rnn, "rule_zoo_curves": 2, "figure": 1, "study_claims": 1, "study_index": 1, "figures_all": 1}
    assert only_rerenders(cross) and cross["cross_study_findings"] == 1
    override.write_text(yaml.safe_dump({"rule_zoo": {"claims": {"min_test_accuracy": 0.5}}}))
    own, cross = planned_by_study(built, "--configfile", "config/smoke.yaml", "config/adam_lr.yaml")
    assert own == {"figure": 1, "study_claims": 1, "study_index": 1, "figures_all": 1}
    assert only_rerenders(cross)


def test_4_changing_analysis_code_reruns_analyses_not_training(built: Project):
    module = built.path("src/learnscope/analysis/learning_curves.py")
    original = module.read_text()
    module.write_text(original + "\n# an edit to the analysis\n")
    try:
        own, cross = planned_by_study(built, *SMOKE)
        assert own == {"rule_zoo_curves": 2, "figure": 1, "study_claims": 1, "study_index": 1, "figures_all": 1}
        assert only_rerenders(cross)
    finally:
        module.write_text(original)
    trainer = built.path("src/learnscope/train/loop.py")
    original = trainer.read_text()
    trainer.write_text(original + "\n# an edit to the training loop\n")
    try:
        assert dry_run(built, *SMOKE)["train"] == n_runs(built)
    finally:
        trainer.write_text(original)
    assert dry_run(built, *SMOKE) == {}


def chromium() -> str:
    """Debian's headless Chromium, installed when missing (as root, like the Slurm test's packages)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("rendering the report needs Chromium (Debian package `chromium`)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which("chromium")


def dump_dom(browser: str, page: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--dump-dom", page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout


def report_results(html: str) -> dict:
    """The report's embedded results table: {path: {caption, labels, data_uri, ...}}."""
    block = html[html.index('<script id="results">') :]
    block = block[: block.index("</script>")]
    return json.loads(block[block.index("{") :].strip().rstrip(";"))


def tally(claims: list[dict]) -> str:
    gated = [c for c in claims if c["gated"]]
    return f"{sum(c['pass'] for c in gated)}/{len(gated)} pass" if gated else "none"


def test_report_shows_every_figure_with_its_claims_in_chromium(built: Project, tmp_path):
    browser = chromium()
    built.snakemake("--report", "report.html", *SMOKE)
    report = built.path("report.html")
    results = report_results(report.read_text())
    figures = {str(p.relative_to(built.root)) for p in built.path("figures/smoke").glob("*/*.png")}
    assert figures and set(results) == figures
    for path, entry in results.items():
        study, figure = Path(path).parent.name, Path(path).stem
        claims = [c for c in json.loads(built.path(f"results/smoke/{study}/claims.json").read_text()) if c["figure"] == figure]
        assert entry["labels"] == {"study": study, "figure": figure,   # reproductions and checks apart (contract v2)
                                   "gated claims": tally([c for c in claims if c["kind"] != "check"]),
                                   "gated checks": tally([c for c in claims if c["kind"] == "check"])}
        for c in claims:  # the caption states every claim and its verdict
            assert c["id"] in entry["caption"] and ("PASS" if c["pass"] else "FAIL") in entry["caption"]

    dom = dump_dom(browser, report)  # the report app renders ...
    assert '<div id="app"><div' in dom and 'id="loading-screen" style="display: none;"' in dom
    probe = tmp_path / "figures.html"  # ... and every embedded figure decodes as an image in Chromium
    probe.write_text(
        "<html><body><script>const srcs = " + json.dumps([e["data_uri"] for e in results.values()]) + ";"
        "let done = 0, ok = 0;"
        "srcs.forEach(s => { const im = new Image();"
        " im.onload = () => { ok += im.naturalWidth > 0 && im.naturalHeight > 0; finish(); }; im.onerror = finish; im.src = s; });"
        "function finish() { if (++done === srcs.length) document.body.setAttribute('data-loaded', ok + '/' + done); }"
        "</script></body></html>"
    )
    loaded = re.search(r'data-loaded="(\d+)/(\d+)"', dump_dom(browser, probe))
    assert loaded and loaded.group(1) == loaded.group(2) == str(len(results)), loaded


def test_lint_reports_only_the_documented_conda_notice(built: Project):
    res = built.snakemake("--lint", *SMOKE, check=False)
    out = res.stdout + res.stderr
    lints = re.findall(r"^\s+\* (.+?):?$", out, re.M)
    assert lints and set(lints) == {"Specify a conda environment or container for each rule."}
    readme = (built.root / "README.md").read_text()
    assert "Specify a conda environment or container for each rule" in readme


def test_bad_params_stop_before_any_job(tmp_path):
    project = make_project(tmp_path)
    project.path("config/bad.yaml").write_text("rule_zoo:\n  train: {steps: 10, batch_size: 0}\n  lr: 3\n")
    res = project.snakemake("--cores", "1", INDEX, "--configfile", "config/smoke.yaml", "config/bad.yaml", check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "unknown key 'lr' under 'rule_zoo'" in out
    assert "'rule_zoo.train.batch_size': 0 is less than the minimum of 1" in out
    assert not project.path("results/smoke").exists() and not project.path("data/smoke").exists()


def test_a_diverged_run_is_a_result_not_a_crash(tmp_path):
    project = make_project(tmp_path)
    project.path("config/hot.yaml").write_text(
        yaml.safe_dump({"rule_zoo": {"seeds": [0], "rules": {"sgd": {"name": "sgd", "lr": 10000.0}}}})
    )
    project.snakemake("--cores", "2", "figures/smoke/rule_zoo/all", "--configfile", "config/smoke.yaml", "config/hot.yaml")
    claims = {c["id"]: c for c in json.loads(project.path("results/smoke/rule_zoo/claims.json").read_text())}
    assert claims["rule_zoo.learning_curves.sgd_learns"]["pass"] is False
    assert "1 diverged" in claims["rule_zoo.learning_curves.sgd_learns"]["claim"]


def as_default_tier(root: Path) -> None:
    """Turn a smoke-tier build into the default tier's: params.yaml becomes the smoke tier's params with ``tier:
    default``, and the smoke tree moves to the default layout (results/smoke/ -> results/, figures/smoke/ ->
    figures/, data/smoke/prepared/ -> data/prepared/, metrics/smoke/ -> metrics/, logs/smoke/ -> logs/): the files
    a default-tier build of those params writes. Moves keep modification times; Snakemake has no metadata for the
    new paths, which it reads as unchanged (its code, params and input triggers compare recorded values only)."""
    from learnscope.config import load_params

    params = load_params(root / "params.yaml", [root / "config/smoke.yaml"]) | {"tier": "default"}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for tier, default in (("results/smoke", "results"), ("figures/smoke", "figures"), ("data/smoke/prepared", "data/prepared"),
                          ("metrics/smoke", "metrics"), ("logs/smoke", "logs")):
        (root / default).mkdir(parents=True, exist_ok=True)
        for entry in (root / tier).iterdir():
            entry.rename(root / default / entry.name)
        (root / tier).rmdir()
    (root / "data/smoke").rmdir()


def test_make_publish_then_a_fresh_clone_pulls_every_figure_and_plans_nothing(tmp_path, smoke_build):
    """`make publish` on the smoke build made the default tier's (``as_default_tier``: the copy's params.yaml,
    which is what DVC reads, is the smoke tier's params at the default tier, and the smoke tree moves to the
    default layout, which dvc.yaml names):
    it runs `dvc repro`, pushes to the default remote (learnscope-dvc-remote beside the checkout) and
    commits dvc.lock and metrics/. The test writes no lock. A fresh clone then gets everything by `make pull`
    (`dvc pull`, then `snakemake --touch` once `dvc status` confirms the lock matches: a bare `dvc pull`
    leaves checkout times in no order, so Snakemake would re-run analyses and figures)."""
    for study in ("rule_zoo", "identify_rules", "cross_study"):
        smoke_build.study(study)
    root = tmp_path / "maintainer" / "project"
    shutil.copytree(smoke_build.root, root, symlinks=True)   # outputs, Snakemake metadata and git repo
    project = Project(root, smoke_build.cache)
    project.env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@learnscope.invalid",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@learnscope.invalid"}
    as_default_tier(project.root)
    project.run("git", "add", "-A", "--", ".", ":(exclude)metrics")   # the build's metrics/ are publish's to commit
    project.run("git", "commit", "-qm", "smoke params")
    project.run("make", "publish", f"VENV={BIN.parent}", timeout=2400)
    assert project.run("git", "status", "--porcelain", "--", "dvc.lock", "metrics").stdout == ""
    published = project.run("git", "show", "--name-only", "--format=%s", "HEAD").stdout
    assert published.startswith("publish:") and "dvc.lock" in published and "metrics/rule_zoo.json" in published

    clone = Project(tmp_path / "newcomer" / "project", tmp_path / "clone-cache")
    clone.cache.mkdir()
    project.run("git", "clone", "-q", str(project.root), str(clone.root))
    (clone.root.parent / "learnscope-dvc-remote").symlink_to(project.root.parent / "learnscope-dvc-remote")
    clone.run("make", "pull", f"VENV={BIN.parent}", timeout=1200)   # dvc pull, dvc status, snakemake --touch
    assert dry_run(clone) == {}
    status = clone.dvc("status", "dvc.yaml")
    assert "Data and pipelines are up to date." in status.stdout + status.stderr
    pngs = list(project.path("figures").glob("*/*.png"))
    assert pngs
    for png in pngs:
        assert clone.path(f"figures/{png.parent.name}/{png.name}").read_bytes() == png.read_bytes(), png

    # the figures render again from the pulled records alone
    shutil.rmtree(clone.path("figures/rule_zoo"))
    shutil.rmtree(clone.path("results/rule_zoo"))
    res = clone.snakemake("--cores", "2", "figures/rule_zoo/all", timeout=1200)
    jobs = job_counts(res.stdout + res.stderr)   # Snakemake logs its job stats to stderr
    assert jobs.get("figure") and "train" not in jobs, jobs
