"""A code corpus every Python installation carries: the standard library's own `.py` files.

The files are read from the running interpreter's library folder
(`sysconfig.get_paths()["stdlib"]`), so nothing is downloaded and nothing is copied into the
repository. They are the Python Software Foundation's code, under the PSF License Version 2
(SPDX `PSF-2.0`); the full text is the `LICENSE.txt` in that folder (`license_text()`).

The order is deterministic (sorted relative paths) and the size is capped, so a run reads the
same files for the same Python version. Another Python version has other files; the corpus
records its version.
"""

from __future__ import annotations

import platform
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LICENSE",
    "LICENSE_NOTE",
    "FILE_SEPARATOR",
    "CodeCorpus",
    "stdlib_dir",
    "stdlib_files",
    "load_stdlib_code",
    "license_text",
]

LICENSE = "PSF-2.0"
LICENSE_NOTE = (
    "Python standard library source code, Copyright (c) 2001- Python Software Foundation; "
    "All Rights Reserved. Used under the PSF License Version 2 (SPDX: PSF-2.0); see "
    "LICENSE.txt in the interpreter's library folder."
)
# Between files in the corpus text: a code model learns it as "a new file starts here".
FILE_SEPARATOR = "<|endoftext|>"
# Folders left out: test suites (huge, repetitive, not typical code), bundled third-party
# packages, the IDLE and turtle demos, and caches.
EXCLUDED_DIRS = (
    "test",
    "tests",
    "idle_test",
    "idlelib",
    "turtledemo",
    "site-packages",
    "dist-packages",
    "lib2to3",
    "__pycache__",
)


@dataclass
class CodeCorpus:
    """Text of a slice of the standard library, and where it came from.

    Args:
        text: the files' contents joined by `FILE_SEPARATOR`.
        files: the relative paths of the files in the text, in order.
        root: the library folder they were read from.
        python_version: the interpreter version (another version has other files).
        license: the SPDX license identifier of the code.

    Example:
    ```python
    corpus = load_stdlib_code(200_000)
    corpus.files[:2], len(corpus.text)
    ```
    """

    text: str
    files: list[str]
    root: Path
    python_version: str = field(default_factory=platform.python_version)
    license: str = LICENSE

    def documents(self):
        """The files' contents as a list of str (the text split at `FILE_SEPARATOR`)."""
        return self.text.split(FILE_SEPARATOR) if self.text else []


def stdlib_dir():
    """The running interpreter's standard-library folder.

    Example:
    ```python
    stdlib_dir()  # e.g. PosixPath('/usr/lib/python3.11')
    ```
    """
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(*, top_level_only=False, skip_private=True, root=None):
    """The standard library's `.py` files, sorted by relative path.

    Args:
        top_level_only: only the modules directly in the folder (no packages).
        skip_private: leave out modules and packages whose name starts with `_` (mostly
            implementation details and generated tables such as `_sysconfigdata*`).
        root: the folder to list; defaults to `stdlib_dir()`.

    Returns:
        A list of relative `Path`s (posix order, so the same on every machine).

    Example:
    ```python
    stdlib_files(top_level_only=True)[:3]  # [PosixPath('abc.py'), PosixPath('aifc.py'), ...]
    ```
    """
    root = stdlib_dir() if root is None else Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no standard-library folder at {root}; pass root= explicitly")
    pattern = "*.py" if top_level_only else "**/*.py"
    found = []
    for path in root.glob(pattern):
        rel = path.relative_to(root)
        if any(part in EXCLUDED_DIRS for part in rel.parts[:-1]):
            continue
        if skip_private and any(
            part.startswith("_") and part != "__init__.py" for part in rel.parts
        ):
            continue
        if path.is_file():
            found.append(rel)
    return sorted(found, key=lambda p: p.as_posix())


def load_stdlib_code(max_chars, *, top_level_only=False, skip_private=True, root=None):
    """Reads standard-library files in sorted order until `max_chars` would be exceeded.

    Whole files only: a file that would overflow the budget is skipped and the next ones are
    tried, so small modules still fill the remainder. Empty files are left out. Text is read as UTF-8 (the default
    encoding of Python source); tabs are kept, line ends normalised to `\\n`.

    Args:
        max_chars: the most characters of text (separators included), e.g. from
            `profile.pick(...)`.
        top_level_only: see `stdlib_files`.
        skip_private: see `stdlib_files`.
        root: see `stdlib_files`.

    Returns:
        A `CodeCorpus`.

    Example:
    ```python
    corpus = load_stdlib_code(profile.pick(smoke=20_000, cpu=600_000, gpu=5_000_000))
    print(corpus.license, len(corpus.files), "files")
    ```
    """
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive int, got {max_chars!r}")
    root = stdlib_dir() if root is None else Path(root)
    parts, files, used = [], [], 0
    for rel in stdlib_files(top_level_only=top_level_only, skip_private=skip_private, root=root):
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        text = text.replace("\r\n", "\n")
        if not text.strip():  # empty package __init__ files teach nothing
            continue
        cost = len(text) + (len(FILE_SEPARATOR) if parts else 0)
        if used + cost > max_chars:
            continue
        parts.append(text)
        files.append(rel.as_posix())
        used += cost
    if not parts:
        raise ValueError(
            f"no standard-library file fits in max_chars={max_chars}; raise it (the smallest "
            "modules have a few hundred characters)"
        )
    return CodeCorpus(FILE_SEPARATOR.join(parts), files, root)


def license_text(root=None):
    """The Python license (`LICENSE.txt` of the library folder), or `LICENSE_NOTE` when the
    installation does not ship the file.

    Example:
    ```python
    print(license_text()[:200])
    ```
    """
    path = (stdlib_dir() if root is None else Path(root)) / "LICENSE.txt"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else LICENSE_NOTE
