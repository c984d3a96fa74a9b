"""Scale tiers as namespaces (learnscope.tiers) and the replicate tier (issue 17, items 2 and 3): each tier writes
its own tree; config/replicate.yaml moves every seed of the defaults to a disjoint set (and
config/smoke_replicate.yaml every seed of the smoke tier); `learnscope claims replication` puts two tiers'
claims side by side and flags a claim that passes on the defaults and fails on replication."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from conftest import BIN
from learnscope.claims import check, write_claims
from learnscope.cli import main as cli
from learnscope.config import load_params, load_yaml, validate_params
from learnscope.errors import ConfigError
from learnscope.replication import REPLICATION_FLAG, replication_flag, replication_table
from learnscope.studies.identify_rules import plan as identify_rules_plan
from learnscope.studies.rule_zoo import plan as rule_zoo_plan
from learnscope.tiers import command_line_targets, roots, target_problem

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/params.schema.yaml"

# Keys whose names say "seed" but that are no seed, and seeds by another name. A key added to params.yaml that
# names a seed is checked below without being listed anywhere.
NOT_SEEDS = {"max_seeds"}            # runtime.ensemble.max_seeds: how many seeds train together (scheduling)
SEEDS_BY_OTHER_NAMES = {"shuffle_train_labels"}   # data.<name>.shuffle_train_labels: the label permutation's seed


def seed_keys(cfg, path=()):
    """(key path, value) of every seed in a configuration."""
    if isinstance(cfg, dict):
        for k, v in cfg.items():
            if ("seed" in str(k) and k not in NOT_SEEDS) or k in SEEDS_BY_OTHER_NAMES:
                yield path + (k,), v
            else:
                yield from seed_keys(v, path + (k,))
    elif isinstance(cfg, list):
        for i, v in enumerate(cfg):
            yield from seed_keys(v, path + (i,))


def lookup(cfg, path):
    for k in path:
        if not isinstance(cfg, (dict, list)) or (isinstance(cfg, dict) and k not in cfg):
            return None
        cfg = cfg[k]
    return cfg


def as_set(v) -> set:
    return set(v) if isinstance(v, list) else {v}


# --- the roots ----------------------------------------------------------------------------------------


def test_the_default_tier_keeps_the_historical_paths_and_another_tier_its_own_tree():
    default = roots(load_params(REPO / "params.yaml"))
    assert (default.tier, default.results, default.figures, default.data, default.logs, default.metrics) == (
        "default", "results", "figures", "data/prepared", "logs", "metrics")
    assert (default.index, default.claims_table, default.run("x"), default.prepared("digits")) == (
        "figures/all", "results/claims.md", "results/runs/x.h5", "data/prepared/digits.h5")
    smoke = roots(load_params(REPO / "params.yaml", [REPO / "config/smoke.yaml"]))
    assert (smoke.index, smoke.claims_table, smoke.run("x"), smoke.prepared("digits"), smoke.study("rule_zoo"), smoke.logs) == (
        "figures/smoke/all", "results/smoke/claims.md", "results/smoke/runs/x.h5", "data/smoke/prepared/digits.h5",
        "results/smoke/rule_zoo", "logs/smoke")
    tiers = {o: load_params(REPO / "params.yaml", [REPO / f for f in fs])["tier"] for o, fs in {
        "paper": ["config/paper.yaml"], "paper_shape": ["config/paper.yaml", "config/paper_shape.yaml"],
        "replicate": ["config/replicate.yaml"], "smoke_replicate": ["config/smoke.yaml", "config/smoke_replicate.yaml"]}.items()}
    assert tiers == {t: t for t in tiers}


def test_the_plans_build_their_paths_from_the_tiers_roots():
    smoke = load_params(REPO / "params.yaml", [REPO / "config/smoke.yaml"])
    assert rule_zoo_plan.figures(smoke)["learning_curves"]["inputs"] == [
        "results/smoke/rule_zoo/learning_curves.csv", "results/smoke/rule_zoo/control_curves.csv"]
    assert identify_rules_plan.observables(smoke) == "results/smoke/identify_rules/observables.h5"
    assert identify_rules_plan.data_files(smoke) == ["data/smoke/prepared/digits.h5", "data/smoke/prepared/teacher.h5"]
    default = load_params(REPO / "params.yaml")
    assert rule_zoo_plan.figures(default)["learning_curves"]["inputs"][0] == "results/rule_zoo/learning_curves.csv"


@pytest.mark.parametrize("name", ["rule_zoo", "runs", "all", "prepared", "raw", "cross_study"])
def test_a_tier_named_after_a_folder_of_the_default_layout_is_refused(name):
    cfg = load_params(REPO / "params.yaml", [REPO / "config/smoke.yaml"]) | {"tier": name}
    with pytest.raises(ConfigError, match=f"tier: '{name}' would write inside the default tier's folders"):
        validate_params(cfg, SCHEMA)
    with pytest.raises(ConfigError, match="does not match"):
        validate_params(cfg | {"tier": "Smoke/x"}, SCHEMA)


def test_a_target_of_another_tier_is_named_before_snakemake_runs():
    studies = {"rule_zoo", "cross_study"}
    default, smoke = roots({}), roots({"tier": "smoke"})
    for ok in ("figures/all", "figures/rule_zoo/all", "results/runs/x.h5", "data/prepared/digits.h5", "metrics/rule_zoo.json", "runs_all"):
        assert target_problem([ok], default, studies) is None, ok
    for ok in ("figures/smoke/all", "figures/smoke/rule_zoo/all", "results/smoke/runs/x.h5", "data/smoke/prepared/digits.h5", "data/raw/x"):
        assert target_problem([ok], smoke, studies) is None, ok
    assert "is a file of tier 'smoke'" in target_problem(["figures/smoke/all"], default, studies)
    assert "--configfile config/smoke.yaml" in target_problem(["results/smoke/rule_zoo/claims.json"], default, studies)
    for wrong in ("figures/all", "results/rule_zoo/claims.json", "data/prepared/digits.h5", "figures/paper/all", "figures/smoke_replicate/all"):
        assert "its files are under results/smoke/, figures/smoke/ (index figures/smoke/all)" in target_problem([wrong], smoke, studies), wrong
    # the words of Snakemake's command line under the output folders; nothing from another program's
    argv = ["/x/bin/snakemake", "--cores", "2", "figures/smoke/all", "--configfile", "config/smoke.yaml", "--workflow-profile", "workflow/profiles/slurm"]
    assert command_line_targets(argv) == ["figures/smoke/all"]
    assert command_line_targets(["pytest", "figures/all"]) == []


# --- the replicate tiers move every seed ------------------------------------------------------------------


@pytest.mark.parametrize("base, replicate", [([], "config/replicate.yaml"), (["config/smoke.yaml"], "config/smoke_replicate.yaml")])
def test_the_replicate_tier_moves_every_seed_to_a_disjoint_set(base, replicate):
    reference = load_params(REPO / "params.yaml", [REPO / b for b in base])
    override = load_yaml(REPO / replicate)
    merged = load_params(REPO / "params.yaml", [REPO / b for b in [*base, replicate]])
    validate_params(merged, SCHEMA)
    seeds = list(seed_keys(reference))
    assert len(seeds) >= 40   # the walk finds the seeds (params.yaml had 49 when this was written)
    missing = [".".join(map(str, p)) for p, _ in seeds if lookup(override, p) is None]
    assert missing == [], f"{replicate} does not move these seeds: {missing}"
    overlapping = {".".join(map(str, p)): (v, lookup(override, p)) for p, v in seeds if as_set(v) & as_set(lookup(override, p))}
    assert overlapping == {}, f"{replicate} keeps seeds of the reference: {overlapping}"
    # the same shape (as many seeds), and nothing but seeds and the tier changed
    assert all(len(as_set(v)) == len(as_set(lookup(override, p))) for p, v in seeds)
    assert {p for p, _ in seed_keys(override)} == {p for p, _ in seeds}
    assert merged["tier"] == override["tier"] != reference["tier"]

    def strip(cfg):
        if isinstance(cfg, dict):
            return {k: strip(v) for k, v in cfg.items() if k != "tier" and not (("seed" in k and k not in NOT_SEEDS) or k in SEEDS_BY_OTHER_NAMES)}
        return [strip(v) for v in cfg] if isinstance(cfg, list) else cfg
    assert strip(merged) == strip(reference)


def test_the_walk_would_catch_a_new_seed_key():
    cfg = load_params(REPO / "params.yaml")
    cfg["rule_zoo"]["new_split_seed"] = 3
    override = load_yaml(REPO / "config/replicate.yaml")
    assert [p for p, _ in seed_keys(cfg) if lookup(override, p) is None] == [("rule_zoo", "new_split_seed")]


# --- the side-by-side table -------------------------------------------------------------------------------


def claims_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Synthetic claims of one study on two tiers: `a` replicates, `b` passes on the defaults and fails on
    replication, `c` fails on the defaults and passes on replication, `d` is a check, `e` only on the defaults."""
    def rows(b_value, c_value, b_control=0.1):
        return [
            check("s.f.a", "f", "a learns", 0.9, ">=", 0.5, kind="claim", source="paper", source_ref="Fig. 1",
                  control=("shuffled labels", 0.1)),
            check("s.f.b", "f", "b learns", b_value, ">=", 0.5, kind="claim", source="pilot", control=("untrained", b_control)),
            check("s.f.c", "f", "c learns", c_value, ">=", 0.5, kind="claim", source="theory", control=("wrong lambda", 0.2)),
            check("s.f.d", "f", "an identity", 1e-9, "<", 1e-6, kind="check", source="theory"),
        ]
    ref, rep = tmp_path / "results", tmp_path / "results/replicate"
    (ref / "s").mkdir(parents=True)
    (rep / "s").mkdir(parents=True)
    write_claims(ref / "s/claims.json", [*rows(0.8, 0.3),
                                         check("s.f.e", "f", "e learns", 0.9, ">=", 0.5, kind="claim", source="paper", control=("c", 0.0))])
    write_claims(rep / "s/claims.json", rows(0.4, 0.7))
    return ref, rep


