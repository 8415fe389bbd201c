"""The course runner (``python -m course_lib run``) on tiny notebooks in a temporary folder.

Real chapters take minutes; these notebooks take a kernel start each. They check what the
runner promises: executed copies at smoke with ``--out`` (never in place), stderr stripped,
wall time and peak memory measured, key figures collected into a run record and RESULTS.md, a
failing chapter reported by cell and never written half-run, and ``tools/notebooks.py run``
recording through the same code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.tooling import results, runner

REPO = Path(__file__).resolve().parents[1]

# ~150 MB of touched memory: the peak the sampler must see on top of a bare kernel.
ALLOC_MB = 150


def _tiny(folder: Path, name: str, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# {name[:2]} · Tiny {name}")]
        + [nbformat.v4.new_code_cell(c) for c in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


GOOD = [
    "import os, sys\nprint('profile', os.environ['COURSE_PROFILE'])\n"
    "print('tensorflow noise', file=sys.stderr)",
    "from course_lib.tooling.results import record_key_figures\n"
    f"blob = b'x' * {ALLOC_MB} * 2**20  # touched pages count in RSS\n"
    "record_key_figures('98', {'val loss': 1.25, 'accuracy': 0.5})\nprint(len(blob) // 2**20)",
]
BAD = ["x = 1", "print('before')", "1 / 0", "print('never reached')"]
# Writes to the kernel process's own stderr (fd 2), then kills the kernel.
DEAD = ["import os\nos.write(2, b'kernel going down\\n')\nos._exit(3)"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV_VAR, str(tmp_path / "results"))
    # The runner sets COURSE_PROFILE for its kernels; monkeypatch restores it afterwards.
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    return tmp_path


def test_smoke_runs_execute_copies_and_record_everything(env):
    good = _tiny(env, "98_good", GOOD)
    bad = _tiny(env, "97_bad", BAD)
    dead = _tiny(env, "96_dead", DEAD)
    before = {p: p.read_bytes() for p in (good, bad)}
    out = env / "out"
    results.record_key_figures("97", {"kept": 1.0}, profile="smoke")  # from a good, older run
    # Failures first: with --keep-going the good chapter still runs after them.
    code = runner.main(["run", "--profile", "smoke", "--out", str(out), "--keep-going",
                        "--no-progress", str(dead), str(bad), str(good)])
    assert code == 1  # one chapter failed
    assert {p: p.read_bytes() for p in (good, bad)} == before  # originals never touched
    assert not (out / "97_bad.ipynb").exists()  # no half-run copy either

    umask = os.umask(0)
    os.umask(umask)
    for written in (out / "98_good.ipynb", out / "RESULTS.md"):  # not mkstemp's 0600
        assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask
    nb = nbformat.read(out / "98_good.ipynb", as_version=4)
    first, second = nb.cells[1].outputs, nb.cells[2].outputs
    assert [o.text for o in first] == ["profile smoke\n"]  # the stderr line is stripped
    assert second[0].text.strip() == str(ALLOC_MB)
    assert all("execution" not in c.metadata for c in nb.cells)

    rec = results.load_json("run_98", profile="smoke", fallback=())
    assert rec["status"] == "ok" and rec["profile"] == "smoke" and rec["code_cells"] == 2
    assert rec["key_figures"] == {"val loss": 1.25, "accuracy": 0.5}
    assert rec["title"] == "Tiny 98_good"
    assert rec["peak_mb"] > ALLOC_MB  # the kernel's RSS, sampled while the blob was alive
    assert 0 < rec["wall_s"] < 120
    assert rec["machine"]["cores"] >= 1 and rec["machine"]["ram_gb"] > 0

    failed = results.load_json("run_97", profile="smoke", fallback=())
    assert failed["status"] == "failed" and "wall_s" not in failed
    assert failed["last_failure"]["cell"] == 3  # cell index as JupyterLab counts (markdown = 0)
    assert failed["last_failure"]["error"] == "ZeroDivisionError: division by zero"
    assert results.key_figures("97", profile="smoke") == {"kept": 1.0}  # put back
    died = results.load_json("run_96", profile="smoke", fallback=())["last_failure"]
    assert died["cell"] == 1 and "DeadKernelError" in died["error"]
    assert "kernel going down" in died["error"]  # the kernel's own stderr, kept for this

    text = (out / "RESULTS.md").read_text()
    row = next(line for line in text.splitlines() if "`98_good`" in line)
    assert "val loss 1.25; accuracy 0.5" in row and " GB " in row
    assert "`97_bad` | Tiny 97_bad | failed at cell 3" in text
    assert "1 of 3 chapters run" in text and "cores" in text
    assert results.load_json("run_98", profile="cpu", fallback=()) is None  # smoke stays smoke


def test_smoke_in_place_is_refused(env):
    good = _tiny(env, "98_good", GOOD)
    with pytest.raises(SystemExit):
        runner.main(["run", "--profile", "smoke", str(good)])
    with pytest.raises(SystemExit, match="not smoke"):
        runner.run_chapter(good, profile="smoke")
    assert nbformat.read(good, as_version=4).cells[1].outputs == []


def test_cli_stops_at_the_first_failure_and_leaves_the_notebook_unchanged(env):
    bad = _tiny(env, "97_bad", BAD)
    good = _tiny(env, "98_good", GOOD)
    before = bad.read_bytes()
    md = env / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib", "run", "--profile", "cpu", "--no-progress",
         "--results-md", str(md), str(bad), str(good)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "97_bad.ipynb: failed at cell 3: ZeroDivisionError" in proc.stderr
    assert bad.read_bytes() == before  # in place, but a failed run writes nothing
    assert nbformat.read(good, as_version=4).cells[1].outputs == []  # never started
    assert results.load_json("run_98", profile="cpu", fallback=()) is None
    assert "`97_bad` | Tiny 97_bad | failed at cell 3" in md.read_text()


def test_notebook_tool_run_records_through_the_runner(env, monkeypatch):
    spec = importlib.util.spec_from_file_location("nbtool", REPO / "tools" / "notebooks.py")
    nbtool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nbtool)
    monkeypatch.setattr(runner, "RESULTS_MD", env / "RESULTS.md")
    good = _tiny(env, "98_good", GOOD)
    # An earlier run's figure that this run no longer records must not survive.
    results.record_key_figures("98", {"stale": 1.0}, profile="cpu")
    result = nbtool.run(good, "cpu", 120)
    assert result.ok
    nb = nbformat.read(good, as_version=4)  # executed in place at cpu
    assert nb.cells[1].outputs[0].text == "profile cpu\n"
    rec = json.loads((env / "results" / "cpu" / "run_98.json").read_text())
    assert rec["key_figures"] == {"val loss": 1.25, "accuracy": 0.5}
    text = (env / "RESULTS.md").read_text()
    assert "`98_good`" in text and "val loss 1.25" in text
    assert "`00_welcome` | " in text  # the course's chapters are listed, run or not
    with pytest.raises(SystemExit, match="not smoke"):
        nbtool.run(good, "smoke", 120)


def test_results_markdown_lists_unrun_chapters_and_later_failures(env, tmp_path):
    chapters = [_tiny(tmp_path, n, ["1"]) for n in ("01_a", "02_b", "03_c", "04_d", "05_e")]
    machine = {"cpu": "Test CPU", "cores": 2, "ram_gb": 8.0, "os": "Linux", "python": "3.11",
               "load_avg_1min": 0.5}
    results.save_json("run_01", {"chapter": "01", "wall_s": 125.0, "peak_mb": 2048,
                                 "date": "2026-01-02T00:00:00", "machine": machine,
                                 "key_figures": {"BLEU": 12.345678}}, profile="cpu")
    results.save_json("run_02", {"chapter": "02", "wall_s": 30.0, "peak_mb": 512,
                                 "date": "2026-01-02T00:00:00", "machine": machine,
                                 "key_figures": {},
                                 "last_failure": {"date": "2026-01-03T00:00:00", "cell": 4,
                                                  "error": "ValueError: boom"}}, profile="cpu")
    results.save_json("run_04", {"chapter": "04", "wall_s": 600.0, "peak_mb": 512,
                                 "date": "2026-01-02T00:00:00", "machine": machine,
                                 "other_cpu_share": 0.6, "key_figures": {}}, profile="cpu")
    results.save_json("run_03", {"chapter": "03", "wall_s": 60.0, "peak_mb": 512,
                                 "date": "2026-01-02T00:00:00",
                                 "machine": dict(machine, load_avg_1min=3.5),
                                 "other_cpu_share": 0.1, "key_figures": {}}, profile="cpu")
    text = runner.results_markdown("cpu", chapters)
    lines = text.splitlines()
    # A load above the core count marks the run busy even when the CPU share looked small.
    assert any(ln.startswith("| `03_c` | Tiny 03_c | 60 s (busy: load 3.5 on 2 cores) |")
               for ln in lines)
    assert "| `01_a` | Tiny 01_a | 2.1 min | 2.0 GB | BLEU 12.35 | 2026-01-02, load 0.5 [1] |" in lines
    assert any(ln.startswith("| `04_d` | Tiny 04_d | 10.0 min (busy: others used 60%) |")
               for ln in lines)
    # The idle total leaves the busy runs out: 125 + 30 s.
    assert "| `05_e` | Tiny 05_e | not run yet | | | |" in lines
    assert "4 of 5 chapters run; 13.6 min in all; 2.6 min for the 2 measured on a quiet" in text
    assert any("`02_b`" in ln and "a later run failed at cell 4: ValueError: boom" in ln
               for ln in lines)
    assert "[1] Test CPU, 2 cores, 8.0 GB RAM, Linux, Python 3.11" in text


def test_resolve_chapters_by_number_name_and_path(tmp_path):
    nb = runner.resolve_chapters(["00", "09_generation_and_dialogue"])
    assert [p.name for p in nb] == ["00_welcome.ipynb", "09_generation_and_dialogue.ipynb"]
    assert runner.resolve_chapters([]) == runner.list_chapters()
    with pytest.raises(SystemExit, match="No chapter notebook matches '77'"):
        runner.resolve_chapters(["77"])
    assert not runner.is_chapter(REPO / "notebooks" / "solutions" / "06_training_loop.ipynb")
    assert runner.is_chapter(REPO / "notebooks" / "06_training_loop.ipynb")


def test_peak_memory_sampler_sees_an_allocation():
    with runner.PeakMemorySampler(include_root=True, interval=0.05) as idle:
        pass
    with runner.PeakMemorySampler(include_root=True, interval=0.05) as busy:
        blob = b"y" * (200 * 2**20)
        busy.sample()
    del blob
    assert busy.peak_mb - idle.peak_mb > 150  # the control: without the blob, no such gap
    with pytest.raises(ValueError, match="interval"):
        runner.PeakMemorySampler(interval=0)


def test_sampler_counts_the_cpu_seconds_of_its_tree():
    code = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass"
    with runner.PeakMemorySampler(interval=0.05) as busy:
        subprocess.run([sys.executable, "-c", code], check=True)
        idle_child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.0)"])
        idle_child.wait()
    # The busy child spent ~1 s of CPU; it is sampled while it runs, not after it ends.
    assert 0.7 < busy.cpu_seconds < 2.5


def test_other_cpu_share_by_hand():
    assert runner.other_cpu_share(100.0, 160.0, 40.0, 30.0, 2) == pytest.approx(0.33)
    assert runner.other_cpu_share(100.0, 140.0, 40.0, 30.0, 2) == 0.0  # all of it was ours
    assert runner.other_cpu_share(None, 140.0, 40.0, 30.0, 2) is None
    if Path("/proc/stat").exists():
        before = runner.machine_busy_seconds()
        t = time.process_time()
        while time.process_time() - t < 0.5:
            pass
        assert runner.machine_busy_seconds() - before >= 0.4  # our own busy loop counts


def test_lifetime_peaks_count_a_spike_that_was_gone_before_sampling():
    if not Path("/proc/self/status").exists():
        pytest.skip("VmHWM is read from /proc (Linux only)")
    code = ("import sys, time\nblob = b'z' * (200 * 2**20)\ndel blob\n"
            "print('freed', flush=True)\nsys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "freed"  # the spike is over
        plain = runner.PeakMemorySampler(interval=0.05)
        plain.sample()
        marked = runner.PeakMemorySampler(interval=0.05, lifetime_peaks=True)
        marked.sample()
    finally:
        child.communicate("")
    assert plain.peak_mb < 150  # RSS alone has lost the spike
    assert marked.peak_mb > 200  # the high-water mark kept it


def test_update_readme_replaces_only_the_marked_block(env, tmp_path):
    machine = {"cpu": "Test CPU", "cores": 2, "ram_gb": 8.0, "os": "Linux", "python": "3.11"}
    results.save_json("run_00", {"chapter": "00", "wall_s": 12.0, "peak_mb": 700,
                                 "date": "2026-01-02T00:00:00", "machine": machine,
                                 "key_figures": {"cells": 3}}, profile="cpu")
    readme = tmp_path / "README.md"
    readme.write_text("# Course\n\nbefore\n<!-- results:start -->\nold table\n"
                      "<!-- results:end -->\nafter\n")
    runner.update_readme("cpu", readme)
    text = readme.read_text()
    assert text.startswith("# Course\n\nbefore\n<!-- results:start -->\n| chapter |")
    assert "old table" not in text and text.endswith("<!-- results:end -->\nafter\n")
    assert "| 12 s | 0.7 GB | cells 3 |" in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="results:start"):
        runner.update_readme("cpu", readme)


def test_strip_noise_drops_stderr_and_replaces_a_widget_repr():
    import nbformat

    from course_lib.tooling import runner

    widget = nbformat.v4.new_output("display_data", data={
        runner.WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(HTML(value='<div ...'),))"})
    plain = nbformat.v4.new_output("display_data", data={"text/plain": "a table"})
    noise = nbformat.v4.new_output("stream", name="stderr", text="W0000 oneDNN\n")
    cell = nbformat.v4.new_code_cell("window", execution_count=1, outputs=[widget, plain, noise])
    nb = nbformat.v4.new_notebook(cells=[cell])
    runner.strip_noise(nb)
    outputs = nb.cells[0].outputs
    assert len(outputs) == 2
    assert outputs[0]["data"]["text/plain"] == runner.WIDGET_TEXT
    assert outputs[0]["data"][runner.WIDGET_MIME]["model_id"] == "abc"
    assert outputs[1]["data"]["text/plain"] == "a table"
