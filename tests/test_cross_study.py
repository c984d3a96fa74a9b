"""The cross study's own machinery: the atlas (rules x analyses from per-rule claims), the findings text
and docs/findings.md, the page `make findings` writes from it."""

from __future__ import annotations

import json
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from learnscope.claims import check, findings_markdown, findings_page, read_claims, rule_claim_parts, write_claims
from learnscope.cli import main as cli
from learnscope.errors import ConfigError
from learnscope.figures.cross_study.atlas import atlas, atlas_table, separation

RULES = ["sgd", "adam", "predictive_coding"]
FIGURES_OF_THE_ISSUE = ["identify_pc", "conservation", "geometry", "dimensionality", "target_alignment", "atlas"]


def _claims(figure: str, quantity: str, values: dict[str, tuple[float, float]]) -> list[dict]:
    return [
        check(f"cross_study.{figure}.{quantity}.{rule}", figure, f"{quantity} under {rule}", v, ">", 0.0, spread=s, gated=False).to_json()
        for rule, (v, s) in values.items()
    ]


def test_separation_is_between_rule_sd_over_mean_seed_sd():
    values, spreads = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    assert separation(values, spreads) == pytest.approx(1.0 / 0.5)          # s.d.(1, 2, 3) = 1
    assert separation(np.array([1.0, np.nan, 3.0]), spreads) == pytest.approx(math.sqrt(2.0) / 0.5)   # n/a rules drop out
    assert math.isnan(separation(np.array([1.0, np.nan, np.nan]), spreads))  # one rule: nothing to separate


def test_atlas_table_reads_each_rules_claim_and_marks_missing_rules_not_applicable():
    claims = _claims("a", "x", {"sgd": (0.5, 0.1), "adam": (0.7, 0.2)}) + _claims("b", "y", {"predictive_coding": (3.0, 0.0)})
    table = atlas_table(claims, RULES, {"X": "cross_study.a.x.{rule}", "Y": "cross_study.b.y.{rule}"})
    got = table.set_index(["column", "rule"])
    assert got.loc[("X", "adam"), "value"] == 0.7 and got.loc[("X", "adam"), "spread"] == 0.2
    assert np.isnan(got.loc[("X", "predictive_coding"), "value"]) and np.isnan(got.loc[("Y", "sgd"), "value"])
    with pytest.raises(ConfigError, match="no claim matches"):
        atlas_table(claims, RULES, {"Z": "cross_study.c.z.{rule}"})


