"""Claims contract v2: source, kind and negative control (issue 17). Fast: no build."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from learnscope.claims import (
    CONTRACT_V1_STUDIES, KEYS, SOURCES, check, markdown_table, merge, metrics, read_claims, verdict, write_claims,
)
from learnscope.errors import RecordError
from learnscope.studies import STUDIES

BIN = Path(sys.executable).parent


def gate(id="s.f.x", value=0.95, control=("shuffled labels", 0.12), **kw):
    """A gated reproduction: accuracy >= 0.9, its control the same accuracy on shuffled labels."""
    return check(id, "f", "reaches 90% test accuracy", value, ">=", 0.9, kind="claim", source="paper",
                 source_ref="Fig. 1b", control=control, **kw)


def test_a_v2_claim_states_kind_source_and_control():
    row = gate().to_json()
    assert tuple(row) == KEYS
    assert (row["kind"], row["source"], row["source_ref"]) == ("claim", "paper", "Fig. 1b")
    assert row["control"] == {"description": "shuffled labels", "value": 0.12, "pass": False}
    assert row["pass"] is True
    ident = check("s.f.id", "f", "an identity", 1e-9, "<", 1e-6, kind="check", source="theory").to_json()
    assert ident["kind"] == "check" and ident["control"] is None and ident["pass"] is True
    with pytest.raises(ValueError, match="source 'a pilot'"):
        check("s.f.y", "f", "y", 1.0, ">", 0.0, source="a pilot")
    with pytest.raises(ValueError, match="kind 'gate'"):
        check("s.f.y", "f", "y", 1.0, ">", 0.0, kind="gate")
    assert set(SOURCES) == {"paper", "original-code", "theory", "pilot", "learnscope"}


def test_a_claim_passes_only_when_its_control_fails():
    assert gate().passed
    passing_control = gate(control=("untrained network", 0.93))
    assert not passing_control.passed and passing_control.control.passed is True
    assert verdict(passing_control.to_json()) == "FAIL (control passes)"
    unmeasured = gate(control=("shuffled labels", float("nan")))
    assert not unmeasured.passed and unmeasured.control.passed is None
    assert verdict(unmeasured.to_json()) == "FAIL (control not measured)"
    # the value's own test still decides when the control fails
    assert not gate(value=0.5).passed and verdict(gate(value=0.5).to_json()) == "FAIL"
    # the same direction is applied to the control: for "< threshold" a control below it passes
    low = check("s.f.r", "f", "ratio < 1", 0.5, "<", 1.0, kind="claim", source="theory", control=("wrong λ", 0.8))
    assert not low.passed


def test_a_file_marking_pass_despite_a_passing_control_is_refused(tmp_path):
    row = gate(control=("untrained network", 0.93)).to_json() | {"pass": True}
    (tmp_path / "f.json").write_text(json.dumps([row]))
    with pytest.raises(RecordError, match="s.f.x: marked pass although its control does not fail"):
        read_claims(tmp_path / "f.json")
    (tmp_path / "g.json").write_text(json.dumps([gate().to_json() | {"source": "folklore"}]))
    with pytest.raises(RecordError, match="source 'folklore'"):
        read_claims(tmp_path / "g.json")


def test_merge_refuses_a_migrated_study_with_a_gated_claim_without_control_or_source(tmp_path):
    assert "s" not in CONTRACT_V1_STUDIES
    no_control = check("s.f.bare", "f", "y", 1.0, ">", 0.0, kind="claim", source="pilot")
    no_source = check("s.f.nosrc", "f", "z", 1.0, ">", 0.0, kind="check")
    write_claims(tmp_path / "f.json", [gate(), no_control, no_source])
    with pytest.raises(RecordError) as e:
        merge([tmp_path / "f.json"], tmp_path / "s" / "claims.json")
    msg = str(e.value)
    assert "study s breaks the claims contract v2" in msg
    assert "without a source: ['s.f.nosrc']" in msg and "without a negative control: ['s.f.bare']" in msg
    assert "s.f.x" not in msg and not (tmp_path / "s" / "claims.json").exists()
    # a reported claim and a gated check need no control
    write_claims(tmp_path / "ok.json", [gate(), check("s.f.r", "f", "r", 1.0, ">", 0.0, kind="claim", source="pilot", gated=False),
                                        check("s.f.i", "f", "i", 0.0, "<", 1e-6, kind="check", source="theory")])
    assert len(merge([tmp_path / "ok.json"], tmp_path / "s" / "claims.json")) == 3


def test_the_build_step_fails_with_one_line_naming_the_claims(tmp_path):
    write_claims(tmp_path / "f.json", [check("s.f.bare", "f", "y", 1.0, ">", 0.0, kind="claim", source="pilot")])
    out = subprocess.run([str(BIN / "learnscope"), "claims", "merge", "--study", "s", "--inputs", "f.json",
                          "--out", "claims.json", "--metrics-out", "m.json"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 2, out
    assert "s.f.bare" in out.stderr and "negative control" in out.stderr
    assert not (tmp_path / "claims.json").exists() and not (tmp_path / "m.json").exists()


def test_a_pending_study_merges_with_its_fields_not_yet_stated(tmp_path, monkeypatch):
    """The v1 path: every study has left CONTRACT_V1_STUDIES (identify_rules and neural_mechanics last), so a
    made-up pending study stands in for one."""
    import learnscope.claims as claims_module

    assert CONTRACT_V1_STUDIES == frozenset()
    study = "pending_study"
    monkeypatch.setattr(claims_module, "CONTRACT_V1_STUDIES", frozenset({study}))
    write_claims(tmp_path / "f.json", [check(f"{study}.f.v1", "f", "a v1 gate", 1.0, ">", 0.0)])
    rows = merge([tmp_path / "f.json"], tmp_path / study / "claims.json")
    assert verdict(rows[0]) == "PASS (control not yet stated)"
    table = markdown_table({study: rows})
    assert "| not yet stated | 1 | 0 | – | not yet stated | PASS (control not yet stated) |" in table
    assert f"- {study}: 1/1 gated claims pass (1 without a stated control)" in table
    assert "migration pending" in table


def test_the_pending_set_names_only_known_studies():
    assert CONTRACT_V1_STUDIES <= set(STUDIES)


def test_checks_are_reported_apart_in_the_table_and_the_metrics():
    rows = [gate().to_json(), gate("s.f.y", value=0.5).to_json(),
            check("s.f.id", "f", "an identity holds", 1e-9, "<", 1e-6, kind="check", source="theory").to_json()]
    table = markdown_table({"s": rows})
    claims_part, checks_part = table.split("## Checks")
    assert "an identity holds" not in claims_part and "an identity holds" in checks_part.split("## Tally")[0]
    assert "reaches 90% test accuracy" not in checks_part
    assert "- s: 1/2 gated claims pass; 1/1 gated checks pass" in table
    m = metrics(rows)
    assert set(m) == {"claims", "checks"} and set(m["checks"]) == {"s.f.id"}
    assert m["claims"]["s.f.x"] == {"value": 0.95, "threshold": 0.9, "spread": None, "gated": True, "pass": True,
                                    "control_value": 0.12, "control_pass": False}


def _claim_calls_without_kind_or_source(path: Path) -> list[int]:
    """Lines of ``check(...)`` calls in a figure module whose claim id is not empty (a named claim, not a
    per-seed verdict helper) and that leave out ``kind`` or ``source`` (without ``**kwargs`` passing them)."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and node.args:
            first = node.args[0]
            unnamed = isinstance(first, ast.Constant) and first.value == ""
            kws = {k.arg for k in node.keywords}
            if not unnamed and None not in kws and not {"kind", "source"} <= kws:
                lines.append(node.lineno)
    return lines


