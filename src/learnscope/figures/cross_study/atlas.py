"""The atlas of the cross-rule study: one rules x analyses panel of the key number of each cell.

Each figure of the study states, per rule, one key number as a reported claim with id
``cross_study.<figure>.<quantity>.<rule>`` (``rule`` a rule_zoo label) and its spread over seeds. The atlas
collects those claims (and any other study's, e.g. the rule zoo's test accuracy) into one rules x analyses
panel. Each column states its spread (``spreads``: s.d. over seeds, or over classifier splits for the
identification column) and the caption lists, for every rule whose settings differ between columns, the
settings behind each column (``settings``: column -> rule -> spec), so a row is never silently two rules.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from learnscope.claims import Claim, check, read_claims
from learnscope.errors import ConfigError
from learnscope.figures.common import save, style


def atlas_table(claims: list[dict], rules: list[str], columns: dict[str, str]) -> pd.DataFrame:
    """One row per (column, rule): the claim's value and spread (NaN where the analysis does not apply to
    the rule, i.e. no such claim). A column none of whose claims exists is a configuration error."""
    by_id = {c["id"]: c for c in claims}
    rows = []
    for label, pattern in columns.items():
        found = [by_id.get(pattern.format(rule=rule)) for rule in rules]
        if not any(found):
            raise ConfigError(f"cross_study.atlas.columns[{label!r}]: no claim matches {pattern!r} for any rule of {rules}")
        for rule, c in zip(rules, found):
            value = np.nan if c is None or c["value"] is None else float(c["value"])
            spread = np.nan if c is None or c["spread"] is None else float(c["spread"])
            rows.append({"column": label, "rule": rule, "value": value, "spread": spread, "claim": "" if c is None else c["claim"]})
    return pd.DataFrame(rows)


def separation(values: np.ndarray, spreads: np.ndarray) -> float:
    """Between-rule s.d. of the per-rule values over the mean within-rule (seed) s.d.: > 1 when the analysis
    tells the rules apart beyond seed noise (NaN with fewer than two rules or no spread)."""
    ok = np.isfinite(values)
    v, s = values[ok], spreads[ok & np.isfinite(spreads)]
    if len(v) < 2 or len(s) == 0 or float(np.mean(s)) == 0.0:
        return math.nan
    return float(np.std(v, ddof=1) / np.mean(s))


def differing_rules(settings: dict[str, dict[str, dict]], rules: list[str]) -> dict[str, dict[str, list[str]]]:
    """Rules whose spec differs between the columns that train them: rule -> {spec (JSON): [columns]}."""
    out = {}
    for rule in rules:
        specs: dict[str, list[str]] = {}
        for col, by_rule in settings.items():
            if rule in by_rule:
                specs.setdefault(json.dumps(by_rule[rule], sort_keys=True), []).append(col)
        if len(specs) > 1:
            out[rule] = specs
    return out


def _spec_text(spec: str) -> str:
    d = json.loads(spec)
    return ", ".join(f"{k} {v}" for k, v in d.items() if k != "name")


def atlas(inputs: list[str], out: str, options: dict) -> list[Claim]:
    """The atlas: rules x analyses, each cell a rule's key number ± its s.d. over seeds; colour is the value
    standardised within its column (which rule is high or low on each analysis); blank: does not apply.

    Claims (reported): per column, the between-rule s.d. over the mean seed s.d. exceeds 1 (the analysis
    separates the rules beyond seed noise)."""
    claims = [c for p in inputs for c in read_claims(p)]
    rules, columns = list(options["rules"]), dict(options["columns"])
    table = atlas_table(claims, rules, columns)
    value = table.pivot(index="rule", columns="column", values="value").reindex(index=rules, columns=list(columns))
    spread = table.pivot(index="rule", columns="column", values="spread").reindex(index=rules, columns=list(columns))
    z = (value - value.mean()) / value.std(ddof=0).replace(0.0, np.nan)

    style()
    fig, ax = plt.subplots(figsize=(1.5 + 1.45 * len(columns), 0.9 + 0.42 * len(rules)), constrained_layout=True)
    ax.imshow(z.to_numpy(dtype=float), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    for i, rule in enumerate(rules):
        for j, col in enumerate(columns):
            v, s = value.loc[rule, col], spread.loc[rule, col]
            text = "n/a" if not np.isfinite(v) else f"{v:.3g}" + (f"\n± {s:.2g}" if np.isfinite(s) else "")
            dark = np.isfinite(z.loc[rule, col]) and abs(z.loc[rule, col]) > 1.3
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="0.4" if not np.isfinite(v) else "white" if dark else "black")
    ax.set_xticks(range(len(columns)), [c.replace(" ", "\n", 1) if len(c) > 14 else c for c in columns], fontsize=7)
    ax.set_yticks(range(len(rules)), rules, fontsize=8)
    ax.tick_params(length=0)
    spreads = dict(options.get("spreads", {}))
    by_split = [c for c in columns if spreads.get(c) == "splits"]
    note = f"; {', '.join(by_split)}: ± s.d. over classifier splits" if by_split else ""
    ax.set_title(f"learnscope atlas: every analysis on every rule (mean ± s.d. over seeds{note}; colour: z within column)", fontsize=8)
    settings = dict(options.get("settings", {}))
    differ = differing_rules(settings, rules)
    lines = [f"{rule} differs by column: " + "; ".join(f"[{', '.join(cols)}] {_spec_text(spec)}" for spec, cols in specs.items()) for rule, specs in differ.items()]
    if lines:
        fig.text(0.0, -0.02, "\n".join(lines), fontsize=5.5, va="top", ha="left", wrap=True)
    table["spread_over"] = table["column"].map(lambda c: spreads.get(c, "seeds"))
    table["settings"] = [json.dumps(settings.get(c, {}).get(r), sort_keys=True) if r in settings.get(c, {}) else "" for c, r in zip(table["column"], table["rule"])]
    save(fig, out, table)

    out_claims = []
    for col, pattern in columns.items():
        name = pattern.split(".")[1] + "_" + "".join(ch if ch.isalnum() else "_" for ch in col.lower()).strip("_")
        out_claims.append(
            check(
                f"cross_study.atlas.{name}_separates_rules",
                "atlas",
                f"{col}: the rules differ by more than {'split' if spreads.get(col) == 'splits' else 'seed'} noise "
                f"(between-rule s.d. / mean {'split' if spreads.get(col) == 'splits' else 'seed'} s.d. > 1; compare columns of one spread only)",
                separation(value[col].to_numpy(dtype=float), spread[col].to_numpy(dtype=float)),
                ">",
                1.0,
                gated=False,
                kind="claim",
                source="learnscope",
                source_ref="the atlas's separation: between-rule s.d. over mean seed s.d.",
            )
        )
    if settings:
        out_claims.append(
            check(
                "cross_study.atlas.rules_with_one_definition",
                "atlas",
                "rules whose settings differ between atlas columns (a row that is several rules): "
                + ("; ".join(f"{r} ({len(s)} settings)" for r, s in differ.items()) or "none"),
                float(len(differ)),
                "<=",
                0.0,
                gated=False,
                kind="check",
                source="learnscope",
                source_ref="issue 20: one definition per rule across the atlas columns",
            )
        )
    return out_claims

