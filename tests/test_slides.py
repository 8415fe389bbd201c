"""Slides: ``tools/slides.py`` exports chapters to reveal.js decks that work offline.

The browser test exports one small chapter with the local reveal.js (``make reveal`` fetches
it), opens the deck from ``file://`` in headless Chromium (Debian's ``chromium``, driven by
Playwright; ``make browser`` installs it) with every non-file request blocked, and checks that
reveal.js initialised, the title slide shows the chapter's title, and navigating reaches a
slide with a code cell. The screenshot is kept in ``build/test-artifacts/``.

Without Chromium or the local reveal.js these tests skip with a message naming the make target
that installs them; ``make test`` installs both and sets ``COURSE_BROWSER_TESTS=required``, so
there a missing piece fails instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from course_lib.tooling.runner import chapter_title

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "build" / "test-artifacts"
DECK_CHAPTER = "00_welcome"  # small, and starts with a title slide and a code cell

_spec = importlib.util.spec_from_file_location("slides_tool", REPO / "tools" / "slides.py")
slides = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slides)


def _missing(what: str, target: str) -> None:
    message = f"{what} is missing: run `make {target}` (make test does it for you)"
    if os.environ.get("COURSE_BROWSER_TESTS") == "required":
        pytest.fail(message)
    pytest.skip(message)


def require_chromium() -> str:
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium ({CHROMIUM})", "browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright's Python package", "setup")
    return CHROMIUM


def test_local_decks_point_every_script_at_the_vendor_folder(tmp_path):
    args = slides.nbconvert_args(tmp_path / "build" / "slides", "local",
                                 tmp_path / "build" / "vendor")
    assert "--reveal-prefix=../vendor/reveal.js" in args
    assert "--SlidesExporter.require_js_url=../vendor/requirejs/require.js" in args
    assert "--SlidesExporter.jquery_url=../vendor/jquery/dist/jquery.min.js" in args
    assert any(a.startswith("--SlidesExporter.mathjax_url=../vendor/mathjax/MathJax.js")
               for a in args)
    cdn = slides.nbconvert_args(tmp_path, "cdn")
    assert cdn == ["--to", "slides", "--output-dir", str(tmp_path)]  # nbconvert's defaults
    with pytest.raises(ValueError, match="local' or 'cdn'"):
        slides.nbconvert_args(tmp_path, "unpkg")


def test_export_without_vendor_names_the_make_target(tmp_path):
    assert not slides.vendor_ready(tmp_path)
    with pytest.raises(SystemExit, match="make reveal"):
        slides.export([REPO / "notebooks" / "00_welcome.ipynb"], tmp_path / "out", "local",
                      tmp_path)


def test_fetch_refuses_a_tarball_with_another_hash(tmp_path):
    # A stand-in for npm that "packs" reveal.js with a different integrity.
    fake = tmp_path / "npm"
    report = [{"name": "reveal.js", "version": "4.0.2", "filename": "x.tgz",
               "integrity": "sha512-not-the-pinned-one"}]
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(report)}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(SystemExit, match="expected 4.0.2 sha512-LWZS"):
        slides.fetch_vendor(tmp_path / "vendor", npm=str(fake))
    assert not (tmp_path / "vendor" / "reveal.js").exists()


def test_index_lists_decks_with_their_chapter_titles(tmp_path):
    decks = [tmp_path / "04_attention.slides.html", tmp_path / "00_welcome.slides.html"]
    for d in decks:
        d.write_text("<html></html>")
    text = slides.write_index(decks, tmp_path).read_text()
    first, second = text.index("00_welcome.slides.html"), text.index("04_attention.slides.html")
    assert first < second  # chapter order
    for stem in ("00_welcome", "04_attention"):
        title = chapter_title(REPO / "notebooks" / f"{stem}.ipynb")
        assert title != stem and f">{title}</a>" in text  # the heading, not the file name
    assert "../vendor/" in text


def test_deck_renders_in_chromium_with_a_title_and_a_code_slide(tmp_path):
    chromium = require_chromium()
    if not slides.vendor_ready():
        _missing(f"The local reveal.js ({slides.VENDOR_DIR})", "reveal")
    from playwright.sync_api import sync_playwright

    out = REPO / "build" / "test-slides"  # beside build/vendor, like build/slides
    shutil.rmtree(out, ignore_errors=True)
    [deck] = slides.export([REPO / "notebooks" / f"{DECK_CHAPTER}.ipynb"], out, "local")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            def offline(route):  # the deck must need nothing but files beside it
                if route.request.url.startswith("file:"):
                    return route.continue_()
                blocked.append(route.request.url)
                return route.abort()

            page.route("**/*", offline)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(deck.as_uri())
            # reveal.js adds `ready` to its wrapper once initialised (it is loaded through
            # require.js, so there is no global Reveal object to ask).
            page.wait_for_selector(".reveal.ready", timeout=60_000)
            title = page.locator(".reveal .slides > section.present h1").first
            assert title.is_visible()
            # text_content: the theme upper-cases headings in CSS only.
            want = chapter_title(REPO / "notebooks" / f"{DECK_CHAPTER}.ipynb")
            assert title.text_content().strip().removesuffix("¶") == f"00 · {want}"  # ¶: anchor

            where = page.evaluate("""() => {
                const hs = document.querySelectorAll('.reveal .slides > section');
                for (let h = 0; h < hs.length; h++) {
                  const vs = hs[h].querySelectorAll(':scope > section');
                  for (let v = 0; v < vs.length; v++)
                    if (vs[v].querySelector('.jp-CodeCell')) return [h, v];
                }
                return null; }""")
            assert where is not None, "no slide holds a code cell"
            h, v = where
            page.evaluate(f"location.hash = '#/{h}/{v}'")  # reveal's own navigation (history)
            slide = page.locator(".reveal .slides > section").nth(h).locator(
                ":scope > section").nth(v)
            page.wait_for_function(
                "([h, v]) => document.querySelectorAll('.reveal .slides > section')[h]"
                ".querySelectorAll(':scope > section')[v].classList.contains('present')",
                arg=[h, v], timeout=20_000)
            code = slide.locator(".jp-CodeCell .jp-InputArea").first
            code.wait_for(state="visible", timeout=20_000)
            assert "seed_everything" in code.inner_text()
            page.wait_for_timeout(700)  # let the slide transition finish for the screenshot
            page.screenshot(path=str(ARTIFACTS / "slides_code_slide.png"))
        finally:
            browser.close()
    assert errors == [], errors
    # Only the module import of mermaid (unused by the course) may try the network.
    assert [u for u in blocked if "mermaid" not in u] == []
    assert (ARTIFACTS / "slides_code_slide.png").stat().st_size > 10_000


def test_missing_chromium_skips_by_hand_and_fails_under_make_test(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("COURSE_BROWSER_TESTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run `make browser`"):
        require_chromium()
    monkeypatch.setenv("COURSE_BROWSER_TESTS", "required")  # what `make test` sets
    with pytest.raises(pytest.fail.Exception, match="run `make browser`"):
        require_chromium()
