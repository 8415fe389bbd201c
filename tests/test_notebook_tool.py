"""tools/notebooks.py: percent-format sources become notebooks with slide and nbgrader metadata."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("nbtool", REPO / "tools" / "notebooks.py")
nbtool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbtool)

SOURCE = """# %% [markdown]
# # 99 · Demo
# %%
x = 1
# %% [markdown]
# **Exercise 1.** What is x + 1?
# %% [solution] ex1
### BEGIN SOLUTION
answer = x + 1
### END SOLUTION
# %% [check] ex1_check points=2
assert answer == 2
# %% [markdown] slide=skip
# ### Notes for the instructor
"""


def test_solution_and_check_cells_carry_nbgrader_metadata():
    cells = nbtool.parse_source(SOURCE)
    assert [c.cell_type for c in cells] == ["markdown", "code", "markdown", "code", "code",
                                            "markdown"]
    solution, check = cells[3].metadata["nbgrader"], cells[4].metadata["nbgrader"]
    assert solution == {"grade": False, "grade_id": "ex1", "locked": False,
                        "schema_version": 3, "solution": True, "task": False}
    assert check["grade"] and check["locked"] and check["points"] == 2
    assert check["grade_id"] == "ex1_check" and not check["solution"]
    assert "nbgrader" not in cells[1].metadata  # plain code stays plain


def test_slide_types_follow_headings_and_overrides():
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nbtool.parse_source(SOURCE)]
    assert kinds == ["slide", "subslide", "subslide", "subslide", "subslide", "skip"]


@pytest.mark.parametrize("bad, message", [
    ("# %% [solution]\n### BEGIN SOLUTION\n", "exactly one id"),
    ("# %% [solution] ex1\nanswer = 1\n", "BEGIN SOLUTION"),
    ("# %% [answer] ex1\n", "unknown cell kind"),
    ("# %% [markdown] slide=big\n# hi\n", "slide=big"),
])
def test_bad_headers_are_rejected_with_a_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        nbtool.parse_source(bad)


def test_solutions_build_next_to_their_chapters():
    sol = REPO / "notebooks" / "solutions" / "src" / "06_training_loop.py"
    assert nbtool.notebook_for(sol) == REPO / "notebooks" / "solutions" / "06_training_loop.ipynb"
    chapter = REPO / "notebooks" / "src" / "06_training_loop.py"
    assert nbtool.notebook_for(chapter) == REPO / "notebooks" / "06_training_loop.ipynb"


def test_record_cells_are_hidden_from_readers_and_slides():
    cell = nbtool.parse_source("# %% [record]\nrecord_key_figures('99', {})\n")[0]
    assert cell.metadata["tags"] == ["remove-cell"]
    assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert cell.metadata["slideshow"] == {"slide_type": "skip"}


def test_every_chapter_hides_its_key_figures_cell():
    # The key figures are written for the runner and RESULTS.md; a reader never sees the cell.
    import nbformat

    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        recording = [c for c in nb.cells if c.cell_type == "code"
                     and "record_key_figures(" in c.source.replace("import record_key_figures", "")]
        for c in recording:
            assert "remove-cell" in c.metadata.get("tags", []), path.name
            assert c.metadata["slideshow"]["slide_type"] == "skip", path.name
        if path.name != "00_welcome.ipynb":
            assert recording, f"{path.name} records no key figures"
