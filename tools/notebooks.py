"""Build, execute and check the course notebooks.

Each chapter is authored as a percent-format Python file in ``notebooks/src/`` (cells start
with ``# %%``; markdown cells with ``# %% [markdown]`` and every line prefixed by ``# ``),
which diffs and reviews well, and is turned into ``notebooks/NN_name.ipynb`` here. Exercise
solutions are authored the same way in ``notebooks/solutions/src/`` and become
``notebooks/solutions/NN_name.ipynb``; there ``# %% [solution] ID`` marks an nbgrader solution
cell (the answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and
``# %% [check] ID points=N`` an autograded, locked test cell. In a chapter source,
``# %% [export]`` marks a code cell whose code also goes into the chapter's module
``course_lib/chapters/chNN_<topic>.py`` (the export cells in order, the first one holding the
module docstring and every import), so later chapters import what this chapter wrote and the
notebook and the module can never drift; ``fold`` in a header collapses a cell's code in
JupyterLab (plumbing a reader may open but need not read). Every cell gets slide metadata
(headings open a slide, other cells a sub-slide; ``slide=TYPE`` in the header overrides it), so
``jupyter nbconvert --to slides`` turns any chapter into a deck.

    python tools/notebooks.py build notebooks/src/00_welcome.py   # source -> .ipynb (no outputs)
    python tools/notebooks.py run notebooks/00_welcome.ipynb --profile cpu  # execute, store outputs
    python tools/notebooks.py check                               # every .ipynb and chapter
                                                                  # module matches its source

Stored outputs must come from a real run at the cpu profile or larger (``run`` refuses smoke).
TensorFlow's stderr noise is stripped from what is stored, so that nbval compares only what a
cell prints on purpose. ``run`` is the course runner's execution (``course_lib.tooling.runner``): each
chapter run is recorded (wall time, peak memory, key figures) and ``RESULTS.md`` is rewritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # course_lib, also when the package is not installed
    sys.path.insert(0, str(ROOT))
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "src"
KERNEL = {"display_name": "Python 3 (course)", "language": "python", "name": "python3"}


SOL_DIR = NB_DIR / "solutions"
SOL_SRC_DIR = SOL_DIR / "src"
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
EXPORT_TAG = "export"
RECORD_TAG = "remove-cell"  # the tag nbconvert's TagRemovePreprocessor and Jupyter Book drop
CHAPTERS_PKG = ROOT / "course_lib" / "chapters"
NBGRADER_SCHEMA = 3


def _header(line: str) -> dict:
    """Reads a cell header such as ``# %% [check] ex1_check points=2 slide=skip``.

    Kinds: ``[markdown]``, plain code, ``[export]`` (code that also goes into the chapter's
    module), ``[solution] ID`` (an nbgrader solution cell whose answer sits between
    ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and ``[check] ID points=N`` (an nbgrader
    autograded, locked test cell), ``[record]`` (a cell for the course runner, such as the
    chapter's key figures: its source and outputs are collapsed in JupyterLab, it is skipped
    on slides and tagged ``remove-cell`` for exporters). ``slide=TYPE`` overrides the slide
    type; the word ``fold`` collapses a code cell's source in JupyterLab.
    """
    rest = line[len("# %%"):].strip()
    kind = "code"
    if rest.startswith("["):
        kind, _, rest = rest[1:].partition("]")
        kind = kind.strip()
    if kind not in ("markdown", "code", "export", "solution", "check", "record"):
        raise ValueError(f"unknown cell kind [{kind}] in {line!r}; use markdown, export, "
                         "solution, check or record")
    words = rest.split()
    options = dict(w.split("=", 1) for w in words if "=" in w)
    flags = [w for w in words if "=" not in w]
    fold = "fold" in flags
    ids = [w for w in flags if w != "fold"]
    if fold and kind == "markdown":
        raise ValueError(f"{line!r}: only code cells can be folded")
    if kind in ("solution", "check") and len(ids) != 1:
        raise ValueError(f"{line!r}: a [{kind}] cell needs exactly one id, e.g. `[{kind}] ex1`")
    if kind not in ("solution", "check") and ids:
        raise ValueError(f"{line!r}: unexpected words {ids}; only [solution] and [check] cells "
                         "take an id")
    slide = options.get("slide")
    if slide is not None and slide not in SLIDE_TYPES:
        raise ValueError(f"{line!r}: slide={slide} is not one of {', '.join(SLIDE_TYPES)}")
    return {"kind": kind, "id": ids[0] if ids else None, "slide": slide, "fold": fold,
            "points": float(options.get("points", 1))}


def _slide_type(cell, explicit: str | None) -> str:
    """Slide metadata for ``jupyter nbconvert --to slides``: headings open slides, and every
    other cell gets a vertical sub-slide of its own so that no slide overflows the screen."""
    if explicit:
        return explicit
    first = cell.source.lstrip().split("\n", 1)[0]
    if cell.cell_type == "markdown" and (first.startswith("# ") or first.startswith("## ")):
        return "slide"
    return "subslide"


def _nbgrader(head: dict) -> dict | None:
    if head["kind"] == "solution":
        return {"grade": False, "grade_id": head["id"], "locked": False,
                "schema_version": NBGRADER_SCHEMA, "solution": True, "task": False}
    if head["kind"] == "check":
        points = head["points"]
        return {"grade": True, "grade_id": head["id"], "locked": True,
                "points": int(points) if points.is_integer() else points,
                "schema_version": NBGRADER_SCHEMA, "solution": False, "task": False}
    return None


def parse_source(text: str) -> list[nbformat.NotebookNode]:
    """Splits a percent-format file into notebook cells, with slide and nbgrader metadata."""
    cells, head, lines = [], None, []

    def flush():
        if head is None:
            return
        body = "\n".join(lines).strip("\n")
        if head["kind"] == "markdown":
            body = "\n".join(
                ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.split("\n")
            )
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
            if head["kind"] == "solution" and "### BEGIN SOLUTION" not in body:
                raise ValueError(f"solution cell {head['id']} has no `### BEGIN SOLUTION` marker")
        cell.metadata["slideshow"] = {"slide_type": _slide_type(cell, head["slide"])}
        if head["kind"] == "export":
            cell.metadata["tags"] = [EXPORT_TAG]
        if head["fold"]:
            cell.metadata["jupyter"] = {"source_hidden": True}
        if head["kind"] == "record":
            # Plumbing for the runner, not for the reader: out of sight everywhere.
            cell.metadata["tags"] = [RECORD_TAG]
            cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
            cell.metadata["slideshow"] = {"slide_type": "skip"}
        grader = _nbgrader(head)
        if grader:
            cell.metadata["nbgrader"] = grader
        cells.append(cell)

    for line in text.split("\n"):
        if line.startswith("# %%"):
            flush()
            head = _header(line)
            lines = []
        elif head is not None:
            lines.append(line)
    flush()
    return cells


def notebook_for(src: Path) -> Path:
    """``notebooks/src/X.py`` -> ``notebooks/X.ipynb``; ``notebooks/solutions/src/X.py`` ->
    ``notebooks/solutions/X.ipynb``."""
    return src.resolve().parent.parent / (src.stem + ".ipynb")


def sources() -> list[Path]:
    """Every notebook source: the chapters, then the exercise solutions."""
    return sorted(SRC_DIR.glob("*.py")) + sorted(SOL_SRC_DIR.glob("*.py"))


def build(src: Path) -> Path:
    """Writes the notebook for ``src``, keeping stored outputs of cells whose code is unchanged."""
    src = Path(src).resolve()
    if src.parent not in (SRC_DIR, SOL_SRC_DIR):
        raise SystemExit(f"{src}: sources live in {SRC_DIR} or {SOL_SRC_DIR}")
    cells = parse_source(src.read_text(encoding="utf-8"))
    out = notebook_for(src)
    old = {}
    if out.exists():
        for c in nbformat.read(out, as_version=4).cells:
            if c.cell_type == "code":
                old[c.source] = c
    for c in cells:
        if c.cell_type == "code" and c.source in old:
            c.outputs = old[c.source].outputs
            c.execution_count = old[c.source].execution_count
    for i, c in enumerate(cells):
        c.id = f"cell-{i:03d}"  # stable ids: a rebuild of an unchanged source changes nothing
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    nbformat.write(nb, out)
    module = module_for(src)
    if module is not None:
        text = module_source(src, cells)
        if text is not None:
            module.write_text(text, encoding="utf-8")
        elif module.exists():
            module.unlink()
    return out


def module_for(src: Path) -> Path | None:
    """``notebooks/src/08_text_classification.py`` -> ``course_lib/chapters/ch08_text_classification.py``
    (chapter sources only: solutions export nothing)."""
    src = Path(src).resolve()
    if src.parent != SRC_DIR:
        return None
    return CHAPTERS_PKG / f"ch{src.stem}.py"


def module_source(src: Path, cells=None) -> str | None:
    """The text of the chapter module made from the ``[export]`` cells of ``src``, or None when
    the chapter exports nothing."""
    src = Path(src).resolve()
    if cells is None:
        cells = parse_source(src.read_text(encoding="utf-8"))
    code = [c.source.strip("\n") for c in cells if EXPORT_TAG in c.metadata.get("tags", [])]
    if not code:
        return None
    rel = src.relative_to(ROOT).as_posix()
    notice = (f"# Generated from {rel} (notebooks/{src.stem}.ipynb) by\n"
              "# `python tools/notebooks.py build`: edit the notebook source, not this file.\n")
    return notice + "\n\n\n".join(code) + "\n"


def _signature(cell) -> tuple:
    meta = cell.get("metadata", {})
    return (cell.cell_type, cell.source, meta.get("slideshow"), meta.get("nbgrader"))


def strip_noise(nb: nbformat.NotebookNode) -> None:
    """Removes stderr streams and per-run metadata from stored outputs."""
    from course_lib.tooling.runner import strip_noise as _strip

    _strip(nb)


def run(path: Path, profile: str, timeout: int, *, write_results: bool = True):
    """Executes a notebook in place at ``profile`` and stores its outputs.

    The course runner (:mod:`course_lib.tooling.runner`) does the work, so every run made here is
    recorded like ``python -m course_lib run``: wall time, peak memory and key figures go to
    ``notebooks/results/<profile>/run_NN.json`` and ``RESULTS.md`` is rewritten. A failing
    notebook is reported with the cell that failed and left unchanged on disk.
    """
    from course_lib.tooling import runner

    if profile == "smoke":
        sys.exit("Stored outputs must come from a cpu or gpu run, not smoke.")
    result = runner.run_chapter(Path(path), profile=profile, timeout=timeout)
    if write_results and runner.is_chapter(Path(path)):
        runner.write_results_md(profile)
    if not result.ok:
        raise SystemExit(f"{path}: failed at cell {result.error_cell}: {result.error}\n"
                         "The notebook on disk is unchanged.")
    return result


def check() -> list[str]:
    """Lists notebooks whose cells (source, slide and nbgrader metadata) differ from their source."""
    problems = []
    for src in sources():
        nb_path = notebook_for(src)
        rel = nb_path.relative_to(ROOT)
        if not nb_path.exists():
            problems.append(f"{rel}: missing; run `python tools/notebooks.py build {src.relative_to(ROOT)}`")
            continue
        want = [_signature(c) for c in parse_source(src.read_text(encoding="utf-8"))]
        have = [_signature(c) for c in nbformat.read(nb_path, as_version=4).cells]
        if want != have:
            problems.append(f"{rel}: differs from {src.relative_to(ROOT)}; rebuild and rerun it")
        module = module_for(src)
        if module is None:
            continue
        text = module_source(src)
        have_text = module.read_text(encoding="utf-8") if module.exists() else None
        if text != have_text:
            what = "is stale" if text is None else "differs from its export cells"
            problems.append(f"{module.relative_to(ROOT)}: {what} in {src.relative_to(ROOT)}; "
                            f"run `python tools/notebooks.py build {src.relative_to(ROOT)}`")
    expected = {module_for(s) for s in sorted(SRC_DIR.glob("*.py")) if module_source(s)}
    for module in sorted(CHAPTERS_PKG.glob("ch*.py")):
        if module not in expected:
            problems.append(f"{module.relative_to(ROOT)}: no notebook source exports it; "
                            "chapter modules are written in [export] cells")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("sources", nargs="+", type=Path)
    r = sub.add_parser("run")
    r.add_argument("notebooks", nargs="+", type=Path)
    r.add_argument("--profile", default="cpu", choices=["cpu", "gpu", "smoke"])
    r.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    sub.add_parser("check")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        for src in args.sources:
            print("built", build(src).relative_to(ROOT))
    elif args.cmd == "run":
        for nb in args.notebooks:
            r = run(nb, args.profile, args.timeout)
            print(f"ran {nb} in {r.wall_s:.0f} s, peak {r.peak_mb:.0f} MB")
    else:
        problems = check()
        print("\n".join(problems) or "all notebooks match their sources")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