def test_the_replication_table_flags_a_claim_that_passes_on_defaults_and_fails_on_replication(tmp_path):
    ref, rep = claims_pair(tmp_path)
    out = tmp_path / "replication.md"
    assert cli(["claims", "replication", "--reference", str(ref), "--replicate", str(rep), "--out", str(out)]) == 0
    text = out.read_text()
    lines = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| s | s.f.")}
    assert set(lines) == {"s.f.a", "s.f.b", "s.f.c", "s.f.d", "s.f.e"}
    assert lines["s.f.a"].endswith("| PASS | PASS | replicates |")
    assert "| pilot | 0.8 | untrained: 0.1, fails | 0.4 | 0.1, fails | PASS | FAIL | " + REPLICATION_FLAG + " |" in lines["s.f.b"]
    assert lines["s.f.c"].endswith("| FAIL | PASS | fails on defaults, passes on replication |")
    assert "| paper (Fig. 1) | 0.9 | shuffled labels: 0.1, fails | 0.9 | 0.1, fails |" in lines["s.f.a"]
    assert lines["s.f.e"].endswith(f"| PASS | missing | {REPLICATION_FLAG} (missing on replication) |")
    # checks apart from claims, and the tally counts the flagged claims
    reproductions, checks = text.split("## Checks")
    assert "s.f.d" in checks and "s.f.d" not in reproductions and "s.f.b" not in checks
    assert "- s: 4 gated claims; 1 pass on both, 2 pass on the defaults and fail on replication, 1 fail on the defaults and pass on replication" in text


