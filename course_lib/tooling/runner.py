"""The course runner: execute chapters, record what each costs, and write ``RESULTS.md``.

``python -m course_lib run`` executes chapter notebooks top to bottom with nbclient, in place
(so an instructor refreshes every stored output with one command), and for each chapter
measures the wall time and the peak memory of the kernel process tree, collects the key
figures the chapter recorded with :func:`course_lib.tooling.results.record_key_figures`, and saves a
run record ``run_NN.json`` beside them (``notebooks/results/<profile>/``). ``RESULTS.md`` is
then rewritten from *all* run records of that profile, so partial runs accumulate and a chapter
never run is listed as such.

    python -m course_lib run                      # every chapter, in order, at the active profile
    python -m course_lib run --profile cpu 00 08  # two chapters (numbers, names or paths)
    python -m course_lib run --profile smoke --out /tmp/smoke   # smoke runs execute copies
    python -m course_lib results --readme         # rewrite RESULTS.md (and README's copy) only
    python -m course_lib pretrain --profile cpu   # the foundation model (course_lib.pretraining)

Stored outputs must come from a real run, so ``smoke`` is refused in place (it is allowed with
``--out DIR``, which writes executed copies there). A failing chapter is reported with the cell
that failed; the notebook on disk is left as it was (never a half-run version), and the runner
goes on with the next chapter only with ``--keep-going``.

Example:

>>> chapter_id(Path("notebooks/08_text_classification.ipynb"))
'08'
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.files import write_text_atomically
from course_lib.memory import machine_description

__all__ = [
    "ChapterRun",
    "PeakMemorySampler",
    "build_parser",
    "chapter_id",
    "chapter_title",
    "execute_notebook",
    "is_chapter",
    "list_chapters",
    "machine_description",
    "main",
    "resolve_chapters",
    "results_markdown",
    "run_chapter",
    "strip_noise",
    "update_readme",
    "write_results_md",
]

REPO = Path(__file__).resolve().parents[2]
NB_DIR = REPO / "notebooks"
RESULTS_MD = REPO / "RESULTS.md"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"


# --------------------------------------------------------------------------------------------
# Which chapters
# --------------------------------------------------------------------------------------------


def list_chapters(nb_dir: Path = NB_DIR) -> list[Path]:
    """Every chapter notebook (``NN_name.ipynb``) in ``nb_dir``, in chapter order."""
    return sorted(Path(nb_dir).glob(CHAPTER_GLOB))


def chapter_id(path: Path) -> str:
    """The chapter's two-digit number (``"08"``), or the file stem for other notebooks.

    Example:

    >>> chapter_id(Path("tiny.ipynb"))
    'tiny'
    """
    stem = Path(path).stem
    m = re.match(r"(\d\d)_", stem)
    return m.group(1) if m else stem


def is_chapter(path: Path) -> bool:
    """True for a chapter notebook (``NN_name.ipynb``), False for other notebooks such as the
    exercise solutions in ``notebooks/solutions/``, whose runs are not recorded.

    Example:

    >>> is_chapter(Path("notebooks/solutions/06_training_loop.ipynb"))
    False
    """
    path = Path(path)
    return bool(re.match(r"\d\d_", path.name)) and path.parent.name != "solutions"


def resolve_chapters(names, nb_dir: Path = NB_DIR) -> list[Path]:
    """Turns ``["00", "08_text_classification", "path/x.ipynb"]`` into notebook paths.

    Args:
        names: chapter numbers, notebook names (with or without ``.ipynb``) or paths to
            notebooks; empty means every chapter in order.
        nb_dir: where chapter notebooks live.

    Raises:
        SystemExit: a name that matches no notebook, with the list of valid ones.

    Example:

    >>> resolve_chapters(["00"])[0].name
    '00_welcome.ipynb'
    """
    chapters = list_chapters(nb_dir)
    if not names:
        return chapters
    out = []
    for name in names:
        name = str(name)
        path = Path(name)
        if path.suffix == ".ipynb" and path.exists():
            out.append(path.resolve())
            continue
        stem = path.name.removesuffix(".ipynb")
        hits = [c for c in chapters if c.stem == stem or chapter_id(c) == stem]
        if len(hits) != 1:
            valid = ", ".join(chapter_id(c) for c in chapters)
            raise SystemExit(
                f"No chapter notebook matches {name!r}. Give a chapter number ({valid}), a "
                f"notebook name such as {chapters[0].stem if chapters else '00_welcome'}, or a "
                "path to an .ipynb file."
            )
        out.append(hits[0])
    return list(dict.fromkeys(out))


def chapter_title(path: Path) -> str:
    """The title from the first markdown heading ``# NN · Title`` (the file stem if none)."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # an unreadable notebook still gets a row in the table
        return Path(path).stem
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            first = cell.source.strip().split("\n", 1)[0]
            if first.startswith("#"):
                title = first.lstrip("#").strip()
                # "08 · Text classification" -> "Text classification"
                return re.sub(r"^\d\d\s*[·:.-]\s*", "", title)
            break
    return Path(path).stem


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def _high_water_mark(pid: int) -> int:
    """Peak RSS of one process in bytes from ``/proc/<pid>/status`` (0 where unavailable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakMemorySampler:
    """Samples the resident memory (RSS) of a process tree in a thread and keeps the peak.

    The kernel that nbclient starts is a child of this process, so by default the tree is this
    process's children (the kernel and whatever it starts), not the runner itself.

    Args:
        root_pid: the process whose descendants are measured (default: this process).
        interval: seconds between samples.
        include_root: also count ``root_pid`` itself.
        lifetime_peaks: also read each process's own high-water mark (``VmHWM``, Linux only),
            so a spike that comes and goes between two samples still counts. Right for
            processes started for the measurement (a chapter's kernel); wrong for a
            long-lived one, whose mark includes everything it did before.

    Example:

    >>> with PeakMemorySampler(include_root=True) as mem:
    ...     _ = bytearray(10_000_000)
    >>> mem.peak_mb > 10
    True
    """

    def __init__(self, root_pid: int | None = None, interval: float = 0.2,
                 include_root: bool = False, lifetime_peaks: bool = False):
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.root_pid = os.getpid() if root_pid is None else root_pid
        self.interval = interval
        self.include_root = include_root
        self.lifetime_peaks = lifetime_peaks
        self.peak_bytes = 0
        self._cpu = {}  # pid -> the CPU seconds last seen (user + system, with waited children)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> int:
        """Current RSS of the tree in bytes (processes that vanish mid-sample are skipped)."""
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            procs = root.children(recursive=True)
        except psutil.Error:
            return 0
        if self.include_root:
            procs.append(root)
        total = peak = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
                t = p.cpu_times()
            except psutil.Error:
                continue
            self._cpu[p.pid] = t.user + t.system + t.children_user + t.children_system
            total += rss
            peak += max(rss, _high_water_mark(p.pid)) if self.lifetime_peaks else rss
        self.peak_bytes = max(self.peak_bytes, peak)
        return total

    def _loop(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> PeakMemorySampler:
        self._thread = threading.Thread(target=self._loop, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stops sampling; returns the peak in MB."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample()
        return self.peak_mb

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the tree used, as last sampled (a process that ends between two samples
        counts up to its last sample)."""
        return sum(self._cpu.values())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def machine_busy_seconds() -> float | None:
    """CPU seconds every core of this machine has spent busy since boot (Linux's
    ``/proc/stat``), or None where that file does not exist."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    # user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
    ticks = [int(x) for x in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def other_cpu_share(busy_before, busy_after, own_seconds, wall_s, cores) -> float | None:
    """The share of the machine's CPU that work other than the measured run used during it.

    Example:

    >>> other_cpu_share(100.0, 160.0, 40.0, 30.0, 2)  # 60 busy seconds, 40 of them ours
    0.33
    """
    if busy_before is None or busy_after is None or wall_s <= 0 or not cores:
        return None
    other = max(0.0, (busy_after - busy_before) - own_seconds)
    return round(min(1.0, other / (wall_s * cores)), 2)


# --------------------------------------------------------------------------------------------
# Executing
# --------------------------------------------------------------------------------------------


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_TEXT = "An interactive widget: run this cell in JupyterLab to use it."


def strip_noise(nb) -> None:
    """Removes stderr streams and per-run metadata from a notebook's outputs, in place.

    TensorFlow and friends write log lines to stderr; stored, they would hide what a cell
    prints on purpose and make nbval comparisons machine-dependent. An ipywidgets widget is
    stored with a Python repr as its text fallback (``VBox(children=...)``), which is what a
    reader without a running kernel would see; it becomes one plain sentence instead.
    """
    for c in nb.cells:
        c.metadata.pop("execution", None)
        if c.cell_type != "code":
            continue
        c.outputs = [
            o for o in c.outputs if not (o.output_type == "stream" and o.name == "stderr")
        ]
        for o in c.outputs:
            data = o.get("data", {})
            if WIDGET_MIME in data:
                data["text/plain"] = WIDGET_TEXT


@dataclass
class ChapterRun:
    """What happened when one notebook was executed."""

    path: Path
    chapter: str
    ok: bool
    wall_s: float
    peak_mb: float
    cells: int
    error_cell: int | None = None  # index among all cells (as JupyterLab numbers them)
    error: str | None = None
    key_figures: dict = field(default_factory=dict)
    cpu_s: float | None = None  # CPU seconds of the kernel's process tree
    other_cpu_share: float | None = None  # share of the machine other work used meanwhile


def _write_atomically(nb, path: Path) -> None:
    import nbformat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    write_text_atomically(path, text if text.endswith("\n") else text + "\n")  # as nbformat.write


def execute_notebook(path: Path, *, profile: str, out: Path | None = None, timeout: int = 1800,
                     progress: bool = True, cwd: Path | None = None) -> ChapterRun:
    """Executes one notebook at ``profile`` and writes it (in place, or to ``out``).

    Only a complete run is written, atomically; on an error the file on disk is untouched and
    the returned :class:`ChapterRun` names the failing cell.

    Args:
        path: the notebook.
        profile: the profile the kernel runs at (``COURSE_PROFILE`` in its environment).
        out: where to write the executed notebook; ``None`` writes it in place.
        timeout: seconds allowed per cell.
        progress: show a progress bar of executed code cells.
        cwd: the kernel's working folder (default: the notebook's folder).

    Returns:
        A :class:`ChapterRun` (``key_figures`` is filled by :func:`run_chapter`).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
    # The kernel inherits this process's environment; set the profile there (and keep the
    # TensorFlow log settings course_lib/__init__ applies) before it starts.
    os.environ["COURSE_PROFILE"] = profile
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    bar = tqdm(total=code_cells, desc=path.stem, unit="cell", disable=not progress,
               file=sys.stderr, leave=True, dynamic_ncols=True)
    current = {"index": None}

    def on_start(cell, cell_index, **_):
        current["index"] = cell_index

    def on_executed(cell, cell_index, execute_reply, **_):
        bar.update(1)
        # The kernel is alive here, whatever the thread's timing; the last cell's memory
        # would otherwise be missed when a short notebook ends between two samples.
        sampler.sample()

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(cwd or path.resolve().parent))}},
        # Progress bars redraw with \r hundreds of times; store the final text, not every frame.
        coalesce_streams=True,
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    chapter = chapter_id(path)
    sampler = PeakMemorySampler(lifetime_peaks=True)  # the kernel is new: its mark is ours
    busy_before, own_before = machine_busy_seconds(), time.process_time()
    start = time.perf_counter()
    sampler.start()
    error_cell, error = None, None
    # The kernel's own stderr (TensorFlow's start-up lines) would scribble over the progress
    # bars; keep it in a file and show its end only if the kernel dies.
    kernel_log = tempfile.TemporaryFile()
    try:
        client.execute(stderr=kernel_log)
    except CellExecutionError as exc:
        error_cell = current["index"]
        error = f"{exc.ename}: {exc.evalue}" if getattr(exc, "ename", None) else str(exc)
    except Exception as exc:  # a dead kernel, a timeout: report it like a cell error
        error_cell = current["index"]
        kernel_log.seek(0)
        tail = kernel_log.read().decode(errors="replace").strip().splitlines()[-5:]
        error = f"{type(exc).__name__}: {exc}" + (
            " (kernel stderr: " + " | ".join(tail) + ")" if tail else "")
    finally:
        wall = time.perf_counter() - start
        peak = sampler.stop()
        busy_after, own = machine_busy_seconds(), time.process_time() - own_before
        bar.close()
        kernel_log.close()
    cores = machine_description()["cores"]
    cpu_s = round(sampler.cpu_seconds, 1)
    other = other_cpu_share(busy_before, busy_after, sampler.cpu_seconds + own, wall, cores)
    if error is not None:
        lines = error.strip().splitlines()
        return ChapterRun(path, chapter, False, wall, peak, code_cells, error_cell,
                          lines[-1][:500] if lines else error, cpu_s=cpu_s, other_cpu_share=other)
    strip_noise(nb)
    _write_atomically(nb, Path(out) if out else path)
    return ChapterRun(path, chapter, True, wall, peak, code_cells, cpu_s=cpu_s,
                      other_cpu_share=other)


