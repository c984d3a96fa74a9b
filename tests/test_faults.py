"""Fault injection on a tiny built project (issue 24): each test damages, kills, starves or forges one thing
and checks, through the CLI and Snakemake as a user runs them, that nothing wrong is published and that the
error names the file and the fix (which then works).

One project copy (config/smoke.yaml, rule_zoo only, one seed: six training runs and their six control
runs on shuffled labels) is built once with its own output cache; the tests run in file order and each leaves the project as clean as it found it, except
the last (a changed dataset param). Unit-level checks of the same machinery live beside it:
tests/test_record_integrity.py (one changed byte in any array, resealed headers, virtual datasets, soft
links, the temp-file sweep, a relative cache path), tests/test_resume.py (kill -9 of one training job,
resumed to identical bytes), tests/test_config.py (the YTE marker in `learnscope validate`, cross-references,
config/README.md's command order) and tests/test_data.py (dataset readers: MNIST processed files, CIFAR
non-dict pickles, Tiny ImageNet names). docs/reliability.md has the table of which of these tests failed on
the code before the reliability work.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from conftest import BIN, Project, job_counts, make_project

pytestmark = pytest.mark.integration

TINY = ("--configfile", "config/smoke.yaml", "config/faults.yaml")
TARGET = "figures/smoke/rule_zoo/all"   # the smoke tier's tree (learnscope.tiers)
CLAIMS = "results/smoke/rule_zoo/claims.json"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def records(project: Project) -> dict[str, str]:
    """{record file name: sha256} of the smoke tier's results/smoke/runs."""
    return {p.name: sha(p) for p in project.path("results/smoke/runs").glob("*.h5")}


def published(project: Project) -> list | None:
    """The study's published claims (None when there are none)."""
    path = project.path(CLAIMS)
    return json.loads(path.read_text()) if path.exists() else None


def output(res: subprocess.CompletedProcess) -> str:
    return res.stdout + res.stderr


