"""The claims contract (v2): every figure states the published result it checks, where its threshold comes from,
the measured value, the same statistic on a negative control, and a verdict.

``results/<study>/claims.json`` is a JSON list of objects with exactly the keys ``KEYS``: ``id``, ``figure``,
``claim`` (the result in words), ``kind`` (``claim``: a published result reproduced; ``check``: an identity or
integrity check, reported apart and never counted as a reproduction), ``source`` (where the threshold and
direction come from, one of ``SOURCES``) with ``source_ref`` (free text, e.g. "Fig. 3e"), ``value`` (measured),
``threshold``, ``spread`` (over seeds, where there are seeds), ``control`` (``{description, value, pass}``: the
same statistic and test on the claim's negative control), ``gated`` (a reproduction gate, or a finding only
reported) and ``pass``. A claim with a control passes only when its value passes AND its control fails.

``learnscope claims merge`` refuses a study whose claims break the contract (``contract_errors``): a claim
without a source or kind, or a gated claim of kind ``claim`` without a control. Studies in
``CONTRACT_V1_STUDIES`` are still being migrated: their claims merge with those fields unset, and the reports
show them as "not yet stated" (never as a PASS with a control).

``results/claims.md`` aggregates all studies, reproductions and checks in separate tables. The cross study's
claims, in short Markdown (``findings_markdown``), become ``docs/findings.md`` (``findings_page``, written by
``make findings``; a build never writes into README.md). ``metrics/<study>.json`` holds the same claims as
DVC metrics: ``{"claims": {id: numbers}, "checks": {id: numbers}}`` (DVC ignores a JSON list); it lives
outside results/<study>, which DVC tracks as one directory, and is committed to git.
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

KEYS = ("id", "figure", "claim", "kind", "source", "source_ref", "value", "threshold", "spread", "control", "gated", "pass")
CONTROL_KEYS = ("description", "value", "pass")
KINDS = ("claim", "check")
SOURCES = ("paper", "original-code", "theory", "pilot", "learnscope")
NOT_STATED = "not yet stated"
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}

# Studies whose claims still follow contract v1 (no source, kind or control): merged with those fields
# unset and reported as "not yet stated". A study leaves this set when every claim it emits states its
# source and kind and every gated claim of kind "claim" its negative control; the set only shrinks.
CONTRACT_V1_STUDIES: frozenset[str] = frozenset()   # every study is on contract v2 (identify_rules and neural_mechanics last)


def _clean(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _passes(value, op: str, threshold: float) -> bool:
    return value is not None and math.isfinite(value) and bool(_OPS[op](value, threshold))


@dataclass(frozen=True)
class Control:
    """The claim's statistic on its negative control; ``passed`` is the claim's own test applied to it
    (None: the control could not be measured, which fails the claim)."""

    description: str
    value: float | None
    passed: bool | None

    def to_json(self) -> dict:
        return {"description": self.description, "value": _clean(self.value), "pass": self.passed}


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
    kind: str | None = None
    source: str | None = None
    source_ref: str | None = None
    control: Control | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "figure": self.figure,
            "claim": self.claim,
            "kind": self.kind,
            "source": self.source,
            "source_ref": self.source_ref,
            "value": _clean(self.value),
            "threshold": _clean(self.threshold),
            "spread": _clean(self.spread),
            "control": None if self.control is None else self.control.to_json(),
            "gated": self.gated,
            "pass": self.passed,
        }


def check(id: str, figure: str, claim: str, value: float | None, op: str, threshold: float, *,
          spread: float | None = None, gated: bool = True, kind: str | None = None,
          source: str | None = None, source_ref: str | None = None,
          control: tuple[str, float | None] | None = None) -> Claim:
    """A claim whose verdict is ``value <op> threshold``; a missing or non-finite value fails.

    ``control``: (description, value) of the same statistic on the claim's negative control; the same test
    is applied to it, and the claim passes only when its value passes and the control's fails (a control
    that cannot be measured fails the claim)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"claim {id}: kind {kind!r} is not one of {KINDS}")
    if source is not None and source not in SOURCES:
        raise ValueError(f"claim {id}: source {source!r} is not one of {SOURCES}")
    ok = _passes(value, op, threshold)
    ctl = None
    if control is not None:
        desc, cv = control
        cv = None if cv is None else float(cv)
        ctl = Control(desc, cv, _passes(cv, op, threshold) if _clean(cv) is not None else None)
        ok = ok and ctl.passed is False
    return Claim(id, figure, claim, None if value is None else float(value), float(threshold),
                 spread if spread is None else float(spread), gated, ok, kind, source, source_ref, ctl)


