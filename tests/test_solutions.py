"""Exercise solution notebooks: one per chapter with exercises, valid nbgrader cells, and a real
nbgrader release and autograde of one of them.

The solutions live in ``notebooks/solutions/NN_name.ipynb`` (built from
``notebooks/solutions/src/NN_name.py`` by ``tools/notebooks.py``). ``make test`` also executes
them with nbval, which proves every solution passes its own check; the tests here check their
structure and that nbgrader really accepts them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
BIN = Path(sys.executable).parent
NBGRADER_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution", "task"}


def chapters_with_exercises() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if _exercise_count(p))


def _exercise_section(chapter: Path) -> list:
    """The cells of a chapter's ``## Exercises`` section."""
    cells, inside = [], False
    for cell in nbformat.read(chapter, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    inside = line.strip() == "## Exercises"
            if inside or cell.source.lstrip().startswith("## Exercises"):
                cells.append(cell)
        elif inside:
            cells.append(cell)
    return cells


def _exercise_count(chapter: Path) -> int:
    """How many "**Exercise N" statements a chapter's ``## Exercises`` section has."""
    return sum(len(re.findall(r"^\*\*Exercise [\d.]+", c.source, re.MULTILINE))
               for c in _exercise_section(chapter) if c.cell_type == "markdown")


def _checked_exercise_count(chapter: Path) -> int:
    """How many exercises of a chapter have a self-check (open questions have none)."""
    return sum(bool(re.search(r"\bcheck_\w+\(", c.source))
               for c in _exercise_section(chapter) if c.cell_type == "code")


def _graded_cells(nb) -> list:
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def solution_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


def test_every_chapter_with_exercises_has_a_solutions_notebook():
    chapters = chapters_with_exercises()
    assert len(chapters) >= 8, chapters  # 01-07 and 09 at least
    missing = [c.name for c in chapters if not (SOLUTIONS / c.name).exists()]
    assert not missing, f"no notebooks/solutions/<same name> for {missing}"


def test_exercise_counter_sees_the_exercises_of_a_known_chapter():
    # Control for the test above and the next: chapter 07 has exactly four exercises.
    assert _exercise_count(NOTEBOOKS / "07_evaluation.ipynb") == 4
    assert _checked_exercise_count(NOTEBOOKS / "07_evaluation.ipynb") == 4
    assert _exercise_count(NOTEBOOKS / "00_welcome.ipynb") == 0


@pytest.mark.parametrize("path", solution_notebooks(), ids=lambda p: p.stem)
def test_solutions_notebook_has_valid_nbgrader_cells(path):
    nb = nbformat.read(path, as_version=4)
    graded = _graded_cells(nb)
    solutions = [c for c in graded if c.metadata["nbgrader"]["solution"]]
    checks = [c for c in graded if c.metadata["nbgrader"]["grade"]]
    assert solutions and checks, "needs at least one [solution] and one [check] cell"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in graded]
    assert len(ids) == len(set(ids)), f"grade ids must be unique: {ids}"
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert NBGRADER_KEYS <= set(meta), meta
        assert meta["schema_version"] == 3 and meta["task"] is False
        assert cell.cell_type == "code"
    for cell in solutions:
        meta = cell.metadata["nbgrader"]
        assert not meta["grade"] and not meta["locked"]
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for cell in checks:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["solution"] and meta["points"] > 0
        assert re.search(r"assert ex\.check_\w+\(", cell.source), cell.source
    # Each check follows its own solution: solution ex1, then check ex1_check, and so on.
    pairs = list(zip(graded[::2], graded[1::2], strict=True))
    for solution, check in pairs:
        sid, cid = (c.metadata["nbgrader"]["grade_id"] for c in (solution, check))
        assert solution.metadata["nbgrader"]["solution"], f"{sid} should be a solution cell"
        assert cid == f"{sid}_check", f"check {cid} should follow solution {sid}"


@pytest.mark.parametrize("path", solution_notebooks(), ids=lambda p: p.stem)
def test_solutions_cover_every_exercise_and_pass_their_checks(path):
    nb = nbformat.read(path, as_version=4)
    solutions = [c for c in _graded_cells(nb) if c.metadata["nbgrader"]["solution"]]
    checked = _checked_exercise_count(NOTEBOOKS / path.name)
    assert len(solutions) == checked, f"one solution per self-checked exercise ({checked})"
    for cell in _graded_cells(nb):
        if cell.metadata["nbgrader"]["grade"]:
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "Correct" in text and "Not yet" not in text, (
                f"stored output of {cell.metadata['nbgrader']['grade_id']}: {text!r}; run "
                "tools/notebooks.py run on the solutions notebook"
            )


def _nbgrader(course: Path, *args: str) -> None:
    """Runs the nbgrader CLI with everything (config, data, database) inside ``course``."""
    home = course.parent / "home"
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader calls `alembic`
    done = subprocess.run(
        [str(BIN / "nbgrader"), *args, "--force", f"--CourseDirectory.root={course}"],
        cwd=course, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_nbgrader_releases_and_autogrades_a_solutions_notebook(tmp_path):
    from nbgrader.api import Gradebook

    # Chapter 06's solutions import TensorFlow, whose log lines on stderr would cost a check cell
    # its points if they appeared there (nbgrader gives no credit to a test cell with stderr).
    name = "06_training_loop.ipynb"
    course = tmp_path / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(SOLUTIONS / name, course / "source" / "ps1" / name)
    db = f"sqlite:///{course / 'gradebook.db'}"
    (course / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "llm-course"\n'
        f'c.CourseDirectory.db_url = "{db}"\n', encoding="utf-8")

    _nbgrader(course, "generate_assignment", "ps1")
    released = nbformat.read(course / "release" / "ps1" / name, as_version=4)
    source = nbformat.read(SOLUTIONS / name, as_version=4)
    for before, after in zip(source.cells, released.cells, strict=True):
        meta = before.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "raise NotImplementedError" in after.source and "# YOUR CODE HERE" in after.source
            assert "### BEGIN SOLUTION" not in after.source
        elif meta.get("grade"):
            assert after.source == before.source, "check cells are kept as they are"
        assert not getattr(after, "outputs", []), "the release has no outputs"

    # Two submissions: the worked solutions (full marks) and the untouched release (no marks).
    for student, notebook in (("solver", SOLUTIONS / name),
                              ("blank", course / "release" / "ps1" / name)):
        (course / "submitted" / student / "ps1").mkdir(parents=True)
        shutil.copy(notebook, course / "submitted" / student / "ps1" / name)
    _nbgrader(course, "autograde", "ps1", "--create")
    with Gradebook(db) as gradebook:
        solver = gradebook.find_submission("ps1", "solver")
        blank = gradebook.find_submission("ps1", "blank")
        assert solver.max_score == 4 and solver.score == solver.max_score, solver.score
        assert blank.score == 0
