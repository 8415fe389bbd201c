"""Export the chapters as reveal.js slide decks that work offline.

Every cell carries slide metadata (``tools/notebooks.py build`` adds it: headings open a slide,
other cells a sub-slide), so ``jupyter nbconvert --to slides`` turns a chapter into a deck. By
default nbconvert's decks load reveal.js, require.js, jQuery and MathJax from CDNs, which fails
offline and in tests; here they come from a local copy fetched once from the npm registry
(pinned versions, checked against their registry hashes) into ``build/vendor/``.

    python tools/slides.py vendor                  # fetch reveal.js & co. (make reveal)
    python tools/slides.py export                  # every chapter -> build/slides/ + index.html
    python tools/slides.py export 04 --reveal cdn  # one chapter, loading reveal.js from a CDN

``make slides`` runs both (``make slides REVEAL=cdn`` for CDN decks). Open
``build/slides/index.html`` in a browser; the decks find ``../vendor/`` beside them, so copy
``build/`` as a whole to publish them.

Versions: nbconvert 7.17's reveal template is written for reveal.js 4 (its CDN default is
reveal.js@4.0.2, loaded through require.js 2.1.10 with jQuery 2 and MathJax 2.7.7); the pins
below are those versions (jQuery 2.2.4: 2.0.3 is not on npm), so a local deck behaves like a
CDN one.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # course_lib, also when the package is not installed
    sys.path.insert(0, str(ROOT))

BUILD = ROOT / "build"
VENDOR_DIR = BUILD / "vendor"
SLIDES_DIR = BUILD / "slides"

# name -> (version, npm integrity). The integrity is the registry's sha512 of the tarball;
# npm checks it on download and we check that the registry still serves the same bytes.
VENDOR = {
    "reveal.js": ("4.0.2", "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONF"
                           "WMAw+8R/QUeaScCLCLrBVHDfFIEiw=="),
    "requirejs": ("2.1.10", "sha512-4JqdTihK3kOnT387LxCHuJZ/9QsKg2EIl7LmaW35PIyM4LwCI2jwyy4f"
                            "y6pbY/ZZH2JoY/QEcb5PzULFPP6gcQ=="),
    "jquery": ("2.2.4", "sha512-lBHj60ezci2u1v2FqnZIraShGgEXq35qCzMv4lITyHGppTnA13rwR0MgwyNJ"
                        "h9TnDs3aXUvd1xjAotfraMHX/Q=="),
    "mathjax": ("2.7.7", "sha512-OOl0B2/0tSJAtAZarXnQuLDBLgTNRqiI9VqHTQzPsxf4okT2iIpDrvaklK9x"
                         "2QEMD1sDj4yRn11Ygci41DxMAQ=="),
}
# The file each package must provide, relative to its folder (what the deck loads).
ENTRY = {
    "reveal.js": "dist/reveal.js",
    "requirejs": "require.js",
    "jquery": "dist/jquery.min.js",
    "mathjax": "MathJax.js",
}
LOCAL_THEME = "white"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"  # nbconvert's own choice, loaded locally


def vendor_ready(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when every pinned package is unpacked in ``vendor_dir`` at its pinned version."""
    for name, (version, _) in VENDOR.items():
        folder = Path(vendor_dir) / name
        stamp = folder / ".version"
        if not (stamp.exists() and stamp.read_text().strip() == version
                and (folder / ENTRY[name]).exists()):
            return False
    return True


def fetch_vendor(vendor_dir: Path = VENDOR_DIR, npm: str | None = None) -> Path:
    """Fetches the pinned packages with ``npm pack`` and unpacks them into ``vendor_dir``.

    Packages already present at their pinned version are kept. A tarball whose integrity
    differs from the pin is refused.

    Args:
        vendor_dir: the folder to fill (``build/vendor`` by default).
        npm: the npm executable (default: the one on the PATH).

    Returns:
        ``vendor_dir``.
    """
    vendor_dir = Path(vendor_dir)
    npm = npm or shutil.which("npm")
    missing = [n for n in VENDOR if not _package_ready(vendor_dir, n)]
    if not missing:
        return vendor_dir
    if npm is None:
        raise SystemExit("npm is needed once to fetch reveal.js (Debian: apt-get install npm); "
                         "or export the slides with --reveal cdn.")
    vendor_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=vendor_dir, prefix=".fetch-") as tmp:
        specs = [f"{n}@{VENDOR[n][0]}" for n in missing]
        proc = subprocess.run([npm, "pack", "--json", "--pack-destination", tmp, *specs],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"npm pack {' '.join(specs)} failed:\n{proc.stderr[-2000:]}")
        for info in json.loads(proc.stdout):
            name = info["name"]
            version, integrity = VENDOR[name]
            if info["version"] != version or info["integrity"] != integrity:
                raise SystemExit(f"{name}: the registry served {info['version']} "
                                 f"{info['integrity']}, expected {version} {integrity}")
            dest = vendor_dir / name
            shutil.rmtree(dest, ignore_errors=True)
            staging = Path(tmp) / f"unpack-{name}"
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                tar.extractall(staging, filter="data")  # refuses links and paths outside
            shutil.move(str(staging / "package"), dest)
            (dest / ".version").write_text(version + "\n")
            print(f"fetched {name}@{version} -> {dest.relative_to(vendor_dir.parent)}")
    return vendor_dir


def _package_ready(vendor_dir: Path, name: str) -> bool:
    folder = vendor_dir / name
    stamp = folder / ".version"
    return (stamp.exists() and stamp.read_text().strip() == VENDOR[name][0]
            and (folder / ENTRY[name]).exists())


