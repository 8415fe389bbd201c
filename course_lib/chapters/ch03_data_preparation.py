# Generated from notebooks/src/03_data_preparation.py (notebooks/03_data_preparation.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Text cleaning, near-duplicate detection and stratified splits.

Written in notebooks/03_data_preparation.ipynb. A cleaning pipeline is a list of steps applied
in order to a list of documents:

- a **map** step rewrites every document: ``normalize_unicode``, ``lowercase``,
  ``strip_markup``, ``remove_urls``, ``normalize_whitespace`` (each maps one ``str`` to one
  ``str``, so it also works on its own or inside ``tf.py_function``);
- a **filter** step decides, from the whole list, which documents to keep:
  ``length_mask``, ``exact_duplicate_mask``, ``near_duplicate_mask`` (MinHash with
  locality-sensitive hashing, checked with the exact Jaccard similarity), ``language_mask``
  (each maps a list of ``str`` to a boolean keep-mask).

``clean`` runs the steps and returns the surviving documents, their indices in the input (so
labels can follow them) and one ``StepReport`` per step with the before/after counts.

The labelled documents are then split with ``stratified_split``. A random split can, by
chance, put more of one class in the test set than in the training set, and with rare classes
leave a class out of a split entirely; a stratified split shuffles each class separately and
cuts it at the same fractions, so every split has (up to rounding) the label distribution of
the whole. ``balance_table`` shows the counts.

Example:

