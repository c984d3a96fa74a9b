"""``learnscope``: one subcommand per pipeline step, so every Snakemake rule is a one-line shell call.

    learnscope validate   --params params.yaml [--configfile override.yaml ...]
    learnscope snakemake  ARGS...   (snakemake ARGS, after refusing config files Snakemake would run as code)
    learnscope prepare    --name digits --spec '{"kind": "digits", ...}' --out data/prepared/digits.h5
    learnscope train      --run '<run json>' [--data data/prepared/digits.h5] --out results/runs/<id>.h5
    learnscope analyze    NAME --inputs RUN.h5 ... --out TABLE [--options JSON] [--threads N]
    learnscope figure     STUDY FIGURE --inputs ... --out figures/S/F.png --claims-out results/S/claims/F.json
    learnscope claims     merge|index|report|findings|findings-page|replication ...
    learnscope dvc-yaml   [--out dvc.yaml] [--check]

Errors a user can fix (bad params, missing data, damaged records) print one line naming the thing and
the fix, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from learnscope.errors import ConfigError, LearnscopeError


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"expected a JSON object on the command line, got {text[:80]!r} ({e})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"expected a JSON object on the command line, got {type(value).__name__}")
    return value


def cmd_validate(a: argparse.Namespace) -> None:
    from learnscope.config import load_params, validate_params

    cfg = load_params(a.params, a.configfile)
    validate_params(cfg, a.schema, source=" + ".join([a.params, *a.configfile]))
    print(" + ".join([a.params, *a.configfile]) + ": valid")


def cmd_prepare(a: argparse.Namespace) -> None:
    from learnscope.data import prepare, save_prepared

    save_prepared(prepare(a.name, _json(a.spec)), a.out)


def cmd_train(a: argparse.Namespace) -> None:
    from learnscope.data import load_prepared
    from learnscope.record import open_run
    from learnscope.train.ensemble_jobs import train_job

    from learnscope.train.resume import ResumePolicy

    resume = ResumePolicy(every_seconds=a.resume_every or None, every_steps=a.resume_every_steps)
    path = train_job(_json(a.run), load_prepared(a.data) if a.data else None, a.out, threads=a.threads, directory=a.ensembles, resume=resume)
    with open_run(path) as run:
        note = f" at step {run.diverged_at_step} (recorded as diverged)" if run.diverged else ""
        print(f"{path}: {run.status}{note}")


def cmd_train_ensemble(a: argparse.Namespace) -> None:
    from learnscope.data import load_prepared
    from learnscope.record import open_run
    from learnscope.train.ensemble import train_ensemble

    runs = json.loads(Path(a.runs[1:]).read_text()) if a.runs.startswith("@") else json.loads(a.runs)
    if not isinstance(runs, list):
        raise ConfigError("--runs must be a JSON list of resolved run configs (or @file holding one)")
    for path in train_ensemble(runs, load_prepared(a.data), a.out, threads=a.threads):
        with open_run(path) as run:
            print(f"{path}: {run.status}")


def cmd_analyze(a: argparse.Namespace) -> None:
    from learnscope.analysis import ANALYSES

    if a.name not in ANALYSES:
        raise ConfigError(f"no analysis {a.name!r} (known: {', '.join(ANALYSES)})")
    options = _json(a.options)
    if a.threads is not None:
        options["threads"] = a.threads
    ANALYSES[a.name](a.inputs, a.out, options)


def cmd_figure(a: argparse.Namespace) -> None:
    from learnscope.atomic import write_text
    from learnscope.claims import caption, read_claims, write_claims
    from learnscope.figures import FIGURES

    if a.study not in FIGURES:
        raise ConfigError(f"no study {a.study!r} with figures (known: {', '.join(FIGURES)})")
    figures = FIGURES[a.study]
    if a.figure not in figures:
        raise ConfigError(f"no figure {a.study}/{a.figure} (known: {', '.join(figures)})")
    claims = figures[a.figure](a.inputs, a.out, _json(a.options))
    write_claims(a.claims_out, claims)
    if a.caption_out:
        write_text(a.caption_out, caption(read_claims(a.claims_out)))


def cmd_claims(a: argparse.Namespace) -> None:
    from learnscope import claims
    from learnscope.atomic import write_text

    if a.action == "merge":
        rows = claims.merge(a.inputs, a.out, a.study)
        if a.metrics_out:
            claims.write_metrics(a.metrics_out, rows)
    elif a.action == "index":
        rows = claims.read_claims(a.claims)
        figures: dict[str, list[str]] = {}
        for f in a.files:
            figures.setdefault(Path(f).stem, []).append(f)
        write_text(a.out, claims.study_index(a.study, figures, rows))
    elif a.action == "report":
        studies = {Path(p).parent.name: claims.read_claims(p) for p in a.inputs}
        write_text(a.out, claims.markdown_table(studies))
        if a.index:  # the study indexes beside it: figures/<study>/all for figures/all (figures/<tier>/... for another tier's)
            root = Path(a.index).parent.as_posix()
            lines = ["# learnscope figures", ""] + [f"- {s}: {root}/{s}/all" for s in studies]
            write_text(a.index, "\n".join(lines) + "\n\n" + claims.markdown_table(studies))
    elif a.action == "replication":
        if not (a.reference and a.replicate):
            raise ConfigError("claims replication: give --reference and --replicate, two tiers' results folders "
                              "(e.g. --reference results --replicate results/replicate)")
        from learnscope.figures import FIGURES
        from learnscope.replication import read_tier_claims, replication_table

        found = {p.parent.name for root in (a.reference, a.replicate) for p in Path(root).glob("*/claims.json")}
        if not any(Path(a.reference, s, "claims.json").is_file() for s in found):
            raise ConfigError(f"claims replication: no <study>/claims.json under {a.reference}; build that tier first "
                              "(make figures for the defaults)")
        studies = [s for s in FIGURES if s in found] + sorted(found - set(FIGURES))
        # the reference named after its tier: results -> the defaults, results/<tier> -> <tier>
        name = "defaults" if Path(a.reference).name == "results" else Path(a.reference).name
        write_text(a.out, replication_table(read_tier_claims(a.reference, studies), read_tier_claims(a.replicate, studies),
                                            (name, "replication")))
    elif a.action == "findings":
        write_text(a.out, claims.findings_markdown([r for p in a.inputs for r in claims.read_claims(p)]))
    elif a.action == "findings-page":
        findings = Path(a.inputs[0]) if len(a.inputs) == 1 else None
        if findings is None or not findings.is_file():
            raise ConfigError("claims findings-page: give one --inputs, the findings file (build it: snakemake figures/cross_study/all)")
        date = datetime.fromtimestamp(findings.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d")
        write_text(a.out, claims.findings_page(findings.read_text(), date))


def cmd_dvc_yaml(a: argparse.Namespace) -> None:
    from learnscope.atomic import write_text
    from learnscope.workflow_dvc import dvc_yaml

    text, out = dvc_yaml(), Path(a.out)
    if a.check:
        if not out.is_file() or out.read_text() != text:
            raise ConfigError(f"{out} is not what `learnscope dvc-yaml` generates; regenerate it (learnscope dvc-yaml --out {out})")
        print(f"{out}: up to date")
    else:
        write_text(out, text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="learnscope", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("validate", help="validate params.yaml (+ overrides) against the schema")
    s.add_argument("--params", default="params.yaml")
    s.add_argument("--configfile", action="append", default=[], help="override file merged on top (repeatable)")
    s.add_argument("--schema", default="workflow/schemas/params.schema.yaml")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("snakemake", help="run snakemake with these arguments, after refusing templated (YTE) config files")
    s.add_argument("args", nargs=argparse.REMAINDER, help="snakemake's arguments, e.g. --cores 2 figures/all --configfile config/smoke.yaml")

    s = sub.add_parser("prepare", help="build a prepared dataset file")
    s.add_argument("--name", required=True)
    s.add_argument("--spec", required=True, help="the data.<name> entry of params, as JSON")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("train", help="train one run and write its HDF5 record")
    s.add_argument("--run", required=True, help="resolved run config, as JSON")
    s.add_argument("--data", help="prepared dataset file (none for a run on an online task)")
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--ensembles", help="seed-ensemble manifests, size and staged records (the workflow's results/ensembles; see learnscope.train.ensemble_jobs)")
    s.add_argument("--resume-every", type=float, default=300.0, metavar="SECONDS",
                   help="save the training state beside --out this often, resumed by a rerun (0: never; see learnscope.train.resume)")
    s.add_argument("--resume-every-steps", type=int, metavar="N", help="save at every N-th step (epoch, online tasks) instead (tests)")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("train-ensemble", help="train several seeds of one run config in one vectorised process")
    s.add_argument("--runs", required=True, help="JSON list of resolved run configs, or @FILE holding one")
    s.add_argument("--data", required=True, help="prepared dataset file")
    s.add_argument("--out", required=True, nargs="+", help="one record path per run, in order")
    s.add_argument("--threads", type=int, default=1)
    s.set_defaults(func=cmd_train_ensemble)

    s = sub.add_parser("analyze", help="run an analysis on run records (model simulations take no inputs)")
    s.add_argument("name")
    s.add_argument("--inputs", nargs="*", default=[], help="run records or tables (none for self-contained simulations)")
    s.add_argument("--out", required=True)
    s.add_argument("--options", default="{}")
    s.add_argument("--threads", type=int, help="worker processes an analysis may use (passed to it as options['threads'])")
    s.set_defaults(func=cmd_analyze)

    s = sub.add_parser("figure", help="render a study figure and write its claims")
    s.add_argument("study")
    s.add_argument("figure")
    s.add_argument("--inputs", nargs="*", default=[], help="input files (none for figures computed from options alone)")
    s.add_argument("--out", required=True, help="the figure's PNG; the PDF and the plotted data (CSV) are written beside it")
    s.add_argument("--claims-out", required=True)
    s.add_argument("--caption-out", help="also write the claims as the figure's report caption (RST)")
    s.add_argument("--options", default="{}")
    s.set_defaults(func=cmd_figure)

    s = sub.add_parser("claims", help="merge claims, write study indexes and the claims report")
    s.add_argument("action", choices=["merge", "index", "report", "findings", "findings-page", "replication"],
                   help="findings: claims as Markdown; findings-page: docs/findings.md (--out) from a findings file (--inputs); "
                   "replication: two tiers' claims side by side (--reference, --replicate)")
    s.add_argument("--inputs", nargs="*", default=[])
    s.add_argument("--claims", help="index: the study's claims.json")
    s.add_argument("--files", nargs="*", default=[], help="index: the study's figure files")
    s.add_argument("--study", help="index: the study; merge: the study whose contract is checked "
                   "(default: the name of --out's directory)")
    s.add_argument("--out", required=True)
    s.add_argument("--index", help="report: also write the figures/all index here (figures/<tier>/all for another tier)")
    s.add_argument("--reference", help="replication: the reference tier's results folder (results for the default tier)")
    s.add_argument("--replicate", help="replication: the replicate tier's results folder (e.g. results/replicate)")
    s.add_argument("--metrics-out", help="merge: also write the claims as DVC metrics ({claims|checks: {id: value, threshold, ...}})")
    s.set_defaults(func=cmd_claims)

    s = sub.add_parser("dvc-yaml", help="write dvc.yaml: stages with deps from the import closures of their steps")
    s.add_argument("--out", default="dvc.yaml")
    s.add_argument("--check", action="store_true", help="only check that --out is up to date (exit 2 if not)")
    s.set_defaults(func=cmd_dvc_yaml)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["snakemake"] and not set(argv[1:2]) & {"-h", "--help"}:  # every argument is snakemake's
        from learnscope.guard import run_snakemake

        try:
            run_snakemake(argv[1:])
        except LearnscopeError as e:
            print(f"learnscope snakemake: error: {e}", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LearnscopeError as e:
        print(f"learnscope {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