def run_chapter(path: Path, *, profile: str, out_dir: Path | None = None, timeout: int = 1800,
                progress: bool = True) -> ChapterRun:
    """Executes a chapter, then saves its run record and key figures at ``profile``.

    The chapter's old key figures are set aside during the run, so the record holds only what
    this run measured; they are put back if the run fails.

    Args:
        path: the chapter notebook.
        profile: ``cpu`` or ``gpu`` in place; ``smoke`` only with ``out_dir``.
        out_dir: write the executed notebook there instead of in place.
        timeout: seconds allowed per cell.
        progress: show a progress bar.

    Returns:
        The :class:`ChapterRun`, with ``key_figures`` filled in.
    """
    from course_lib.profiles import Profile
    from course_lib.tooling.results import key_figures, load_json, results_dir, save_json

    profile = Profile(profile).name
    if profile == "smoke" and out_dir is None:
        raise SystemExit(
            "Stored outputs must come from a cpu or gpu run, not smoke. Use --profile cpu, or "
            "add --out DIR to execute copies at smoke without touching the notebooks."
        )
    path = Path(path).resolve()
    out = Path(out_dir) / path.name if out_dir else None
    if not is_chapter(path):  # e.g. a solutions notebook: execute it, record nothing
        return execute_notebook(path, profile=profile, out=out, timeout=timeout,
                                progress=progress, cwd=path.parent)
    chapter = chapter_id(path)
    figures_file = results_dir(profile) / f"key_figures_{chapter}.json"
    old_figures = figures_file.read_bytes() if figures_file.exists() else None
    figures_file.unlink(missing_ok=True)

    def restore_figures():
        if old_figures is not None:
            figures_file.write_bytes(old_figures)

    try:
        result = execute_notebook(path, profile=profile, out=out, timeout=timeout,
                                  progress=progress, cwd=path.parent)
    except BaseException:  # Ctrl-C: leave the figures as they were, like the notebook
        restore_figures()
        raise
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record = load_json(f"run_{chapter}", profile=profile, fallback=()) or {}
    if result.ok:
        result.key_figures = key_figures(chapter, profile=profile)
        record = {
            "chapter": chapter,
            "notebook": path.name,
            "title": chapter_title(path),
            "profile": profile,
            "status": "ok",
            "wall_s": round(result.wall_s, 1),
            "peak_mb": round(result.peak_mb),
            "cpu_s": result.cpu_s,
            # Work other than this chapter slows it down: a wall time measured while others
            # used a large share of the machine is marked as such in RESULTS.md.
            "other_cpu_share": result.other_cpu_share,
            "code_cells": result.cells,
            "date": now,
            "machine": machine_description(),
            "key_figures": result.key_figures,
        }
    else:
        restore_figures()
        # Keep the last good run's numbers (its outputs are still the stored ones) and note
        # the failure beside them.
        record.update({"chapter": chapter, "notebook": path.name,
                       "title": record.get("title") or chapter_title(path), "profile": profile,
                       "status": "failed" if "wall_s" not in record else record["status"],
                       "last_failure": {"date": now, "cell": result.error_cell,
                                        "error": result.error}})
    save_json(f"run_{chapter}", record, profile=profile)
    return result


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------


