"""The dataset registry: what each dataset's files are, where they come from, and their hashes.

The registry is ``datasets/registry.json`` at the repository root; a :class:`Registry` can also
be built from a dict, which is how the tests serve files from a local HTTP server.

Example:

>>> from course_lib.data.registry import default_registry
>>> reg = default_registry()
>>> reg.info("tinyshakespeare").files[0].bytes
1115394
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import DatasetError, DatasetFileError, UnknownDatasetError
from .recipes import RECIPES, check_params

__all__ = [
    "ENCODINGS",
    "FORMATS",
    "REGISTRY_PATH",
    "DatasetInfo",
    "FileInfo",
    "RecipeSource",
    "Registry",
    "check_plain_name",
    "check_url",
    "default_registry",
]

REGISTRY_PATH = Path(__file__).resolve().parents[2] / "datasets" / "registry.json"
FORMATS = ("text", "lines", "json", "jsonl", "tsv", "gz-lines", "glove")
ENCODINGS = ("utf-8", "latin-1", "gzip+utf-8")
ROLES = ("data", "doc")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Dataset names and file names become folder and file names: plain names only.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
# Plain http is accepted only from this machine (a test server or a local mirror).
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_plain_name(name, what: str, where: str) -> str:
    """Raises a DatasetError unless ``name`` is a plain file or folder name.

    Example:

    >>> check_plain_name("../etc", "dataset name", "registry entry")
    Traceback (most recent call last):
    ...
    course_lib.data.errors.DatasetError: registry entry: dataset name '../etc' is not a plain name (letters, digits, '.', '_', '-'; no path separator)
    """
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or name.strip(".") == "":
        raise DatasetError(
            f"{where}: {what} {name!r} is not a plain name (letters, digits, '.', '_', '-'; "
            "no path separator)"
        )
    return name


def check_url(url, where: str) -> str:
    """Raises a DatasetError unless ``url`` is https (or http to this machine).

    Example:

    >>> check_url("file:///etc/passwd", "registry entry toy/a.txt")
    Traceback (most recent call last):
    ...
    course_lib.data.errors.DatasetError: registry entry toy/a.txt: URL 'file:///etc/passwd' must be https:// (plain http:// only to 127.0.0.1 or localhost)
    """
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    ok = parts is not None and parts.hostname and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    )
    if not ok:
        raise DatasetError(
            f"{where}: URL {url!r} must be https:// (plain http:// only to 127.0.0.1 or "
            "localhost)"
        )
    return url


@dataclass(frozen=True)
class Source:
    """One place a file can be downloaded from.

    Args:
        url: the URL (https).
        archive_member: the member to extract when the URL is a zip or tar archive.
        archive_bytes: for an archive, its registered size: the download stops there.
        archive_sha256: for an archive, its SHA-256, checked before anything is extracted
            (None where no verified copy was available to hash; the member is still checked
            against its own hash, and download and extraction are both bounded).

    Example:

    >>> Source("https://example.org/spa-eng.zip", "spa-eng/spa.txt", 2_767_131).archive_member
    'spa-eng/spa.txt'
    """

    url: str
    archive_member: str | None = None
    archive_bytes: int | None = None
    archive_sha256: str | None = None

    @classmethod
    def checked(cls, where: str, **fields) -> Source:
        """A Source built from registry fields, with its URL and archive bounds checked."""
        source = cls(**fields)
        check_url(source.url, where)
        if source.archive_member is not None:
            if not isinstance(source.archive_bytes, int) or source.archive_bytes < 1:
                raise DatasetError(
                    f"{where}: the archive {source.url} needs archive_bytes (its size), which "
                    "bounds the download"
                )
            if source.archive_sha256 is not None and not _SHA256.match(source.archive_sha256):
                raise DatasetError(f"{where}: archive_sha256 must be 64 lower-case hex digits")
        return source


@dataclass(frozen=True)
class RecipeSource:
    """The published file a derived file is rebuilt from, and the recipe that rebuilds it.

    Args:
        url: where the source is downloaded from (https).
        sha256: the source's SHA-256, checked before the recipe runs.
        bytes: the source's size: the download stops there.
        recipe: a name in :data:`course_lib.data.recipes.RECIPES`.
        params: keyword arguments for the recipe.

    Example:

    >>> RecipeSource.from_dict({"url": "https://example.org/w.whl", "sha256": "0" * 64,
    ...     "bytes": 10, "recipe": "glove-text-from-npy-parquet", "params": {
    ...     "vectors": "a.npy", "words": "a.parquet", "column": "index"}}, "toy/a.txt").recipe
    'glove-text-from-npy-parquet'
    """

    url: str
    sha256: str
    bytes: int
    recipe: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_dict(cls, d, where: str) -> RecipeSource:
        """Builds a RecipeSource from a file entry's ``source`` object, checking every field."""
        if not isinstance(d, dict):
            raise DatasetError(f"{where}: source must be an object with url, sha256, bytes and "
                               f"recipe, got {d!r}")
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise DatasetError(f"{where}: source has unknown keys {sorted(unknown)}; allowed: "
                               f"{sorted(known)}")
        for key in ("url", "sha256", "bytes", "recipe"):
            if key not in d:
                raise DatasetError(f"{where}: source is missing required key {key!r}")
        check_url(d["url"], f"{where} source")
        if not isinstance(d["sha256"], str) or not _SHA256.match(d["sha256"]):
            raise DatasetError(f"{where}: source sha256 must be 64 lower-case hex digits, got "
                               f"{d['sha256']!r}")
        if not isinstance(d["bytes"], int) or isinstance(d["bytes"], bool) or d["bytes"] < 1:
            raise DatasetError(f"{where}: source bytes must be the source's size (a positive "
                               f"integer), which bounds the download; got {d['bytes']!r}")
        if d["recipe"] not in RECIPES:
            raise DatasetError(f"{where}: unknown recipe {d['recipe']!r}; known recipes: "
                               f"{sorted(RECIPES)} (course_lib/data/recipes.py)")
        params = d.get("params", {})
        if not isinstance(params, dict):
            raise DatasetError(f"{where}: source params must be an object, got {params!r}")
        try:
            check_params(d["recipe"], params, where)
        except ValueError as err:
            raise DatasetError(str(err)) from None
        return cls(url=d["url"], sha256=d["sha256"], bytes=d["bytes"], recipe=d["recipe"],
                   params=dict(params))


