"""Loading and saving model files safely, and checking that a model fits its tokenizer and data.

A ``.keras`` file is a zip archive holding the model's configuration (``config.json``), its
weights (``model.weights.h5``) and ``metadata.json``. Keras's *safe mode* refuses to rebuild
anything from that configuration that would run Python code stored in the file (a ``Lambda``
layer's bytecode), so loading a file from an unknown source cannot run that code.
:func:`load_model` always loads in safe mode, and first checks the archive itself, so a
truncated or damaged download gives a message that names the file and says what to do, instead
of Keras's "File not found".

The course never turns safe mode off: a model it cannot load safely is rebuilt from code and
only its weights are loaded (``model.load_weights(path)`` reads weights, never code).

Example:

>>> from course_lib.gpt import GPT, GPTConfig
>>> model = GPT(GPTConfig(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16))
>>> import tempfile
>>> path = save_model(model, Path(tempfile.mkdtemp()) / "tiny.keras")
>>> load_model(path).config.vocab_size
11
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import zipfile
from pathlib import Path

import keras
import numpy as np

from .files import atomic_path

__all__ = [
    "ConfigSerialization",
    "ModelFileError",
    "UnsafeModelError",
    "VocabularyMismatchError",
    "load_model",
    "save_model",
    "check_tokenizer_matches",
    "check_token_ids",
]

# What every archive written by Keras 3's model.save holds.
_REQUIRED_MEMBERS = ("config.json", "model.weights.h5")


class ConfigSerialization:
    """Keras (de)serialization for models whose first argument is a config dataclass.

    Mix it in before `keras.Model` and name the dataclass in `config_class` (it needs
    `to_dict()` and `from_dict()`): `get_config` stores the config as a dict and `from_config`
    rebuilds it, so a `.keras` file reloads the same architecture. A subclass with more
    arguments adds them with `config = super().get_config(); config.update(...)`.

    Example:
    ```python
    class Tagger(ConfigSerialization, keras.Model):
        config_class = EncoderConfig

        def __init__(self, config, **kwargs):
            super().__init__(**kwargs)
            self.config = config
    ```
    """

    config_class = None

    @classmethod
    def coerce_config(cls, config):
        """Returns `config` as a `config_class` instance (a dict is converted).

        Raises:
            TypeError: for anything else, naming the expected class.
        """
        if isinstance(config, dict):
            config = cls.config_class.from_dict(config)
        if not isinstance(config, cls.config_class):
            raise TypeError(
                f"config must be a {cls.config_class.__name__} or its dict, "
                f"got {type(config).__name__}"
            )
        return config

    def get_config(self):
        config = super().get_config()
        config["config"] = self.config.to_dict()
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(cls.coerce_config(config.pop("config")), **config)


class ModelFileError(ValueError):
    """A model file is missing, truncated, damaged or not a Keras 3 ``.keras`` archive."""


class UnsafeModelError(ValueError):
    """A model file holds Python code (e.g. a ``Lambda`` layer's bytecode); it is not loaded."""


class VocabularyMismatchError(ValueError):
    """A tokenizer's or a dataset's token ids do not fit the model's vocabulary."""


def _check_archive(path: Path) -> None:
    """Raises ``ModelFileError`` unless ``path`` is a complete, readable ``.keras`` zip."""
    again = (
        "Download it again (the course's loaders verify checksums), or save the model again "
        "with course_lib.model_io.save_model(model, path)."
    )
    if path.is_dir():
        raise ModelFileError(
            f"{path} is a folder, not a .keras file (a TensorFlow SavedModel?). Keras 3 loads "
            "only .keras files: save the model with model.save('name.keras')."
        )
    if path.suffix != ".keras":
        # Legacy .h5 files go through another loader with its own history of safe-mode gaps.
        raise ModelFileError(
            f"{path} does not end in .keras; course_lib loads only Keras 3 .keras files. If "
            "you trust the file, load it once in a separate environment and save it as .keras."
        )
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(
            f"{path} is empty (0 bytes): the download or save never finished. " + again
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} ({size:,} bytes) is not a readable .keras archive: it is truncated (an "
            f"interrupted download or save), damaged, or not a Keras model at all. " + again
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            bad_member = archive.testzip()  # reads every member and checks its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(f"{path} is a damaged .keras archive ({exc}). " + again) from exc
    if bad_member is not None:
        raise ModelFileError(
            f"{path} is damaged: its member {bad_member!r} fails its checksum. " + again
        )
    missing = [name for name in _REQUIRED_MEMBERS if name not in names]
    if missing:
        raise ModelFileError(
            f"{path} is a zip file but not a Keras model: it lacks {', '.join(missing)}. "
            "Check that the path points at a model saved with model.save('name.keras')."
        )


# A module name as Keras records it for a registered class: course_lib's, dotted, nothing else.
_COURSE_MODULE = re.compile(r"course_lib(\.[a-z_][a-z0-9_]*)+")


def _defining_modules(config) -> set[str]:
    """The ``course_lib`` modules that define the registered classes named in a model config."""
    found = set()
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            module = item.get("module")
            if item.get("registered_name") and isinstance(module, str) \
                    and _COURSE_MODULE.fullmatch(module):
                found.add(module)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _import_defining_modules(path: Path) -> None:
    """Imports the course modules whose classes the file uses, so they are registered.

    Each course class registers itself with Keras when its module is imported; the file's
    ``config.json`` records that module beside every class. Reading it here means loading a
    model needs no import list in this module (and no import of the training code), and a
    model of any chapter loads in a fresh process. Only names inside the ``course_lib``
    package are imported: a file cannot make this import anything else.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path}: its config.json cannot be read ({exc}).") from exc
    for module in sorted(_defining_modules(config)):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ModelFileError(
                f"{path} uses classes from {module}, which cannot be imported ({exc}). The "
                "file was saved by another version of the course: rebuild the model in code "
                "and load only its weights with model.load_weights(path)."
            ) from exc


@contextlib.contextmanager
def _safe_mode_scope():
    """Undoes ``keras.config.enable_unsafe_deserialization()`` for the length of one load.

    Keras lets that global switch override ``load_model(..., safe_mode=True)``, so an earlier
    cell or an imported module could silently turn the protection off for every later load.
    Resetting the switch to its default makes Keras apply the ``safe_mode=True`` it is given
    while it rebuilds the model from the file's configuration, exactly as in a fresh process
    (assets such as a tokenizer's vocabulary, read from the archive afterwards, load as they
    would there).
    """
    from keras.src.backend.common import global_state

    saved = global_state.get_global_attribute("safe_mode_saving")
    global_state.set_global_attribute("safe_mode_saving", None)
    try:
        yield
    finally:
        global_state.set_global_attribute("safe_mode_saving", saved)


def load_model(path, *, custom_objects=None, compile=True) -> keras.Model:
    """Loads a ``.keras`` model file with Keras safe mode on, with clear errors for bad files.

    Before Keras reads the file, the archive is checked: it must exist, end in ``.keras``, be
    a complete zip whose members pass their checksums, and hold ``config.json`` and
    ``model.weights.h5``. Safe mode stays on even if
    ``keras.config.enable_unsafe_deserialization()`` was called earlier.

    Args:
        path: the ``.keras`` file.
        custom_objects: optional dict of custom classes or functions, as for
            ``keras.saving.load_model``. The course's classes register themselves with Keras
            when their module is imported; this function imports the ``course_lib`` modules
            that the file's configuration names, and no others.
        compile: also restore the optimizer and loss the model was saved with.

    Returns:
        The ``keras.Model``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ModelFileError: the file is not a complete ``.keras`` archive, or Keras could not
            rebuild the model from it; the message names the file and what to do.
        UnsafeModelError: the file holds Python code (a ``Lambda`` layer) that safe mode
            refuses to load.

    Example:

    >>> model = load_model("checkpoints/ckpt-002000.keras")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No model file at {path}. Check the path, or train and save the model first "
            "(course_lib.model_io.save_model(model, path))."
        )
    _check_archive(path)
    _import_defining_modules(path)
    try:
        with _safe_mode_scope():
            return keras.saving.load_model(
                path, custom_objects=custom_objects, compile=compile, safe_mode=True
            )
    except ValueError as exc:
        text = str(exc)
        if "safe_mode" in text or "arbitrary code" in text:
            raise UnsafeModelError(
                f"{path} holds Python code (a Lambda layer or a function stored as bytecode), "
                "which would run while loading, so it was not loaded. course_lib keeps Keras "
                "safe mode on for every file. If you wrote this model yourself, rebuild it in "
                "code (replace the Lambda by a registered custom layer) and load only its "
                "weights with model.load_weights(path); if it came from elsewhere, delete it."
            ) from exc
        raise ModelFileError(_rebuild_message(path, exc)) from exc
    except (TypeError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(_rebuild_message(path, exc)) from exc


def _rebuild_message(path: Path, exc: Exception) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"Keras could not rebuild the model in {path}: {first_line}. If the model uses custom "
        "layers, import the module that defines them (or pass custom_objects=...); if the "
        "file came from a newer or older Keras, save it again with this version."
    )


def save_model(model, path) -> Path:
    """Saves ``model`` to a ``.keras`` file atomically: a temporary file, then a rename.

    A run killed while saving leaves the previous file (if any) intact under ``path``, never a
    half-written one.

    Args:
        model: a built ``keras.Model``.
        path: the destination; must end in ``.keras``. Parent folders are created.

    Returns:
        The path, as a ``Path``.

    Example:

    >>> save_model(model, "models/char_gpt.keras")  # doctest: +SKIP
    PosixPath('models/char_gpt.keras')
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path} must end in .keras (the Keras 3 format); rename it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras picks the format from the extension, so the temporary name ends in .keras too.
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


def _model_vocab_size(model) -> int:
    config = getattr(model, "config", None)
    vocab_size = getattr(config, "vocab_size", None)
    if vocab_size is None:
        raise TypeError(
            f"{type(model).__name__} has no config.vocab_size; pass a course_lib.gpt.GPT "
            "(or a model with a .config.vocab_size)."
        )
    return int(vocab_size)


def check_tokenizer_matches(model, tokenizer) -> int:
    """Checks that a tokenizer and a model agree on the vocabulary size.

    A mismatch is silent in the worst way: a tokenizer with more ids than the model's
    embedding table makes ids the model cannot look up (TensorFlow raises on a CPU but
    returns zero vectors on a GPU), and a model with more ids than the tokenizer generates ids
    the tokenizer cannot decode.

    Args:
        model: a ``course_lib.gpt.GPT`` (anything with ``config.vocab_size``).
        tokenizer: anything with ``vocab_size`` (``CharTokenizer``, ``BPETokenizer``).

    Returns:
        The shared vocabulary size.

    Raises:
        VocabularyMismatchError: the sizes differ; the message says how to fix it.

    Example:

    >>> tokenizer = CharTokenizer.from_text(text)                      # doctest: +SKIP
    >>> model = GPT(GPTConfig.nanogpt_cpu(tokenizer.vocab_size))       # doctest: +SKIP
    >>> check_tokenizer_matches(model, tokenizer)                      # doctest: +SKIP
    65
    """
    model_size = _model_vocab_size(model)
    tokenizer_size = getattr(tokenizer, "vocab_size", None)
    if tokenizer_size is None:
        raise TypeError(f"{type(tokenizer).__name__} has no vocab_size; pass a course tokenizer.")
    if int(tokenizer_size) != model_size:
        raise VocabularyMismatchError(
            f"The tokenizer has {tokenizer_size} ids but the model was built for vocab_size "
            f"{model_size}. Build the model for this tokenizer "
            f"(GPTConfig(vocab_size=tokenizer.vocab_size, ...)), or load the tokenizer that "
            "was saved with the model."
        )
    return model_size


def check_token_ids(model, token_ids) -> None:
    """Checks that every id in ``token_ids`` has a row in the model's embedding table.

    Run it on the training and validation tokens before training: an id outside
    ``[0, vocab_size)`` raises a long graph error on a CPU and is silently read as a zero
    vector on a GPU.

    Args:
        model: a ``course_lib.gpt.GPT`` (anything with ``config.vocab_size``).
        token_ids: an array (any shape) or list of int ids.

    Raises:
        VocabularyMismatchError: some id is negative or ``>= vocab_size``.

    Example:

    >>> check_token_ids(model, train_tokens)  # doctest: +SKIP
    """
    vocab_size = _model_vocab_size(model)
    ids = np.asarray(token_ids)
    if ids.size == 0:
        return
    if not np.issubdtype(ids.dtype, np.integer):
        raise VocabularyMismatchError(
            f"token ids must be integers, got dtype {ids.dtype}; encode the text with the "
            "tokenizer first."
        )
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= vocab_size:
        raise VocabularyMismatchError(
            f"The token ids run from {low} to {high}, but the model's vocab_size is "
            f"{vocab_size} (ids 0..{vocab_size - 1}). Encode the data with the tokenizer the "
            "model was built for, or build the model with vocab_size = tokenizer.vocab_size."
        )
