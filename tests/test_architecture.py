"""The shape of ``course_lib``: imports point one way, and there is no import circle.

Layers, from the bottom up: the core (``course_lib/*.py`` and ``course_lib/data``), then the
chapter modules (``course_lib/chapters``, each written in its notebook), then the exercises and
the tooling. A module may import its own layer or a lower one, never a higher one; a chapter
module may import the core and earlier chapters only. Function-level imports count too: an
import hidden in a function still runs back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "course_lib"


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ``course_lib`` module that ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("course_lib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("course_lib"):
                continue
            found.add(target)
            # `from course_lib.chapters import ch05_transformer` imports a module, not a name.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if (PKG.parent / (candidate.replace(".", "/") + ".py")).exists():
                    found.add(candidate)
    found.discard(name)
    return found


def graph(root: Path = PKG) -> dict[str, set[str]]:
    mods = {module_name(p): p for p in root.rglob("*.py")}
    return {m: {i for i in imports_of(p) if i in mods} for m, p in mods.items()}


def group(module: str) -> str:
    """core, chapters, exercises or tooling (``python -m course_lib`` is the runner's door)."""
    parts = module.split(".")
    if module == "course_lib.__main__":
        return "tooling"
    return parts[1] if len(parts) > 1 and parts[1] in ("chapters", "exercises", "tooling") \
        else "core"


def layer(module: str) -> tuple[int, int]:
    """(layer, chapter number): core 0, chapters 1, exercises and tooling 2."""
    parts = module.split(".")
    if group(module) == "tooling":
        return 2, -1
    if len(parts) > 1 and parts[1] == "chapters":
        number = int(parts[2][2:4]) if len(parts) > 2 else -1
        return 1, number
    if len(parts) > 1 and parts[1] in ("exercises", "tooling"):
        return 2, -1
    return 0, -1


def violations(g: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(g.items()):
        mine, my_chapter = layer(module)
        for target in sorted(targets):
            theirs, their_chapter = layer(target)
            if theirs > mine:
                found.append(f"{module} imports {target}, which sits above it")
            elif mine == theirs == 1 and their_chapter > my_chapter >= 0:
                found.append(f"{module} imports a later chapter's module {target}")
            elif mine == theirs == 2 and group(module) != group(target):
                found.append(f"{module} imports {target}: exercises and tooling stay apart")
    return found


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each reported once (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def depth(g: dict[str, set[str]]) -> int:
    """The longest chain of imports (modules on it, minus one); needs an acyclic graph."""
    memo = {}

    def d(v):
        if v not in memo:
            memo[v] = 1 + max((d(w) for w in g.get(v, ()) if w in g), default=-1) + 0
        return memo[v]

    return max(d(v) for v in g)


def test_no_module_imports_upwards():
    assert violations(graph()) == []


def test_there_is_no_import_circle():
    assert cycles(graph()) == []


def test_the_import_graph_stays_shallow():
    # The core's longest chain today: gpt -> layers/model_io; training -> gpt, lm_data, memory.
    assert depth(graph()) <= 6


def test_the_layout_has_its_parts():
    g = graph()
    assert any(m.startswith("course_lib.chapters.ch") for m in g)
    assert any(m.startswith("course_lib.exercises.ch") for m in g)
    assert "course_lib.tooling.runner" in g and "course_lib.gpt" in g


@pytest.mark.parametrize("source, problem", [
    ("from course_lib.chapters import ch08_text_classification\n", "sits above it"),
    ("from course_lib.tooling.results import save_json\n", "sits above it"),
    ("def f():\n    import course_lib.exercises.ch01\n", "sits above it"),
    ("from .chapters.ch02_representations import Word2Vec\n", "sits above it"),
])
def test_an_upward_import_in_the_core_is_caught(tmp_path, source, problem):
    root = tmp_path / "course_lib"
    (root / "chapters").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "tooling").mkdir()
    for rel in ("__init__.py", "chapters/__init__.py", "chapters/ch08_text_classification.py",
                "chapters/ch02_representations.py", "exercises/__init__.py",
                "exercises/ch01.py", "tooling/__init__.py", "tooling/results.py"):
        (root / rel).write_text("")
    (root / "metrics.py").write_text(source)
    global PKG
    saved, PKG = PKG, root
    try:
        found = violations(graph(root))
    finally:
        PKG = saved
    assert found and all(problem in f and f.startswith("course_lib.metrics") for f in found)


def test_a_later_chapter_import_and_a_circle_are_caught():
    g = {
        "course_lib.chapters.ch03_data": {"course_lib.chapters.ch10_translation"},
        "course_lib.chapters.ch10_translation": set(),
        "course_lib.gpt": {"course_lib.model_io"},
        "course_lib.model_io": {"course_lib.training"},
        "course_lib.training": {"course_lib.gpt"},
    }
    assert violations(g) == [
        "course_lib.chapters.ch03_data imports a later chapter's module "
        "course_lib.chapters.ch10_translation"
    ]
    assert cycles(g) == [["course_lib.gpt", "course_lib.model_io", "course_lib.training"]]
