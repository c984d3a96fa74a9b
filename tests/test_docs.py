"""The front door: a short README whose study lines lead to pages that exist, one per registered study."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
STUDY_LINK = re.compile(r"\]\((docs/studies/[^)#\s]+)\)")


def test_readme_is_at_most_200_lines():
    n = len(README.read_text().splitlines())
    assert n <= 200, f"README.md has {n} lines; move detail to docs/ (issue 16: at most 200)"


def test_every_study_link_in_the_readme_exists():
    links = STUDY_LINK.findall(README.read_text())
    assert links, "the README lists no study (one line per study, linking docs/studies/<study>.md)"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f"README links missing study pages: {missing}"


def test_one_readme_line_and_one_page_per_registered_study():
    from learnscope.figures import FIGURES

    linked = [Path(link).stem for link in STUDY_LINK.findall(README.read_text())]
    pages = sorted(p.stem for p in (ROOT / "docs" / "studies").glob("*.md"))
    assert sorted(linked) == sorted(set(linked)), f"a study is listed twice: {linked}"
    assert sorted(linked) == pages == sorted(FIGURES), (linked, pages, sorted(FIGURES))
