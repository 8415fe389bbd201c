"""Checked cells (``# NBVAL_CHECK_OUTPUT``) print the same thing at every profile.

nbval compares a checked cell's output at the smoke profile with the stored cpu run; a value
that depends on the profile (a step count, a data-slice size, a result of a profile-sized
run) would make the check fail at smoke, or hold only by chance, or fail at gpu, where no test
runs. So no checked cell may print a name bound to ``profile.pick(...)``, or ``profile``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks" / "src").glob("*.py")) + sorted(
    (REPO / "notebooks" / "solutions" / "src").glob("*.py"))
OUTPUT_CALLS = {"print", "display", "Markdown"}


def cells(text: str) -> list[str]:
    """The code cells of a percent-format source."""
    out, current = [], None
    for line in text.split("\n"):
        if line.startswith("# %%"):
            if current is not None:
                out.append("\n".join(current))
            current = None if line.startswith("# %% [markdown]") else []
        elif current is not None:
            current.append(line)
    if current is not None:
        out.append("\n".join(current))
    return out


def profile_names(code_cells: list[str]) -> set[str]:
    """Names assigned from ``profile.pick(...)`` anywhere in the notebook."""
    names = set()
    for code in code_cells:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                and c.func.attr == "pick" and getattr(c.func.value, "id", None) == "profile"
                for c in ast.walk(node.value)
            ):
                for target in node.targets:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names | {"profile"}


def _outside_comparisons(node):
    """The nodes under ``node``, skipping comparisons (they print a bool, not the value)."""
    if isinstance(node, ast.Compare):
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _outside_comparisons(child)


def printed_profile_names(code: str, names: set[str]) -> list[str]:
    """The profile-dependent names a cell passes to print/display (names the cell binds
    itself from something else, e.g. a loop over every profile, do not count)."""
    tree = ast.parse(code)
    local = {n.id for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.For))
             for n in ast.walk(node.targets[0] if isinstance(node, ast.Assign) else node.target)
             if isinstance(n, ast.Name)}
    names = names - (local - profile_names([code]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in OUTPUT_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                found += [n.id for n in _outside_comparisons(arg)
                          if isinstance(n, ast.Name) and n.id in names]
    return found


def problems(text: str) -> list[str]:
    code_cells = cells(text)
    names = profile_names(code_cells)
    out = []
    for i, code in enumerate(code_cells):
        if "# NBVAL_CHECK_OUTPUT" in code:
            hits = printed_profile_names(code, names)
            if hits:
                out.append(f"code cell {i} prints {sorted(set(hits))}")
    return out


@pytest.mark.parametrize("source", SOURCES, ids=[f"{p.parent.parent.name}/{p.name}" for p in SOURCES])
def test_checked_cells_print_nothing_that_depends_on_the_profile(source):
    found = problems(source.read_text(encoding="utf-8"))
    assert not found, (f"{source.name}: {found}; print these in a cell marked "
                       "# NBVAL_IGNORE_OUTPUT, or check them with an assert")


def test_a_profile_dependent_checked_cell_is_caught():
    text = (
        "# %%\nSTEPS = profile.pick(smoke=2, cpu=200, gpu=2000)\n"
        "# %%\n# NBVAL_CHECK_OUTPUT\nprint(f'trained {STEPS} steps')\n"
        "# %%\n# NBVAL_CHECK_OUTPUT\nprint('the same at every profile', STEPS > 0)\n"
        "# %%\n# NBVAL_CHECK_OUTPUT\nfor STEPS in (1, 2):\n    print(STEPS)\n"
        "# %%\n# NBVAL_IGNORE_OUTPUT\nprint(profile)\n"
    )
    assert problems(text) == ["code cell 1 prints ['STEPS']"]