def _fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def _fmt_value(v) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4g}"
    return str(v)


def _machine_line(m: dict) -> str:
    gpus = f", GPU {m['gpus']}" if m.get("gpus") else ""
    return (f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('ram_gb', '?')} GB RAM"
            f"{gpus}, {m.get('os', '?')}, Python {m.get('python', '?')}")


# Above this share of the machine's CPU used by other work during a chapter, its wall time says
# more about the other work than about the chapter: RESULTS.md marks it and leaves it out of
# the idle total.
BUSY_SHARE = 0.25


def results_markdown(profile: str, chapters: list[Path] | None = None) -> str:
    """The text of ``RESULTS.md``: one row per chapter from the run records at ``profile``.

    Args:
        profile: whose records to read.
        chapters: the notebooks to list (default every chapter); chapters without a record
            are listed as not run.
    """
    import json

    from course_lib.tooling.results import results_dir

    folder = results_dir(profile)
    records = {}
    for f in sorted(folder.glob("run_*.json")):
        rec = json.loads(f.read_text(encoding="utf-8"))
        records[rec.get("chapter", f.stem.removeprefix("run_"))] = rec
    rows = {chapter_id(p): (p.stem, chapter_title(p)) for p in (chapters or list_chapters())}
    for ch, rec in records.items():
        rows.setdefault(ch, (Path(rec.get("notebook", ch)).stem, rec.get("title", ch)))

    lines = [
        "# Results",
        "",
        f"What each chapter costs and what it reaches, from the course runner at the "
        f"`{profile}` profile (`python -m course_lib run --profile {profile}`; chapters run with "
        "`tools/notebooks.py run` are recorded too). Generated: edit the notebooks, not this "
        "file. Wall time includes the kernel's start; peak memory is the resident memory of "
        "the kernel's process tree; *load* is the machine's 1-minute load average when the "
        "chapter ended. A wall time marked *busy* was measured while other work used more "
        f"than {BUSY_SHARE:.0%} of the machine's CPU (the share is given), or while the load "
        "exceeded the number of cores: it overstates what the chapter costs on an idle "
        "machine, and the idle total leaves it out.",
        "",
        "| chapter | title | wall time | peak memory | key figures | run on |",
        "|---|---|---|---|---|---|",
    ]
    machines = {}
    total, ran, busy_total, busy_runs = 0.0, 0, 0.0, 0
    for ch in sorted(rows):
        stem, title = rows[ch]
        rec = records.get(ch)
        if not rec or "wall_s" not in rec:
            note = "not run yet"
            if rec and rec.get("last_failure"):
                f = rec["last_failure"]
                note = f"failed at cell {f.get('cell')} ({f.get('date', '')[:10]})"
            lines.append(f"| `{stem}` | {title} | {note} | | | |")
            continue
        key = _machine_line(rec.get("machine", {}))
        mark = machines.setdefault(key, len(machines) + 1)
        figs = "; ".join(f"{k} {_fmt_value(v)}" for k, v in rec.get("key_figures", {}).items())
        failure = rec.get("last_failure")
        if failure and failure.get("date", "") > rec.get("date", ""):
            figs += (f" (a later run failed at cell {failure.get('cell')}: "
                     f"{str(failure.get('error', ''))[:80]})")
        total += rec["wall_s"]
        ran += 1
        wall = _fmt_seconds(rec["wall_s"])
        share = rec.get("other_cpu_share")
        load = rec.get("machine", {}).get("load_avg_1min")
        cores = rec.get("machine", {}).get("cores")
        if share is not None and share > BUSY_SHARE:
            wall += f" (busy: others used {share:.0%})"
        elif load is not None and cores and load > cores:
            # More runnable work than cores at the end: the chapter shared them with others.
            wall += f" (busy: load {load:.1f} on {cores} cores)"
        if "busy" in wall:
            busy_total += rec["wall_s"]
            busy_runs += 1
        when = rec.get("date", "")[:10] + (f", load {load:.1f}" if load is not None else "")
        lines.append(
            f"| `{stem}` | {title} | {wall} | "
            f"{rec['peak_mb'] / 1024:.1f} GB | {figs or '—'} | {when} [{mark}] |"
        )
    summary = f"{ran} of {len(rows)} chapters run; {_fmt_seconds(total)} in all"
    if busy_runs:
        summary += (f"; {_fmt_seconds(total - busy_total)} for the {ran - busy_runs} measured on "
                    f"a quiet machine ({busy_runs} marked busy)")
    lines += ["", summary + ".", "", "Machines:", ""]
    lines += [f"[{n}] {desc}" + "  " for desc, n in machines.items()] or ["(none yet)"]
    return "\n".join(lines).rstrip() + "\n"


