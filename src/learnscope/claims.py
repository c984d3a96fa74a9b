"""The claims contract: every figure states the published result it checks, measured, with a verdict.

``results/<study>/claims.json`` is a JSON list of objects with keys ``id``, ``figure``, ``claim`` (the
published result in words), ``value`` (measured), ``threshold``, ``spread`` (over seeds, where there are
seeds), ``gated`` (true for a reproduction gate, false for a finding only reported) and ``pass``.
``results/claims.md`` aggregates all studies in one table. The cross study's claims, in short Markdown
(``findings_markdown``), become ``docs/findings.md`` (``findings_page``, written by ``make findings``; a build
never writes into README.md).
``metrics/<study>.json`` holds the same claims as
DVC metrics: one mapping, claim id -> its numbers and verdict (DVC ignores a JSON list); it lives outside
results/<study>, which DVC tracks as one directory, and is committed to git.
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from learnscope.atomic import write_text
from learnscope.errors import RecordError

KEYS = ("id", "figure", "claim", "value", "threshold", "spread", "gated", "pass")
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Claim:
    id: str
    figure: str
    claim: str
    value: float | None
    threshold: float | None
    spread: float | None
    gated: bool
    passed: bool

    def to_json(self) -> dict:
        clean = lambda v: None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
        return {
            "id": self.id,
            "figure": self.figure,
            "claim": self.claim,
            "value": clean(self.value),
            "threshold": clean(self.threshold),
            "spread": clean(self.spread),
            "gated": self.gated,
            "pass": self.passed,
        }


def check(id: str, figure: str, claim: str, value: float, op: str, threshold: float, *, spread: float | None = None, gated: bool = True) -> Claim:
    """A claim whose verdict is ``value <op> threshold``; a missing or non-finite value fails."""
    ok = value is not None and math.isfinite(value) and bool(_OPS[op](value, threshold))
    return Claim(id, figure, claim, None if value is None else float(value), float(threshold), spread if spread is None else float(spread), gated, ok)


def write_claims(path: str | Path, claims: Iterable[Claim | dict]) -> None:
    rows = [c.to_json() if isinstance(c, Claim) else c for c in claims]
    write_text(path, json.dumps(rows, indent=2, allow_nan=False) + "\n")


def read_claims(path: str | Path) -> list[dict]:
    """Read a claims file and check it keeps the contract."""
    p = Path(path)
    try:
        rows = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RecordError(f"{p}: unreadable claims file ({e}); rerun the figure rule that writes it") from None
    if not isinstance(rows, list) or any(not isinstance(r, dict) or set(r) != set(KEYS) for r in rows):
        raise RecordError(f"{p}: a claims file is a JSON list of objects with exactly the keys {', '.join(KEYS)}")
    return rows


def merge(paths: Iterable[str | Path], out: str | Path) -> list[dict]:
    """Concatenate per-figure claim files into the study's claims.json (ids must be unique)."""
    rows = [r for p in paths for r in read_claims(p)]
    ids = [r["id"] for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RecordError(f"duplicate claim ids {dupes}: each claim id must be unique within a study")
    write_claims(out, rows)
    return rows


METRIC_KEYS = ("value", "threshold", "spread", "gated", "pass")


def metrics(rows: list[dict]) -> dict[str, dict]:
    """The study's claims as a DVC metrics mapping: claim id -> value, threshold, spread, gated, pass
    (``dvc metrics diff`` / ``dvc exp show`` compare these per claim; the words stay in claims.json)."""
    return {r["id"]: {k: r[k] for k in METRIC_KEYS} for r in rows}


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    write_text(path, json.dumps(metrics(rows), indent=2, allow_nan=False) + "\n")


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def verdict(row: dict) -> str:
    return ("PASS" if row["pass"] else "FAIL") + ("" if row["gated"] else " (reported)")


def _rst(text: str) -> str:
    """Escape RST inline markup in free text."""
    for ch in ("\\", "*", "`", "_", "|"):
        text = text.replace(ch, "\\" + ch)
    return text


def caption(rows: list[dict]) -> str:
    """A figure's report caption (RST): each claim it checks, measured, with its verdict."""
    if not rows:
        return "This figure carries no claim.\n"
    lines = ["Claims checked by this figure (PASS/FAIL: reproduction gates; reported: findings, not gated):", ""]
    for r in rows:
        lines.append(
            f"- **{verdict(r)}** {_rst(r['claim'])}: measured {_fmt(r['value'])}, threshold {_fmt(r['threshold'])}, "
            f"spread {_fmt(r['spread'])} (``{r['id']}``)"
        )
    return "\n".join(lines) + "\n"


def report_labels(study: str, figure: str, rows: list[dict]) -> dict[str, str]:
    """The report table's columns for one figure: where it belongs and how its gated claims fared."""
    gated = [r for r in rows if r["gated"]]
    passed = sum(r["pass"] for r in gated)
    return {"study": study, "figure": figure, "gated claims": f"{passed}/{len(gated)} pass" if gated else "none"}


def study_index(study: str, figures: dict[str, list[str]], rows: list[dict]) -> str:
    """The ``figures/<study>/all`` index: each figure's files and the claims it carries."""
    lines = [f"# {study}", ""]
    for fig, files in figures.items():
        lines.append(f"## {fig}")
        lines += [f"- file: {f}" for f in files]
        for r in (r for r in rows if r["figure"] == fig):
            lines.append(f"- [{verdict(r)}] {r['id']}: {r['claim']} (value {_fmt(r['value'])}, threshold {_fmt(r['threshold'])}, spread {_fmt(r['spread'])})")
        lines.append("")
    return "\n".join(lines)


def markdown_table(studies: dict[str, list[dict]]) -> str:
    """All studies' claims in one Markdown table, with a per-study tally of gated claims."""
    lines = ["# Claims", "", "| study | figure | claim | value | threshold | spread | verdict |", "|---|---|---|---|---|---|---|"]
    for study, rows in studies.items():
        for r in rows:
            lines.append(
                f"| {study} | {r['figure']} | {r['claim']} | {_fmt(r['value'])} | {_fmt(r['threshold'])} | {_fmt(r['spread'])} | {verdict(r)} |"
            )
    lines.append("")
    for study, rows in studies.items():
        gated = [r for r in rows if r["gated"]]
        lines.append(f"- {study}: {sum(r['pass'] for r in gated)}/{len(gated)} gated claims pass")
    return "\n".join(lines) + "\n"


def rule_claim_parts(claim_id: str) -> tuple[str, str] | None:
    """(quantity, rule) of a per-rule claim id ``<study>.<figure>.<quantity>.<rule>``; None for other ids."""
    parts = claim_id.split(".", 2)
    if len(parts) < 3 or "." not in parts[2]:
        return None
    quantity, rule = parts[2].rsplit(".", 1)
    return quantity, rule


def findings_markdown(rows: list[dict]) -> str:
    """A study's claims in short Markdown: per figure, one table of the per-rule claims (ids
    ``<study>.<figure>.<quantity>.<rule>``; a row per quantity, a column per rule, each cell the measured
    value ± its spread), then the figure's other claims as bullets in words. The full statements, thresholds
    and verdicts stay in the claims file and the figure captions."""
    parts = {r["id"]: rule_claim_parts(r["id"]) for r in rows}
    order = list(dict.fromkeys(p[1] for p in parts.values() if p))   # rules, first seen, study-wide
    lines = []
    for fig in dict.fromkeys(r["figure"] for r in rows):
        mine = [r for r in rows if r["figure"] == fig]
        cell = {parts[r["id"]]: r for r in mine if parts[r["id"]]}
        others = [r for r in mine if not parts[r["id"]]]
        lines += [f"**{fig}**", ""]
        if cell:
            rules = [rule for rule in order if any(k[1] == rule for k in cell)]
            lines.append("| " + " | ".join(["quantity", *rules]) + " |")
            lines.append("|" + "---|" + "---:|" * len(rules))
            for q in dict.fromkeys(k[0] for k in cell):
                values = []
                for rule in rules:
                    r = cell.get((q, rule))
                    values.append("n/a" if r is None or r["value"] is None else _fmt(r["value"]) + ("" if r["spread"] is None else f" ± {_fmt(r['spread'])}"))
                lines.append("| " + " | ".join([q, *values]) + " |")
            lines.append("")
        for r in others:
            spread = "" if r["spread"] is None else f" ± {_fmt(r['spread'])}"
            lines.append(f"- {r['claim']}: {_fmt(r['value'])}{spread} (threshold {_fmt(r['threshold'])}, {verdict(r)})")
        if others:
            lines.append("")
    return "\n".join(lines)


FINDINGS_PAGE_HEADER = """\
# What learnscope finds across rules

<!-- generated by `make findings` (learnscope claims findings-page) from results/cross_study/findings.md; do not edit -->

The cross-study claims (`results/cross_study/claims.json`) of the build whose `results/cross_study/findings.md`
is dated {date} (UTC): per figure, each rule's key number, mean ± s.d. over seeds (over the classifier
splits for `identify_pc`, 10 at the default tier); n/a where the analysis does not apply to the rule. None is
a gate; the statements and thresholds are in the claims file and the figure captions, and
`figures/cross_study/atlas.png` puts them on one panel. The study: [studies/cross_study.md](studies/cross_study.md).

Refresh it after a default-tier build (`make figures`, or `snakemake figures/cross_study/all`) with
`make findings`; after a build at another tier this page would carry that tier's numbers.
"""


def findings_page(findings: str, date: str) -> str:
    """docs/findings.md: a short header (``date``: the findings file's date) above the build's findings."""
    return FINDINGS_PAGE_HEADER.format(date=date) + "\n" + findings.strip() + "\n"
