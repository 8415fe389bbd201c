"""JupyterLab for real: open chapter 00 in headless Chromium and run it through the UI.

Starts the venv's JupyterLab the way ``make lab`` does (``jupyter lab --notebook-dir=notebooks``)
on 127.0.0.1 with a free port, a token, ``--no-browser`` and ``COURSE_PROFILE=smoke`` in its
environment; opens ``00_welcome.ipynb`` in Debian's Chromium driven by Playwright; runs every
cell with *Run → Run All Cells*; waits for the environment table to render (it must say
``smoke``, which proves the cells ran now rather than showing stored outputs); then stops the
server. Autosave is off and nothing is saved: the notebook on disk must not change.

A second test presents chapter 00 as a live slideshow with RISE (``jupyterlab-rise``), as an
instructor does from ``make lab``: the deck is built from the cells' slide metadata, and its
cells stay live (they run in the notebook's kernel).

A third test chats: a throwaway notebook, written at test time into a temporary folder that
the server serves, builds a tiny GPT and tokenizer and displays ``chat_window``; in the browser
it runs all cells, types a message, clicks Send, and waits for the bot's reply to stream into
the transcript.

Without Chromium this test skips with a message naming ``make browser``; under ``make test``
(``COURSE_BROWSER_TESTS=required``) it fails instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "00_welcome.ipynb"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "build" / "test-artifacts"
JUPYTER = Path(sys.executable).parent / "jupyter"
STARTUP_TIMEOUT = 90  # seconds for the server to answer
RUN_TIMEOUT = 240_000  # ms for all of chapter 00 to run at smoke through the UI (2 loaded cores)


def require_chromium() -> str:
    problem = None
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        problem = f"Chromium ({CHROMIUM}) is missing: run `make browser`"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright's Python package is missing: run `make setup`"
    if problem:
        if os.environ.get("COURSE_BROWSER_TESTS") == "required":
            pytest.fail(problem)
        pytest.skip(problem + " (make test does it for you)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    pgid = os.getpgid(proc.pid)
    os.killpg(pgid, signal.SIGTERM)  # jupyter shuts its kernels down on SIGTERM
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)


def _shown_code_cells(path: Path) -> int:
    """Code cells of a notebook whose input is not folded (JupyterLab numbers each when run)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(c["cell_type"] == "code"
               and not c.get("metadata", {}).get("jupyter", {}).get("source_hidden")
               for c in cells)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _jupyterlab(tmp_path, notebook_dir="notebooks"):
    """Starts ``jupyter lab`` as ``make lab`` does, with private settings (autosave off, every
    cell rendered), serving ``notebook_dir`` (relative to the repository, or absolute); yields
    ``(base_url, token)`` and stops it afterwards."""
    for plugin, value in (("docmanager-extension/plugin", {"autosave": False}),
                          ("notebook-extension/tracker", {"windowingMode": "none"})):
        f = tmp_path / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [str(JUPYTER), "lab", f"--notebook-dir={notebook_dir}", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           "--ServerApp.open_browser=False",
           f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
           # JupyterLab checkpoints a notebook when it opens it; keep that copy out of the repo.
           f"--FileCheckpoints.checkpoint_dir={tmp_path / 'checkpoints'}"]
    if os.geteuid() == 0:  # as in the Makefile: JupyterLab refuses root without it
        cmd.append("--allow-root")
    env = dict(os.environ, COURSE_PROFILE="smoke",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, f"jupyter lab exited early:\n{log.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert time.monotonic() < deadline, f"no answer:\n{log.read_text()[-3000:]}"
                time.sleep(1)
        yield base, token
    finally:
        _stop(proc)
    assert proc.returncode is not None


def _run_all_cells(page):
    """Waits for the notebook's kernel, then runs every cell with *Run → Run All Cells*."""
    # The kernel must be connected before Run All (the execution indicator says "idle" before
    # a kernel exists); the status bar names it once it is.
    page.locator(".jp-StatusBar-Widget").filter(
        has_text=re.compile(r"\| Idle")).first.wait_for(timeout=120_000)
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_chapter_00_runs_all_cells_in_jupyterlab(tmp_path):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    before, mtime = _digest(NOTEBOOK), NOTEBOOK.stat().st_mtime_ns
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "lab_00_welcome.png"
    with _jupyterlab(tmp_path) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"{base}/lab/tree/00_welcome.ipynb?token={token}")
            panel = page.locator(".jp-NotebookPanel").first
            panel.wait_for(state="visible")
            _run_all_cells(page)

            # The environment table, printed by this run (stored outputs say "cpu").
            table = panel.locator(".jp-OutputArea-output").filter(
                has_text="Keras backend").filter(has_text="smoke (from COURSE_PROFILE)")
            table.first.wait_for(state="visible", timeout=RUN_TIMEOUT)
            text = table.first.text_content()
            assert "tensorflow" in text and "keras" in text and "Python" in text, text
            # Then every cell finished: no "[*]" prompt left, and an execution count on each
            # code cell whose input is shown (a folded cell shows no prompt).
            page.wait_for_function(
                """(shown) => {
                  const p = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell'
                             + ' .jp-InputPrompt')].map(e => e.textContent.trim());
                  return !p.some(t => t.includes('*'))
                    && p.filter(t => /^\\[\\d+\\]:$/.test(t)).length >= shown; }""",
                arg=_shown_code_cells(NOTEBOOK), timeout=RUN_TIMEOUT)
            body = panel.text_content()
            assert "Traceback (most recent call last)" not in body
            table.first.scroll_into_view_if_needed()
        finally:
            page.screenshot(path=str(shot))  # also on failure: what the page showed
            browser.close()
    # Nothing was saved: same bytes, same modification time, no checkpoint written.
    assert _digest(NOTEBOOK) == before and NOTEBOOK.stat().st_mtime_ns == mtime
    assert not (NOTEBOOK.parent / ".ipynb_checkpoints").exists()
    assert shot.stat().st_size > 10_000


