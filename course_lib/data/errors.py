"""The errors of ``course_lib.data``.

Every message says what went wrong *and* what to do about it, because a learner meets these
errors in a notebook cell with no one to ask.
"""

from __future__ import annotations

import difflib

MIRROR_HINT = (
    "To use a folder of verified copies instead (laid out <dataset>/<file>, e.g. the course's "
    "shared/datasets), set COURSE_DATA_DIR to it, e.g. "
    "`export COURSE_DATA_DIR=/path/to/shared/datasets` in the shell, or "
    "`os.environ['COURSE_DATA_DIR'] = '/path/to/shared/datasets'` in a notebook (it is read "
    "on every fetch)."
)


class DatasetError(Exception):
    """Base class of every error raised by ``course_lib.data``.

    Catch this to handle any data problem in one place.

    Example:

    >>> from course_lib import data
    >>> try:
    ...     data.fetch("no-such-dataset")
    ... except data.DatasetError as err:
    ...     print(type(err).__name__)
    UnknownDatasetError
    """


class UnknownDatasetError(DatasetError, LookupError):
    """A dataset name that is not in the registry.

    Args:
        name: the name that was asked for.
        known: the names the registry holds.

    Example:

    >>> err = UnknownDatasetError("tinyshakespear", ["tinyshakespeare", "glove"])
    >>> "Did you mean 'tinyshakespeare'?" in str(err)
    True
    """

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = sorted(known)
        close = difflib.get_close_matches(str(name), self.known, n=1, cutoff=0.5)
        self.suggestion = close[0] if close else None
        hint = f" Did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(self.known)}. "
            "`python -m course_lib.data list` shows them with sizes and licenses."
        )


class DatasetFileError(DatasetError, ValueError):
    """A file of a dataset that was not named, or is not in the registry.

    Raised when ``file`` is omitted for a dataset with several data files, or names a file
    the dataset does not have.

    Args:
        name: the dataset name.
        file: the file asked for, or ``None`` when it was omitted.
        files: the files the dataset has.

    Example:

    >>> err = DatasetFileError("multi30k", None, ["train.en.gz", "train.de.gz"])
    >>> "train.en.gz" in str(err)
    True
    """

    def __init__(self, name: str, file: str | None, files: list[str]):
        self.name = name
        self.file = file
        self.files = list(files)
        listing = ", ".join(self.files)
        if file is None:
            msg = (
                f"Dataset {name!r} has several files; say which one with file=..., "
                f"e.g. fetch({name!r}, {self.files[0]!r}). Files: {listing}."
            )
        else:
            msg = f"Dataset {name!r} has no file {file!r}. Its files: {listing}."
        super().__init__(msg)


