"""Character and byte-level BPE tokenizers that round-trip.

Two tokenizers for the course's language models:

- ``CharTokenizer``: one id per character, the vocabulary of nanoGPT's ``shakespeare_char``.
- ``BPETokenizer``: GPT-2-style byte-level byte-pair encoding, trained from scratch by
  ``train_bpe`` and compatible with ``keras_hub.tokenizers.BytePairTokenizer``: the same
  tables give the same ids, so a notebook can train here and tokenize inside ``tf.data``
  with keras-hub.

Both encode to NumPy ``int32`` arrays, decode lists, arrays or tensors, and save to JSON.
TensorFlow and keras-hub are imported only by the methods that need them.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import regex

__all__ = [
    "BPETokenizer",
    "CharTokenizer",
    "bytes_to_unicode",
    "pretokenize",
    "train_bpe",
]

_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def _ids_to_numpy(ids: Any, who: str) -> np.ndarray:
    """Turns a list, NumPy array or framework tensor of ids into a 1-D int64 array."""
    if hasattr(ids, "numpy") and not isinstance(ids, np.ndarray):
        ids = ids.numpy()  # eager TensorFlow / Torch tensors
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros((0,), dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(
            f"{who}.decode expects one sequence of ids (a 1-D list, array or tensor), got "
            f"shape {array.shape}. To decode a batch, decode each row: "
            "[tokenizer.decode(row) for row in ids]."
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{who}.decode expects integer ids, got dtype {array.dtype}. If these are logits "
            "or probabilities, take the argmax (or sample) first."
        )
    return array.astype(np.int64)


def _check_id_range(ids: np.ndarray, vocab_size: int, who: str) -> None:
    bad = ids[(ids < 0) | (ids >= vocab_size)]
    if bad.size:
        raise ValueError(
            f"{who}.decode got id {int(bad[0])}, outside the vocabulary [0, {vocab_size}). "
            "The ids were probably made by a different tokenizer, or a model whose output "
            "layer is larger than vocab_size."
        )


def _save_json(path: str | os.PathLike, kind: str, config: dict) -> None:
    payload = {"format": f"course_lib.tokenizers.{kind}", "version": _FORMAT_VERSION}
    payload["config"] = config
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        # ensure_ascii=False keeps the byte-level symbols (Ġ, Ċ, ...) readable in the file.
        json.dump(payload, f, ensure_ascii=False, indent=1)


def _load_json(path: str | os.PathLike, kind: str) -> dict:
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    expected = f"course_lib.tokenizers.{kind}"
    found = payload.get("format") if isinstance(payload, dict) else None
    if found != expected:
        hint = ""
        if isinstance(found, str) and found.startswith("course_lib.tokenizers."):
            other = found.rsplit(".", 1)[-1]
            hint = f" It holds a {other}: load it with {other}.load(path)."
        raise ValueError(f"{os.fspath(path)!r} is not a saved {kind} (format {found!r}).{hint}")
    if payload.get("version") != _FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} was saved with format version {payload.get('version')!r}; "
            f"this course_lib reads version {_FORMAT_VERSION}. Save it again with this "
            "version of course_lib."
        )
    return payload["config"]


# ---------------------------------------------------------------------------------------------
# Character tokenizer
# ---------------------------------------------------------------------------------------------


class CharTokenizer:
    """A character-level tokenizer: one id per Unicode character.

    The vocabulary is a list of single characters; a character's id is its position in the
    list. ``CharTokenizer.from_text`` builds it the way nanoGPT's ``shakespeare_char``
    ``prepare.py`` does (``sorted(set(text))``), so Tiny Shakespeare gives 65 ids with
    ``"\\n"`` as 0 and ``" "`` as 1.

    Args:
        vocabulary: list of distinct single-character strings; the id of a character is its
            index in this list.
        unknown_token: optional character of ``vocabulary`` that stands in for characters
            missing from it. By default (``None``) encoding text with an unseen character
            raises a ``ValueError``. With ``unknown_token`` set, unseen characters all map
            to its id, so decoding is lossy: ``decode(encode(text))`` shows
            ``unknown_token`` where ``text`` had characters the vocabulary lacks.

    Example:

    >>> tokenizer = CharTokenizer.from_text("hello world")
    >>> tokenizer.vocab_size
    8
    >>> tokenizer.encode("hello")
    array([3, 2, 4, 4, 5], dtype=int32)
    >>> tokenizer.decode([3, 2, 4, 4, 5])
    'hello'
    """

    def __init__(self, vocabulary: Sequence[str], unknown_token: str | None = None):
        if isinstance(vocabulary, str):
            raise TypeError(
                "CharTokenizer expects vocabulary as a list of characters, got a str. "
                "To build one from text, use CharTokenizer.from_text(text)."
            )
        vocabulary = list(vocabulary)
        if not vocabulary:
            raise ValueError(
                "CharTokenizer got an empty vocabulary. Pass at least one character, or "
                "build it with CharTokenizer.from_text(text)."
            )
        for i, token in enumerate(vocabulary):
            if not isinstance(token, str) or len(token) != 1:
                raise ValueError(
                    f"CharTokenizer vocabulary entries must be single characters; entry {i} "
                    f"is {token!r}. For multi-character tokens use BPETokenizer."
                )
        index = {token: i for i, token in enumerate(vocabulary)}
        if len(index) != len(vocabulary):
            seen: set[str] = set()
            dupes = [t for t in vocabulary if t in seen or seen.add(t)]
            raise ValueError(
                f"CharTokenizer vocabulary has duplicate characters {dupes[:5]!r}; each "
                "character needs exactly one id. Deduplicate it, e.g. sorted(set(vocabulary))."
            )
        if unknown_token is not None and unknown_token not in index:
            raise ValueError(
                f"unknown_token {unknown_token!r} is not in the vocabulary, so it has no id. "
                "Add it to the vocabulary, or build with "
                "CharTokenizer.from_text(text, unknown_token=...), which adds it."
            )
        self._vocabulary = vocabulary
        self._index = index
        self._unknown_token = unknown_token
        self._tf_table = None

    @classmethod
    def from_text(cls, text: str, unknown_token: str | None = None) -> CharTokenizer:
        """Builds the sorted character vocabulary of ``text``.

        Args:
            text: the training text; every distinct character gets an id, in sorted order
                (``sorted(set(text))``, as nanoGPT does).
            unknown_token: optional single character for unseen characters; it is added
                to the vocabulary (in sorted position) if ``text`` lacks it.

        Returns:
            A ``CharTokenizer``.

        Example:

        >>> CharTokenizer.from_text("banana").vocabulary
        ['a', 'b', 'n']
        """
        if not isinstance(text, str):
            raise TypeError(f"from_text expects a str, got {type(text).__name__}.")
        if not text:
            raise ValueError(
                "CharTokenizer.from_text got empty text, which has no characters to build a "
                "vocabulary from. Pass the training text (e.g. the whole Tiny Shakespeare "
                "file)."
            )
        chars = set(text)
        if unknown_token is not None:
            chars.add(unknown_token)
        return cls(sorted(chars), unknown_token=unknown_token)

    @property
    def vocabulary(self) -> list[str]:
        """The characters, in id order (a copy)."""
        return list(self._vocabulary)

    @property
    def vocab_size(self) -> int:
        """The number of ids (the size of the model's embedding and output layers)."""
        return len(self._vocabulary)

    @property
    def unknown_token(self) -> str | None:
        """The character that unseen characters map to, or ``None`` (unseen ones raise)."""
        return self._unknown_token

    def id_to_token(self, id: int) -> str:
        """Returns the character of ``id``.

        Args:
            id: an int in ``[0, vocab_size)``.

        Example:

        >>> CharTokenizer.from_text("banana").id_to_token(2)
        'n'
        """
        if not isinstance(id, (int, np.integer)) or not 0 <= id < len(self._vocabulary):
            raise ValueError(f"id must be an int in [0, {self.vocab_size}), got {id!r}.")
        return self._vocabulary[id]

    def token_to_id(self, token: str) -> int:
        """Returns the id of the character ``token``.

        Args:
            token: one character of the vocabulary.

        Example:

        >>> CharTokenizer.from_text("banana").token_to_id("b")
        1
        """
        if token not in self._index:
            raise ValueError(
                f"{token!r} is not in the {self.vocab_size}-character vocabulary. "
                "Build the vocabulary from text that contains it."
            )
        return self._index[token]

    def encode(self, text: str) -> np.ndarray:
        """Encodes ``text`` to one id per character.

        Args:
            text: a str; empty text gives an empty array.

        Returns:
            A 1-D NumPy ``int32`` array of length ``len(text)``.

        Example:

        >>> CharTokenizer.from_text("abc").encode("cab")
        array([2, 0, 1], dtype=int32)
        """
        if not isinstance(text, str):
            raise TypeError(
                f"CharTokenizer.encode expects a str, got {type(text).__name__}. "
                "Inside tf.data, use tf_encode instead."
            )
        index = self._index
        unseen = set(text).difference(index)
        if unseen:
            if self._unknown_token is None:
                # Report in order of appearance: the first ones are the ones a reader can find.
                first = [c for c in dict.fromkeys(text) if c in unseen][:5]
                raise ValueError(
                    f"CharTokenizer cannot encode {len(unseen)} character(s) missing from "
                    f"its {self.vocab_size}-character vocabulary; the first: "
                    f"{', '.join(repr(c) for c in first)} (first at position "
                    f"{text.index(first[0])}). Build the vocabulary from this text with "
                    "CharTokenizer.from_text(text), or pass unknown_token=<a vocabulary "
                    "character> to map unseen characters to it (lossy)."
                )
            unknown_id = index[self._unknown_token]
            return np.fromiter(
                (index.get(c, unknown_id) for c in text), dtype=np.int32, count=len(text)
            )
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids: Any) -> str:
        """Decodes ids back to text.

        Args:
            ids: a 1-D list, NumPy array or tensor of ids in ``[0, vocab_size)``.

        Returns:
            The text. ``decode(encode(text)) == text`` whenever every character of ``text``
            is in the vocabulary.

        Example:

        >>> CharTokenizer.from_text("abc").decode([2, 0, 1])
        'cab'
        """
        array = _ids_to_numpy(ids, "CharTokenizer")
        _check_id_range(array, self.vocab_size, "CharTokenizer")
        vocabulary = self._vocabulary
        return "".join(vocabulary[i] for i in array.tolist())

    def _lookup_table(self):
        import tensorflow as tf

        if self._tf_table is None:
            # init_scope lifts creation out of any tf.function / tf.data trace, so the table
            # is built once, eagerly, and reused by every trace instead of being captured by
            # the first one.
            with tf.init_scope():
                default = -1 if self._unknown_token is None else self._index[self._unknown_token]
                self._tf_table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(self._vocabulary, dtype=tf.string),
                        tf.range(len(self._vocabulary), dtype=tf.int32),
                    ),
                    default_value=tf.constant(default, dtype=tf.int32),
                )
        return self._tf_table

    def tf_encode(self, strings):
        """Encodes a string tensor in TensorFlow, for use inside ``tf.data.Dataset.map``.

        Gives the same ids as ``encode``. Without ``unknown_token``, an unseen character makes
        the op fail with ``InvalidArgumentError`` when it runs.

        Args:
            strings: a scalar string tensor (UTF-8), or a 1-D batch of them.

        Returns:
            For a scalar, a 1-D ``int32`` tensor; for a batch, an ``int32`` ``tf.RaggedTensor``
            with one row per string.

        Example:

        >>> tok = CharTokenizer.from_text("abc")
        >>> ds = tf.data.Dataset.from_tensor_slices(["cab", "a"]).map(tok.tf_encode)
        >>> [x.numpy().tolist() for x in ds]
        [[2, 0, 1], [0]]
        """
        import tensorflow as tf

        table = self._lookup_table()
        chars = tf.strings.unicode_split(strings, "UTF-8")
        ids = tf.ragged.map_flat_values(table.lookup, chars)
        if self._unknown_token is None:
            flat = ids.flat_values if isinstance(ids, tf.RaggedTensor) else ids
            check = tf.debugging.assert_non_negative(
                flat,
                message=(
                    "CharTokenizer.tf_encode met a character missing from the vocabulary. "
                    "Build the vocabulary from this text with CharTokenizer.from_text, or "
                    "pass unknown_token to map unseen characters to it."
                ),
            )
            # The explicit dependency keeps the check in graphs (tf.data) that would
            # otherwise prune an op whose output nobody reads.
            with tf.control_dependencies([check]):
                ids = tf.ragged.map_flat_values(tf.identity, ids)
        return ids

    def get_config(self) -> dict:
        """Returns the constructor arguments, JSON-serializable.

        Example:

        >>> CharTokenizer.from_text("ab").get_config()
        {'vocabulary': ['a', 'b'], 'unknown_token': None}
        """
        return {"vocabulary": list(self._vocabulary), "unknown_token": self._unknown_token}

    @classmethod
    def from_config(cls, config: dict) -> CharTokenizer:
        """Rebuilds a tokenizer from ``get_config()``.

        Args:
            config: a dict as returned by ``get_config``.

        Example:

        >>> tok = CharTokenizer.from_text("ab")
        >>> CharTokenizer.from_config(tok.get_config()).vocabulary
        ['a', 'b']
        """
        return cls(**config)

    def save(self, path: str | os.PathLike) -> None:
        """Saves the tokenizer as JSON (creating parent folders).

        Args:
            path: file to write, e.g. ``"artifacts/char_tokenizer.json"``.

        Example:

        >>> tok = CharTokenizer.from_text("abc")
        >>> tok.save("char_tokenizer.json")
        >>> CharTokenizer.load("char_tokenizer.json").vocab_size == tok.vocab_size
        True
        """
        _save_json(path, "CharTokenizer", self.get_config())

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        """Loads a tokenizer written by ``save``.

        Args:
            path: the JSON file.

        Example:

        >>> tok = CharTokenizer.from_text("abc")
        >>> tok.save("char_tokenizer.json")
        >>> CharTokenizer.load("char_tokenizer.json") == tok
        True
        """
        return cls.from_config(_load_json(path, "CharTokenizer"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.get_config() == other.get_config()

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unknown_token={self._unknown_token!r})"


# ---------------------------------------------------------------------------------------------
# Byte-level BPE: the byte table and the pre-tokenizer
# ---------------------------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table from the 256 byte values to 256 printable Unicode characters.

    Byte-level BPE works on bytes, but its vocabulary and merges are stored as strings.
    Printable bytes map to themselves; the others (controls, space, ...) are shifted to
    code points from 256 up, so a space becomes ``"Ġ"`` and a newline ``"Ċ"``. The table is
    the one ``keras_hub.tokenizers.BytePairTokenizer`` and OpenAI's GPT-2 encoder use.

    Returns:
        A dict from each byte value (0-255) to a one-character string.

    Example:

    >>> table = bytes_to_unicode()
    >>> table[ord("a")], table[ord(" ")], table[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


_BYTE_TO_UNICODE = bytes_to_unicode()
_BYTE_SYMBOLS = [_BYTE_TO_UNICODE[b] for b in range(256)]
_UNICODE_TO_BYTE = {s: b for b, s in _BYTE_TO_UNICODE.items()}

# The pre-tokenizer reproduces, op for op, keras-hub's `split_strings_for_bpe` (the path
# `BytePairTokenizer` takes inside tf.data; see keras_hub/src/tokenizers/byte_pair_tokenizer.py).
# keras-hub emulates GPT-2's regex without look-ahead, because RE2 has none: it inserts a
# marker "६" before every " x" (space then non-space), splits with SPLIT_PATTERN_1, splits off
# a trailing whitespace character or marker with SPLIT_PATTERN_2, and drops marker tokens.
# Translating RE2 to Python needs two changes to stay identical:
# - RE2's \s is ASCII [\t\n\f\r ] (not \v, not Unicode spaces), so it is spelled out; the
#   four Unicode spaces keras-hub lists are added where it adds them.
# - RE2's $ (without multi-line) matches only at the very end, i.e. Python's \Z.
# The standard `re` module does the two character-class rewrites (faster); the split needs
# \p{L} and \p{N}, hence the `regex` package (a keras-hub dependency).
_RE2_SPACE = r"\t\n\f\r "
_SPECIAL_SPACES = "\u00a0\u2009\u202f\u3000"
_MARKER = "\u096c"  # "६", DEVANAGARI DIGIT SIX
# keras-hub replaces "( )([^\s...])" by "६\1\2"; a look-ahead gives the same text, faster.
_MARK_SPACE_BEFORE_WORD = re.compile(rf" (?=[^{_RE2_SPACE}{_SPECIAL_SPACES}])")
# keras-hub writes this one as (\s<the four spaces>)$ outside a character class, so it only
# matches those four characters in sequence at the very end. Kept as written for identical ids.
_MARK_TRAILING_SPACE = re.compile(rf"([{_RE2_SPACE}]{_SPECIAL_SPACES})\Z")
# In a capturing group, so that split() returns the matches as well as the gaps between them,
# as tensorflow_text.regex_split does when the delimiters are kept.
_SPLIT_PATTERN_1 = regex.compile(
    r"('s|'t|'re|'ve|'m|'ll|'d"
    rf"|[{_RE2_SPACE}{_SPECIAL_SPACES}]+[\n\r\t\f{_MARKER}{_SPECIAL_SPACES}]"
    r"| ?\p{L}+| ?[\p{N}]+"
    rf"| ?[^{_RE2_SPACE}\p{{L}}\p{{N}}{_SPECIAL_SPACES}]+)"
)
# SPLIT_PATTERN_2 is one character class anchored at the end: it splits off a piece's last
# character when that is in this set.
_SPLIT_PATTERN_2_CHARS = frozenset(" \t\r\f\v" + _MARKER + _SPECIAL_SPACES)


def _special_token_alternates(count: int) -> list[str]:
    # keras-hub's create_alts_for_unsplittable_tokens: "ĴA", "ĴB", ..., "ĴBA" for index 10.
    return ["Ĵ" + "".join(chr(ord("A") + int(d)) for d in str(i)) for i in range(count)]


def pretokenize(text: str, special_tokens: Sequence[str] = ()) -> list[str]:
    """Splits text into the pieces that byte-level BPE merges within (never across).

    The split is GPT-2's, as keras-hub's ``BytePairTokenizer`` computes it in TensorFlow:
    words keep their leading space, digits and punctuation runs are separate pieces, and a
    run of spaces gives its last space to the next word. Joining the pieces gives ``text``
    back, except for keras-hub's corners below. Special tokens come out as single pieces.

    keras-hub corners, reproduced so that ids match: a ``"६"`` (U+096C) that ends a piece is
    dropped, since keras-hub uses that character as an internal marker; with special tokens,
    the literal text ``"ĴA"`` (``"ĴB"``, ...) is read as the first (second, ...) special
    token, and with more than ten special tokens the later ones can be misread. One corner
    is not reproduced: keras-hub (through ``tensorflow_text.regex_split``) ignores everything
    from a NUL character ``"\\x00"`` on; here NUL is an ordinary character.

    Args:
        text: the text to split.
        special_tokens: strings kept whole (e.g. ``"<|endoftext|>"``).

    Returns:
        The list of pieces, in order.

    Example:

    >>> pretokenize("Hello  world, it's 2024!\\n")
    ['Hello', ' ', ' world', ',', ' it', "'s", ' 2024', '!', '\\n']
    """
    if not isinstance(text, str):
        raise TypeError(f"pretokenize expects a str, got {type(text).__name__}.")
    special_tokens = _check_special_tokens(special_tokens)
    text = _MARK_SPACE_BEFORE_WORD.sub(_MARKER + " ", text)
    text = _MARK_TRAILING_SPACE.sub(r"\1" + _MARKER, text)
    pieces = [text]
    alternates = _special_token_alternates(len(special_tokens))
    for token, alternate in zip(special_tokens, alternates, strict=True):
        # Split out the token, keeping it, then swap it for its alternate; str.replace does
        # what keras-hub's regex_replace of the escaped token does.
        delimiter = regex.compile("(" + regex.escape(token) + ")")
        pieces = [q.replace(token, alternate) for p in pieces for q in delimiter.split(p) if q]
    tokens = []
    for piece in pieces:
        for token in _SPLIT_PATTERN_1.split(piece):
            if not token:
                continue
            if len(token) > 1 and token[-1] in _SPLIT_PATTERN_2_CHARS:
                split = (token[:-1], token[-1])
            else:
                split = (token,)
            # keras-hub drops its marker only after restoring special tokens; none of them
            # contains the marker, so dropping it here gives the same pieces.
            tokens.extend(t for t in split if t != _MARKER)
    if special_tokens:
        restored = []
        for token in tokens:
            for original, alternate in zip(special_tokens, alternates, strict=True):
                token = token.replace(alternate, original)
            restored.append(token)
        tokens = restored
    return tokens


def _check_special_tokens(special_tokens: Iterable[str]) -> tuple[str, ...]:
    if isinstance(special_tokens, str):
        raise TypeError(
            f"special_tokens must be a list of strings, got the str {special_tokens!r}; "
            f"write special_tokens=[{special_tokens!r}]."
        )
    tokens = tuple(special_tokens)
    for token in tokens:
        # keras-hub detokenizes every character through the byte table and joins BPE pieces
        # with spaces, so only printable ASCII without spaces survives both directions.
        if not isinstance(token, str) or not token or not all("!" <= c <= "~" for c in token):
            raise ValueError(
                f"Special token {token!r} must be a non-empty string of printable ASCII "
                "characters without spaces (like '<|endoftext|>' or '[PAD]'), so that "
                "keras-hub's BytePairTokenizer can encode and decode it."
            )
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"special_tokens has duplicates: {list(tokens)!r}. List each once.")
    return tokens


# ---------------------------------------------------------------------------------------------
# Byte-level BPE: training
# ---------------------------------------------------------------------------------------------


def _merge_word(word: list[str], a: str, b: str, merged: str) -> list[str] | None:
    """Merges every non-overlapping (a, b) left to right; None if the pair is absent."""
    out = []
    i = 0
    n = len(word)
    found = False
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(merged)
            i += 2
            found = True
        else:
            out.append(word[i])
            i += 1
    return out if found else None


def train_bpe(
    text_or_iterable: str | Iterable[str],
    vocab_size: int,
    *,
    min_frequency: int = 2,
    special_tokens: Sequence[str] = (),
) -> tuple[dict[str, int], list[str]]:
    """Trains GPT-2-style byte-level BPE: a vocabulary and its ordered merge rules.

    The text is pre-tokenized (see ``pretokenize``), each piece is written as UTF-8 bytes
    mapped through ``bytes_to_unicode``, and the most frequent adjacent pair of symbols is
    merged into a new symbol, again and again. Ties go to the lexicographically smallest
    pair (comparing the byte-table strings), so training is deterministic. Pair counts are
    kept per unique piece and updated only for the pieces a merge touches, which trains a
    1,000-token vocabulary on Tiny Shakespeare in seconds.

    Ids: the 256 byte symbols take ids 0-255 (id = byte value), then one id per merge in
    merge order, then the special tokens.

    Args:
        text_or_iterable: the training text, or an iterable of texts (documents); pieces
            never span two documents.
        vocab_size: the wanted number of ids, including the 256 byte symbols and the special
            tokens. Training stops early (giving a smaller vocabulary) when no pair occurs
            ``min_frequency`` times.
        min_frequency: the fewest occurrences a pair needs to be merged.
        special_tokens: tokens such as ``"<|endoftext|>"`` that get their own ids and are
            never split or learned from; occurrences in the text are skipped.

    Returns:
        ``(vocabulary, merges)``: a dict from token string to id, and the merge rules as
        ``"left right"`` strings in the order learned, the format of
        ``keras_hub.tokenizers.BytePairTokenizer``.

    Example:

    >>> vocabulary, merges = train_bpe("low low low lower lowest", vocab_size=259)
    >>> merges
    ['l o', 'lo w', 'Ġ low']
    >>> vocabulary["Ġlow"]
    258
    """
    special_tokens = _check_special_tokens(special_tokens)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(f"vocab_size must be an int, got {vocab_size!r}.")
    if vocab_size < 256 + len(special_tokens):
        raise ValueError(
            f"vocab_size={vocab_size} is too small: byte-level BPE needs 256 byte ids plus "
            f"{len(special_tokens)} special token(s), so at least "
            f"{256 + len(special_tokens)}. Pick a larger vocab_size (e.g. 1000)."
        )
    if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 1:
        raise ValueError(f"min_frequency must be an int >= 1, got {min_frequency!r}.")
    texts = [text_or_iterable] if isinstance(text_or_iterable, str) else text_or_iterable

    piece_counts: Counter[str] = Counter()
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"train_bpe expects a str or an iterable of str; item {i} is {type(text).__name__}."
            )
        piece_counts.update(pretokenize(text, special_tokens))
    for token in special_tokens:
        piece_counts.pop(token, None)
    if not piece_counts:
        raise ValueError(
            "train_bpe got no text to learn from. Pass the training text (a non-empty str "
            "or an iterable of them)."
        )

    words = [[_BYTE_SYMBOLS[b] for b in piece.encode("utf-8")] for piece in piece_counts]
    counts = list(piece_counts.values())
    pair_counts: dict[tuple[str, str], int] = defaultdict(int)
    # Which words hold a pair, so a merge touches only those; entries may go stale after a
    # merge and are skipped then.
    where: dict[tuple[str, str], set[int]] = defaultdict(set)
    for index, (word, count) in enumerate(zip(words, counts, strict=True)):
        for pair in zip(word, word[1:], strict=False):
            pair_counts[pair] += count
            where[pair].add(index)

    # A max-heap on (count, then smallest pair) with lazy updates: a count that grows gets a
    # fresh entry; an entry whose count has since dropped is re-pushed when popped.
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    vocabulary = {symbol: i for i, symbol in enumerate(_BYTE_SYMBOLS)}
    merges: list[str] = []
    learned: set[str] = set()
    target = vocab_size - len(special_tokens)
    while len(vocabulary) < target and heap:
        negative_count, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count != -negative_count:
            if 0 < count < -negative_count:
                heapq.heappush(heap, (-count, pair))
            continue  # a count that grew already has its own, better entry
        if count < min_frequency:
            break
        a, b = pair
        merged = a + b
        rule = f"{a} {b}"
        # Two merges can spell the same string ("a bc", "ab c"); the token keeps one id. Its
        # second spelling can then bring back an already merged pair: merge it again, but
        # record the rule once (keras-hub's rank table rejects a repeated rule).
        if rule not in learned:
            learned.add(rule)
            merges.append(rule)
            vocabulary.setdefault(merged, len(vocabulary))
        grown = set()
        for index in where.pop(pair):
            word = words[index]
            new_word = _merge_word(word, a, b, merged)
            if new_word is None:
                continue
            count = counts[index]
            for old in zip(word, word[1:], strict=False):
                pair_counts[old] -= count
            for new in zip(new_word, new_word[1:], strict=False):
                pair_counts[new] += count
                where[new].add(index)
                grown.add(new)
            words[index] = new_word
        pair_counts.pop(pair, None)
        for new in grown:
            count = pair_counts.get(new, 0)
            if count > 0:
                heapq.heappush(heap, (-count, new))
            else:
                pair_counts.pop(new, None)
    for token in special_tokens:
        vocabulary[token] = len(vocabulary)
    return vocabulary, merges


