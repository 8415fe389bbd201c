"""Format readers: verified file in, Python values out.

Each reader calls :func:`~course_lib.data.loader.fetch` and decodes with the encoding the
registry records for that file, so rt-polarity is read as Latin-1 and the Multi30K ``.gz``
files are decompressed transparently.

Example:

>>> from course_lib.data import read_lines
>>> read_lines("multi30k", "val.en.gz")[0][:20]
'A group of men are l'
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from .loader import _resolve, fetch
from .registry import Registry

__all__ = ["read_bytes", "read_json", "read_jsonl", "read_lines", "read_text", "read_tsv"]


def read_bytes(name: str, file: str | None = None, *, registry: Registry | None = None) -> bytes:
    """The decompressed bytes of a dataset file (gzip files are decompressed).

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> len(read_bytes("tinyshakespeare"))
    1115394
    """
    _, f = _resolve(name, file, registry)
    raw = fetch(name, f.path, registry=registry).read_bytes()
    if f.encoding.startswith("gzip+"):
        return gzip.decompress(raw)
    return raw


def read_text(name: str, file: str | None = None, *, registry: Registry | None = None) -> str:
    """A dataset file as one string, decoded with the registry's encoding.

    Line endings are kept exactly as stored (no ``\\r\\n`` translation), so character counts
    match the published ones.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> text = read_text("tinyshakespeare")
    >>> len(text), text[:9]
    (1115394, 'First Cit')
    """
    _, f = _resolve(name, file, registry)
    encoding = f.encoding.split("+", 1)[1] if "+" in f.encoding else f.encoding
    return read_bytes(name, f.path, registry=registry).decode(encoding)


def read_lines(
    name: str, file: str | None = None, *, registry: Registry | None = None
) -> list[str]:
    """A dataset file as a list of lines, without the ``\\n`` / ``\\r\\n`` line ends.

    Lines are split on ``\\n`` only: ``str.splitlines`` would also split on characters such as
    U+0085, which occurs inside rt-polarity lines once they are decoded as Latin-1. A final
    line end does not produce an empty last line.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> len(read_lines("rt-polarity", "rt-polarity.pos"))
    5331
    """
    text = read_text(name, file, registry=registry)
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_json(name: str, file: str | None = None, *, registry: Registry | None = None) -> Any:
    """A JSON dataset file, parsed.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> read_json("squad-v1.1")["version"]
    '1.1'
    """
    return json.loads(read_text(name, file, registry=registry))


def read_jsonl(
    name: str, file: str | None = None, *, registry: Registry | None = None
) -> list[Any]:
    """A JSON-lines dataset file: one parsed value per non-blank line.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> read_jsonl("dialogsum", "dialogsum.dev.jsonl")[0]["fname"]
    'dev_0'
    """
    return [json.loads(line) for line in read_lines(name, file, registry=registry) if line.strip()]


def read_tsv(
    name: str, file: str | None = None, *, registry: Registry | None = None
) -> list[list[str]]:
    """A tab-separated dataset file as rows of fields (blank lines skipped, no quoting).

    Comment or header lines are returned like any other row; task loaders drop them.

    Args:
        name: the dataset name.
        file: the file name; may be omitted for a dataset with one data file.
        registry: a :class:`~course_lib.data.registry.Registry`; defaults to the course's.

    Example:

    >>> read_tsv("spa-eng", "spa.txt")[0]
    ['Go.', 'Ve.']
    """
    return [line.split("\t") for line in read_lines(name, file, registry=registry) if line]