class ChecksumError(DatasetError):
    """A file whose SHA-256 (or size) differs from the registry.

    Args:
        dataset: the dataset name.
        file: the file name inside the dataset.
        path: where the bad content is (or was, when it has been removed).
        expected: the SHA-256 the registry pins.
        actual: the SHA-256 of the content found.
        source: ``"mirror"``, ``"cache"``, ``"download"`` or ``"derived"`` (a file built by a
            recipe from its verified source): decides the remedy.
        expected_bytes: the size the registry pins.
        actual_bytes: the size found.
        url: the URL the content came from, for downloads (the source's URL for a derived file).
        recipe: the recipe that built the content, for ``source="derived"``.

    Example:

    >>> err = ChecksumError("glove", "g.txt", "/m/glove/g.txt", "ab" * 32, "cd" * 32, "mirror")
    >>> "COURSE_DATA_DIR" in str(err)
    True
    """

    def __init__(
        self,
        dataset: str,
        file: str,
        path,
        expected: str,
        actual: str,
        source: str,
        expected_bytes: int | None = None,
        actual_bytes: int | None = None,
        url: str | None = None,
        recipe: str | None = None,
    ):
        self.dataset = dataset
        self.file = file
        self.path = str(path)
        self.expected = expected
        self.actual = actual
        self.source = source
        self.url = url
        self.recipe = recipe
        sizes = ""
        if expected_bytes is not None and actual_bytes is not None:
            sizes = f" (expected {expected_bytes:,} bytes, got {actual_bytes:,})"
        if source == "download":
            where = f"downloaded from {url}"
        elif source == "derived":
            where = f"built by recipe {recipe!r} from {url}"
        else:
            where = f"at {self.path}"
        head = (
            f"Checksum mismatch for {dataset}/{file} {where}{sizes}: "
            f"expected sha256 {expected}, got {actual}. "
        )
        if source == "mirror":
            remedy = (
                "This file is in the mirror folder named by COURSE_DATA_DIR, which is read-only "
                "to the course, so it was not replaced. Restore it from the course's data "
                "release (or compare it with shared/datasets/MANIFEST.md), or unset "
                "COURSE_DATA_DIR to download a fresh copy into your cache instead."
            )
        elif source == "download":
            remedy = (
                "The downloaded content is not the expected file (a truncated transfer, a "
                "proxy or error page, or the file changed upstream); nothing was saved to "
                f"{self.path}. Retry with `python -m course_lib.data download {dataset}`. "
                + MIRROR_HINT
            )
        elif source == "derived":
            remedy = (
                "The source passed its own SHA-256 check, so the recipe did not reproduce the "
                "registered file in this environment (most likely another numpy version, which "
                f"formats numbers differently); nothing was saved to {self.path}. Run "
                "`make setup` to install the course's pinned versions and retry with "
                f"`python -m course_lib.data download {dataset}`. " + MIRROR_HINT
            )
        else:
            remedy = (
                f"Delete the file (`rm '{self.path}'`) and fetch again to re-download it, "
                f"e.g. `python -m course_lib.data download {dataset}`."
            )
        super().__init__(head + remedy)


class DownloadError(DatasetError):
    """A download that failed: HTTP error, timeout, no network, or a derived file.

    Args:
        dataset: the dataset name.
        file: the file name inside the dataset.
        url: the URL that was tried (the last one, when alternates were tried too).
        cause: what went wrong, in words (e.g. ``"HTTP 404 Not Found"``).
        mirror: the value of COURSE_DATA_DIR, or ``None`` when unset.
        advice: extra instructions, e.g. how to obtain a derived file.

    Example:

    >>> err = DownloadError("glove", "g.txt", "https://x/g.zip", "timed out after 60 s", None)
    >>> "COURSE_DATA_DIR" in str(err)
    True
    """

    def __init__(
        self,
        dataset: str,
        file: str,
        url: str,
        cause: str,
        mirror: str | None,
        advice: str | None = None,
    ):
        self.dataset = dataset
        self.file = file
        self.url = url
        self.cause = cause
        self.mirror = mirror
        where = (
            f"The mirror folder {mirror} (COURSE_DATA_DIR) has no {dataset}/{file}."
            if mirror
            else "COURSE_DATA_DIR is not set, so there is no local mirror to fall back on."
        )
        parts = [f"Could not download {dataset}/{file} from {url}: {cause}.", where]
        if advice:
            parts.append(advice)
        else:
            parts.append(
                "Check your network connection (a proxy may need HTTPS_PROXY) and retry "
                f"`python -m course_lib.data download {dataset}`; a slow link may need a "
                "longer COURSE_DOWNLOAD_TIMEOUT (seconds)."
            )
        parts.append(MIRROR_HINT)
        super().__init__(" ".join(parts))


class CacheError(DatasetError, OSError):
    """The download cache cannot be used: its folder cannot be created or written, or the
    disk is full. Nothing half-written is left behind.

    Args:
        dataset: the dataset name.
        file: the file name inside the dataset.
        folder: the cache folder concerned.
        error: the ``OSError`` the filesystem raised.
        needed: bytes the file needs, when known.

    Example:

    >>> import errno
    >>> err = CacheError("glove", "g.txt", "/c", OSError(errno.ENOSPC, "No space left"), 9_000)
    >>> "COURSE_CACHE_DIR" in str(err) and "free at least" in str(err)
    True
    """

    def __init__(self, dataset: str, file: str, folder, error: OSError, needed: int | None = None):
        import errno

        self.dataset = dataset
        self.file = file
        self.folder = str(folder)
        self.error = error
        code = getattr(error, "errno", None)
        if code in (errno.ENOSPC, errno.EDQUOT):
            cause = "the disk (or your quota) is full"
            remedy = (f"free at least {needed / 1e6:.1f} MB there, or " if needed else "free "
                      "some space there, or ")
        elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
            cause = "the folder is not writable (permissions, or a read-only filesystem)"
            remedy = ""
        elif code in (errno.ENOTDIR, errno.EEXIST):
            cause = "a file stands where a folder of the cache path should be"
            remedy = "remove that file, or "
        else:
            cause = f"the filesystem refused ({error})"
            remedy = ""
        super().__init__(
            f"Could not store {dataset}/{file} in the download cache {self.folder}: {cause} "
            f"[{type(error).__name__}: {error}]. To fix it, {remedy}point COURSE_CACHE_DIR at a "
            "writable folder with room (e.g. `export COURSE_CACHE_DIR=$HOME/course-cache`), "
            "or use a mirror of verified copies. " + MIRROR_HINT
        )


