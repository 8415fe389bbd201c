"""Reader comfort: every chapter opens the same way.

The first cell names the chapter, the section of the source document it mirrors, and what it
costs to run ("Before you run it": time per profile, memory, data); the first code cell is the
"run me first" cell that seeds every generator and reads the active profile.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))

TITLE = re.compile(r"\A# (\d\d) · \S")
MIRRORS = re.compile(r"^\*Mirrors §\d", re.MULTILINE)
BEFORE = re.compile(
    r"\*\*Before you run it:\*\* time: smoke ~\d+(\.\d+)? (s|min)\b.*"
    r" · cpu ~\d+(\.\d+)? min.*· gpu ~\d+(\.\d+)? min.*; memory: .*peak ~\d+(\.\d+)? (GB|MB).*"
    r"; data: \S.*"
)


def _paragraphs(text: str) -> list[str]:
    """The cell's paragraphs, each joined into one line (a long line may be wrapped)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def header_problems(notebook) -> list[str]:
    """What the first markdown cell and the first code cell lack (empty when both are right)."""
    problems = []
    first = notebook.cells[0]
    if first.cell_type != "markdown":
        return ["the first cell is not a markdown cell"]
    text = first.source
    if not TITLE.match(text):
        problems.append("no '# NN · Title' heading on the first line")
    if not MIRRORS.search(text):
        problems.append("no '*Mirrors §…' line")
    paragraphs = _paragraphs(text)
    before = [p for p in paragraphs if p.startswith("**Before you run it:**")]
    if not before or not BEFORE.fullmatch(before[0]):
        problems.append("no '**Before you run it:** time: smoke ~… · cpu ~… · gpu ~…; memory: "
                        "peak ~…; data: …' paragraph")
    elif before[0] != paragraphs[-1]:
        problems.append("the 'Before you run it' paragraph should end the first cell")
    code = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if code is None or "seed_everything(" not in code.source or "active_profile()" not in code.source:
        problems.append("the first code cell should call seed_everything(...) and active_profile()")
    return problems


def test_there_are_chapters():
    assert len(CHAPTERS) >= 9


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_title_mirror_costs_and_run_me_first_cell(path):
    notebook = nbformat.read(path, as_version=4)
    assert header_problems(notebook) == [], f"{path.name}: {header_problems(notebook)}"
    # The heading's number is the file's number.
    assert notebook.cells[0].source[2:4] == path.name[:2]


GOOD = """# 04 · Attention
*Mirrors §4.1 of the source document (注意力, "attention").*

What it covers.

**Before you run it:** time: smoke ~40 s · cpu ~2 min (2 cores) · gpu ~1 min (estimated); memory: peak ~1.0 GB at cpu; data: tinyshakespeare (1.1 MB) (downloaded once, verified by SHA-256)."""
RUN_ME_FIRST = "SEED = seed_everything(4)\nprofile = active_profile()"


def _notebook(first: str, code: str = RUN_ME_FIRST):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(first),
                                           nbformat.v4.new_code_cell(code)])


def test_header_check_accepts_a_good_header():
    assert header_problems(_notebook(GOOD)) == []


@pytest.mark.parametrize("broken, problem", [
    (GOOD.replace("# 04 · Attention", "# Attention"), "heading"),
    (GOOD.replace("gpu ~1 min", "gpu ~1\nmin"), None),  # a wrapped line is still one paragraph
    (GOOD.replace("*Mirrors §4.1", "*Follows 4.1"), "Mirrors"),
    (GOOD.replace(" · gpu ~1 min (estimated)", ""), "Before you run it"),
    (GOOD.replace("peak ~1.0 GB", "a lot"), "Before you run it"),
    (GOOD.replace("; data: tinyshakespeare", "; tinyshakespeare"), "Before you run it"),
    (GOOD + "\n\nMore text after it.", "end the first cell"),
])
def test_header_check_rejects_a_header_missing_a_part(broken, problem):
    problems = header_problems(_notebook(broken))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_header_check_wants_the_run_me_first_cell():
    problems = header_problems(_notebook(GOOD, "import numpy as np"))
    assert problems == ["the first code cell should call seed_everything(...) and active_profile()"]
