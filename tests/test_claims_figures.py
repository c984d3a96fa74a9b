"""The claims contract and the rule-zoo figure."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from learnscope.claims import KEYS, caption, check, markdown_table, merge, read_claims, report_labels, study_index, write_claims
from learnscope.errors import RecordError
from learnscope.figures import FIGURES


def test_check_verdicts():
    assert check("a", "f", "x", 0.95, ">=", 0.9).passed
    assert not check("a", "f", "x", 0.85, ">=", 0.9).passed
    assert check("a", "f", "x", 0.5, "<", 1.0, gated=False).passed
    assert not check("a", "f", "x", float("nan"), ">=", 0.0).passed
    assert not check("a", "f", "x", None, "<", 1.0).passed


def test_claims_files_keep_the_contract(tmp_path):
    v2 = dict(kind="claim", source="pilot", control=("shuffled labels", 0.0))
    write_claims(tmp_path / "a.json", [check("s.a", "f1", "x", float("nan"), ">=", 1, spread=0.1, **v2)])
    write_claims(tmp_path / "b.json", [check("s.b", "f2", "y", 2.0, ">=", 1, **v2)])
    rows = merge([tmp_path / "a.json", tmp_path / "b.json"], tmp_path / "claims.json")
    assert [set(r) for r in rows] == [set(KEYS)] * 2
    back = json.loads((tmp_path / "claims.json").read_text())
    assert back[0]["value"] is None and back[0]["pass"] is False and back[1]["pass"] is True
    with pytest.raises(RecordError, match="duplicate claim ids \\['s.b'\\]"):
        merge([tmp_path / "b.json", tmp_path / "b.json"], tmp_path / "dup.json")
    (tmp_path / "bad.json").write_text(json.dumps([{"id": "x"}]))
    with pytest.raises(RecordError, match="exactly the keys"):
        read_claims(tmp_path / "bad.json")
    table = markdown_table({"s": back})
    assert "| s | f1 | x | pilot | – | 1 | 0.1 | shuffled labels: 0, fails | FAIL |" in table
    assert "- s: 1/2 gated claims pass; 0/0 gated checks pass" in table
    assert "[FAIL] s.a" in study_index("s", {"f1": ["figures/s/f1.png"]}, back)


def synthetic_curves(final_acc: dict[str, list[float]], diverged=()) -> pd.DataFrame:
    rows = []
    for rule, accs in final_acc.items():
        for seed, acc in enumerate(accs):
            status = "diverged" if (rule, seed) in diverged else "complete"
            for step in (0, 50, 100):
                frac = step / 100
                rows.append(dict(run_id=f"{rule}-{seed}", rule=rule, rule_name=rule, model="mlp", dataset="digits", seed=seed,
                                 status=status, step=step, train_loss=2.3 * (1 - frac) + 0.1 + (0.0 if rule == "adam" else 0.2),
                                 train_acc=acc, test_loss=1.0, test_acc=0.1 + (acc - 0.1) * frac))
    return pd.DataFrame(rows)


def render(tmp_path, table, control=None):
    """The figure on ``table``; its control curves: ``control``, by default every rule at chance (0.1)."""
    if control is None:
        control = synthetic_curves({rule: [0.1] for rule in table["rule"].unique()})
    table.to_csv(tmp_path / "lc.csv", index=False)
    control.to_csv(tmp_path / "cc.csv", index=False)
    claims = FIGURES["rule_zoo"]["learning_curves"]([str(tmp_path / "lc.csv"), str(tmp_path / "cc.csv")], str(tmp_path / "fig.png"), {"min_test_accuracy": 0.9})
    return {c.id.split(".")[-1]: c for c in claims}


def test_report_caption_and_labels_state_each_claim_and_verdict():
    from docutils.core import publish_parts

    rows = [
        check("s.f.a", "f", "feedback_alignment reaches *90%*", 0.95, ">=", 0.9, kind="claim", source="paper",
              source_ref="Fig. 2", control=("shuffled labels", 0.1)).to_json(),
        check("s.f.b", "f", "loss ratio < 1", 1.2, "<", 1.0, gated=False).to_json(),
        check("s.f.c", "f", "gate that fails", 0.1, ">", 0.5).to_json(),
    ]
    html = publish_parts(caption(rows), writer_name="html")["body"]
    assert "<strong>PASS</strong> feedback_alignment reaches *90%*: measured 0.95, threshold 0.9" in html
    assert "source paper (Fig. 2); control shuffled labels: 0.1, fails" in html
    assert "<strong>FAIL (reported)</strong> loss ratio &lt; 1: measured 1.2" in html
    assert "<strong>FAIL (control not yet stated)</strong> gate that fails" in html and "s.f.c" in html
    assert report_labels("s", "f", rows) == {"study": "s", "figure": "f", "gated claims": "1/2 pass", "gated checks": "none"}
    assert report_labels("s", "f", rows[1:2])["gated claims"] == "none"
    assert "no claim" in caption([])


def test_rule_zoo_learning_curves_figure_and_claims(tmp_path):
    claims = render(tmp_path, synthetic_curves({"sgd": [0.92, 0.94, 0.96], "adam": [0.97, 0.95, 0.96]}))
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / f"fig.{ext}").stat().st_size > 0
    data = pd.read_csv(tmp_path / "fig.csv")
    row = data[(data.rule == "sgd") & (data.metric == "test_acc") & (data.step == 100) & (data.labels == "true")].iloc[0]
    assert row["mean"] == pytest.approx(0.94) and row["sd"] == pytest.approx(0.02) and row["n"] == 3
    assert claims["sgd_learns"].passed and claims["sgd_learns"].spread == pytest.approx(0.02)
    assert claims["sgd_learns"].control.value == pytest.approx(0.1) and claims["sgd_learns"].control.passed is False
    assert claims["sgd_learns"].kind == "claim" and claims["sgd_learns"].source == "learnscope"
    assert claims["adam_faster_than_sgd"].passed and not claims["adam_faster_than_sgd"].gated


def test_rule_zoo_claims_fail_when_they_should(tmp_path):
    claims = render(tmp_path, synthetic_curves({"sgd": [0.95, 0.5], "adam": [0.97, 0.96]}, diverged={("adam", 1)}))
    assert not claims["sgd_learns"].passed and claims["sgd_learns"].value == pytest.approx(0.725)
    assert not claims["adam_learns"].passed and math.isnan(claims["adam_learns"].value)
    assert "1 diverged" in claims["adam_learns"].claim
    # the Adam/SGD comparison uses the seeds where both completed
    # (seed 0 only: mean train loss 1.25 for Adam vs 1.45 for SGD over steps 0, 50, 100)
    assert claims["adam_faster_than_sgd"].value == pytest.approx(1.25 / 1.45)


def test_rule_zoo_learning_claim_fails_when_its_shuffled_label_control_learns_too(tmp_path):
    # a control that also reaches the threshold (e.g. labels leaking into the inputs) fails the claim
    table = synthetic_curves({"sgd": [0.95, 0.96], "adam": [0.97, 0.96]})
    claims = render(tmp_path, table, control=synthetic_curves({"sgd": [0.93], "adam": [0.1]}))
    assert not claims["sgd_learns"].passed and claims["sgd_learns"].control.passed is True
    assert claims["adam_learns"].passed
    # a control that diverged on every seed was not measured: the claim cannot pass
    claims = render(tmp_path, table, control=synthetic_curves({"sgd": [0.1], "adam": [0.1]}, diverged={("sgd", 0)}))
    assert not claims["sgd_learns"].passed and claims["sgd_learns"].control.passed is None


def test_rule_zoo_comparison_without_a_completed_sgd_seed(tmp_path):
    claims = render(tmp_path, synthetic_curves({"sgd": [0.9], "adam": [0.97]}, diverged={("sgd", 0)}))
    assert not claims["adam_faster_than_sgd"].passed and math.isnan(claims["adam_faster_than_sgd"].value)


def test_figure_bytes_are_deterministic(tmp_path):
    table = synthetic_curves({"sgd": [0.92, 0.94], "adam": [0.97, 0.95]})
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    render(tmp_path / "a", table), render(tmp_path / "b", table)
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / "a" / f"fig.{ext}").read_bytes() == (tmp_path / "b" / f"fig.{ext}").read_bytes()
