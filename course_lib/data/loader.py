"""The verified loader: every file the course reads goes through :func:`fetch`.

:func:`fetch` returns a local path whose SHA-256 matches the registry, looking in order at:

1. the mirror folder ``$COURSE_DATA_DIR/<dataset>/<file>`` (read-only: a bad file there is an
   error, never silently replaced). When ``COURSE_DATA_DIR`` is unset, a ``shared/datasets``
   folder inside or next to the repository is used if it exists; set ``COURSE_DATA_DIR=""`` to
   use no mirror at all.
2. the user cache ``${COURSE_CACHE_DIR:-~/.cache/course_lib}/datasets/<dataset>/<file>``: a
   corrupted file there is reported, deleted and downloaded again.
3. a download from the canonical URL (then the registry's alternates), written to a unique
   temporary file in the cache folder, extracted from its archive when needed, verified, and
   only then renamed into place, so no partial file ever carries the final name.

   A derived file with a ``source`` (see :mod:`course_lib.data.recipes`) is rebuilt instead:
   the source is downloaded (bounded by its registered size) to a temporary file, its SHA-256
   checked, the recipe run into another temporary file, the result's SHA-256 checked, and only
   then renamed into place. The source is deleted afterwards, whatever happened: it is usually
   much larger than the file made from it (the GloVe wheel is 76 MB, the 20,000-word file
   8.5 MB), so keeping it for a second derived file that most learners never fetch would cost
   more than it saves; fetching two files made from one source downloads it twice.

Example:

>>> from course_lib.data import fetch
>>> fetch("tinyshakespeare").name
'input.txt'
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..files import atomic_path
from .archives import safe_extract
from .errors import (
    ArchiveError,
    CacheError,
    ChecksumError,
    DatasetError,
    DownloadError,
    MissingDependencyError,
    RecipeError,
)
from .recipes import RECIPES, missing_requirement
from .registry import DatasetInfo, FileInfo, RecipeSource, Registry, Source, default_registry

__all__ = [
    "cache_dir",
    "datasets",
    "info",
    "download_timeout",
    "fetch",
    "file_sha256",
    "locate",
    "mirror_dir",
    "status",
]

USER_AGENT = f"course_lib/{__version__} (dataset downloader; Python-urllib)"
DEFAULT_TIMEOUT = 60.0
_REPO = Path(__file__).resolve().parents[2]
_DEFAULT_MIRRORS = (_REPO / "shared" / "datasets", _REPO.parent / "shared" / "datasets")
_CHUNK = 1 << 20

# (resolved path, size, mtime_ns) -> sha256. Hashing 35 MB on every fetch() would make each
# notebook cell that loads data noticeably slower; a changed file changes size or mtime.
_HASHES: dict[tuple[str, int, int], str] = {}


def mirror_dir() -> Path | None:
    """The mirror folder of verified copies, or ``None`` when there is none.

    ``COURSE_DATA_DIR`` wins when set (an empty value means "no mirror"); otherwise a
    ``shared/datasets`` folder inside or next to the repository is used if it exists.

    Example:

    >>> mirror_dir()  # doctest: +SKIP
    PosixPath('/work/shared/datasets')
    """
    env = os.environ.get("COURSE_DATA_DIR")
    if env is not None:
        return Path(env).expanduser() if env.strip() else None
    for candidate in _DEFAULT_MIRRORS:
        if candidate.is_dir():
            return candidate
    return None


def cache_dir() -> Path:
    """The download cache: ``${COURSE_CACHE_DIR:-~/.cache/course_lib}/datasets``.

    Example:

    >>> cache_dir().name
    'datasets'
    """
    root = os.environ.get("COURSE_CACHE_DIR") or "~/.cache/course_lib"
    return Path(root).expanduser() / "datasets"


def download_timeout() -> float:
    """The per-request network timeout in seconds (``COURSE_DOWNLOAD_TIMEOUT``, default 60).

    Example:

    >>> download_timeout() > 0
    True
    """
    raw = os.environ.get("COURSE_DOWNLOAD_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise DatasetError(
            f"COURSE_DOWNLOAD_TIMEOUT={raw!r} is not a positive number of seconds; "
            "set it to e.g. 120 or unset it for the default of 60."
        )
    return value


def file_sha256(path) -> str:
    """The SHA-256 of a file, remembered per (path, size, mtime) within the process.

    Args:
        path: the file.

    Example:

    >>> file_sha256(fetch("tinyshakespeare"))[:12]
    '86c4e6aa9db7'
    """
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _HASHES.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
        _HASHES[key] = digest
    return digest


def _remember(path: Path, digest: str) -> None:
    st = path.stat()
    _HASHES[(str(path.resolve()), st.st_size, st.st_mtime_ns)] = digest


def _check(
    ds: DatasetInfo,
    f: FileInfo,
    path: Path,
    source: str,
    url: str | None = None,
    final: Path | None = None,
    recipe: str | None = None,
) -> None:
    size = path.stat().st_size
    digest = file_sha256(path)
    if size != f.bytes or digest != f.sha256:
        # A download is checked in a temporary file; the message names the path it was for.
        shown = final if final is not None else path
        raise ChecksumError(
            ds.name, f.path, shown, f.sha256, digest, source, f.bytes, size, url=url,
            recipe=recipe,
        )


def _resolve(name: str, file: str | None, registry: Registry | None):
    reg = registry if registry is not None else default_registry()
    ds = reg.info(name)
    return ds, ds.file(file)


def datasets(*, registry: Registry | None = None) -> list[DatasetInfo]:
    """All datasets of the registry, in registry order.

    Args:
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Example:

    >>> from course_lib import data
    >>> [d.name for d in data.datasets()][:2]
    ['tinyshakespeare', 'rt-polarity']
    """
    return (registry if registry is not None else default_registry()).datasets()


def info(name: str, *, registry: Registry | None = None) -> DatasetInfo:
    """One dataset's description, license, citation and files.

    Args:
        name: the dataset name.
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Raises:
        UnknownDatasetError: listing the known names and a close match.

    Example:

    >>> from course_lib import data
    >>> data.info("squad-v1.1").license
    'CC BY-SA 4.0'
    """
    return (registry if registry is not None else default_registry()).info(name)


def locate(name: str, file: str | None = None, *, registry: Registry | None = None):
    """Where a file is available now, without downloading or hashing.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Returns:
        ``(where, path)``: ``where`` is ``"mirror"``, ``"cache"`` or ``"missing"``; ``path`` is
        the file that would be used (the cache path it would be downloaded to when missing).
        A file of the wrong size counts as missing.

    Example:

    >>> locate("glove")  # doctest: +SKIP
    ('mirror', PosixPath('/work/shared/datasets/glove/glove.6B.50d.top20k.txt'))
    """
    ds, f = _resolve(name, file, registry)
    mirror = mirror_dir()
    if mirror is not None:
        p = mirror / ds.name / f.path
        if p.is_file() and p.stat().st_size == f.bytes:
            return "mirror", p
    p = cache_dir() / ds.name / f.path
    if p.is_file() and p.stat().st_size == f.bytes:
        return "cache", p
    return "missing", p


def status(name: str, *, registry: Registry | None = None) -> dict[str, str]:
    """Where each file of a dataset is found, without downloading anything.

    Sizes are compared, hashes are not (that is :func:`fetch`'s job), so this is instant.

    Args:
        name: the dataset name.
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Returns:
        ``{file: where}`` in registry order, ``where`` being ``"mirror"``, ``"cache"`` or
        ``"missing"``.

    Example:

    >>> status("tinyshakespeare")  # doctest: +SKIP
    {'input.txt': 'mirror'}
    """
    reg = registry if registry is not None else default_registry()
    ds = reg.info(name)
    return {f.path: locate(name, f.path, registry=reg)[0] for f in ds.files}


def fetch(name: str, file: str | None = None, *, registry: Registry | None = None) -> Path:
    """Returns the verified local path of a dataset file, downloading it if needed.

    Args:
        name: the dataset name, e.g. ``"spa-eng"``.
        file: the file inside the dataset, e.g. ``"spa.txt"``; may be omitted when the dataset
            has a single data file.
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Returns:
        A path whose SHA-256 and size match the registry.

    Raises:
        UnknownDatasetError: the name is not in the registry.
        DatasetFileError: ``file`` is missing or unknown.
        ChecksumError: the mirror copy, a fresh download, a derived file's source or the
            file its recipe built does not match.
        DownloadError: the download failed (HTTP error, timeout, no network) or the file is
            derived and the registry names no source to rebuild it from.
        MissingDependencyError: a derived file's recipe needs a package that is not installed
            (checked before anything is downloaded).
        RecipeError: the recipe failed on a verified source (a bug in the course).

    Example:

    >>> from course_lib.data import fetch
    >>> fetch("multi30k", "val.en.gz").name
    'val.en.gz'
    """
    return fetch_with_source(name, file, registry=registry)[0]


def fetch_with_source(
    name: str, file: str | None = None, *, registry: Registry | None = None
) -> tuple[Path, str]:
    """Like :func:`fetch`, also saying where the file came from.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`Registry`; the default reads ``datasets/registry.json``.

    Returns:
        ``(path, source)`` with ``source`` one of ``"mirror"``, ``"cache"``, ``"download"``.

    Example:

    >>> fetch_with_source("tinyshakespeare")[1]  # doctest: +SKIP
    'mirror'
    """
    ds, f = _resolve(name, file, registry)
    mirror = mirror_dir()
    if mirror is not None:
        p = mirror / ds.name / f.path
        if p.is_file():
            _check(ds, f, p, "mirror")
            return p, "mirror"
    cached = cache_dir() / ds.name / f.path
    if cached.is_file():
        try:
            _check(ds, f, cached, "cache")
            return cached, "cache"
        except ChecksumError as err:
            warnings.warn(
                f"The cached copy of {ds.name}/{f.path} at {cached} is corrupted (expected "
                f"sha256 {err.expected}, got {err.actual}); deleting it and downloading it "
                "again.",
                stacklevel=3,
            )
            cached.unlink(missing_ok=True)
    _download(ds, f, cached, mirror)
    return cached, "download"


def _download(ds: DatasetInfo, f: FileInfo, final: Path, mirror: Path | None) -> None:
    mirror_s = str(mirror) if mirror is not None else None
    if f.derived and f.source is None:
        raise DownloadError(
            ds.name,
            f.path,
            f.url,
            "this file is a derived subset, not a published file, and the registry names no "
            "source to rebuild it from, so it cannot be re-created by downloading that URL",
            mirror_s,
            advice=(
                f"How it was made: {f.derivation} To use it, either copy a verified "
                f"{f.path} (sha256 {f.sha256}, {f.bytes:,} bytes) to {final}, or point "
                f"COURSE_DATA_DIR at a mirror holding {ds.name}/{f.path}."
            ),
        )
    if f.source is not None:
        # Before anything is downloaded: a missing package would waste the whole download.
        missing = missing_requirement(f.source.recipe)
        if missing is not None:
            raise MissingDependencyError(ds.name, f.path, f.source.recipe, *missing)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CacheError(ds.name, f.path, final.parent, err, f.bytes) from err
    timeout = download_timeout()
    if f.source is not None:
        try:
            _derive(ds, f, f.source, final, timeout, mirror_s)
        except CacheError:
            raise
        except OSError as err:  # the cache, not the network (network errors are DownloadErrors)
            raise CacheError(ds.name, f.path, final.parent, err, f.bytes + f.source.bytes) from err
        return
    failures: list[tuple[Source, DatasetError]] = []
    for src in f.sources:
        try:
            _download_from(ds, f, src, final, timeout, mirror_s)
            return
        except (DownloadError, ChecksumError, ArchiveError) as err:
            failures.append((src, err))
        except CacheError:
            raise  # another source cannot help a cache that cannot be written
        except OSError as err:  # the cache, not the network (network errors are DownloadErrors)
            raise CacheError(ds.name, f.path, final.parent, err, f.bytes) from err
    first = failures[0][1]
    # The canonical URL's error is the one to show; the alternates' go in as notes.
    for src, err in failures[1:]:
        first.add_note(f"Also tried {src.url}: {err}")
    raise first


def _download_from(
    ds: DatasetInfo,
    f: FileInfo,
    src: Source,
    final: Path,
    timeout: float,
    mirror: str | None,
) -> None:
    folder = final.parent
    tag = f".{f.path}.part-{os.getpid()}-"
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=tag)
    os.close(fd)
    tmp = Path(tmp_name)
    xdir: Path | None = None
    try:
        # The registry knows how big the download may be: a file its own size, an archive its
        # registered size. Nothing larger is written, whatever the server sends.
        limit = src.archive_bytes if src.archive_member else f.bytes
        _http_get(ds, f, src.url, tmp, timeout, mirror, limit)
        content = tmp
        if src.archive_member:
            if src.archive_sha256 is not None:
                got = file_sha256(tmp)
                if got != src.archive_sha256:
                    err = ChecksumError(ds.name, f.path, tmp, src.archive_sha256, got, "download",
                                        url=src.url)
                    err.add_note("The hash that differs is the archive's, checked before "
                                 "anything was extracted from it.")
                    raise err
            xdir = Path(tempfile.mkdtemp(dir=folder, prefix=f".{f.path}.extract-{os.getpid()}-"))
            content = safe_extract(tmp, src.archive_member, xdir, max_bytes=f.bytes)
        _check(ds, f, content, "download", url=src.url, final=final)
        digest = file_sha256(content)
        os.replace(content, final)
        _remember(final, digest)
        if src.archive_member and xdir is not None:
            _extract_siblings(ds, f, src, tmp, xdir)
    finally:
        tmp.unlink(missing_ok=True)
        if xdir is not None:
            shutil.rmtree(xdir, ignore_errors=True)


def _derive(
    ds: DatasetInfo,
    f: FileInfo,
    src: RecipeSource,
    final: Path,
    timeout: float,
    mirror: str | None,
) -> None:
    """Downloads ``src``, checks it, runs its recipe, checks the result, renames it to final."""
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{f.path}.source-{os.getpid()}-")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        name = urllib.parse.urlsplit(src.url).path.rsplit("/", 1)[-1]
        _http_get(ds, f, src.url, tmp, timeout, mirror, src.bytes,
                  desc=f"{ds.name}/{f.path} (source {name})")
        size = tmp.stat().st_size
        got = file_sha256(tmp)
        if size != src.bytes or got != src.sha256:
            err = ChecksumError(ds.name, f.path, final, src.sha256, got, "download", src.bytes,
                                size, url=src.url)
            err.add_note(f"The hash that differs is the source's ({name}), checked before the "
                         f"recipe {src.recipe!r} ran; nothing was built from it.")
            raise err
        with atomic_path(final) as out:
            try:
                RECIPES[src.recipe](tmp, out, **src.params)
            except ImportError as err:
                raise MissingDependencyError(ds.name, f.path, src.recipe,
                                             err.name or str(err), err) from err
            except (OSError, MemoryError):
                raise  # the machine, not the recipe: a full disk becomes a CacheError
            except Exception as err:
                raise RecipeError(ds.name, f.path, src.recipe, src.url,
                                  f"{type(err).__name__}: {err}") from err
            _check(ds, f, out, "derived", url=src.url, final=final, recipe=src.recipe)
            digest = file_sha256(out)
        _remember(final, digest)
    finally:
        tmp.unlink(missing_ok=True)


def _extract_siblings(ds: DatasetInfo, f: FileInfo, src: Source, archive: Path, xdir: Path):
    """Places other files of the dataset that live in the same archive, while we have it."""
    for g in ds.files:
        if g is f or g.url != src.url or not g.archive_member or g.derived:
            continue
        target = cache_dir() / ds.name / g.path
        if target.exists():
            continue
        try:
            content = safe_extract(archive, g.archive_member, xdir, max_bytes=g.bytes)
            _check(ds, g, content, "download", url=src.url, final=target)
            digest = file_sha256(content)
            os.replace(content, target)
            _remember(target, digest)
        except (ArchiveError, ChecksumError, OSError):
            # Not the file asked for: fetching it later reports the problem properly.
            continue


def _http_get(
    ds: DatasetInfo,
    f: FileInfo,
    url: str,
    dest: Path,
    timeout: float,
    mirror: str | None,
    limit: int,
    desc: str | None = None,
) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    got = 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else limit
            if total > limit:
                raise DownloadError(ds.name, f.path, url, _too_big(total, limit, "announces"),
                                    mirror)
            try:
                out = open(dest, "wb")  # closed by the with below
            except OSError as err:
                raise CacheError(ds.name, f.path, dest.parent, err, limit) from err
            with (
                out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=desc or f"{ds.name}/{f.path}",
                    mininterval=0.5,
                ) as bar,
            ):
                # Read one byte past the limit at most: enough to know the server sent too much.
                while chunk := resp.read(min(1 << 16, limit + 1 - got)):
                    got += len(chunk)
                    if got > limit:
                        raise DownloadError(ds.name, f.path, url,
                                            _too_big(got, limit, "sent"), mirror)
                    try:
                        out.write(chunk)
                    except OSError as err:  # a full disk, not the network
                        raise CacheError(ds.name, f.path, dest.parent, err, limit) from err
                    bar.update(len(chunk))
    except (CacheError, DownloadError):
        raise
    except urllib.error.HTTPError as err:
        cause = f"HTTP {err.code} {err.reason}"
        if err.code == 404:
            cause += " (the file is not at that URL any more)"
        raise DownloadError(ds.name, f.path, url, cause, mirror) from err
    except http.client.IncompleteRead as err:
        cause = (
            f"the connection closed after {got + len(err.partial):,} bytes, before the end "
            "of the file (truncated transfer)"
        )
        raise DownloadError(ds.name, f.path, url, cause, mirror) from err
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise DownloadError(ds.name, f.path, url, _describe(err, timeout), mirror) from err


def _too_big(size: int, limit: int, verb: str) -> str:
    more = "at least " if verb == "sent" else ""
    return (f"the server {verb} {more}{size:,} bytes where the registry allows {limit:,}; the "
            "download was stopped (a wrong or tampered file, or a new version of it)")


def _describe(err: BaseException, timeout: float) -> str:
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, TimeoutError):
        return f"timed out: no data for {timeout:g} s (set COURSE_DOWNLOAD_TIMEOUT to wait longer)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (no server answers at that address, or no network)"
    if isinstance(reason, socket.gaierror):
        return f"the host name could not be resolved (no network or no DNS): {reason}"
    if isinstance(reason, ConnectionError):
        return f"the connection failed ({reason}); no network?"
    return f"network error: {reason}"
