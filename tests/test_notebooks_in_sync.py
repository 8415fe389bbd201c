"""Every chapter notebook matches its source and carries the outputs of a clean, real run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
CHAPTERS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
SEED = REPO.parent / "shared" / "seed"


def output_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with a notebook's stored outputs (empty when it looks like a clean run)."""
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.get("execution_count") is not None for c in code):
        problems.append("no executed code cell: run `python tools/notebooks.py run` on it")
    last = 0
    for i, cell in enumerate(code):
        count = cell.get("execution_count")
        if cell.source.strip() and any(c.get("execution_count") is not None for c in code):
            # One run, top to bottom: every cell executed, in order.
            if count is None:
                problems.append(f"code cell {i}: never executed in the stored run")
            elif count <= last:
                problems.append(f"code cell {i}: executed out of order ({count} after {last})")
            last = count if count is not None else last
        for out in cell.get("outputs", []):
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            if "\x1b[" in text:
                problems.append(f"code cell {i}: terminal colour codes in an output")
            if out.output_type == "error":
                problems.append(f"code cell {i}: error output {out.get('ename')}")
            elif out.output_type == "stream" and out.get("name") == "stderr":
                problems.append(f"code cell {i}: stderr stream {out.get('text', '')[:80]!r}")
    return problems


def test_output_problems_flags_bad_notebooks():
    ok = nbformat.v4.new_code_cell("1", execution_count=1)
    assert output_problems(nbformat.v4.new_notebook(cells=[ok])) == []
    fresh = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    assert "no executed code cell" in output_problems(fresh)[0]
    err = nbformat.v4.new_code_cell("1/0", execution_count=1, outputs=[
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])])
    noisy = nbformat.v4.new_code_cell("x", execution_count=2, outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="W0000 oneDNN\n")])
    problems = output_problems(nbformat.v4.new_notebook(cells=[err, noisy]))
    assert len(problems) == 2 and "ZeroDivisionError" in problems[0] and "stderr" in problems[1]
    skipped = nbformat.v4.new_code_cell("y")
    late = nbformat.v4.new_code_cell("z", execution_count=1)
    coloured = nbformat.v4.new_code_cell("w", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="\x1b[1mloss\x1b[0m 2.0\n")])
    problems = output_problems(nbformat.v4.new_notebook(cells=[ok, skipped, late, coloured]))
    assert problems == ["code cell 1: never executed in the stored run",
                        "code cell 2: executed out of order (1 after 1)",
                        "code cell 3: terminal colour codes in an output"]


def test_notebooks_match_their_sources():
    result = subprocess.run([sys.executable, str(REPO / "tools" / "notebooks.py"), "check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all notebooks match their sources" in result.stdout


def test_every_chapter_has_a_source():
    for nb in CHAPTERS:
        assert (NB_DIR / "src" / f"{nb.stem}.py").exists(), f"{nb.name} has no src/{nb.stem}.py"


def test_there_are_chapters():
    assert any(nb.name == "00_welcome.ipynb" for nb in CHAPTERS)


# Stored runs known to be incomplete, each until its chapter is re-run at cpu. strict: the
# mark fails the test as soon as the chapter is clean, so it cannot outlive the defect.
STALE = {
    "11_question_answering.ipynb": "two code cells never ran in the stored run (#19 re-run)",
}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(reason=STALE[p.name], strict=True))
    if p.name in STALE else p for p in CHAPTERS], ids=[p.name for p in CHAPTERS])
def test_chapter_has_clean_stored_outputs(path):
    problems = output_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def _stored_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


@pytest.mark.skipif(not (SEED / "OUTLINE.md").exists(), reason="shared/seed/OUTLINE.md absent")
def test_welcome_course_map_lists_every_chapter_of_the_outline():
    files = re.findall(r"^\| `notebooks/(\d\d_\w+\.ipynb)` \|", (SEED / "OUTLINE.md").read_text(),
                       re.M)
    assert len(files) == 15
    shown = _stored_text(nbformat.read(NB_DIR / "00_welcome.ipynb", as_version=4))
    missing = [f for f in files if f"`{f}`" not in shown]
    assert not missing, f"the course map in 00_welcome lacks {missing}"


@pytest.mark.skipif(not (SEED / "source-document.zh.md").exists(), reason="source absent")
def test_glossary_chinese_terms_come_from_the_source_document():
    from course_lib.chapters.ch00_welcome import GLOSSARY

    doc = (SEED / "source-document.zh.md").read_text(encoding="utf-8")
    assert len(GLOSSARY) >= 20
    for term in GLOSSARY:
        for zh in term.zh.split(" / "):
            assert zh in doc, f"{term.en}: {zh!r} does not occur in the source document"
    for required in ("困惑度", "注意力机制", "交叉熵", "词袋模型", "分词", "反向传播"):
        assert any(required in t.zh for t in GLOSSARY), required