def test_atlas_figure_writes_the_panel_and_one_separation_claim_per_column(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_claims(a, _claims("a", "x", {"sgd": (0.1, 0.01), "adam": (0.9, 0.01), "predictive_coding": (0.5, 0.01)}))
    write_claims(b, _claims("b", "y", {"sgd": (1.0, 1.0), "adam": (1.1, 1.0)}))
    out = tmp_path / "atlas.png"
    claims = atlas([str(a), str(b)], str(out), {"rules": RULES, "columns": {"X": "cross_study.a.x.{rule}", "Y": "cross_study.b.y.{rule}"}})
    assert out.stat().st_size > 0 and out.with_suffix(".pdf").stat().st_size > 0
    table = pd.read_csv(out.with_suffix(".csv"))
    assert len(table) == 2 * len(RULES)
    by_id = {c.id: c for c in claims}
    x, y = by_id["cross_study.atlas.a_x_separates_rules"], by_id["cross_study.atlas.b_y_separates_rules"]
    assert x.passed and x.value == pytest.approx(0.4 / 0.01)                # s.d.(0.1, 0.9, 0.5) = 0.4
    assert not y.passed and y.value == pytest.approx(np.std([1.0, 1.1], ddof=1) / 1.0)
    assert not any(c.gated for c in claims)


def test_atlas_states_each_columns_spread_and_the_rules_defined_differently_by_column(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_claims(a, _claims("a", "x", {"sgd": (0.1, 0.01), "adam": (0.9, 0.01)}))
    write_claims(b, _claims("b", "y", {"sgd": (1.0, 1.0), "adam": (1.1, 1.0)}))
    out = tmp_path / "atlas.png"
    sgd, adam = {"name": "sgd", "lr": 0.05}, {"name": "adam", "lr": 0.001}
    options = {"rules": RULES, "columns": {"X": "cross_study.a.x.{rule}", "Y": "cross_study.b.y.{rule}"},
               "spreads": {"X": "seeds", "Y": "splits"},
               "settings": {"X": {"sgd": sgd, "adam": adam}, "Y": {"sgd": {**sgd, "lr": 0.01}, "adam": adam}}}
    claims = {c.id: c for c in atlas([str(a), str(b)], str(out), options)}
    one = claims["cross_study.atlas.rules_with_one_definition"]
    assert one.value == 1.0 and "sgd (2 settings)" in one.claim and not one.passed and not one.gated
    assert "split noise" in claims["cross_study.atlas.b_y_separates_rules"].claim
    assert "seed noise" in claims["cross_study.atlas.a_x_separates_rules"].claim
    table = pd.read_csv(out.with_suffix(".csv"))
    assert set(table[table["column"] == "Y"]["spread_over"]) == {"splits"}
    cell = table[(table["column"] == "Y") & (table["rule"] == "sgd")]["settings"].iloc[0]
    assert json.loads(cell)["lr"] == 0.01


def test_findings_markdown_and_the_findings_page(tmp_path):
    rows = _claims("a", "x", {"sgd": (0.25, 0.05)}) + [check("cross_study.b.z", "b", "z holds", 2.0, "<", 1.0, gated=False).to_json()]
    rows += _claims("a", "y", {"adam": (3.0, 0.5)})
    text = findings_markdown(rows)
    # per-rule claims: one table per figure, a row per quantity, a column per rule, n/a where a rule has none
    assert "**a**\n\n| quantity | sgd | adam |\n|---|---:|---:|\n| x | 0.25 ± 0.05 | n/a |\n| y | n/a | 3 ± 0.5 |\n" in text
    assert "- z holds: 2 (threshold 1, FAIL (reported))" in text                  # a claim of no rule, in words

    # the CLI: claims -> findings.md -> docs/findings.md, dated by the findings file
    claims_file, findings, page = tmp_path / "claims.json", tmp_path / "findings.md", tmp_path / "docs" / "findings.md"
    write_claims(claims_file, rows)
    assert cli(["claims", "findings", "--inputs", str(claims_file), "--out", str(findings)]) == 0
    when = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(findings, (when, when))
    assert cli(["claims", "findings-page", "--inputs", str(findings), "--out", str(page)]) == 0
    written = page.read_text()
    assert written == findings_page(text, "2026-12-02")
    assert written.startswith("# What learnscope finds across rules\n") and "dated 2026-12-02 (UTC)" in written
    assert written.endswith("\n" + text.strip() + "\n")
    assert cli(["claims", "findings-page", "--inputs", str(findings), "--out", str(page)]) == 0
    assert page.read_text() == written                                          # the same findings, the same page
    assert cli(["claims", "findings-page", "--inputs", str(tmp_path / "missing.md"), "--out", str(page)]) == 2
    with pytest.raises(SystemExit):                                            # nothing writes into the README any more
        cli(["claims", "readme", "--inputs", str(findings), "--out", str(tmp_path / "README.md")])


def test_make_findings_writes_docs_findings_and_not_the_readme():
    root = Path(__file__).resolve().parents[1]
    recipe = (root / "Makefile").read_text().split("\nfindings:", 1)[1].split("\n\n", 1)[0]
    assert "claims findings-page --inputs results/cross_study/findings.md --out docs/findings.md" in recipe
    assert "README" not in recipe.split("\n", 1)[1]


def test_the_committed_findings_page_is_the_generators_output():
    """docs/findings.md is generated whole: its header and body are what findings_page writes, and the
    README carries no findings (a build never writes into README.md)."""
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "findings.md").read_text()
    date = re.search(r"is dated (\d{4}-\d{2}-\d{2}) \(UTC\)", page).group(1)
    body = page.split("`make findings`; after a build at another tier this page would carry that tier's numbers.\n", 1)[1]
    assert body.strip() and page == findings_page(body, date)
    assert "| quantity |" in body
    readme = (root / "README.md").read_text()
    assert "| quantity |" not in readme and "cross-study findings: generated" not in readme


@pytest.mark.integration
def test_cross_study_target_smoke(smoke_build, tmp_path):
    project = smoke_build.study("cross_study")
    claims = read_claims(project.path("results/smoke/cross_study/claims.json"))
    figures = sorted({c["figure"] for c in claims})
    assert set(FIGURES_OF_THE_ISSUE) <= set(figures), figures
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/cross_study/{fig}.{ext}").stat().st_size > 0
    assert not any(c["gated"] for c in claims), "cross-study findings are reported, never gated"

    # the atlas: one row per rule and column, every column measured for at least two rules, each cell the
    # value of the claim the column names (the test accuracy column comes from the rule zoo's own claims)
    from learnscope.config import load_params

    params = load_params(project.path("params.yaml"), [project.path("config/smoke.yaml")])["cross_study"]
    atlas = pd.read_csv(project.path("figures/smoke/cross_study/atlas.csv"))
    assert len(atlas) == len(params["rules"]) * len(params["atlas"]["columns"])
    assert (atlas.groupby("column")["value"].count() >= 2).all(), atlas
    every = {c["id"]: c for p in project.path("results/smoke").glob("*/claims.json") for c in read_claims(p)}
    for row in atlas.itertuples():
        pattern = params["atlas"]["columns"][row.column]
        claim = every.get(pattern.format(rule=row.rule))
        if claim is None:
            assert np.isnan(row.value)
        else:
            assert row.value == pytest.approx(claim["value"], rel=1e-6), (row.column, row.rule)

    # the findings (docs/findings.md: `make findings`), from this build
    findings = project.path("results/smoke/cross_study/findings.md").read_text()
    assert findings.strip() == findings_markdown(claims).strip()
    for c in claims:                      # every claim is in it: per-rule ones as a table cell, the others in words
        section = findings.split(f"**{c['figure']}**", 1)[1].split("\n**", 1)[0]
        if parts := rule_claim_parts(c["id"]):
            quantity, rule = parts
            header = next(line for line in section.splitlines() if line.startswith("| quantity |"))
            row = next(line for line in section.splitlines() if line.startswith(f"| {quantity} |"))
            cells = dict(zip(header.strip("| ").split(" | "), row.strip("| ").split(" | ")))
            assert cells[rule] != "n/a" or c["value"] is None, c["id"]
        else:
            assert f"- {c['claim']}: " in section, c["id"]
    page = tmp_path / "findings.md"
    assert cli(["claims", "findings-page", "--inputs", str(project.path("results/smoke/cross_study/findings.md")), "--out", str(page)]) == 0
    assert page.read_text().endswith("\n" + findings.strip() + "\n")