def test_a_control_that_passes_on_replication_fails_the_claim_there(tmp_path):
    """The replication's verdict is the contract's: its value passes but its control passes too, so it fails."""
    ref = check("s.f.b", "f", "b", 0.8, ">=", 0.5, kind="claim", source="paper", control=("untrained", 0.1)).to_json()
    rep = check("s.f.b", "f", "b", 0.8, ">=", 0.5, kind="claim", source="paper", control=("untrained", 0.9)).to_json()
    assert replication_flag(ref, rep) == REPLICATION_FLAG
    table = replication_table({"s": [ref]}, {"s": [rep]})
    assert "| 0.8 | untrained: 0.1, fails | 0.8 | 0.9, passes | PASS | FAIL (control passes) | " + REPLICATION_FLAG in table


def test_the_replication_command_refuses_an_unbuilt_reference(tmp_path):
    (tmp_path / "results").mkdir()
    assert cli(["claims", "replication", "--reference", str(tmp_path / "results"), "--replicate", str(tmp_path),
                "--out", str(tmp_path / "r.md")]) == 2


def test_make_replicate_builds_the_replicate_tier_then_the_table():
    recipe = (REPO / "Makefile").read_text().split("\nreplicate:", 1)[1].split("\n\n", 1)[0]
    assert "learnscope snakemake --cores $(CORES) figures/replicate/all --configfile config/replicate.yaml" in recipe
    assert "learnscope claims replication --reference results --replicate results/replicate --out results/replication.md" in recipe