def temp_files(project: Project) -> list[Path]:
    return sorted(project.path("results").rglob(".*.tmp-*"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Project:
    """The rule zoo built once at smoke scale with one seed; ``clean``: its records' digests; ``claims``:
    its published claims (every gated one passing)."""
    project = make_project(tmp_path_factory.mktemp("faults"))
    project.path("config/faults.yaml").write_text(yaml.safe_dump({"rule_zoo": {"seeds": [0]}}))
    project.snakemake("--cores", "2", TARGET, *TINY, timeout=1200)
    project.clean, project.claims = records(project), published(project)
    assert project.clean and all(c["pass"] for c in project.claims if c["gated"])
    return project


def assert_clean(project: Project) -> None:
    """The project's records and claims are the clean build's, and nothing is left to do."""
    assert records(project) == project.clean
    assert published(project) == project.claims
    assert job_counts(output(project.snakemake("-n", TARGET, *TINY))) == {}
    assert temp_files(project) == []


def record_of(project: Project, rule: str) -> Path:
    """The record of ``rule``'s run on digits (not its control run on shuffled labels)."""
    return next(project.path("results/smoke/runs").glob(f"{rule}-*-digits-s*.h5"))


def cache_entry(project: Project, record: Path) -> Path:
    """The output-cache entry holding ``record``'s bytes."""
    digest = sha(record)
    entries = [e for e in project.cache.rglob("*") if e.is_file() and sha(e) == digest]
    assert len(entries) == 1, entries
    return entries[0]


def flip_sign_of_final_test_accuracy(path: Path) -> None:
    """One byte changed: the sign bit of the last scalars/test_acc value (float64, little-endian)."""
    with h5py.File(path, "r") as f:
        ds = f["scalars/test_acc"]
        assert ds.dtype == np.float64 and ds.id.get_offset() is not None
        offset = ds.id.get_offset() + ds.id.get_storage_size() - 1
    mode = path.stat().st_mode
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x80
    path.write_bytes(bytes(data))
    os.chmod(path, mode)


def test_crafted_record_cannot_read_other_local_files(tiny, tmp_path):
    """A record whose test accuracy is an external link, or external raw storage, pointing at a local file
    (a stand-in for /etc/passwd) is refused by the analysis reading it: exit 2, one line, no output."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.full(64, 0.5).tobytes())
    with h5py.File(tmp_path / "secret.h5", "w") as f:
        f["data"] = np.full(64, 0.5)
    source = record_of(tiny, "sgd")

    def raw_storage(f, shape):
        f.create_dataset("scalars/test_acc", shape=shape, dtype=np.float64, external=[(str(secret), 0, 8 * shape[0])])

    def link(f, shape):
        f["scalars/test_acc"] = h5py.ExternalLink(str(tmp_path / "secret.h5"), "/data")

    for name, forge in (("storage", raw_storage), ("link", link)):
        crafted = tmp_path / f"{name}.h5"
        shutil.copyfile(source, crafted)
        with h5py.File(crafted, "r+") as f:
            shape = f["scalars/test_acc"].shape
            del f["scalars/test_acc"]
            forge(f, shape)
        out = tmp_path / f"{name}.csv"
        res = tiny.run(str(BIN / "learnscope"), "analyze", "learning-curves", "--inputs", str(crafted), "--out", str(out), check=False)
        assert res.returncode == 2 and not out.exists(), f"the forged record was read:\n{output(res)}"
        errors = [line for line in res.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and str(crafted) in errors[0] and "external" in errors[0], res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("resume", [(), ("--resume-every", "0")], ids=["journalled", "record-only"])
def test_full_disk_is_a_one_line_error_and_leaves_no_temp_file(tiny, tmp_path, resume):
    """`learnscope train` as the workflow runs it (its resume journal on; then off, so the record itself is
    what fails to be written) under a 20 KiB file-size limit, SIGXFSZ ignored so that writes fail with EFBIG
    as on a full disk: exit 2, one line naming the file and the fix, nothing left in the output folder."""
    with h5py.File(record_of(tiny, "sgd"), "r") as f:
        run = str(f.attrs["config"])
    out = tmp_path / "runs"
    out.mkdir()

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    data = str(tiny.path("data/smoke/prepared/digits.h5"))
    cmd = [str(BIN / "learnscope"), "train", "--run", run, "--data", data, "--out", str(out / "r.h5"), *resume]
    res = subprocess.run(cmd, cwd=tiny.root, env=tiny.env, capture_output=True, text=True, preexec_fn=small_disk, timeout=300)
    assert res.returncode == 2, f"exit {res.returncode}:\n{res.stderr[-3000:]}"
    errors = [line for line in res.stderr.splitlines() if "error" in line]
    written = re.escape(str(out / "r.h5")) + (r"\.resume/row-\d+\.pt" if not resume else "")
    fix = r"; free space on " + re.escape(str(out)) + r"\S* \(or raise the file-size limit\) and rerun"
    assert len(errors) == 1 and re.fullmatch(rf"learnscope train: error: {written}: could not be written \(File too large\){fix}", errors[0]), res.stderr
    assert "Traceback" not in res.stderr and list(out.iterdir()) == []


def test_templated_override_is_refused_before_any_job(tiny):
    """An override file holding `__use_yte__` (Snakemake would run its '?'-expressions as Python): the
    `learnscope snakemake` wrapper refuses it before Snakemake reads it, so its code never runs; plain
    Snakemake runs the template while loading it (docs/reliability.md), and the workflow then stops before any job."""
    evil = tiny.path("config/evil.yaml")
    evil.write_text("__use_yte__: true\nrule_zoo:\n  seeds: ?__import__('pathlib').Path('yte-ran').touch() or [0]\n")
    analysis = tiny.path("results/smoke/rule_zoo/learning_curves.csv")
    before = analysis.stat().st_mtime_ns
    try:
        res = tiny.run(str(BIN / "learnscope"), "snakemake", "--cores", "1", TARGET, "--forcerun", "rule_zoo_curves",
                       "--configfile", "config/smoke.yaml", "config/faults.yaml", "config/evil.yaml", check=False)
        assert res.returncode == 2 and not tiny.path("yte-ran").exists(), output(res)
        assert res.stderr.strip() == (
            "learnscope snakemake: error: config/evil.yaml: holds '__use_yte__', which makes Snakemake run the file as a YTE "
            "template (Python code); learnscope config files are plain data: remove the key and any '?'-expressions (see docs/reliability.md)")
        res = tiny.snakemake("--cores", "1", TARGET, "--forcerun", "rule_zoo_curves", *TINY, "config/evil.yaml", check=False)
        assert res.returncode != 0 and "holds '__use_yte__'" in output(res), output(res)
        assert analysis.stat().st_mtime_ns == before, "a job ran"
    finally:
        evil.unlink()
        tiny.path("yte-ran").unlink(missing_ok=True)
    assert_clean(tiny)


def test_concurrent_run_is_refused_and_damages_nothing(tiny):
    """A second Snakemake on the same folder while the first one runs jobs: refused by Snakemake's lock;
    the first finishes and publishes the same claims."""
    first = subprocess.Popen([str(BIN / "snakemake"), "--cores", "1", TARGET, "--forcerun", "figure", *TINY],
                             cwd=tiny.root, env=tiny.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        locks = tiny.path(".snakemake/locks")
        deadline = time.monotonic() + 120
        while not (locks.is_dir() and any(locks.iterdir())):
            assert first.poll() is None and time.monotonic() < deadline, "the first run took no lock"
            time.sleep(0.05)
        second = tiny.snakemake("--cores", "1", TARGET, *TINY, check=False)
        assert first.poll() is None, "the first run ended before the second one started: make it longer"
        assert second.returncode != 0 and "Directory cannot be locked" in output(second), output(second)
    finally:
        log = first.communicate(timeout=600)[0]
    assert first.returncode == 0, log[-4000:]
    assert_clean(tiny)


def test_truncated_record_names_a_fix_that_works(tiny):
    """A record cut in half: the analysis reading it stops with one line naming the record and the command
    that fixes it; that command retrains or restores an intact record (never the same damaged bytes)."""
    record = record_of(tiny, "sgd")
    data = record.read_bytes()
    with open(record, "r+b") as fh:  # in place, as a crashed tool writing to the record would
        fh.truncate(len(data) // 2)
    res = tiny.snakemake("--cores", "2", TARGET, "--forcerun", "rule_zoo_curves", *TINY, check=False)
    assert res.returncode != 0 and published(tiny) in (None, tiny.claims), output(res)
    rel = record.relative_to(tiny.root)
    error = next(line for line in output(res).splitlines() if line.startswith("learnscope analyze: error:"))
    assert f"{rel}: not a readable HDF5 file, truncated" in error
    rm = re.search(r"`(rm [^`]+)`", error)
    rebuild = re.search(r"`(snakemake [^`]+)`", error)
    assert rm and rebuild, error
    assert rm.group(1) == f"rm {rel}" and rebuild.group(1) == f"snakemake --cores all {rel}"
    assert "--configfile options it was built with" in error  # this build's were config/smoke.yaml and faults.yaml
    tiny.run(*rm.group(1).split())
    tiny.snakemake(*rebuild.group(1).split()[1:], *TINY)
    tiny.snakemake("--cores", "2", TARGET, *TINY)
    assert_clean(tiny)


def test_corrupt_cache_entry_is_refused_never_published(tiny):
    """One byte of a cache entry changed (the sign of the sgd run's final test accuracy: its gated claim
    would fail), results/ and the study's figures deleted and rebuilt: the pipeline refuses the entry, naming the record, the entry
    and the `rm -f` that removes it, and publishes nothing; after that command the rebuild retrains."""
    record = record_of(tiny, "sgd")
    entry = cache_entry(tiny, record)
    flip_sign_of_final_test_accuracy(entry)
    for folder in ("results/smoke", "figures/smoke/rule_zoo", "logs/smoke"):
        shutil.rmtree(tiny.path(folder))
    res = tiny.snakemake("--cores", "2", TARGET, *TINY, check=False)
    assert published(tiny) in (None, tiny.claims), f"published from a damaged entry:\n{json.dumps(published(tiny), indent=1)}"
    assert res.returncode != 0, "the damaged entry was not detected (and published nothing only by chance)"
    rel = record.relative_to(tiny.root)
    assert f"{rel}: its output-cache entry {entry} is damaged and was not used" in output(res), output(res)
    fix = re.search(r"`(rm -f [^`]+)`", output(res)).group(1)
    assert fix == f"rm -f {entry}"
    tiny.run(*fix.split())
    tiny.snakemake("--cores", "2", TARGET, *TINY)
    assert tiny.path(f"logs/smoke/train/{record.stem}.log").stat().st_size > 0  # retrained (a restored run logs nothing)
    assert_clean(tiny)


def test_kill9_of_the_whole_build_then_rerun_is_byte_identical(tiny):
    """kill -9 of Snakemake's whole process group while two runs train (their records and cache entries
    removed): nothing looks finished that is not; the rerun names the stale lock's fix (`--unlock`), and
    after it completes with records byte-identical to the clean build's, the killed writer's temp file swept."""
    victims = [record_of(tiny, rule) for rule in ("sgd", "adam")]
    logs = [tiny.path(f"logs/smoke/train/{record.stem}.log") for record in victims]
    for record, log in zip(victims, logs):
        tiny.run("rm", "-f", str(cache_entry(tiny, record)), str(record), str(log))
    for folder in ("results/smoke/rule_zoo", "figures/smoke/rule_zoo"):
        shutil.rmtree(tiny.path(folder))
    cmd = [str(BIN / "snakemake"), "--cores", "2", TARGET, *TINY]
    build = subprocess.Popen(cmd, cwd=tiny.root, env=tiny.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not all(log.exists() for log in logs):  # both training jobs started
            assert build.poll() is None and time.monotonic() < deadline, "the training jobs did not start"
            time.sleep(0.05)
        time.sleep(1.0)
        os.killpg(build.pid, signal.SIGKILL)
    finally:
        build.wait()
    done = records(tiny)
    assert len(done) < len(tiny.clean), "both runs finished before the kill: not mid-build"
    assert all(tiny.clean[name] == digest for name, digest in done.items()), "a record looks finished that is not"
    assert published(tiny) is None
    # a kill that lands while a record is being written leaves its temp file (too short a moment to hit by
    # timing): one is planted, named as the writer names it, for a writer process that is gone
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = victims[0].with_name(f".{victims[0].name}.tmp-{os.uname().nodename}-{gone.pid}")
    stale.write_bytes(b"half a record")
    res = tiny.snakemake(*cmd[1:], check=False)
    # Snakemake's lock outlives a kill -9 (its lock files hold no process id to check): the rerun says so
    assert res.returncode != 0 and "It can be removed with the --unlock argument" in output(res), output(res)[-4000:]
    tiny.snakemake(*cmd[1:], "--unlock")
    tiny.snakemake(*cmd[1:])
    assert all(log.stat().st_size > 0 for log in logs)  # retrained, not restored
    assert_clean(tiny)


def test_changed_dataset_param_rebuilds_every_affected_figure_in_one_run(tiny):
    """A changed `data.<name>` entry (the control dataset's label permutation): one `snakemake TARGET`
    re-prepares the dataset, retrains every run on it and re-renders the figure and claims (Snakemake #4166
    with `ancient()` on the prepared data built nothing, exit 0)."""
    tiny.path("config/shuffle.yaml").write_text(yaml.safe_dump({"data": {"digits_shuffled_labels": {"shuffle_train_labels": 2}}}))
    changed = (*TINY, "config/shuffle.yaml")
    start = time.time()
    tiny.snakemake("--cores", "2", TARGET, *changed)
    assert job_counts(output(tiny.snakemake("-n", TARGET, *changed))) == {}
    affected = {name for name in tiny.clean if "-digits_shuffled_labels-" in name}
    retrained = records(tiny).keys() - tiny.clean.keys()
    assert affected and len(retrained) == len(affected) and all("-digits_shuffled_labels-" in name for name in retrained)
    for rel in (CLAIMS, "results/smoke/rule_zoo/control_curves.csv", "figures/smoke/rule_zoo/learning_curves.png", TARGET):
        assert tiny.path(rel).stat().st_mtime > start, f"{rel} was not rebuilt"
