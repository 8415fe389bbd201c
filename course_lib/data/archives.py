"""Safe extraction from zip and tar archives.

``zipfile`` and ``tarfile`` will happily write ``../../.bashrc`` or follow a symlink member out
of the target folder. Downloaded archives are untrusted input, so every member is checked
before anything is written: absolute paths, ``..`` components, symlinks, hard links and special
files are refused with an :class:`~course_lib.data.errors.ArchiveError`.

Example:

>>> import io, tempfile, zipfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> with zipfile.ZipFile(tmp / "a.zip", "w") as z:
...     z.writestr("pairs/spa.txt", "Go.\\tVe.\\n")
>>> safe_extract(tmp / "a.zip", "pairs/spa.txt", tmp / "out").read_text()
'Go.\\tVe.\\n'
"""

from __future__ import annotations

import re
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import ArchiveError

__all__ = ["safe_extract", "safe_extract_all", "list_members"]


@dataclass(frozen=True)
class _Member:
    name: str
    kind: str  # "file", "dir", "symlink", "hardlink" or "special"
    handle: Any  # the ZipInfo / TarInfo, used to open the member


def _zip_kind(info: zipfile.ZipInfo) -> str:
    if info.is_dir():
        return "dir"
    mode = info.external_attr >> 16
    # Unix zips store st_mode in the high 16 bits; 0 means "no Unix mode" (e.g. made on Windows).
    if mode and stat.S_ISLNK(mode):
        return "symlink"
    if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return "special"
    return "file"


def _tar_kind(info: tarfile.TarInfo) -> str:
    if info.isfile():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    return "special"


@contextmanager
def _open_archive(archive_path) -> Iterator[tuple[list[_Member], Any]]:
    """Yields (members, opener) where opener(member) returns a binary file object."""
    path = Path(archive_path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = [_Member(i.filename, _zip_kind(i), i) for i in zf.infolist()]
            yield members, lambda m: zf.open(m.handle)
        return
    try:
        is_tar = tarfile.is_tarfile(path)
    except OSError:
        is_tar = False
    if not is_tar:
        raise ArchiveError(path, "*", "it is neither a zip nor a (compressed) tar archive")
    with tarfile.open(path, "r:*") as tf:
        members = [_Member(i.name, _tar_kind(i), i) for i in tf.getmembers()]
        yield members, lambda m: tf.extractfile(m.handle)


def _target(archive, member: _Member, dest: Path) -> Path:
    """The checked path a member would be written to under dest."""
    name = member.name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(archive, member.name, "it is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(archive, member.name, "its '..' component escapes the target folder")
    if not parts:
        raise ArchiveError(archive, member.name, "it has an empty name")
    if member.kind in ("symlink", "hardlink"):
        # A link can point anywhere, and a later member written "through" it escapes the folder.
        raise ArchiveError(archive, member.name, f"it is a {member.kind}; links are not extracted")
    if member.kind == "special":
        raise ArchiveError(archive, member.name, "it is a device, FIFO or other special file")
    root = dest.resolve()
    target = root.joinpath(*parts).resolve()
    # resolve() follows symlinks already present under dest, which a name check alone misses.
    if target != root and not target.is_relative_to(root):
        raise ArchiveError(archive, member.name, f"it would be written outside {root}")
    return target


def _copy_out(archive, opener, member: _Member, target: Path, max_bytes: int | None) -> None:
    """Copies a member out, stopping one byte past ``max_bytes``: a member that decompresses to
    more than its registered size (a zip bomb, or the wrong file) never fills the disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src: IO[bytes] = opener(member)
    written = 0
    try:
        with src, open(target, "wb") as out:
            while True:
                want = 1 << 20 if max_bytes is None else min(1 << 20, max_bytes + 1 - written)
                chunk = src.read(want)
                if not chunk:
                    break
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise ArchiveError(
                        archive, member.name,
                        f"it holds more than its registered {max_bytes:,} bytes; extraction "
                        "was stopped",
                    )
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def list_members(archive_path) -> list[str]:
    """Lists the member names of a zip or tar archive.

    Args:
        archive_path: path of a ``.zip``, ``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2`` or
            ``.tar.xz`` file (the type is detected from the content, not the name).

    Returns:
        The member names, in archive order.

    Example:

    >>> list_members("spa-eng.zip")  # doctest: +SKIP
    ['spa-eng/', 'spa-eng/_about.txt', 'spa-eng/spa.txt']
    """
    with _open_archive(archive_path) as (members, _):
        return [m.name for m in members]


def safe_extract(archive_path, member: str, dest, max_bytes: int | None = None) -> Path:
    """Extracts one regular-file member of a zip or tar archive, refusing unsafe names.

    Args:
        archive_path: the archive (zip or tar, compressed or not).
        member: the member's name inside the archive, e.g. ``"spa-eng/spa.txt"``.
        dest: the target folder; the member is written to ``dest/<member>``.
        max_bytes: the member's registered size: extraction stops past it (None: no limit).

    Returns:
        The path of the extracted file.

    Raises:
        ArchiveError: if the member is missing, is a link or special file, or its name is
            absolute or would escape ``dest``, or it holds more than ``max_bytes``.

    Example:

    >>> path = safe_extract("spa-eng.zip", "spa-eng/spa.txt", "/tmp/x")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'spa.txt'
    """
    dest = Path(dest)
    with _open_archive(archive_path) as (members, opener):
        by_name = {m.name: m for m in members}
        found = by_name.get(member)
        if found is None:
            names = [m.name for m in members if m.kind == "file"]
            shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
            raise ArchiveError(archive_path, member, f"it has: {shown}", missing=True)
        target = _target(archive_path, found, dest)
        if found.kind != "file":
            raise ArchiveError(archive_path, member, f"it is a {found.kind}, not a regular file")
        _copy_out(archive_path, opener, found, target, max_bytes)
        return target


def safe_extract_all(archive_path, dest) -> list[Path]:
    """Extracts a whole zip or tar archive after checking every member first.

    Nothing is written if any member is unsafe, so a refused archive leaves no partial tree.

    Args:
        archive_path: the archive (zip or tar, compressed or not).
        dest: the target folder (created if needed).

    Returns:
        The paths of the extracted regular files, in archive order.

    Raises:
        ArchiveError: naming the first member that is absolute, contains ``..``, is a
            symlink, hard link or special file, or would land outside ``dest``.

    Example:

    >>> files = safe_extract_all("rt-polaritydata.tar.gz", "/tmp/rt")  # doctest: +SKIP
    >>> sorted(p.name for p in files)  # doctest: +SKIP
    ['rt-polarity.neg', 'rt-polarity.pos', 'rt-polaritydata.README.1.0.txt']
    """
    dest = Path(dest)
    with _open_archive(archive_path) as (members, opener):
        targets = [(m, _target(archive_path, m, dest)) for m in members]
        written = []
        for m, target in targets:
            if m.kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
            else:
                _copy_out(archive_path, opener, m, target, None)
                written.append(target)
        return written