# --- two tiers in one checkout ----------------------------------------------------------------------------


def tree(root: Path, folders: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """{path: (sha256, mtime in ns)} of every file under the folders."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for f in folders for p in sorted((root / f).rglob("*")) if p.is_file()}


@pytest.mark.integration
def test_building_a_second_tier_leaves_the_first_tiers_files_untouched(smoke_build):
    """The session's smoke build (tier smoke) and, in the same checkout, the rule zoo of the smoke tier's
    replicate (tier smoke_replicate: every seed moved, so its digits dataset has the same name and other
    parameters): the smoke tier's files keep their bytes and times, the smoke tier still plans nothing, and the
    replication table of the two tiers has the rule zoo's claims side by side."""
    project = smoke_build.study("rule_zoo")
    smoke = ("results/smoke", "figures/smoke", "data/smoke", "metrics/smoke", "logs/smoke")
    before = tree(project.root, smoke)
    assert "data/smoke/prepared/digits.h5" in before and "figures/smoke/all" in before
    args = ("--configfile", "config/smoke.yaml", "config/smoke_replicate.yaml")
    project.snakemake("--cores", "2", "figures/smoke_replicate/rule_zoo/all", *args, timeout=1800)
    assert tree(project.root, smoke) == before
    replicate = tree(project.root, ("results/smoke_replicate", "figures/smoke_replicate", "data/smoke_replicate"))
    assert "data/smoke_replicate/prepared/digits.h5" in replicate and "results/smoke_replicate/rule_zoo/claims.json" in replicate
    assert replicate["data/smoke_replicate/prepared/digits.h5"][0] != before["data/smoke/prepared/digits.h5"][0]   # another split
    seeds = {int(re.search(r"-s(\d+)-[0-9a-f]{10}\.h5$", p.name).group(1)) for p in project.path("results/smoke_replicate/runs").glob("*.h5")}
    assert seeds == {1000, 1001}   # the smoke tier's rule zoo seeds [0, 1] and control seed [0], moved
    res = project.snakemake("-n", "figures/smoke/all", "--configfile", "config/smoke.yaml")
    assert "Nothing to be done" in res.stdout + res.stderr
    out = project.path("results/smoke_replication.md")
    project.run(str(BIN / "learnscope"), "claims", "replication", "--reference", "results/smoke",
                "--replicate", "results/smoke_replicate", "--out", str(out))
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| rule_zoo | rule_zoo.learning_curves.")]
    assert rows and all(" | missing | " not in r for r in rows), rows
    assert "| value (smoke) |" in text and "| value (replication) |" in text   # the reference named after its tier