def write_results_md(profile: str, path: Path | None = None,
                     chapters: list[Path] | None = None) -> Path:
    """(Re)writes ``RESULTS.md`` (default: the repository's) from every run record at
    ``profile``, atomically."""
    path = Path(path) if path is not None else RESULTS_MD
    text = results_markdown(profile, chapters)
    return write_text_atomically(path, text)


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def update_readme(profile: str = "cpu", readme: Path | None = None) -> Path:
    """Copies the table of ``RESULTS.md`` into the README between the results markers.

    The README keeps ``<!-- results:start -->`` and ``<!-- results:end -->`` around its copy
    of the table; everything between them is replaced, nothing else is touched.

    Args:
        profile: whose run records to show.
        readme: the file to update (default: the repository's ``README.md``).

    Raises:
        ValueError: the markers are missing (say where to put them).
    """
    readme = Path(readme) if readme is not None else REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no {README_START} ... {README_END} block; add both "
                         "markers where the results table belongs.")
    table = results_markdown(profile).split("\n", 4)[4].strip()  # drop title and intro
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{table}\n{README_END}{tail}", encoding="utf-8")
    return readme


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _summary(results: list[ChapterRun]) -> str:
    lines = [f"{'chapter':<36} {'status':<8} {'wall':>9} {'peak':>9}  key figures"]
    for r in results:
        status = "ok" if r.ok else f"FAILED at cell {r.error_cell}"
        figs = "; ".join(f"{k} {_fmt_value(v)}" for k, v in r.key_figures.items())
        lines.append(f"{r.path.stem:<36} {status:<8} {_fmt_seconds(r.wall_s):>9} "
                     f"{r.peak_mb / 1024:>7.2f} GB  {figs}")
        if not r.ok:
            lines.append(f"    {r.error}")
    return "\n".join(lines)