class ArchiveError(DatasetError):
    """An archive that is unsafe to extract, or lacks the member asked for.

    Args:
        archive: the archive path.
        member: the offending member name.
        reason: why it was refused.

    Example:

    >>> str(ArchiveError("a.zip", "../evil", "it escapes the target folder")).startswith("Refused")
    True
    """

    def __init__(self, archive, member: str, reason: str, missing: bool = False):
        self.archive = str(archive)
        self.member = member
        self.reason = reason
        if missing:
            msg = (
                f"Archive {self.archive} has no member {member!r} ({reason}). The file at the "
                "URL may have changed layout; check the registry entry's archive_member."
            )
        else:
            msg = (
                f"Refused to extract member {member!r} from {self.archive}: {reason}. "
                "The archive may be damaged or malicious; delete it and download it again "
                "from the dataset's canonical URL."
            )
        super().__init__(msg)


class MissingDependencyError(DatasetError, ImportError):
    """A Python package that a recipe needs to build a derived file is not installed.

    Raised before anything is downloaded, so no bandwidth is wasted.

    Args:
        dataset: the dataset name.
        file: the file name inside the dataset.
        recipe: the recipe that needs the package.
        package: the package (its import name, which is also its pip name here).
        error: the ``ImportError`` raised by importing it.

    Example:

    >>> err = MissingDependencyError("glove", "g.txt", "r", "pyarrow", ImportError("nope"))
    >>> "make setup" in str(err) and isinstance(err, ImportError)
    True
    """

    def __init__(self, dataset: str, file: str, recipe: str, package: str, error: BaseException):
        self.dataset = dataset
        self.file = file
        self.recipe = recipe
        self.package = package
        self.error = error
        super().__init__(
            f"Cannot build {dataset}/{file}: its recipe {recipe!r} needs the Python package "
            f"{package}, which cannot be imported here ({type(error).__name__}: {error}). It "
            "is part of the course's pinned stack: run `make setup` in the repository (or "
            "`pip install -r requirements.txt` in the environment you run the course in), "
            f"then retry `python -m course_lib.data download {dataset}`. Nothing was "
            "downloaded. " + MIRROR_HINT
        )


class RecipeError(DatasetError):
    """A recipe that failed while building a derived file from its verified source.

    The source passed its SHA-256 check, so the registry entry and the recipe disagree (a
    wrong member name or parameter): a bug to report, not something a learner can fix.

    Args:
        dataset: the dataset name.
        file: the file name inside the dataset.
        recipe: the recipe's name.
        url: the source's URL.
        cause: what went wrong, in words.

    Example:

    >>> err = RecipeError("glove", "g.txt", "r", "https://x/w.whl", "no member 'a.npy'")
    >>> "report" in str(err) and "COURSE_DATA_DIR" in str(err)
    True
    """

    def __init__(self, dataset: str, file: str, recipe: str, url: str, cause: str):
        self.dataset = dataset
        self.file = file
        self.recipe = recipe
        self.url = url
        self.cause = cause
        super().__init__(
            f"Could not build {dataset}/{file} with recipe {recipe!r} from {url} (which passed "
            f"its SHA-256 check): {cause}. Nothing was saved. The registry entry and the recipe "
            "disagree, which is a bug in the course: please report it with this message. "
            + MIRROR_HINT
        )