@dataclass(frozen=True)
class FileInfo:
    """One file of a dataset, as pinned by the registry.

    Args:
        path: the file's name inside the dataset folder, e.g. ``"spa.txt"``.
        url: the canonical URL (of the file, or of the archive holding it); for a file built
            from a ``source``, the source's URL.
        sha256: the SHA-256 of the file's bytes, lower-case hex.
        bytes: the file's size.
        encoding: ``"utf-8"``, ``"latin-1"`` or ``"gzip+utf-8"`` (gzip-compressed UTF-8).
        format: one of ``text``, ``lines``, ``json``, ``jsonl``, ``tsv``, ``gz-lines``, ``glove``.
        archive_member: the member to extract when ``url`` is an archive.
        role: ``"data"``, or ``"doc"`` for a README or license shipped with the data.
        alternates: other download sources, tried in order when ``url`` fails.
        derived: ``True`` when the file is not a published file. With a ``source`` it is
            rebuilt from that source; without one it cannot be downloaded (the downloader then
            explains how to obtain it).
        derivation: how a derived file was produced, in words.
        source: for a derived file, the published file and the recipe that rebuild it.
        note: anything else a reader should know (e.g. an unusual encoding).

    Example:

    >>> from course_lib.data import info
    >>> f = info("rt-polarity").file("rt-polarity.pos")
    >>> f.encoding, f.format
    ('latin-1', 'lines')
    """

    path: str
    url: str
    sha256: str
    bytes: int
    encoding: str = "utf-8"
    format: str = "text"
    archive_member: str | None = None
    archive_bytes: int | None = None
    archive_sha256: str | None = None
    role: str = "data"
    alternates: tuple[Source, ...] = ()
    derived: bool = False
    derivation: str | None = None
    source: RecipeSource | None = None
    note: str | None = None

    @property
    def sources(self) -> tuple[Source, ...]:
        """The canonical source followed by the alternates, in the order they are tried."""
        return (
            Source(self.url, self.archive_member, self.archive_bytes, self.archive_sha256),
            *self.alternates,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any], dataset: str = "?") -> FileInfo:
        """Builds a FileInfo from one ``files`` entry of registry.json, checking its fields.

        Args:
            d: the entry.
            dataset: the dataset's name, for error messages.

        Example:

        >>> FileInfo.from_dict({"path": "a.txt", "url": "https://example.org/a.txt",
        ...                     "sha256": "0" * 64, "bytes": 3}).format
        'text'
        """
        where = f"registry entry {dataset}/{d.get('path', '?')}"
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise DatasetError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        # A file built from a source takes its URL from the source; every other file has one.
        required = ("path", "sha256", "bytes") if "source" in d else ("path", "url", "sha256",
                                                                      "bytes")
        for key in required:
            if key not in d:
                raise DatasetError(f"{where}: missing required key {key!r}")
        d = dict(d)
        if "source" in d:
            d["source"] = RecipeSource.from_dict(d["source"], where)
            if d.get("derived") is not True:
                raise DatasetError(f"{where}: a file built from a source is derived; add "
                                   '"derived": true')
            clashing = sorted(k for k in ("url", "archive_member", "archive_bytes",
                                          "archive_sha256", "alternates") if k in d)
            if clashing:
                raise DatasetError(f"{where}: a file built from a source is downloaded only as "
                                   f"that source; remove {clashing} (the URL is source.url)")
            d["url"] = d["source"].url
        d["sha256"] = str(d["sha256"]).lower()
        if not _SHA256.match(d["sha256"]):
            raise DatasetError(f"{where}: sha256 must be 64 hex digits, got {d['sha256']!r}")
        check_plain_name(d["path"], "path", where)
        if d.get("format", "text") not in FORMATS:
            raise DatasetError(f"{where}: format must be one of {FORMATS}")
        if d.get("encoding", "utf-8") not in ENCODINGS:
            raise DatasetError(f"{where}: encoding must be one of {ENCODINGS}")
        if d.get("role", "data") not in ROLES:
            raise DatasetError(f"{where}: role must be one of {ROLES}")
        d["alternates"] = tuple(Source.checked(where, **a) for a in d.get("alternates", ()))
        if not d.get("derived"):
            Source.checked(where, url=d["url"], archive_member=d.get("archive_member"),
                           archive_bytes=d.get("archive_bytes"),
                           archive_sha256=d.get("archive_sha256"))
        d["bytes"] = int(d["bytes"])
        return cls(**d)


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset: its description, license, citation and files.

    Args:
        name: the dataset's name, also its folder name (e.g. ``"spa-eng"``).
        title: a human title.
        license: the license, in words.
        citation: how to cite it.
        files: its files, in registry order.
        description: what it contains and what the course uses it for.
        homepage: where to read more.
        optional: ``True`` for a dataset no chapter needs: it is not in the course's mirror,
            and ``python -m course_lib.data download`` fetches it only when named.

    Example:

    >>> from course_lib import data
    >>> data.info("glove-full").optional, data.info("glove").optional
    (True, False)
    >>> from course_lib.data import info
    >>> d = info("multi30k")
    >>> d.total_bytes > 1_000_000, len(d.files)
    (True, 6)
    """

    name: str
    title: str
    license: str
    citation: str
    files: tuple[FileInfo, ...] = field(default_factory=tuple)
    description: str = ""
    homepage: str = ""
    optional: bool = False

    @property
    def total_bytes(self) -> int:
        """The size of all the dataset's files together."""
        return sum(f.bytes for f in self.files)

    @property
    def data_files(self) -> tuple[FileInfo, ...]:
        """The files with role ``"data"`` (not READMEs or license texts)."""
        return tuple(f for f in self.files if f.role == "data")

    def file(self, path: str | None = None) -> FileInfo:
        """Returns one file's entry.

        Args:
            path: the file's name; may be omitted when the dataset has a single data file.

        Raises:
            DatasetFileError: if ``path`` is omitted and there are several data files, or
                names no file of this dataset.

        Example:

        >>> from course_lib.data import info
        >>> info("spa-eng").file().path
        'spa.txt'
        """
        if path is None:
            data = self.data_files
            if len(data) == 1:
                return data[0]
            raise DatasetFileError(self.name, None, [f.path for f in self.files])
        for f in self.files:
            if f.path == path:
                return f
        raise DatasetFileError(self.name, path, [f.path for f in self.files])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInfo:
        """Builds a DatasetInfo from one ``datasets`` entry of registry.json.

        Args:
            d: the entry, with ``name``, ``title``, ``license``, ``citation`` and ``files``.

        Example:

        >>> DatasetInfo.from_dict({"name": "x", "title": "X", "license": "MIT",
        ...     "citation": "-", "files": []}).name
        'x'
        """
        for key in ("name", "title", "license", "citation", "files"):
            if key not in d:
                raise DatasetError(f"registry entry {d.get('name', '?')}: missing key {key!r}")
        name = check_plain_name(d["name"], "dataset name", "registry entry")
        if not isinstance(d.get("optional", False), bool):
            raise DatasetError(f"registry entry {name}: optional must be true or false")
        files = tuple(FileInfo.from_dict(f, name) for f in d["files"])
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise DatasetError(f"registry entry {name}: duplicate file paths {paths}")
        return cls(
            name=name,
            title=d["title"],
            license=d["license"],
            citation=d["citation"],
            files=files,
            description=d.get("description", ""),
            homepage=d.get("homepage", ""),
            optional=d.get("optional", False),
        )