def _rel_url(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def nbconvert_args(out_dir: Path, reveal: str = "local", vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The ``jupyter nbconvert --to slides`` options for decks written to ``out_dir``.

    With ``reveal="local"`` every script the deck loads points at ``vendor_dir`` through a
    relative URL (so the decks work from ``file://`` and from any web server); with ``"cdn"``
    nbconvert's CDN defaults stay.
    """
    args = ["--to", "slides", "--output-dir", str(out_dir)]
    if reveal == "cdn":
        return args
    if reveal != "local":
        raise ValueError(f"reveal must be 'local' or 'cdn', got {reveal!r}")
    v = _rel_url(Path(vendor_dir).resolve(), Path(out_dir).resolve())
    return args + [
        f"--reveal-prefix={v}/reveal.js",
        # nbconvert's default theme ("simple") pulls its fonts from Google; "white" ships its
        # fonts with reveal.js, so a local deck makes no network request at all.
        f"--SlidesExporter.reveal_theme={LOCAL_THEME}",
        f"--SlidesExporter.require_js_url={v}/requirejs/require.js",
        f"--SlidesExporter.jquery_url={v}/jquery/dist/jquery.min.js",
        f"--SlidesExporter.mathjax_url={v}/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
    ]


def export(notebooks: list[Path], out_dir: Path = SLIDES_DIR, reveal: str = "local",
           vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Exports ``notebooks`` to ``out_dir/<name>.slides.html`` with one nbconvert call.

    Args:
        notebooks: chapter notebooks.
        out_dir: where the decks go.
        reveal: ``"local"`` (reveal.js & co. from ``vendor_dir``) or ``"cdn"``.
        vendor_dir: where :func:`fetch_vendor` put the packages.

    Returns:
        The deck paths, in the order of ``notebooks``.
    """
    out_dir = Path(out_dir)
    if reveal == "local" and not vendor_ready(vendor_dir):
        raise SystemExit(f"reveal.js is not in {vendor_dir}: run `make reveal` (or "
                         "`python tools/slides.py vendor`), or export with --reveal cdn.")
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "nbconvert", "--log-level=WARN",
           *nbconvert_args(out_dir, reveal, vendor_dir), *map(str, notebooks)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"nbconvert failed:\n{proc.stderr[-3000:]}")
    decks = [out_dir / f"{Path(nb).stem}.slides.html" for nb in notebooks]
    for deck in decks:
        if not deck.exists():
            raise SystemExit(f"nbconvert did not write {deck}:\n{proc.stderr[-3000:]}")
    return decks


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Slides · How large language models are trained</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto;
         padding: 0 1rem; line-height: 1.5; color: #222; }}
  ul.decks {{ list-style: none; padding-left: 0; }}
  li {{ margin: .35rem 0; }}
  .num {{ display: inline-block; width: 2.2rem; color: #777; font-variant-numeric: tabular-nums; }}
  .note {{ color: #666; font-size: .9rem; }}
</style>
</head>
<body>
<h1>How large language models are trained — slides</h1>
<p>One reveal.js deck per chapter, made from the notebooks with
<code>jupyter nbconvert --to slides</code> (<code>make slides</code>). Arrow keys move between
slides (down for the sub-slides of a section); <kbd>Esc</kbd> shows an overview; <kbd>s</kbd> opens
the speaker notes.</p>
<ul class="decks">
{items}
</ul>
<p class="note">{note}</p>
</body>
</html>
"""


def write_index(decks: list[Path], out_dir: Path = SLIDES_DIR, reveal: str = "local") -> Path:
    """Writes ``out_dir/index.html``, a list of the decks with their chapter titles."""
    from course_lib.tooling.runner import chapter_id, chapter_title

    out_dir = Path(out_dir)
    items = []
    for deck in sorted(decks):
        stem = deck.name.removesuffix(".slides.html")
        nb = ROOT / "notebooks" / f"{stem}.ipynb"
        title = chapter_title(nb) if nb.exists() else stem
        items.append(
            f'<li><span class="num">{html.escape(chapter_id(Path(stem + ".ipynb")))}</span>'
            f'<a href="{html.escape(deck.name)}">{html.escape(title)}</a></li>'
        )
    note = ("reveal.js, require.js, jQuery and MathJax are loaded from ../vendor/ (works "
            "offline; keep build/ together)." if reveal == "local" else
            "reveal.js and its helpers are loaded from CDNs (needs a network connection).")
    path = out_dir / "index.html"
    path.write_text(INDEX_TEMPLATE.format(items="\n".join(items), note=html.escape(note)),
                    encoding="utf-8")
    return path


def main(argv=None) -> int:
    from course_lib.tooling.runner import resolve_chapters

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vendor", help="fetch the pinned reveal.js & co. from the npm registry")
    v.add_argument("--dest", type=Path, default=VENDOR_DIR)
    e = sub.add_parser("export", help="export chapters to slide decks and write index.html")
    e.add_argument("chapters", nargs="*", help="chapter numbers or names; default: all")
    e.add_argument("--reveal", choices=["local", "cdn"], default="local")
    e.add_argument("--out", type=Path, default=SLIDES_DIR)
    e.add_argument("--vendor", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    if args.cmd == "vendor":
        fetch_vendor(args.dest)
        print(f"reveal.js {VENDOR['reveal.js'][0]} and helpers ready in {args.dest}")
        return 0
    notebooks = resolve_chapters(args.chapters)
    decks = export(notebooks, args.out, args.reveal, args.vendor)
    # The index lists every deck in the folder, also those of earlier partial exports.
    index = write_index(sorted(Path(args.out).glob("*.slides.html")), args.out, args.reveal)
    print(f"{len(decks)} deck(s) in {args.out}; open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
