"""Command line: ``python -m course_lib.data {list,download} [NAME ...]`` (also ``course-data``).

``list`` prints each dataset with its files, size, license and where its files are found.
``download`` prints how much needs downloading, then fetches every file (all datasets when no
name is given, except the optional ones, which are fetched only when named); files already in
the mirror or cache are verified and reported, not downloaded again. A derived file is rebuilt
from its source, whose size is what it counts as downloading. The exit status is 1, with the
error message, when anything fails.

Example:

.. code-block:: bash

    python -m course_lib.data list
    python -m course_lib.data download tinyshakespeare spa-eng
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from .errors import DatasetError
from .loader import cache_dir, fetch_with_source, locate, mirror_dir
from .registry import Registry, default_registry


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _where(counts: Counter) -> str:
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{n} {w}" for w, n in sorted(counts.items()))


def cmd_list(registry: Registry, out=None) -> int:
    """Prints the dataset table: name, files, size, license, where found (and whether optional).

    Args:
        registry: the registry to list.
        out: the stream to print to.

    Example:

    >>> from course_lib.data.registry import default_registry
    >>> cmd_list(default_registry())  # doctest: +SKIP
    name             files       size  where   license
    tinyshakespeare      1     1.1 MB  mirror  Public-domain text (Shakespeare); ...
    """
    out = out if out is not None else sys.stdout
    rows = []
    for ds in registry.datasets():
        counts = Counter(locate(ds.name, f.path, registry=registry)[0] for f in ds.files)
        where = _where(counts) + (" (optional)" if ds.optional else "")
        rows.append((ds.name, str(len(ds.files)), _size(ds.total_bytes), where, _short(ds.license)))
    header = ("name", "files", "size", "where", "license")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print(
            f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  "
            f"{r[3]:<{widths[3]}}  {r[4]}",
            file=out,
        )
    mirror = mirror_dir()
    print(f"\nmirror: {mirror if mirror else '(none; set COURSE_DATA_DIR)'}", file=out)
    print(f"cache:  {cache_dir()}", file=out)
    return 0


def cmd_download(registry: Registry, names: list[str], out=None) -> int:
    """Fetches every file of the named datasets (all but the optional ones when ``names`` is
    empty).

    Args:
        registry: the registry to use.
        names: dataset names; empty means every dataset that is not optional.
        out: the stream to print to.

    Returns:
        0 when every file is available and verified, else 1.

    Example:

    >>> from course_lib.data.registry import default_registry
    >>> cmd_download(default_registry(), ["tinyshakespeare"])  # doctest: +SKIP
    1 file(s), 1.1 MB in all; 0 B to download (1 already in the mirror or cache).
    tinyshakespeare/input.txt: mirror (verified) /work/shared/datasets/tinyshakespeare/input.txt
    0
    """
    out = out if out is not None else sys.stdout
    if names:
        chosen, skipped = [registry.info(n) for n in names], []
    else:
        chosen = [ds for ds in registry.datasets() if not ds.optional]
        skipped = [ds for ds in registry.datasets() if ds.optional]
    files = [(ds, f) for ds in chosen for f in ds.files]
    missing = [
        (ds, f) for ds, f in files if locate(ds.name, f.path, registry=registry)[0] == "missing"
    ]
    total = sum(f.bytes for _, f in files)
    # A derived file downloads its source (deleted after use), not the file itself.
    need = sum(f.source.bytes if f.source else f.bytes for _, f in missing)
    print(
        f"{len(files)} file(s), {_size(total)} in all; {_size(need)} to download "
        f"({len(files) - len(missing)} already in the mirror or cache).",
        file=out,
        flush=True,
    )
    if skipped:
        print(
            f"Skipped the optional dataset(s) {', '.join(ds.name for ds in skipped)} "
            f"({_size(sum(ds.total_bytes for ds in skipped))}; no chapter needs them): name "
            f"them to fetch them, e.g. `python -m course_lib.data download {skipped[0].name}`.",
            file=out,
            flush=True,
        )
    failed = []
    for ds, f in files:
        label = f"{ds.name}/{f.path}"
        try:
            path, source = fetch_with_source(ds.name, f.path, registry=registry)
        except DatasetError as err:
            failed.append(label)
            print(f"{label}: FAILED\n  {err}", file=sys.stderr, flush=True)
            continue
        verb = "downloaded and verified" if source == "download" else f"{source} (verified)"
        print(f"{label}: {verb} {path}", file=out, flush=True)
    if failed:
        print(f"{len(failed)} file(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status.

    Args:
        argv: the arguments (without the program name); ``None`` reads ``sys.argv``.

    Example:

    >>> main(["list"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.data",
        description="List and pre-fetch the course's datasets (verified by SHA-256).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="show each dataset: files, size, where found, license")
    dl = sub.add_parser("download", help="fetch datasets into the cache (all when none named)")
    dl.add_argument("names", nargs="*", metavar="NAME", help="dataset names")
    args = parser.parse_args(argv)
    try:
        registry = default_registry()
        if args.command == "list":
            return cmd_list(registry)
        return cmd_download(registry, args.names)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
