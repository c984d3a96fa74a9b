"""Replication: each claim of one tier beside the same claim on a tier whose every seed is moved to a disjoint
set (config/replicate.yaml; docs/claims.md). ``learnscope claims replication`` writes the table
(results/replication.md by ``make replicate``). Kept apart from ``learnscope.claims``, which every figure
module imports: a change here re-renders no figure."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from learnscope.claims import NOT_STATED, _cell, _fmt, control_text, is_check, read_claims, source_text, verdict


def lost_flag(name: str = "defaults") -> str:
    """The flag of a gated claim that passes on the reference (``name``) and fails on replication."""
    return f"**PASSES ON {name.upper()}, FAILS ON REPLICATION**"


REPLICATION_FLAG = lost_flag()


def replication_flag(ref: dict | None, rep: dict | None, name: str = "defaults") -> str:
    """The row's flag. A gated claim passing on the reference (``name``: the defaults) and failing (or missing)
    on replication is flagged in capitals; the reverse, and a claim missing on either side, are named too;
    nothing is left out."""
    if ref is None:
        return "only on replication"
    if rep is None:
        return lost_flag(name) + " (missing on replication)" if ref["gated"] and ref["pass"] else "missing on replication"
    if not (ref["gated"] or rep["gated"]):
        return "reported"
    if ref["pass"] and not rep["pass"]:
        return lost_flag(name)
    if not ref["pass"] and rep["pass"]:
        return f"fails on {name}, passes on replication"
    return "replicates" if ref["pass"] else "fails on both"


def _control_cell(row: dict | None, described: bool) -> str:
    """The control's value and verdict (``described``: after its description, as in results/claims.md)."""
    if row is None:
        return "–"
    c = row["control"]
    if c is None or described:
        return control_text(row)
    return f"{_fmt(c['value'])}, {({True: 'passes', False: 'fails', None: 'not measured'})[c['pass']]}"


def replication_rows(reference: dict[str, list[dict]], replicate: dict[str, list[dict]]) -> list[tuple[str, dict | None, dict | None]]:
    """(study, reference row, replication row) for every claim of either side, in the reference's order (claims
    only the replication has come after their study's)."""
    out = []
    for study in dict.fromkeys([*reference, *replicate]):
        ref = {r["id"]: r for r in reference.get(study, [])}
        rep = {r["id"]: r for r in replicate.get(study, [])}
        out += [(study, ref.get(i), rep.get(i)) for i in dict.fromkeys([*ref, *rep])]
    return out


def replication_table(reference: dict[str, list[dict]], replicate: dict[str, list[dict]],
                      names: tuple[str, str] = ("defaults", "replication")) -> str:
    """Markdown: each claim on the default seeds and on the replicate tier's disjoint seeds side by side
    (study, id, kind, source, value, control, replication value, replication control, both verdicts, flag);
    reproductions and checks in separate tables, then a tally. ``names``: what the two sides are called."""
    a, b = names
    head = (f"| study | id | kind | source | value ({a}) | control ({a}): value, verdict | value ({b}) | "
            f"control ({b}) | verdict ({a}) | verdict ({b}) | flag |")
    rule = "|---|---|---|---|---|---|---|---|---|---|---|"
    rows = replication_rows(reference, replicate)

    def line(study: str, ref: dict | None, rep: dict | None) -> str:
        any_row = ref or rep
        return "| " + " | ".join(_cell(x) for x in (
            study, any_row["id"], any_row["kind"] or NOT_STATED, source_text(any_row),
            _fmt(ref["value"]) if ref else "–", _control_cell(ref, described=True),
            _fmt(rep["value"]) if rep else "–", _control_cell(rep, described=ref is None),
            verdict(ref) if ref else "missing", verdict(rep) if rep else "missing",
            replication_flag(ref, rep, a))) + " |"

    def checks(r: tuple) -> bool:
        return is_check(r[1] or r[2])

    flag = lost_flag(a)
    where = "the defaults" if a == "defaults" else f"the {a} tier"
    lines = [
        "# Replication", "",
        f"Every claim on {where} and on the replicate tier, whose every seed (models, data, mini-batches, task "
        "instances, splits) is moved to a disjoint set (config/replicate.yaml). A gated claim passing on "
        f"{where} and failing on replication is flagged {flag}; a claim missing on either side is shown "
        "as missing. Verdicts as in results/claims.md: a gated claim passes only when its value passes and its "
        "negative control fails.", "",
        "## Reproductions", "", head, rule,
        *[line(*r) for r in rows if not checks(r)],
        "", "## Checks", "",
        "Identity and integrity checks: never counted as reproductions.", "", head, rule,
        *[line(*r) for r in rows if checks(r)],
        "", "## Tally", "",
    ]
    for study in dict.fromkeys(s for s, _, _ in rows):
        mine = [(ref, rep) for s, ref, rep in rows if s == study and not is_check(ref or rep) and (ref or rep)["gated"]]
        both = sum(bool(ref and rep and ref["pass"] and rep["pass"]) for ref, rep in mine)
        lost = sum(replication_flag(ref, rep, a).startswith(flag) for ref, rep in mine)
        gained = sum(bool(ref and rep and not ref["pass"] and rep["pass"]) for ref, rep in mine)
        lines.append(f"- {study}: {len(mine)} gated claims; {both} pass on both, {lost} pass on {where} and fail on "
                     f"replication, {gained} fail on {where} and pass on replication")
    return "\n".join(lines) + "\n"


def read_tier_claims(results_root: str | Path, studies: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """``<results_root>/<study>/claims.json`` of each study (``studies``; default every study folder that has one,
    sorted), keyed by study; a named study without the file maps to []."""
    root = Path(results_root)
    if studies is None:
        studies = sorted(p.parent.name for p in root.glob("*/claims.json"))
    return {s: read_claims(root / s / "claims.json") if (root / s / "claims.json").is_file() else [] for s in studies}