def write_claims(path: str | Path, claims: Iterable[Claim | dict]) -> None:
    rows = [c.to_json() if isinstance(c, Claim) else c for c in claims]
    write_text(path, json.dumps(rows, indent=2, allow_nan=False) + "\n")


def _row_error(r) -> str | None:
    if not isinstance(r, dict) or set(r) != set(KEYS):
        return f"a claims file is a JSON list of objects with exactly the keys {', '.join(KEYS)}"
    if r["kind"] not in (None, *KINDS):
        return f"claim {r['id']}: kind {r['kind']!r} is not one of {', '.join(KINDS)}"
    if r["source"] not in (None, *SOURCES):
        return f"claim {r['id']}: source {r['source']!r} is not one of {', '.join(SOURCES)}"
    c = r["control"]
    if c is not None and (not isinstance(c, dict) or set(c) != set(CONTROL_KEYS)):
        return f"claim {r['id']}: a control is an object with exactly the keys {', '.join(CONTROL_KEYS)}"
    if c is not None and r["pass"] and c["pass"] is not False:
        return f"claim {r['id']}: marked pass although its control does not fail (control pass: {c['pass']})"
    return None


def read_claims(path: str | Path) -> list[dict]:
    """Read a claims file and check it keeps the contract."""
    p = Path(path)
    try:
        rows = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RecordError(f"{p}: unreadable claims file ({e}); rerun the figure rule that writes it") from None
    if not isinstance(rows, list):
        raise RecordError(f"{p}: a claims file is a JSON list of objects with exactly the keys {', '.join(KEYS)}")
    for r in rows:
        if err := _row_error(r):
            raise RecordError(f"{p}: {err}")
    return rows


def contract_errors(study: str, rows: list[dict]) -> list[str]:
    """What keeps ``study``'s claims from contract v2 (none for a study in ``CONTRACT_V1_STUDIES``)."""
    if study in CONTRACT_V1_STUDIES:
        return []
    problems = {
        "without a source": [r["id"] for r in rows if r["source"] is None],
        "without a kind (claim or check)": [r["id"] for r in rows if r["kind"] is None],
        "gated, of kind claim, without a negative control": [
            r["id"] for r in rows if r["gated"] and r["kind"] == "claim" and r["control"] is None],
    }
    return [f"claims {what}: {ids}" for what, ids in problems.items() if ids]