>>> result = clean(["a  b c", "hi", "a b c"], [Map(normalize_whitespace),
...                                             Filter(length_mask, min_words=2)])
>>> result.texts, result.indices.tolist()
(['a b c', 'a b c'], [0, 2])
>>> labels = np.array([0] * 80 + [1] * 20)
>>> train, val, test = stratified_split(labels, (0.8, 0.1, 0.1), seed=0)
>>> [int(labels[s].sum()) for s in (train, val, test)]  # positives per split
[16, 2, 2]
"""

import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import unescape

import numpy as np

# Typographic punctuation that NFKC leaves alone; ASCII spellings make "don't" and "don’t" one
# word for the tokenizer and the duplicate detectors.
_ASCII_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u00b4": "'",  # ´
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2022": "*",  # •
        "\u00a0": " ",  # no-break space
    }
)
# Zero-width and byte-order marks are invisible yet split words; other control characters
# (except tab and newline, which normalize_whitespace handles) are noise from bad encodings.
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def normalize_unicode(text: str, form: str = "NFKC", ascii_punctuation: bool = True) -> str:
    """Puts ``text`` into one Unicode normal form and removes invisible characters.

    NFKC folds compatibility characters into their plain forms ("…" → "...", "ﬁ" → "fi",
    full-width "Ａ" → "A") and composes accents, so that the same visible text has one
    spelling.

    Args:
        text: the document.
        form: ``"NFKC"`` (default), ``"NFC"``, ``"NFKD"`` or ``"NFD"``.
        ascii_punctuation: also map curly quotes, dashes, bullets and no-break spaces to
            ASCII, which NFKC does not do.

    Returns:
        The normalised text.

    Example:

    >>> normalize_unicode("I don’t know…\u200b")
    "I don't know..."
    """
    if form not in _FORMS:
        raise ValueError(f"form must be one of {', '.join(_FORMS)}, got {form!r}")
    text = unicodedata.normalize(form, text)
    if ascii_punctuation:
        text = text.translate(_ASCII_PUNCTUATION)
    return _INVISIBLE.sub("", text)


def lowercase(text: str, method: str = "lower") -> str:
    """Lower-cases ``text``.

    Args:
        text: the document.
        method: ``"lower"`` (``str.lower``) or ``"casefold"`` (more aggressive, for caseless
            matching: "Straße" → "strasse").

    Example:

    >>> lowercase("Hello NFL")
    'hello nfl'
    """
    if method == "lower":
        return text.lower()
    if method == "casefold":
        return text.casefold()
    raise ValueError(f"method must be 'lower' or 'casefold', got {method!r}")


# Tag-shaped markup only: "<b>", "</em>", "<br/>", '<a href="x">', "</>" (a broken tag seen in
# rt-polarity). A lone "<" or "a < b" is left alone because a tag starts with a letter or "/".
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|</>")


def strip_markup(text: str) -> str:
    """Removes HTML/XML tags and decodes character entities ("&amp;" → "&").

    Tags are replaced by nothing, so "<b>want</b>" becomes "want"; the whitespace around them
    stays (run ``normalize_whitespace`` afterwards).

    Args:
        text: the document.

    Example:

    >>> strip_markup("a reason to <b>want</b> it &amp; more")
    'a reason to want it & more'
    """
    return unescape(_TAG.sub("", text))


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


def remove_urls(text: str, replacement: str = "") -> str:
    """Removes web addresses and e-mail addresses.

    Args:
        text: the document.
        replacement: what to put in their place, e.g. ``"<url>"`` to keep a trace.

    Example:

    >>> remove_urls("see https://example.com/a?b=1 or mail me@example.org", "<url>")
    'see <url> or mail <url>'
    """
    return _EMAIL.sub(replacement, _URL.sub(replacement, text))


_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newlines
_NEWLINES = re.compile(r"\s*\n\s*")


def normalize_whitespace(text: str, keep_newlines: bool = False) -> str:
    """Collapses runs of whitespace to one space and strips both ends.

    Args:
        text: the document.
        keep_newlines: keep line breaks (one per run of blank lines), e.g. for verse or
            dialogue, where lines carry meaning.

    Example:

    >>> normalize_whitespace("  Yes, I do.\\t I think\\n so. ")
    'Yes, I do. I think so.'
    """
    if keep_newlines:
        return _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    return " ".join(text.split())


def _as_list(texts: Iterable[str], who: str) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{who} expects a list of documents, got one str; wrap it in a list")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{who}: document {i} is {type(t).__name__}, not str")
    return texts


def _describe(fn, kwargs) -> str:
    name = getattr(fn, "__name__", type(fn).__name__)
    if not kwargs:
        return name
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


class Map:
    """A pipeline step that rewrites each document with ``fn(text, **kwargs) -> str``.

    Args:
        fn: a function of one document, e.g. ``normalize_unicode``.
        **kwargs: extra arguments for ``fn``.

    Example:

    >>> Map(lowercase)("Hi")
    'hi'
    """

    def __init__(self, fn: Callable[..., str], **kwargs):
        if not callable(fn):
            raise TypeError(f"Map needs a function, got {fn!r}")
        self.fn = fn
        self.kwargs = kwargs

    @property
    def name(self) -> str:
        """The function's name with its arguments, as shown in reports."""
        return _describe(self.fn, self.kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def __call__(self, text: str) -> str:
        return self.fn(text, **self.kwargs)


class Filter:
    """A pipeline step that keeps documents where ``fn(texts, **kwargs)`` is True.

    Args:
        fn: a function of the list of documents returning a boolean keep-mask, e.g.
            ``exact_duplicate_mask``.
        **kwargs: extra arguments for ``fn``.

    Example:

    >>> Filter(length_mask, min_words=2)(["a b", "a"]).tolist()
    [True, False]
    """

    def __init__(self, fn: Callable[..., np.ndarray], **kwargs):
        if not callable(fn):
            raise TypeError(f"Filter needs a function, got {fn!r}")
        self.fn = fn
        self.kwargs = kwargs

    @property
    def name(self) -> str:
        """The function's name with its arguments, as shown in reports."""
        return _describe(self.fn, self.kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        mask = np.asarray(self.fn(list(texts), **self.kwargs))
        if mask.dtype != bool or mask.shape != (len(texts),):
            raise ValueError(
                f"{self.name} must return a boolean mask of shape ({len(texts)},), got "
                f"{mask.dtype} {mask.shape}"
            )
        return mask


@dataclass(frozen=True)
class StepReport:
    """What one cleaning step did (``clean`` makes one per step).

    Args:
        step: the step's name with its arguments.
        docs_in, docs_out: documents before and after.
        docs_changed: documents a map step rewrote (0 for filters).
        chars_in, chars_out: total characters before and after.

    Example:

    >>> StepReport("length_mask(min_words=3)", 10, 7, 0, 500, 430).docs_removed
    3
    """

    step: str
    docs_in: int
    docs_out: int
    docs_changed: int
    chars_in: int
    chars_out: int

    @property
    def docs_removed(self) -> int:
        """Documents the step dropped."""
        return self.docs_in - self.docs_out


@dataclass
class CleaningResult:
    """The output of ``clean``.

    Args:
        texts: the surviving, rewritten documents.
        indices: for each survivor, its index in the input (use it to select labels).
        report: one ``StepReport`` per step, in order.

    Example:

    >>> result = clean(["b", "a", "b"], [Filter(exact_duplicate_mask)])
    >>> labels = np.array([0, 1, 0])
    >>> result.texts, labels[result.indices].tolist()
    (['b', 'a'], [0, 1])
    """

    texts: list[str]
    indices: np.ndarray
    report: list[StepReport]

    def table(self) -> str:
        """The report as a Markdown table (see ``report_table``)."""
        return report_table(self.report)


def clean(texts: Iterable[str], steps: Sequence[Map | Filter]) -> CleaningResult:
    """Runs cleaning steps in order and records before/after counts for each.

    Args:
        texts: the raw documents.
        steps: ``Map`` and ``Filter`` steps.

    Returns:
        A ``CleaningResult`` with the cleaned texts, their input indices and the report.

    Example:

    >>> r = clean(["<b>Hi</b> there", "Hi there", "Hola, ¿qué tal?"],
    ...           [Map(strip_markup), Filter(exact_duplicate_mask), Filter(language_mask)])
    >>> r.texts, [s.docs_removed for s in r.report]
    (['Hi there'], [0, 1, 1])
    """
    texts = _as_list(texts, "clean")
    indices = np.arange(len(texts))
    report = []
    for step in steps:
        chars_in, docs_in = sum(map(len, texts)), len(texts)
        if isinstance(step, Map):
            new = [step(t) for t in texts]
            changed = sum(a != b for a, b in zip(texts, new, strict=True))
            texts = new
        elif isinstance(step, Filter):
            mask = step(texts)
            texts = [t for t, k in zip(texts, mask, strict=True) if k]
            indices = indices[mask]
            changed = 0
        else:
            raise TypeError(
                f"each step must be Map(fn, ...) or Filter(fn, ...), got {step!r}; wrap a "
                f"str -> str function in Map and a list -> mask function in Filter"
            )
        report.append(
            StepReport(step.name, docs_in, len(texts), changed, chars_in, sum(map(len, texts)))
        )
    return CleaningResult(texts, indices, report)


def report_table(report: Sequence[StepReport]) -> str:
    """Formats step reports as a Markdown table.

    Args:
        report: ``StepReport`` objects, e.g. ``clean(...).report``.

    Example:

    >>> print(report_table([StepReport("lowercase", 2, 2, 1, 10, 10)]))
    | step | docs in | docs out | removed | changed | chars in | chars out |
    |---|---:|---:|---:|---:|---:|---:|
    | `lowercase` | 2 | 2 | 0 | 1 | 10 | 10 |
    """
    lines = [
        "| step | docs in | docs out | removed | changed | chars in | chars out |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report:
        lines.append(
            f"| `{r.step}` | {r.docs_in:,} | {r.docs_out:,} | {r.docs_removed:,} | "
            f"{r.docs_changed:,} | {r.chars_in:,} | {r.chars_out:,} |"
        )
    return "\n".join(lines)


def length_mask(
    texts: Sequence[str],
    min_words: int = 1,
    max_words: int | None = None,
    min_chars: int = 0,
    max_chars: int | None = None,
) -> np.ndarray:
    """Keeps documents whose length, in whitespace-separated words and in characters, is in
    range. Very short documents ("ok", "lol") carry little to learn from; very long ones are
    often boilerplate or concatenated junk.

    Args:
        texts: the documents.
        min_words, max_words: inclusive bounds on the number of words (``None``: no bound).
        min_chars, max_chars: inclusive bounds on the number of characters.

    Returns:
        A boolean array, True = keep.

    Example:

    >>> length_mask(["ok", "yes I do", "a b c d e"], min_words=2, max_words=4).tolist()
    [False, True, False]
    """
    texts = _as_list(texts, "length_mask")
    for name, lo, hi in (("words", min_words, max_words), ("chars", min_chars, max_chars)):
        if lo < 0 or (hi is not None and hi < lo):
            raise ValueError(f"need 0 <= min_{name} <= max_{name}, got {lo} and {hi}")
    words = np.array([len(t.split()) for t in texts], dtype=np.int64)
    chars = np.array([len(t) for t in texts], dtype=np.int64)
    keep = (words >= min_words) & (chars >= min_chars)
    if max_words is not None:
        keep &= words <= max_words
    if max_chars is not None:
        keep &= chars <= max_chars
    return keep


def _default_key(text: str) -> str:
    return " ".join(text.casefold().split())


def exact_duplicate_mask(
    texts: Sequence[str], key: Callable[[str], str] | None = _default_key
) -> np.ndarray:
    """Keeps the first copy of each document and drops later exact duplicates.

    Args:
        texts: the documents.
        key: documents with equal ``key(text)`` count as duplicates. The default ignores case
            and whitespace ("Hi,  how are you?" = "hi, how are you?"); ``None`` compares the
            raw strings.

    Returns:
        A boolean array, True = keep (the first occurrence).

    Example:

    >>> exact_duplicate_mask(["Hi!", "hi!", "Bye"]).tolist()
    [True, False, True]
    """
    texts = _as_list(texts, "exact_duplicate_mask")
    seen: set[str] = set()
    keep = np.zeros(len(texts), dtype=bool)
    for i, t in enumerate(texts):
        k = t if key is None else key(t)
        if k not in seen:
            seen.add(k)
            keep[i] = True
    return keep


_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 5, unit: str = "char") -> set[str]:
    """The set of n-grams ("shingles") of a document, the unit near-duplicate detection
    compares.

    Text is lower-cased, and for character shingles punctuation is dropped and whitespace
    collapsed first, so "Hi, how are you?" and "hi how are you" share all their shingles.

    Args:
        text: the document.
        n: shingle length, in characters or words.
        unit: ``"char"`` or ``"word"``.

    Returns:
        A set of strings; a document shorter than ``n`` gives one shingle (itself).

    Example:

    >>> sorted(shingles("Hi there", n=4))
    [' the', 'here', 'hi t', 'i th', 'ther']
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    words = _WORD.findall(text.lower())
    if unit == "word":
        if len(words) <= n:
            return {" ".join(words)}
        return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}
    if unit != "char":
        raise ValueError(f"unit must be 'char' or 'word', got {unit!r}")
    flat = " ".join(words)
    if len(flat) <= n:
        return {flat}
    return {flat[i : i + n] for i in range(len(flat) - n + 1)}


def jaccard(a: set, b: set) -> float:
    """Jaccard similarity |a ∩ b| / |a ∪ b| of two sets (1.0 for two empty sets).

    Args:
        a, b: the sets, e.g. two documents' ``shingles``.

    Example:

    >>> jaccard({1, 2, 3}, {2, 3, 4})
    0.5
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_MERSENNE = (1 << 31) - 1  # a prime; keeps a * x + b below 2**63 for x < 2**32


def minhash_signatures(
    texts: Sequence[str], num_perm: int = 64, n: int = 5, unit: str = "char", seed: int = 0
) -> np.ndarray:
    """MinHash signatures: for each of ``num_perm`` random hash functions, the smallest hash
    of a document's shingles.

    Two documents agree at one position with probability equal to the Jaccard similarity of
    their shingle sets, so the fraction of equal positions estimates it (standard error about
    ``sqrt(J (1 - J) / num_perm)``).

    Shingles are hashed with CRC-32 (stable across runs, unlike Python's ``hash``), then with
    ``num_perm`` universal hash functions ``(a x + b) mod (2^31 - 1)``.

    Args:
        texts: the documents.
        num_perm: number of hash functions (signature length).
        n, unit: the shingles, as in ``shingles``.
        seed: chooses the hash functions.

    Returns:
        An ``int64`` array ``(len(texts), num_perm)``.

    Example:

    >>> sig = minhash_signatures(["the cat sat", "the cat sat down"], num_perm=128)
    >>> round(float((sig[0] == sig[1]).mean()), 1)  # exact Jaccard is 7/12 = 0.58
    0.6
    """
    texts = _as_list(texts, "minhash_signatures")
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, got {num_perm}")
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _MERSENNE, size=num_perm, dtype=np.int64)
    b = rng.integers(0, _MERSENNE, size=num_perm, dtype=np.int64)
    out = np.empty((len(texts), num_perm), dtype=np.int64)
    for i, text in enumerate(texts):
        hashes = np.fromiter(
            (zlib.crc32(s.encode("utf-8")) for s in shingles(text, n, unit)), dtype=np.int64
        )
        hashes %= _MERSENNE
        out[i] = ((hashes[:, None] * a[None, :] + b[None, :]) % _MERSENNE).min(axis=0)
    return out


def near_duplicate_pairs(
    texts: Sequence[str],
    threshold: float = 0.7,
    num_perm: int = 64,
    bands: int = 16,
    n: int = 5,
    unit: str = "char",
    seed: int = 0,
) -> list[tuple[int, int, float]]:
    """Pairs of documents whose shingle sets have Jaccard similarity ≥ ``threshold``.

    Comparing all pairs costs N²/2 Jaccard computations. Locality-sensitive hashing avoids
    that: cut each MinHash signature into ``bands`` bands of ``num_perm / bands`` rows, and
    only compare documents that agree on every row of at least one band. A pair with
    similarity J becomes a candidate with probability 1 - (1 - J^r)^b (r rows, b bands): close
    to 1 above the threshold and small below it. Every candidate is then checked with the
    exact Jaccard similarity, so no returned pair is a false positive; a few true pairs near
    the threshold can be missed.

    Args:
        texts: the documents.
        threshold: the smallest Jaccard similarity that counts as a near duplicate.
        num_perm: MinHash signature length; must be divisible by ``bands``.
        bands: number of LSH bands (more bands: higher recall, more candidates).
        n, unit: the shingles, as in ``shingles``.
        seed: chooses the hash functions.

    Returns:
        ``(i, j, similarity)`` with ``i < j``, sorted by ``(i, j)``.

    Example:

    >>> near_duplicate_pairs(["Hi, how are you?", "hi how are you", "Go Bears!"])
    [(0, 1, 1.0)]
    """
    texts = _as_list(texts, "near_duplicate_pairs")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if bands < 1 or num_perm % bands:
        raise ValueError(
            f"num_perm ({num_perm}) must be a multiple of bands ({bands}); e.g. num_perm=64, "
            f"bands=16 (4 rows per band)"
        )
    rows = num_perm // bands
    signatures = minhash_signatures(texts, num_perm=num_perm, n=n, unit=unit, seed=seed)
    candidates: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for i, key in enumerate(signatures[:, band * rows : (band + 1) * rows]):
            buckets.setdefault(key.tobytes(), []).append(i)
        for members in buckets.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    candidates.add((members[x], members[y]))
    sets: dict[int, set[str]] = {}
    pairs = []
    for i, j in sorted(candidates):
        si = sets.setdefault(i, shingles(texts[i], n, unit))
        sj = sets.setdefault(j, shingles(texts[j], n, unit))
        sim = jaccard(si, sj)
        if sim >= threshold:
            pairs.append((i, j, sim))
    return pairs


def near_duplicate_mask(texts: Sequence[str], threshold: float = 0.7, **kwargs) -> np.ndarray:
    """Keeps one document of each group of near duplicates (the first in order).

    Groups are the connected components of the pairs ``near_duplicate_pairs`` finds, so a
    chain a ≈ b ≈ c keeps only a.

    Args:
        texts: the documents.
        threshold: the Jaccard similarity at or above which two documents are duplicates.
        **kwargs: passed to ``near_duplicate_pairs`` (``num_perm``, ``bands``, ``n``,
            ``unit``, ``seed``).

    Returns:
        A boolean array, True = keep.

    Example:

    >>> near_duplicate_mask(["Do you like football?", "do you like football", "No."]).tolist()
    [True, False, True]
    """
    texts = _as_list(texts, "near_duplicate_mask")
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in near_duplicate_pairs(texts, threshold=threshold, **kwargs):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)  # the earliest document represents its group
    return np.array([root(i) == i for i in range(len(texts))], dtype=bool)


