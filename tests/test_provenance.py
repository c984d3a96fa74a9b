"""Code digests from import closures (learnscope.provenance, learnscope.steps) and the lazy registries."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from learnscope import provenance, steps
from learnscope.analysis import ANALYSES
from learnscope.figures import FIGURES, STUDIES, figure_module


def rel(files) -> set[str]:
    return {f.relative_to(provenance.PACKAGE_ROOT).as_posix() for f in files}


def test_closure_follows_imports_transitively_and_runs_package_inits():
    # figures/identify_rules.py imports analysis/observables.py, which imports the data package: the figure
    # can execute data code it never names
    direct = provenance._module_imports(provenance.module_file("learnscope.figures.identify_rules"))
    assert "learnscope.data" not in direct and "learnscope.analysis.observables" in direct
    files = rel(steps.step_files("figure", "identify_rules", "access"))
    assert {"figures/identify_rules.py", "analysis/observables.py", "data/__init__.py", "data/dataset.py"} <= files
    # the packages above each module: their __init__ runs on import
    assert {"__init__.py", "analysis/__init__.py", "figures/__init__.py"} <= files
    # cross_study/dimensionality imports the robust_rnn figure module (the hole issue 16 reported)
    assert "figures/robust_rnn.py" in rel(steps.step_files("figure", "cross_study", "dimensionality"))


def test_closure_holds_only_what_the_step_can_reach():
    train = rel(provenance.step_closure("train"))
    assert {"train/loop.py", "models/mlp.py", "rules/gradient.py", "record/writer.py"} <= train
    assert not any(f.startswith(("analysis/", "figures/")) for f in train)
    # a lazy registry imports nothing: one analysis's closure holds no other analysis
    lc = rel(steps.step_files("analysis", "learning-curves"))
    assert sorted(f for f in lc if f.startswith("analysis/")) == ["analysis/__init__.py", "analysis/learning_curves.py"]
    # one figure of a package-study: not its siblings
    atlas = rel(steps.step_files("figure", "cross_study", "atlas"))
    assert "figures/cross_study/atlas.py" in atlas and "figures/cross_study/geometry.py" not in atlas


def test_entry_points_come_from_the_cli_commands():
    assert "learnscope.train.ensemble_jobs" in provenance.command_modules("train")
    assert "learnscope.train.ensemble" in provenance.command_modules("train")  # train-ensemble
    assert "learnscope.analysis" in provenance.command_modules("analysis")
    with pytest.raises(FileNotFoundError, match="learnscope.nowhere"):
        provenance.import_closure("learnscope.nowhere")


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the learnscope package that the digests read instead of the real one."""
    root = tmp_path / "learnscope"
    shutil.copytree(provenance.PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", root)
    provenance.step_digest.cache_clear()
    provenance.command_modules.cache_clear()
    yield root
    provenance.step_digest.cache_clear()
    provenance.command_modules.cache_clear()


def digests() -> dict[str, str]:
    provenance.step_digest.cache_clear()
    out = {"train": provenance.step_digest("train"), "data": provenance.step_digest("data")}
    out |= {f"analysis:{a}": steps.analysis_digest(a) for a in ("robust-rnn", "learning-curves", "symmetry-dynamics")}
    figs = [("robust_rnn", "fig2_high_d"), ("cross_study", "dimensionality"), ("cross_study", "atlas"), ("rule_zoo", "learning_curves")]
    out |= {f"figure:{s}/{f}": steps.figure_digest(s, f) for s, f in figs}
    return out


def test_an_edit_to_a_module_only_figures_import_changes_exactly_their_digests(package_copy):
    before = digests()
    assert len(set(before.values())) == len(before)
    module = package_copy / "figures" / "robust_rnn.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    after = digests()
    changed = {k for k in before if before[k] != after[k]}
    # robust_rnn's figures, and cross_study's dimensionality figure, which imports them; nothing upstream
    assert changed == {"figure:robust_rnn/fig2_high_d", "figure:cross_study/dimensionality"}


def test_an_edit_to_training_code_changes_train_not_figures(package_copy):
    before = digests()
    (package_copy / "train" / "symmetry.py").write_text((package_copy / "train" / "symmetry.py").read_text() + "\n#\n")
    after = digests()
    # symmetry-dynamics evaluates its wrong-lambda control with train.symmetry.homogeneous, so it is in
    # that module's closure; no figure is
    assert {k for k in before if before[k] != after[k]} == {"train", "analysis:symmetry-dynamics"}


def test_registries_resolve_to_importable_modules():
    for name in ANALYSES:
        assert provenance.module_file(ANALYSES.module_of(name)) is not None, name
        assert callable(ANALYSES[name]), name
    assert list(FIGURES) == list(STUDIES)
    for study in FIGURES:
        for fig, fn in FIGURES[study].items():
            assert callable(fn) and fn.__module__ == figure_module(study, fig), (study, fig)


def test_a_job_imports_only_the_module_it_runs():
    code = (
        "import sys; from learnscope.analysis import ANALYSES; from learnscope.figures import FIGURES; "
        "ANALYSES['learning-curves']; FIGURES['rule_zoo']['learning_curves']; FIGURES['cross_study']['atlas']; "
        "print(sorted(m for m in sys.modules if m.startswith(('learnscope.analysis.', 'learnscope.figures.', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(
        ["learnscope.analysis.learning_curves", "learnscope.figures.common", "learnscope.figures.cross_study",
         "learnscope.figures.cross_study.atlas", "learnscope.figures.rule_zoo"]
    )
