"""Results that chapters save for later chapters and for the course runner.

Every chapter records its **key figures** (validation loss, accuracy, BLEU, …) with
:func:`record_key_figures`; the course runner (``python -m course_lib run``) collects them into
``RESULTS.md``, and the FAQ chapter draws its answers from them. Larger records (a baseline's
full configuration, a table of runs) go through :func:`save_json` / :func:`load_json`.

Files live per profile, in ``notebooks/results/<profile>/`` (``COURSE_RESULTS_DIR`` moves the
root), so a smoke run in the test suite never overwrites the numbers of a real cpu or gpu run.
The ``smoke`` folder is git-ignored; ``cpu`` and ``gpu`` are committed with the notebooks whose
outputs they match.

Example:

>>> import tempfile, os
>>> os.environ["COURSE_RESULTS_DIR"] = tempfile.mkdtemp()
>>> path = record_key_figures("08", {"test accuracy": 0.771}, profile="cpu")
>>> key_figures("08", profile="cpu")
{'test accuracy': 0.771}
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from course_lib.files import write_text_atomically
from course_lib.profiles import PROFILE_NAMES, Profile, active_profile

__all__ = [
    "RESULTS_ENV_VAR",
    "results_root",
    "results_dir",
    "save_json",
    "load_json",
    "record_key_figures",
    "key_figures",
    "all_key_figures",
]

RESULTS_ENV_VAR = "COURSE_RESULTS_DIR"
_REPO = Path(__file__).resolve().parents[2]


def results_root() -> Path:
    """The folder holding one results folder per profile (``notebooks/results`` by default)."""
    override = os.environ.get(RESULTS_ENV_VAR)
    return Path(override) if override else _REPO / "notebooks" / "results"


def _profile_name(profile) -> str:
    if profile is None:
        return active_profile().name
    if isinstance(profile, Profile):
        return profile.name
    return Profile(str(profile)).name  # validates the name with a helpful message


def results_dir(profile=None) -> Path:
    """The results folder of ``profile`` (default: the active one), created if missing.

    Args:
        profile: a :class:`~course_lib.profiles.Profile`, a profile name, or ``None`` for the
            active profile.

    Example:

    >>> results_dir("cpu").name
    'cpu'
    """
    path = results_root() / _profile_name(profile)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(
            f"Result name {name!r} must be a plain file name such as 'tfidf_baseline', "
            "without folders."
        )
    return name if name.endswith(".json") else name + ".json"


def _jsonable(value: Any) -> Any:
    """Turns NumPy scalars/arrays and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars, tensors converted by the caller
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(
        f"Cannot save {type(value).__name__} as JSON; convert it to a number, string, list "
        "or dict first."
    )


def save_json(name: str, record: dict, *, profile=None) -> Path:
    """Writes ``record`` as ``<results_dir(profile)>/<name>.json`` atomically.

    The file is written to a temporary name and renamed, so an interrupted run never leaves a
    half-written record behind.

    Args:
        name: file name, with or without ``.json``.
        record: a JSON-serialisable dict (NumPy values are converted).
        profile: the profile whose folder to use; default the active profile.

    Returns:
        The path written.

    Example:

    >>> p = save_json("demo", {"accuracy": 0.5}, profile="cpu")
    >>> load_json("demo", profile="cpu")
    {'accuracy': 0.5}
    """
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict, got {type(record).__name__}")
    folder = results_dir(profile)
    path = folder / _check_name(name)
    text = json.dumps(_jsonable(record), indent=2, ensure_ascii=False) + "\n"
    return write_text_atomically(path, text)


def load_json(name: str, *, profile=None, fallback=("gpu", "cpu")) -> dict | None:
    """Reads a record saved by :func:`save_json`, or ``None`` when there is none.

    Args:
        name: file name, with or without ``.json``.
        profile: the profile to read first; default the active profile.
        fallback: profiles to try next, in order, when the first has no such record (a smoke
            run can then show the numbers of the stored cpu run). Pass ``()`` to disable.

    Example:

    >>> load_json("no_such_result", profile="cpu", fallback=()) is None
    True
    """
    names = [_profile_name(profile)] + [p for p in fallback if p in PROFILE_NAMES]
    for prof in dict.fromkeys(names):
        path = results_root() / prof / _check_name(name)
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def record_key_figures(chapter: str, figures: dict, *, profile=None) -> Path:
    """Adds ``figures`` to chapter ``chapter``'s key figures (merged with earlier calls).

    Key figures are the few numbers a reader wants from a chapter without running it; the
    course runner lists them in ``RESULTS.md``. Use short names with units or metric names
    ("val loss", "test accuracy", "BLEU"), and plain numbers.

    Args:
        chapter: the two-digit chapter number, e.g. ``"08"``.
        figures: name -> number (or short string).
        profile: default the active profile.

    Example:

    >>> _ = record_key_figures("07", {"BLEU": 12.3}, profile="cpu")
    >>> key_figures("07", profile="cpu")["BLEU"]
    12.3
    """
    chapter = str(chapter)
    if not (len(chapter) == 2 and chapter.isdigit()):
        raise ValueError(f"chapter must be two digits like '08', got {chapter!r}")
    name = f"key_figures_{chapter}"
    current = load_json(name, profile=profile, fallback=()) or {}
    current.update(_jsonable(dict(figures)))
    return save_json(name, current, profile=profile)


def key_figures(chapter: str, *, profile=None) -> dict:
    """The key figures chapter ``chapter`` recorded at ``profile`` ({} when none)."""
    return load_json(f"key_figures_{chapter}", profile=profile, fallback=()) or {}


def all_key_figures(*, profile=None) -> dict[str, dict]:
    """Every chapter's key figures at ``profile``, keyed by chapter number, in order."""
    folder = results_root() / _profile_name(profile)
    out = {}
    for path in sorted(folder.glob("key_figures_*.json")):
        out[path.stem.removeprefix("key_figures_")] = json.loads(path.read_text("utf-8"))
    return out