def merge(paths: Iterable[str | Path], out: str | Path, study: str | None = None) -> list[dict]:
    """Concatenate per-figure claim files into the study's claims.json (ids must be unique; the claims must
    keep contract v2 unless the study is in ``CONTRACT_V1_STUDIES``). ``study`` defaults to the name of
    ``out``'s directory (results/<study>/claims.json)."""
    study = study or Path(out).resolve().parent.name
    rows = [r for p in paths for r in read_claims(p)]
    ids = [r["id"] for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RecordError(f"duplicate claim ids {dupes}: each claim id must be unique within a study")
    errors = contract_errors(study, rows)
    if errors:
        raise RecordError(
            f"study {study} breaks the claims contract v2: {'; '.join(errors)}. State each claim's source and kind "
            "and each gated claim's negative control in its figure module (check(..., source=, kind=, control=); "
            "see docs/claims.md)")
    write_claims(out, rows)
    return rows


METRIC_KEYS = ("value", "threshold", "spread", "gated", "pass")


def is_check(row: dict) -> bool:
    return row["kind"] == "check"


def metrics(rows: list[dict]) -> dict[str, dict]:
    """The study's claims as a DVC metrics mapping, reproductions and checks apart:
    ``{"claims": {id: value, threshold, spread, gated, pass, control_value, control_pass}, "checks": {id: ...}}``
    (``dvc metrics diff`` / ``dvc exp show`` compare these per claim; the words stay in claims.json)."""
    out: dict[str, dict] = {"claims": {}, "checks": {}}
    for r in rows:
        m = {k: r[k] for k in METRIC_KEYS}
        if r["control"] is not None:
            m |= {"control_value": r["control"]["value"], "control_pass": r["control"]["pass"]}
        out["checks" if is_check(r) else "claims"][r["id"]] = m
    return out


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    write_text(path, json.dumps(metrics(rows), indent=2, allow_nan=False) + "\n")


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _needs_control(row: dict) -> bool:
    return row["gated"] and not is_check(row)


def verdict(row: dict) -> str:
    """PASS/FAIL, with why a value that passes still fails (its control passes, or was not measured), a
    gated claim whose control is not yet stated (contract v1), and "(reported)" for a claim not gated."""
    text = "PASS" if row["pass"] else "FAIL"
    c = row["control"]
    if c is not None and c["pass"] is not False:
        text += " (control passes)" if c["pass"] else " (control not measured)"
    elif c is None and _needs_control(row):
        text += f" (control {NOT_STATED})"
    return text + ("" if row["gated"] else " (reported)")


def source_text(row: dict) -> str:
    if row["source"] is None:
        return NOT_STATED
    return row["source"] + (f" ({row['source_ref']})" if row["source_ref"] else "")


def control_text(row: dict) -> str:
    """The negative control, its value and its own verdict (a control must fail)."""
    c = row["control"]
    if c is None:
        return NOT_STATED if _needs_control(row) else "–"
    fate = {True: "passes", False: "fails", None: "not measured"}[c["pass"]]
    return f"{c['description']}: {_fmt(c['value'])}, {fate}"


def _rst(text: str) -> str:
    """Escape RST inline markup in free text."""
    for ch in ("\\", "*", "`", "_", "|"):
        text = text.replace(ch, "\\" + ch)
    return text


def caption(rows: list[dict]) -> str:
    """A figure's report caption (RST): each claim it checks, measured, with its source, control and verdict."""
    if not rows:
        return "This figure carries no claim.\n"
    lines = ["Claims checked by this figure (PASS/FAIL: reproduction gates, which pass only when their negative "
             "control fails; reported: findings, not gated; check: an identity or integrity check, not a "
             "reproduction):", ""]
    for r in rows:
        kind = "check " if is_check(r) else ""
        lines.append(
            f"- **{kind}{verdict(r)}** {_rst(r['claim'])}: measured {_fmt(r['value'])}, threshold "
            f"{_fmt(r['threshold'])}, spread {_fmt(r['spread'])}; source {_rst(source_text(r))}; control "
            f"{_rst(control_text(r))} (``{r['id']}``)"
        )
    return "\n".join(lines) + "\n"


def _tally(rows: list[dict]) -> str:
    gated = [r for r in rows if r["gated"]]
    return f"{sum(r['pass'] for r in gated)}/{len(gated)} pass" if gated else "none"


def report_labels(study: str, figure: str, rows: list[dict]) -> dict[str, str]:
    """The report table's columns for one figure: where it belongs and how its gated claims (reproductions)
    and its gated checks fared, apart."""
    return {"study": study, "figure": figure,
            "gated claims": _tally([r for r in rows if not is_check(r)]),
            "gated checks": _tally([r for r in rows if is_check(r)])}


def study_index(study: str, figures: dict[str, list[str]], rows: list[dict]) -> str:
    """The ``figures/<study>/all`` index: each figure's files and the claims it carries."""
    lines = [f"# {study}", ""]
    for fig, files in figures.items():
        lines.append(f"## {fig}")
        lines += [f"- file: {f}" for f in files]
        for r in (r for r in rows if r["figure"] == fig):
            kind = "check " if is_check(r) else ""
            lines.append(
                f"- [{kind}{verdict(r)}] {r['id']}: {r['claim']} (value {_fmt(r['value'])}, threshold "
                f"{_fmt(r['threshold'])}, spread {_fmt(r['spread'])}; source {source_text(r)}; control {control_text(r)})")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(studies: dict[str, list[dict]]) -> str:
    """All studies' claims in Markdown: reproductions (kind claim, with their sources and negative controls)
    and identity/integrity checks in separate tables, then a per-study tally of each."""
    head = "| study | figure | claim | source | value | threshold | spread | {} | verdict |"
    lines = [
        "# Claims", "",
        "## Reproductions", "",
        "Published results reproduced. A gated claim passes only when its value passes and the same statistic on "
        f"its negative control fails; \"{NOT_STATED}\" marks a study whose migration to claims contract v2 is "
        "pending (docs/claims.md).", "",
        head.format("control"), "|---|---|---|---|---|---|---|---|---|",
    ]
    for study, rows in studies.items():
        for r in (r for r in rows if not is_check(r)):
            lines.append("| " + " | ".join(_cell(x) for x in (
                study, r["figure"], r["claim"], source_text(r), _fmt(r["value"]), _fmt(r["threshold"]),
                _fmt(r["spread"]), control_text(r), verdict(r))) + " |")
    lines += ["", "## Checks", "",
              "Identity and integrity checks: the pipeline is wrong if one fails; never counted as reproductions.", "",
              "| study | figure | check | source | value | threshold | spread | verdict |", "|---|---|---|---|---|---|---|---|"]
    for study, rows in studies.items():
        for r in (r for r in rows if is_check(r)):
            lines.append("| " + " | ".join(_cell(x) for x in (
                study, r["figure"], r["claim"], source_text(r), _fmt(r["value"]), _fmt(r["threshold"]),
                _fmt(r["spread"]), verdict(r))) + " |")
    lines += ["", "## Tally", ""]
    for study, rows in studies.items():
        claims = [r for r in rows if r["gated"] and not is_check(r)]
        checks = [r for r in rows if r["gated"] and is_check(r)]
        pending = sum(r["control"] is None for r in claims)
        lines.append(
            f"- {study}: {sum(r['pass'] for r in claims)}/{len(claims)} gated claims pass"
            + (f" ({pending} without a stated control)" if pending else "")
            + f"; {sum(r['pass'] for r in checks)}/{len(checks)} gated checks pass"
            + (" (claims contract v1: migration pending)" if study in CONTRACT_V1_STUDIES else ""))
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


def margin_note(value: float | None, threshold: float, sd: float | None, n: int | None, unit: str = "splits") -> str:
    """'' when ``threshold`` sits at least two standard errors (``sd``/√``n``) from ``value`` (or either is
    unknown); else a clause for the claim's text saying so, and how many independent replicates would put
    the threshold two standard errors away at this s.d.: the least m with 2·sd/√m ≤ |value − threshold|.
    (Where ``sd`` is over classifier splits of the same networks, it understates the spread over seeds.)"""
    if value is None or sd is None or not n or not math.isfinite(value) or not math.isfinite(sd) or sd <= 0:
        return ""
    se = sd / math.sqrt(n)
    gap = abs(value - threshold)
    if gap >= 2 * se:
        return ""
    need = "no finite number of" if gap == 0 else f"about {math.ceil((2 * sd / gap) ** 2)}"
    return (f" [margin: the threshold is within 2 s.e. of the value (s.d. {sd:.2g}, s.e. {se:.2g} over {n} {unit}); "
            f"2 s.e. would take {need} independent replicates (seeds) at this s.d.]")
