"""Build, execute and check the course notebooks.

Each chapter is authored as a percent-format Python file in ``notebooks/src/`` (cells start
with ``# %%``; markdown cells with ``# %% [markdown]`` and every line prefixed by ``# ``),
which diffs and reviews well, and is turned into ``notebooks/NN_name.ipynb`` here.

    python tools/notebooks.py build notebooks/src/00_welcome.py   # source -> .ipynb (no outputs)
    python tools/notebooks.py run notebooks/00_welcome.ipynb --profile cpu  # execute, store outputs
    python tools/notebooks.py check                               # every .ipynb matches its source

Stored outputs must come from a real run at the cpu profile or larger (``run`` refuses smoke).
TensorFlow's stderr noise is stripped from what is stored, so that nbval compares only what a
cell prints on purpose.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "src"
KERNEL = {"display_name": "Python 3 (course)", "language": "python", "name": "python3"}


def parse_source(text: str) -> list[nbformat.NotebookNode]:
    """Splits a percent-format file into notebook cells."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(
                ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.split("\n")
            )
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.split("\n"):
        if line.startswith("# %%"):
            flush()
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def notebook_for(src: Path) -> Path:
    return NB_DIR / (src.stem + ".ipynb")


def build(src: Path) -> Path:
    """Writes the notebook for ``src``, keeping stored outputs of cells whose code is unchanged."""
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
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    nbformat.write(nb, out)
    return out


def strip_noise(nb: nbformat.NotebookNode) -> None:
    """Removes stderr streams and per-run metadata from stored outputs."""
    for c in nb.cells:
        c.metadata.pop("execution", None)
        if c.cell_type != "code":
            continue
        c.outputs = [
            o for o in c.outputs if not (o.output_type == "stream" and o.name == "stderr")
        ]


def run(path: Path, profile: str, timeout: int) -> None:
    """Executes a notebook in place at ``profile`` and stores its outputs."""
    from nbclient import NotebookClient

    if profile == "smoke":
        sys.exit("Stored outputs must come from a cpu or gpu run, not smoke.")
    os.environ["COURSE_PROFILE"] = profile
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NB_DIR)}},
        # Progress bars redraw with \r hundreds of times; store the final text, not every frame.
        coalesce_streams=True,
    )
    client.execute()
    strip_noise(nb)
    nbformat.write(nb, path)


def check() -> list[str]:
    """Lists notebooks whose cell sources differ from their ``src/`` file."""
    problems = []
    for src in sorted(SRC_DIR.glob("*.py")):
        nb_path = notebook_for(src)
        if not nb_path.exists():
            problems.append(f"{nb_path.name}: missing; run `python tools/notebooks.py build {src}`")
            continue
        want = [(c.cell_type, c.source) for c in parse_source(src.read_text(encoding="utf-8"))]
        have = [(c.cell_type, c.source) for c in nbformat.read(nb_path, as_version=4).cells]
        if want != have:
            problems.append(f"{nb_path.name}: differs from src/{src.name}; rebuild and rerun it")
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
            run(nb, args.profile, args.timeout)
            print("ran", nb)
    else:
        problems = check()
        print("\n".join(problems) or "all notebooks match their sources")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
