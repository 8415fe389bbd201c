"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The trainer's ``state.json``, the run records, ``RESULTS.md`` and executed notebooks are all
written through :func:`write_text_atomically`, so an interrupted write never corrupts them.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> p = write_text_atomically(Path(tempfile.mkdtemp()) / "note.md", "# hello")
>>> p.read_text(encoding="utf-8")
'# hello'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "current_umask", "process_alive", "write_text_atomically"]


def current_umask() -> int:
    """The process's file-mode creation mask, read without changing it.

    ``os.umask`` can only read the mask by setting it, which races with other threads that
    create files at that moment (TensorFlow's, in a notebook). Linux reports the mask in
    ``/proc/self/status``; elsewhere the common default ``0o022`` is assumed.

    Example:

    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def write_text_atomically(path, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` through a uniquely named temporary file in the same
    folder and a rename; an error leaves the old file as it was and removes the temporary one.

    The new file gets the mode ``open()`` would give it (``0o666`` less the umask), not the
    owner-only mode of ``mkstemp``.

    Args:
        path: the file to (re)write; its folder must exist.
        suffix: the temporary name's ending (Keras, for one, picks a format from it).
        text: the whole new content.

    Returns:
        ``path`` as a ``Path``.

    Example:

    >>> import tempfile
    >>> p = write_text_atomically(Path(tempfile.mkdtemp()) / "a.json", "{}")
    >>> p.name, p.read_text(encoding="utf-8")
    ('a.json', '{}')
    """
    path = Path(path)
    # Unique, and named for its writer (the pid), so a cleanup can tell a dead writer's
    # leftovers from the file a live one is still writing.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextmanager
def atomic_path(path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yields a uniquely named temporary path in ``path``'s folder for the block to write; when
    the block ends normally the file is renamed to ``path``, and when it raises the temporary
    file is removed and ``path`` is left as it was.

    For content too large to hold as one string (:func:`write_text_atomically` needs the whole
    text), or content that must be checked before it takes its final name: check it inside the
    block and raise. The new file gets the mode ``open()`` would give it.

    Args:
        path: the file to (re)write; its folder must exist.
        suffix: the temporary name's ending (Keras, for one, picks a format from it).

    Example:

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "big.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("checked content", encoding="utf-8")
    >>> target.read_text(encoding="utf-8")
    'checked content'
    >>> try:
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("bad", encoding="utf-8")
    ...         raise ValueError("the check failed")
    ... except ValueError:
    ...     pass
    >>> target.read_text(encoding="utf-8"), sorted(p.name for p in target.parent.iterdir())
    ('checked content', ['big.txt'])
    """
    path = Path(path)
    # The writer's pid in the name: a trainer removes only the leftovers of writers that are gone.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (to tell a live writer's temporary files from
    those a killed one left behind).

    Example:

    >>> process_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