# Frequent function words per language. A word in several lists ("a", "en", "was") is
# weak evidence: it counts 1/k for each of its k languages, so only words of one language
# can tip the balance on their own.
_STOPWORD_TEXT = {
    "en": "the of and to a in is it you that he was for on are with as i his they be at one "
    "have this from or had by not but what all were we when your can said there an each which "
    "she do how their if will up other about out many then them these so some her would make "
    "like him into time has two more no way could my than been who its now did get come made "
    "may over me just know should very also only am does thou thee thy thine hath doth shall",
    "es": "de la que el en y a los se del las un por con no una su para es al lo como más "
    "pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay "
    "donde quien desde todo nos todos uno les ni ese eso esto mí qué unos yo otro otra él "
    "tanto esa estos mucho nada muchos poco ella estar algo nosotros mi mis tú te ti tu tus "
    "está estás estoy estamos están soy eres somos son fue era tengo tiene tienes tenemos "
    "tienen he has ha hemos han quiero puedo puede gusta aquí ahora nunca siempre dónde cómo "
    "cuándo quién usted ustedes",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
    "auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über "
    "einen so zum war haben nur oder aber vor zur bis mehr durch sein wurde sei ich du wir "
    "ihr mir mich dir dich uns euch ja nein kein keine hier da was wer wo warum gibt",
    "fr": "le la les de des du un une et est en que qui dans pour pas sur au aux avec il elle "
    "ils elles je tu nous vous ce cette ces se ne plus mais ou son sa ses être avoir mon ma "
    "mes ton ta tes très bien été fait faire comme tout tous où y à",
}

STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(text.split()) for lang, text in _STOPWORD_TEXT.items()
}
_SHARED = {
    w: sum(w in words for words in STOPWORDS.values())
    for w in set().union(*STOPWORDS.values())
}


def language_scores(text: str) -> dict[str, float]:
    """Function-word evidence for each language: every word of ``text`` in a language's list
    adds 1/k to that language, where k is the number of lists holding the word.

    Args:
        text: the document.

    Returns:
        ``{language: score}`` for the languages of ``STOPWORDS``.

    Example:

    >>> language_scores("Where is the station?")["en"]
    2.0
    """
    words = _WORD.findall(text.lower())
    scores = dict.fromkeys(STOPWORDS, 0.0)
    for w in words:
        k = _SHARED.get(w)
        if k:
            for lang, stop in STOPWORDS.items():
                if w in stop:
                    scores[lang] += 1.0 / k
    return scores


def detect_language(text: str, min_score: float = 1.0) -> str:
    """Guesses the language of ``text`` from its function words ("the", "und", "que", ...).

    Function words are the most frequent words of every language, so counting them is a crude
    but transparent detector that needs no model and no download. It knows English, Spanish,
    German and French (``STOPWORDS``); a word shared by k of the lists counts 1/k for each
    (see ``language_scores``).

    Args:
        text: the document.
        min_score: the least evidence needed to decide; with less (or a tie between the best
            two) the answer is ``"unknown"``. Very short texts ("Go.") are often unknown.

    Returns:
        A language code (``"en"``, ``"es"``, ``"de"``, ``"fr"``) or ``"unknown"``.

    Example:

    >>> detect_language("Where is the station?"), detect_language("¿Dónde está la estación?")
    ('en', 'es')
    """
    ranked = sorted(language_scores(text).items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < min_score or top - second < 1e-9:
        return "unknown"
    return best


def language_mask(
    texts: Sequence[str],
    keep: str | Sequence[str] = "en",
    keep_unknown: bool = True,
    min_score: float = 1.0,
) -> np.ndarray:
    """Keeps documents detected (by ``detect_language``) as one of the ``keep`` languages.

    Args:
        texts: the documents.
        keep: a language code or several, e.g. ``"en"`` or ``("en", "fr")``.
        keep_unknown: also keep documents the detector cannot decide on (usually very short
            ones); False drops them.
        min_score: passed to ``detect_language``.

    Returns:
        A boolean array, True = keep.

    Example:

    >>> language_mask(["I like it", "Me gusta", "Ok"]).tolist()
    [True, False, True]
    """
    texts = _as_list(texts, "language_mask")
    wanted = {keep} if isinstance(keep, str) else set(keep)
    unknown = wanted - set(STOPWORDS)
    if unknown:
        raise ValueError(
            f"no function-word list for {sorted(unknown)}; known languages: {sorted(STOPWORDS)}"
        )
    if keep_unknown:
        wanted.add("unknown")
    return np.array([detect_language(t, min_score) in wanted for t in texts], dtype=bool)


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    f = np.asarray(fractions, dtype=np.float64)
    if f.ndim != 1 or len(f) < 2:
        raise ValueError(f"fractions must list at least two splits, got {fractions!r}")
    if np.any(f < 0):
        raise ValueError(f"fractions must be non-negative, got {fractions!r}")
    if not np.isclose(f.sum(), 1.0, atol=1e-6):
        raise ValueError(
            f"fractions must sum to 1, got {fractions!r} (sum {f.sum():g}); e.g. (0.8, 0.1, 0.1)"
        )
    return f


def allocate(n: int, fractions: Sequence[float]) -> np.ndarray:
    """Splits the integer ``n`` into parts proportional to ``fractions`` (largest remainder).

    Each part gets ``floor(n * f)``; the items left over go to the parts with the largest
    fractional remainders (ties to the earlier part), so the parts always sum to ``n``.

    Args:
        n: number of items.
        fractions: the shares, summing to 1.

    Returns:
        An ``int64`` array of part sizes.

    Example:

    >>> allocate(10, (0.8, 0.1, 0.1)).tolist(), allocate(7, (0.5, 0.25, 0.25)).tolist()
    ([8, 1, 1], [3, 2, 2])
    """
    f = _check_fractions(fractions)
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    exact = n * f
    sizes = np.floor(exact + 1e-9).astype(np.int64)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: n - sizes.sum()]] += 1
    return sizes