class Registry:
    """A set of datasets, looked up by name.

    Args:
        datasets: the :class:`DatasetInfo` objects.

    Example:

    >>> reg = Registry.from_dict({"datasets": [{
    ...     "name": "toy", "title": "Toy", "license": "CC0", "citation": "-",
    ...     "files": [{"path": "a.txt", "url": "http://127.0.0.1:8000/a.txt",
    ...                "sha256": "0" * 64, "bytes": 1}]}]})
    >>> reg.names()
    ['toy']
    """

    def __init__(self, datasets):
        self._by_name: dict[str, DatasetInfo] = {}
        for d in datasets:
            if d.name in self._by_name:
                raise DatasetError(f"duplicate dataset name {d.name!r} in the registry")
            self._by_name[d.name] = d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Registry:
        """Builds a registry from the parsed content of a registry.json.

        Args:
            data: a dict with a ``datasets`` list.

        Example:

        >>> Registry.from_dict({"datasets": []}).names()
        []
        """
        return cls(DatasetInfo.from_dict(d) for d in data["datasets"])

    @classmethod
    def from_json(cls, path) -> Registry:
        """Reads a registry.json file.

        Args:
            path: the file's path.

        Example:

        >>> from course_lib.data.registry import REGISTRY_PATH
        >>> "glove" in Registry.from_json(REGISTRY_PATH).names()
        True
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DatasetError(
                f"The dataset registry {path} is missing. course_lib reads it from the "
                "repository's datasets/ folder; install the course with `pip install -e .` "
                "from a full checkout."
            ) from None
        return cls.from_dict(data)

    def names(self) -> list[str]:
        """The dataset names, in registry order."""
        return list(self._by_name)

    def datasets(self) -> list[DatasetInfo]:
        """All datasets, in registry order."""
        return list(self._by_name.values())

    def info(self, name: str) -> DatasetInfo:
        """Returns one dataset.

        Args:
            name: the dataset's name.

        Raises:
            UnknownDatasetError: listing the known names and a close match.

        Example:

        >>> from course_lib.data.registry import default_registry
        >>> default_registry().info("glove").license
        'PDDL-1.0 (GloVe vectors)'
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise UnknownDatasetError(name, self.names()) from None

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry read from ``datasets/registry.json`` (read once per process).

    Example:

    >>> len(default_registry()) >= 10
    True
    """
    return Registry.from_json(REGISTRY_PATH)