def test_rise_presents_a_chapter_as_a_live_slideshow(tmp_path):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    before = _digest(NOTEBOOK)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "rise_00_welcome.png"
    with _jupyterlab(tmp_path) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(120_000)
            # RISE's own page for a notebook: the slideshow, with a live kernel behind it.
            page.goto(f"{base}/rise/00_welcome.ipynb?token={token}")
            page.locator(".reveal .slides").wait_for(state="visible")
            current = page.locator(".reveal .slides section.present").last
            current.wait_for(state="visible")
            assert "Welcome and setup" in current.text_content()
            slides = page.locator(".reveal .slides > section").count()
            assert slides > 5, f"only {slides} slides: the slide metadata was not read"
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                """() => { const s = document.querySelector('.reveal .slides section.present');
                           return s && !s.textContent.includes('Welcome and setup'); }""")
        finally:
            page.screenshot(path=str(shot))
            browser.close()
    assert _digest(NOTEBOOK) == before
    assert shot.stat().st_size > 10_000


CHAT_CELLS = [
    "from course_lib.chapters.ch16_preference_tuning import chat_window",
    # A tiny untrained GPT: its replies are noise, but they stream like a trained one's.
    """import keras
from course_lib.chapters.ch09_generation_and_dialogue import SPECIAL_TOKENS
from course_lib.gpt import GPT, GPTConfig
from course_lib.tokenizers import BPETokenizer

text = "do you like football? yes i do, i like tennis too. what about you? " * 20
tokenizer = BPETokenizer.from_text(text, 300, special_tokens=SPECIAL_TOKENS)
keras.utils.set_random_seed(0)
model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, context_length=32, num_layers=1,
                      num_heads=2, width=16))""",
    "window = chat_window(model, tokenizer, max_new_tokens=12, seed=3, greeting='Hello!')\n"
    "window",
]
CHAT_MESSAGE = "Do you like <b>football</b>?"  # markup that must show as text


def test_chat_window_streams_a_reply_in_jupyterlab(tmp_path):
    chromium = require_chromium()
    import nbformat
    from playwright.sync_api import sync_playwright

    # A throwaway notebook in a folder of its own, served by its own server: nothing tracked
    # is written, and the file goes with tmp_path.
    folder = tmp_path / "lab"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in CHAT_CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(notebook, folder / "chat.ipynb")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "lab_chat_window.png"
    with _jupyterlab(tmp_path, notebook_dir=folder) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"{base}/lab/tree/chat.ipynb?token={token}")
            panel = page.locator(".jp-NotebookPanel").first
            panel.wait_for(state="visible")
            _run_all_cells(page)

            transcript = panel.locator(".chat-transcript")
            transcript.wait_for(state="visible", timeout=RUN_TIMEOUT)
            assert "Hello!" in transcript.text_content()
            # Every version of the bot's line the page shows, to see the reply stream in (the
            # transcript is re-rendered on each token, so its new nodes are each version).
            page.evaluate("""() => {
              window.__botLines = [];
              const root = document.querySelector('.jp-NotebookPanel .chat-transcript')
                .parentElement;
              new MutationObserver(records => { for (const r of records)
                for (const n of r.addedNodes) if (n.querySelectorAll) {
                  const bots = n.querySelectorAll('.chat-bot');
                  if (bots.length > 1) window.__botLines.push(bots[bots.length - 1].textContent);
                } }).observe(root, {childList: true, subtree: true});
            }""")
            box = panel.locator(".widget-text input")
            box.fill(CHAT_MESSAGE)
            panel.locator("button.widget-button", has_text="Send").click()

            # Done when a second bot line (after the greeting) has text and no cursor.
            page.wait_for_function(
                """() => { const t = document.querySelector('.jp-NotebookPanel .chat-transcript');
                  const bots = t ? t.querySelectorAll('.chat-bot') : [];
                  if (bots.length < 2) return false;
                  const last = bots[bots.length - 1];
                  return !last.textContent.includes('\u258c')
                    && last.querySelector('.chat-text').textContent.trim().length > 0; }""",
                timeout=60_000)
            users = transcript.locator(".chat-user .chat-text")
            assert users.count() == 1 and users.first.text_content() == CHAT_MESSAGE
            reply = transcript.locator(".chat-bot .chat-text").last.text_content()
            assert reply.strip(), "the bot's reply is empty"
            assert box.input_value() == ""  # cleared for the next message
            lines = page.evaluate("window.__botLines")
            assert any("\u258c" in line for line in lines), f"no streaming seen: {lines}"
            assert "Traceback (most recent call last)" not in panel.text_content()
        finally:
            page.screenshot(path=str(shot))
            browser.close()
    assert not (REPO / "notebooks" / "chat.ipynb").exists()
    assert shot.stat().st_size > 10_000
