"""Datasets for the course: a registry, a verified loader, format readers and task loaders.

Every file is pinned by SHA-256 in ``datasets/registry.json``. :func:`fetch` finds it in the
mirror folder (``COURSE_DATA_DIR``), then in the user cache, and otherwise downloads it; the
readers and ``load_*`` functions build on it. A derived file with a ``source`` is rebuilt from
that published file by a recipe of :mod:`course_lib.data.recipes` and verified the same way.
``python -m course_lib.data download`` pre-fetches everything (but the optional datasets);
``python -m course_lib.data list`` shows what is where.

Example:

>>> from course_lib import data
>>> texts, labels = data.load_rt_polarity()
>>> len(texts), labels[:3].tolist()
(10662, [1, 1, 1])
>>> data.status("glove")  # doctest: +SKIP
{'glove.6B.50d.top20k.txt': 'mirror'}
"""

from .archives import list_members, safe_extract, safe_extract_all
from .corpora import (
    load_analogies,
    load_dialogsum,
    load_glove,
    load_lee_corpus,
    load_multi30k,
    load_rt_polarity,
    load_spa_eng,
    load_squad_dev,
    load_tiny_shakespeare,
    load_topical_chat,
    load_word_similarity,
)
from .errors import (
    ArchiveError,
    CacheError,
    ChecksumError,
    DatasetError,
    DatasetFileError,
    DownloadError,
    MissingDependencyError,
    RecipeError,
    UnknownDatasetError,
)
from .loader import (
    cache_dir,
    datasets,
    download_timeout,
    fetch,
    fetch_with_source,
    file_sha256,
    info,
    locate,
    mirror_dir,
    status,
)
from .readers import read_bytes, read_json, read_jsonl, read_lines, read_text, read_tsv
from .recipes import RECIPES
from .registry import DatasetInfo, FileInfo, RecipeSource, Registry, Source, default_registry

__all__ = [
    "ArchiveError",
    "CacheError",
    "ChecksumError",
    "DatasetError",
    "DatasetFileError",
    "DatasetInfo",
    "DownloadError",
    "FileInfo",
    "MissingDependencyError",
    "RECIPES",
    "RecipeError",
    "RecipeSource",
    "Registry",
    "Source",
    "UnknownDatasetError",
    "cache_dir",
    "datasets",
    "default_registry",
    "download_timeout",
    "fetch",
    "fetch_with_source",
    "file_sha256",
    "info",
    "list_members",
    "load_analogies",
    "load_dialogsum",
    "load_glove",
    "load_lee_corpus",
    "load_multi30k",
    "load_rt_polarity",
    "load_spa_eng",
    "load_squad_dev",
    "load_tiny_shakespeare",
    "load_topical_chat",
    "load_word_similarity",
    "locate",
    "mirror_dir",
    "read_bytes",
    "read_json",
    "read_jsonl",
    "read_lines",
    "read_text",
    "read_tsv",
    "safe_extract",
    "safe_extract_all",
    "status",
]