def random_split(
    n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Shuffles ``range(n)`` with ``seed`` and cuts it at ``fractions`` (no stratification).

    Args:
        n: number of examples.
        fractions: the shares of each split, summing to 1.
        seed: the shuffle seed; the same seed gives the same split.

    Returns:
        One index array per split.

    Example:

    >>> [len(s) for s in random_split(10, (0.8, 0.2))]
    [8, 2]
    """
    sizes = allocate(n, fractions)
    order = np.random.default_rng(seed).permutation(n)
    return tuple(np.split(order, np.cumsum(sizes)[:-1]))


def stratified_split(
    labels, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Stratified split: each label is shuffled and divided at ``fractions`` on its own.

    Every class is split with ``allocate``, so a class of size m puts ``round(m * f)`` (up to
    one) examples in a split of share f, and no class with at least as many examples as there
    are splits misses a split with a share ≥ 1 / m. The indices of each split are shuffled
    (not grouped by label), so they can feed a training loop directly.

    Args:
        labels: one label per example (ints or strings), shape ``(n,)``.
        fractions: the shares of each split, summing to 1, e.g. ``(0.8, 0.1, 0.1)`` for
            train/validation/test.
        seed: the shuffle seed; the same labels and seed give the same split.

    Returns:
        One ``int64`` index array per split. Together they hold every index exactly once.

    Example:

    >>> train, test = stratified_split(["a", "a", "a", "b", "b", "b"], (2 / 3, 1 / 3), seed=1)
    >>> sorted(train.tolist()), sorted(test.tolist())
    ([0, 1, 3, 5], [2, 4])
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per example), got shape {labels.shape}")
    f = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in f]
    for value in np.unique(labels):  # sorted, so the result does not depend on label order
        members = np.flatnonzero(labels == value)
        members = members[rng.permutation(len(members))]
        for k, chunk in enumerate(np.split(members, np.cumsum(allocate(len(members), f))[:-1])):
            parts[k].append(chunk)
    out = []
    for chunks in parts:
        split = np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, np.int64)
        out.append(split[rng.permutation(len(split))])
    return tuple(out)


def label_balance(labels, splits: Sequence[np.ndarray], names: Sequence[str] | None = None):
    """Counts each label in each split.

    Args:
        labels: one label per example.
        splits: index arrays, e.g. the output of ``stratified_split``.
        names: a name per split; defaults to train/val/test for three splits.

    Returns:
        ``(classes, counts)``: the sorted label values and an ``int64`` array
        ``(len(splits), len(classes))`` of counts; a dict ``{name: counts_row}`` is easy to
        build from them, and ``balance_table`` prints them.

    Example:

    >>> classes, counts = label_balance([0, 0, 1, 1], [np.array([0, 2]), np.array([1, 3])])
    >>> classes.tolist(), counts.tolist()
    ([0, 1], [[1, 1], [1, 1]])
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    counts = np.zeros((len(splits), len(classes)), dtype=np.int64)
    for k, idx in enumerate(splits):
        values, n = np.unique(labels[np.asarray(idx, dtype=np.int64)], return_counts=True)
        counts[k, np.searchsorted(classes, values)] = n
    return classes, counts


def _default_names(k: int) -> list[str]:
    return ["train", "val", "test"] if k == 3 else [f"split {i}" for i in range(k)]


def balance_table(
    labels, splits: Sequence[np.ndarray], names: Sequence[str] | None = None, class_names=None
) -> str:
    """A Markdown table of label counts and shares per split, with the whole data set first.

    Args:
        labels: one label per example.
        splits: index arrays.
        names: a name per split.
        class_names: display names of the sorted label values, e.g. ``["neg", "pos"]``.

    Example:

    >>> print(balance_table([0, 0, 1, 1], [np.array([0, 2]), np.array([1, 3])], ["a", "b"]))
    | split | size | 0 | 1 |
    |---|---:|---:|---:|
    | all | 4 | 2 (50.0%) | 2 (50.0%) |
    | a | 2 | 1 (50.0%) | 1 (50.0%) |
    | b | 2 | 1 (50.0%) | 1 (50.0%) |
    """
    labels = np.asarray(labels)
    names = list(names) if names is not None else _default_names(len(splits))
    if len(names) != len(splits):
        raise ValueError(f"got {len(names)} names for {len(splits)} splits")
    classes, counts = label_balance(labels, [np.arange(len(labels)), *splits])
    shown = class_names if class_names is not None else [str(c) for c in classes]
    lines = ["| split | size | " + " | ".join(map(str, shown)) + " |",
             "|---|---:|" + "---:|" * len(classes)]
    for name, row in zip(["all", *names], counts, strict=True):
        total = int(row.sum())
        cells = [f"{int(c):,} ({100 * c / max(total, 1):.1f}%)" for c in row]
        lines.append(f"| {name} | {total:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