def test_migrated_studies_state_kind_and_source_on_every_claim_they_can_emit():
    """A claim that only a default- or paper-tier build emits (e.g. one behind a data condition the smoke
    tier never meets) must keep the contract too, or that build fails at its claims merge."""
    figures = Path(__file__).resolve().parents[1] / "src/learnscope/figures"
    migrated = [s for s in STUDIES if s not in CONTRACT_V1_STUDIES]
    modules = [m for s in migrated for m in ([figures / f"{s}.py"] if (figures / f"{s}.py").exists() else sorted((figures / s).glob("*.py")))]
    assert len(modules) >= len(migrated)
    missing = {str(m.relative_to(figures)): lines for m in modules if (lines := _claim_calls_without_kind_or_source(m))}
    assert not missing, f"check(...) calls without kind= or source= in migrated studies: {missing}"


def _gated_claim_calls_without_control(path: Path) -> list[int]:
    """Lines of named ``check(...)`` calls with ``kind="claim"`` that may be gated (no literal ``gated=False``)
    and name no ``control`` (without ``**kwargs`` passing one)."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and first.value == "":
                continue
            kws = {k.arg: k.value for k in node.keywords}
            if None in kws:
                continue
            kind, gated = kws.get("kind"), kws.get("gated")
            claim = isinstance(kind, ast.Constant) and kind.value == "claim"
            reported = isinstance(gated, ast.Constant) and gated.value is False
            if claim and not reported and "control" not in kws:
                lines.append(node.lineno)
    return lines


def test_migrated_studies_give_every_gated_claim_they_can_emit_a_control():
    """The build refuses a gated claim of kind claim without a negative control (contract v2); this finds one
    in the code even where only a larger tier emits it (e.g. neural_mechanics' paper-tier claims)."""
    figures = Path(__file__).resolve().parents[1] / "src/learnscope/figures"
    migrated = [s for s in STUDIES if s not in CONTRACT_V1_STUDIES]
    assert "neural_mechanics" in migrated
    modules = [m for s in migrated for m in ([figures / f"{s}.py"] if (figures / f"{s}.py").exists() else sorted((figures / s).glob("*.py")))]
    missing = {str(m.relative_to(figures)): lines for m in modules if (lines := _gated_claim_calls_without_control(m))}
    assert not missing, f"gated check(..., kind='claim') calls without control= in migrated studies: {missing}"


def test_identify_rules_is_migrated_and_every_gated_claim_call_names_its_control(tmp_path):
    """identify_rules left CONTRACT_V1_STUDIES (issue 17): the static check above covers its figure module,
    and each of its gated reproductions passes a control (a gated claim only a larger tier emits included)."""
    assert "identify_rules" not in CONTRACT_V1_STUDIES
    module = Path(__file__).resolve().parents[1] / "src/learnscope/figures/identify_rules.py"
    assert not _claim_calls_without_kind_or_source(module)
    assert not _gated_claim_calls_without_control(module), _gated_claim_calls_without_control(module)
    # the static check finds a gated reproduction without control, and lets reported claims and checks pass
    probe = tmp_path / "probe.py"
    probe.write_text('check("s.f.a", "f", "a", 1.0, ">", 0.0, kind="claim", source="pilot")\n'
                     'check("s.f.b", "f", "b", 1.0, ">", 0.0, kind="claim", source="pilot", gated=False)\n'
                     'check("s.f.c", "f", "c", 1.0, ">", 0.0, kind="check", source="theory")\n'
                     'check("s.f.d", "f", "d", 1.0, ">", 0.0, kind="claim", source="pilot", control=("x", 0.0))\n')
    assert _gated_claim_calls_without_control(probe) == [1]