# ---------------------------------------------------------------------------------------------
# Byte-level BPE: the tokenizer
# ---------------------------------------------------------------------------------------------


class BPETokenizer:
    """A byte-level BPE tokenizer, id for id compatible with keras-hub's ``BytePairTokenizer``.

    Encoding pre-tokenizes the text (see ``pretokenize``), writes each piece as bytes through
    ``bytes_to_unicode``, and applies the merge rules in rank order, leftmost first, exactly
    as keras-hub's TensorFlow path does. Every byte has an id, so any text encodes, and
    ``decode(encode(text)) == text`` (apart from the keras-hub corners that ``pretokenize``
    lists). ``to_keras_hub()`` returns the equivalent keras-hub layer for ``tf.data``.

    Args:
        vocabulary: dict from token string to id; ids must be ``0..len(vocabulary) - 1``, and
            it must hold the 256 byte symbols, every merge's parts and result, and the
            special tokens. ``train_bpe`` returns one.
        merges: merge rules as ``"left right"`` strings, highest priority first. A leading
            ``"#version: ..."`` line (as in GPT-2's ``merges.txt``) is skipped.
        special_tokens: tokens (in ``vocabulary``) kept whole when they occur in text, e.g.
            ``["<|endoftext|>"]`` to mark document boundaries.

    Example:

    >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
    >>> tokenizer.encode("low lower")
    array([257, 258, 101, 114], dtype=int32)
    >>> tokenizer.decode([257, 258, 101, 114])
    'low lower'
    """

    def __init__(
        self,
        vocabulary: dict[str, int],
        merges: Sequence[str],
        special_tokens: Sequence[str] = (),
    ):
        if not isinstance(vocabulary, dict):
            raise TypeError(
                "BPETokenizer expects vocabulary as a dict from token to id, got "
                f"{type(vocabulary).__name__}. train_bpe(text, vocab_size) returns one."
            )
        if isinstance(merges, str):
            raise TypeError(
                "BPETokenizer expects merges as a list of 'left right' strings, got a str. "
                "If it is the text of a merges.txt file, pass merges.splitlines()."
            )
        special_tokens = _check_special_tokens(special_tokens)
        vocabulary = dict(vocabulary)
        ids = sorted(vocabulary.values())
        if ids != list(range(len(vocabulary))):
            raise ValueError(
                "BPETokenizer vocabulary ids must be exactly 0..len(vocabulary) - 1, each "
                "used once, so they index an embedding table. Renumber the tokens, e.g. "
                "{t: i for i, t in enumerate(sorted(vocabulary, key=vocabulary.get))}."
            )
        missing = [s for s in _BYTE_SYMBOLS if s not in vocabulary]
        if missing:
            raise ValueError(
                f"BPETokenizer vocabulary lacks {len(missing)} of the 256 byte symbols (e.g. "
                f"{missing[0]!r}), so some text could not be encoded. A byte-level vocabulary "
                "holds every value of bytes_to_unicode(); train one with train_bpe."
            )
        merges = list(merges)
        if merges and isinstance(merges[0], str) and merges[0].lstrip().startswith("#version:"):
            merges = merges[1:]
        ranks = {}
        for rank, rule in enumerate(merges):
            parts = rule.split(" ") if isinstance(rule, str) else []
            if len(parts) != 2 or not all(parts):
                raise ValueError(
                    f"Merge rule {rank} is {rule!r}; each rule must be two tokens separated "
                    "by one space, like 'Ġ t'."
                )
            a, b = parts
            for token in (a, b, a + b):
                if token not in vocabulary:
                    raise ValueError(
                        f"Merge rule {rule!r} needs token {token!r}, which is not in the "
                        "vocabulary. The vocabulary and merges must come from the same "
                        "training run."
                    )
            ranks.setdefault((a, b), rank)  # a repeated rule keeps its first (best) rank
        for token in special_tokens:
            if token not in vocabulary:
                raise ValueError(
                    f"Special token {token!r} has no id in the vocabulary. Train with "
                    f"train_bpe(..., special_tokens={list(special_tokens)!r}), which adds it."
                )
        self._vocabulary = vocabulary
        self._merges = merges
        self._special_tokens = special_tokens
        self._ranks = ranks
        self._id_to_token = [""] * len(vocabulary)
        for token, i in vocabulary.items():
            self._id_to_token[i] = token
        # Special ids decode to their literal text; every other id through the byte table.
        self._id_to_bytes = [
            token.encode("utf-8")
            if token in special_tokens
            else bytes(_UNICODE_TO_BYTE[c] for c in token)
            if all(c in _UNICODE_TO_BYTE for c in token)
            else token.encode("utf-8")
            for token in self._id_to_token
        ]
        self._special_set = frozenset(special_tokens)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_text(
        cls,
        text: str | Iterable[str],
        vocab_size: int,
        *,
        min_frequency: int = 2,
        special_tokens: Sequence[str] = (),
    ) -> BPETokenizer:
        """Trains a tokenizer on ``text`` with ``train_bpe``.

        Args:
            text: the training text, or an iterable of documents.
            vocab_size: the wanted number of ids (256 bytes + merges + special tokens).
            min_frequency: the fewest occurrences a pair needs to be merged.
            special_tokens: tokens such as ``"<|endoftext|>"`` that get their own ids.

        Returns:
            A ``BPETokenizer``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.vocab_size
        259
        """
        vocabulary, merges = train_bpe(
            text, vocab_size, min_frequency=min_frequency, special_tokens=special_tokens
        )
        return cls(vocabulary, merges, special_tokens=special_tokens)

    @property
    def vocabulary(self) -> dict[str, int]:
        """Token string to id (a copy)."""
        return dict(self._vocabulary)

    @property
    def merges(self) -> list[str]:
        """The merge rules, highest priority first (a copy)."""
        return list(self._merges)

    @property
    def special_tokens(self) -> list[str]:
        """The special tokens."""
        return list(self._special_tokens)

    @property
    def vocab_size(self) -> int:
        """The number of ids (the size of the model's embedding and output layers)."""
        return len(self._vocabulary)

    def id_to_token(self, id: int) -> str:
        """Returns the token string of ``id`` (byte-table spelling, e.g. ``"Ġthe"``).

        Args:
            id: an int in ``[0, vocab_size)``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.id_to_token(32)
        'Ġ'
        """
        if not isinstance(id, (int, np.integer)) or not 0 <= id < self.vocab_size:
            raise ValueError(f"id must be an int in [0, {self.vocab_size}), got {id!r}.")
        return self._id_to_token[id]

    def token_to_id(self, token: str) -> int:
        """Returns the id of a token string (byte-table spelling, e.g. ``"Ġthe"``).

        Args:
            token: a key of ``vocabulary``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.token_to_id("Ġ")
        32
        """
        if token not in self._vocabulary:
            raise ValueError(
                f"{token!r} is not in the vocabulary. Tokens are spelled with the byte table "
                "(a space is 'Ġ', a newline 'Ċ'); to see how text splits, use encode."
            )
        return self._vocabulary[token]

    def _bpe(self, piece: str) -> list[int]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        if piece in self._special_set:
            ids = [self._vocabulary[piece]]
        else:
            symbols = [_BYTE_SYMBOLS[b] for b in piece.encode("utf-8")]
            ranks = self._ranks
            absent = len(ranks)
            while len(symbols) > 1:
                pair_ranks = [
                    ranks.get(pair, absent) for pair in zip(symbols, symbols[1:], strict=False)
                ]
                best = min(pair_ranks)
                if best == absent:
                    break
                # keras-hub merges only the leftmost best pair per step; for merges learned
                # by BPE this equals GPT-2's merge-all-occurrences, and it is the same by
                # construction for any merge list.
                i = pair_ranks.index(best)
                symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
            ids = [self._vocabulary[s] for s in symbols]
        if len(self._cache) > 200_000:
            self._cache.clear()  # bounds memory on endless streams of new pieces
        self._cache[piece] = ids
        return ids

    def encode(self, text: str) -> np.ndarray:
        """Encodes ``text`` to token ids.

        Occurrences of the special tokens in ``text`` become their ids, as in keras-hub.

        Args:
            text: a str; empty text gives an empty array.

        Returns:
            A 1-D NumPy ``int32`` array.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.encode("low")
        array([257], dtype=int32)
        """
        if not isinstance(text, str):
            raise TypeError(
                f"BPETokenizer.encode expects a str, got {type(text).__name__}. Inside "
                "tf.data, use to_keras_hub()."
            )
        ids: list[int] = []
        for piece in pretokenize(text, self._special_tokens):
            ids.extend(self._bpe(piece))
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Any, errors: str = "replace") -> str:
        """Decodes ids back to text.

        Args:
            ids: a 1-D list, NumPy array or tensor of ids in ``[0, vocab_size)``.
            errors: how to treat byte sequences that are not valid UTF-8 (a sequence cut in
                the middle of a character, or sampled nonsense); passed to
                ``bytes.decode``. ``"replace"`` shows them as ``"\\ufffd"``.

        Returns:
            The text.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.decode([257, 258, 101, 114])
        'low lower'
        """
        array = _ids_to_numpy(ids, "BPETokenizer")
        _check_id_range(array, self.vocab_size, "BPETokenizer")
        table = self._id_to_bytes
        return b"".join(table[i] for i in array.tolist()).decode("utf-8", errors=errors)

    def to_keras_hub(self):
        """Returns the equivalent ``keras_hub.tokenizers.BytePairTokenizer``.

        It is built from the same vocabulary, merges and special tokens, so it gives the same
        ids as ``encode``, eagerly and inside ``tf.data.Dataset.map``, for any text without a
        NUL character: keras-hub drops a string's text from its first ``"\\x00"`` on.

        Returns:
            A ``keras_hub.tokenizers.BytePairTokenizer``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> layer = tokenizer.to_keras_hub()
        >>> ds = tf.data.Dataset.from_tensor_slices(["low lower"]).map(layer)
        >>> next(iter(ds)).numpy().tolist() == tokenizer.encode("low lower").tolist()
        True
        """
        import keras_hub

        return keras_hub.tokenizers.BytePairTokenizer(
            vocabulary=dict(self._vocabulary),
            merges=list(self._merges),
            unsplittable_tokens=list(self._special_tokens) or None,
            # keras-hub 0.32 runs eager calls through Hugging Face `tokenizers` with the
            # Llama-3 split regex, which splits differently (e.g. ":\n" is one piece) from
            # its TensorFlow path, used in tf.data. Forcing the TensorFlow path makes eager
            # and tf.data calls agree with each other and with `encode`. The flag is not
            # serialized: a layer restored from a Keras file goes back to the eager default.
            _allow_python_workflow=False,
        )

    def get_config(self) -> dict:
        """Returns the constructor arguments, JSON-serializable.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> sorted(tokenizer.get_config())
        ['merges', 'special_tokens', 'vocabulary']
        """
        return {
            "vocabulary": dict(self._vocabulary),
            "merges": list(self._merges),
            "special_tokens": list(self._special_tokens),
        }

    @classmethod
    def from_config(cls, config: dict) -> BPETokenizer:
        """Rebuilds a tokenizer from ``get_config()``.

        Args:
            config: a dict as returned by ``get_config``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> same = BPETokenizer.from_config(tokenizer.get_config())
        >>> same == tokenizer
        True
        """
        return cls(**config)

    def save(self, path: str | os.PathLike) -> None:
        """Saves the tokenizer as JSON (creating parent folders).

        Args:
            path: file to write, e.g. ``"artifacts/bpe_1000.json"``.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.save("bpe_259.json")
        """
        _save_json(path, "BPETokenizer", self.get_config())

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPETokenizer:
        """Loads a tokenizer written by ``save``.

        Args:
            path: the JSON file.

        Example:

        >>> tokenizer = BPETokenizer.from_text("low low low lower lowest", vocab_size=259)
        >>> tokenizer.save("bpe_259.json")
        >>> BPETokenizer.load("bpe_259.json") == tokenizer
        True
        """
        return cls.from_config(_load_json(path, "BPETokenizer"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and self.get_config() == other.get_config()

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, "
            f"special_tokens={list(self._special_tokens)!r})"
        )