def run_notebooks(paths, *, profile: str, out_dir: Path | None = None, timeout: int = 1800,
                  keep_going: bool = False, results_md: Path | None = None,
                  progress: bool = True) -> list[ChapterRun]:
    """Runs ``paths`` in order with :func:`run_chapter`, then rewrites ``RESULTS.md``.

    Args:
        paths: notebooks, in order.
        profile: the profile to run at.
        out_dir: write executed copies there instead of in place.
        timeout: seconds allowed per cell.
        keep_going: go on after a failing chapter (default: stop there).
        results_md: the ``RESULTS.md`` to write (default: the repository's for in-place runs,
            ``out_dir/RESULTS.md`` otherwise).
        progress: show progress bars.

    Returns:
        One :class:`ChapterRun` per chapter run.
    """
    results = []
    for path in paths:
        r = run_chapter(path, profile=profile, out_dir=out_dir, timeout=timeout,
                        progress=progress)
        results.append(r)
        if not r.ok:
            print(f"{Path(path).name}: failed at cell {r.error_cell}: {r.error}", file=sys.stderr)
            if not keep_going:
                break
    if results_md is None:
        results_md = Path(out_dir) / "RESULTS.md" if out_dir else None
    ran = [Path(p).resolve() for p in paths if is_chapter(p)]
    chapters = ran if out_dir else list(dict.fromkeys(list_chapters() + ran))
    write_results_md(profile, results_md, chapters)
    return results


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m course_lib``: the ``run``, ``results`` and ``pretrain``
    subcommands.

    Example:

    >>> args = build_parser().parse_args(["pretrain", "--profile", "smoke", "--out", "/tmp/f"])
    >>> args.cmd, args.profile, args.no_resume
    ('pretrain', 'smoke', False)
    """
    from course_lib.profiles import PROFILE_NAMES

    parser = argparse.ArgumentParser(
        prog="python -m course_lib",
        description="Run course chapters and record their cost and key figures in RESULTS.md, "
                    "or pretrain the course foundation model.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute chapters in order and write RESULTS.md")
    r.add_argument("chapters", nargs="*",
                   help="chapter numbers (00 08), names or .ipynb paths; default: all")
    r.add_argument("--profile", choices=PROFILE_NAMES, default=None,
                   help="default: COURSE_PROFILE, else gpu when TensorFlow sees one, else cpu")
    r.add_argument("--out", type=Path, default=None,
                   help="write executed copies here instead of in place (required for smoke)")
    r.add_argument("--keep-going", action="store_true",
                   help="continue with the next chapter after a failure")
    r.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    r.add_argument("--results-md", type=Path, default=None,
                   help="where to write RESULTS.md (default: the repository's, or OUT/RESULTS.md)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    t = sub.add_parser("results", help="rewrite RESULTS.md from the run records (runs nothing)")
    t.add_argument("--profile", choices=PROFILE_NAMES, default="cpu")
    t.add_argument("--readme", action="store_true",
                   help="also copy the table into README.md (between the results markers)")
    p = sub.add_parser(
        "pretrain", help="pretrain the course foundation model (resumable; safe to kill)",
        description="Pretrain the course foundation model (course_lib.pretraining) and write "
                    "model.keras, tokenizer.json, run.json and MODEL_CARD.md to OUT. Progress "
                    "goes to stdout as lines; the run checkpoints at every evaluation, so it can "
                    "be killed at any moment (nohup ... &, then kill) and continues from its "
                    "last checkpoint when the same command runs again.")
    p.add_argument("--profile", choices=PROFILE_NAMES, default=None,
                   help="default: COURSE_PROFILE, else gpu when TensorFlow sees one, else cpu")
    p.add_argument("--out", type=Path, default=None,
                   help="the run and artifact folder (default: artifacts/foundation; required "
                        "for smoke)")
    p.add_argument("--no-resume", action="store_true",
                   help="delete the folder's checkpoints and artifact and start over")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop at the first checkpoint after this many minutes (run again to "
                        "continue)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    return parser


def _pretrain(parser, args) -> int:
    from course_lib.pretraining import (
        PretrainConfig,
        ResumeMismatchError,
        RunInProgressError,
        pretrain,
    )
    from course_lib.profiles import active_profile

    profile = args.profile or active_profile().name
    if profile == "smoke" and args.out is None:
        parser.error("a smoke run would replace the course's foundation model: add --out DIR, "
                     "or use --profile cpu")
    if args.max_minutes is not None and not args.max_minutes > 0:
        parser.error(f"--max-minutes must be positive, got {args.max_minutes}")
    try:
        record = pretrain(PretrainConfig.for_profile(profile), args.out,
                          resume=not args.no_resume, progress=not args.no_progress,
                          max_minutes=args.max_minutes)
    except (ResumeMismatchError, RunInProgressError) as exc:
        print(f"pretrain: {exc}", file=sys.stderr)
        return 2
    if record["status"] != "complete":
        print(f"Stopped at step {record['step']} of {record['max_steps']}; run the same command "
              "again to continue from there.", flush=True)
    return 0


def main(argv=None) -> int:
    """``python -m course_lib {run,results,pretrain} ...`` (``--help`` lists the options)."""
    from course_lib.profiles import active_profile

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd == "pretrain":
        return _pretrain(parser, args)
    if args.cmd == "results":
        print("wrote", write_results_md(args.profile))
        if args.readme:
            print("updated", update_readme(args.profile))
        return 0

    profile = args.profile or active_profile().name
    if profile == "smoke" and args.out is None:
        parser.error("smoke outputs are never stored in place: add --out DIR, or use "
                     "--profile cpu")
    paths = resolve_chapters(args.chapters)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    results = run_notebooks(paths, profile=profile, out_dir=args.out, timeout=args.timeout,
                            keep_going=args.keep_going, results_md=args.results_md,
                            progress=not args.no_progress)
    print(_summary(results))
    return 0 if all(r.ok for r in results) and len(results) == len(paths) else 1
