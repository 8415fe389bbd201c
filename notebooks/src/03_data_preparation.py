# %% [markdown]
# # 03 · Data preparation: collection, cleaning, tokenization, annotation
#
# *Mirrors §3.1 of the source document (数据准备, "Data preparation").*
#
# The source document says that training a large language model needs a great deal of text,
# that the quality of that text matters a lot, and that preparing it takes three steps:
#
# - **collection** (数据收集): gather text from books, articles, web pages, social media;
# - **cleaning** (数据清洗): remove noise, fix errors, split text into tokens (分词);
# - **annotation** (数据标注): for some tasks, add labels, e.g. sentiment or named entities.
#
# This chapter does each step on real data, then adds the step the document leaves out:
# streaming the prepared data into a model with a `tf.data` pipeline. What you will see:
#
# 1. data cards for the course corpora, our stand-ins for books, articles, web and social text;
# 2. a cleaning pipeline, step by step, with the number of documents each step changes or
#    removes, including exact and near-duplicate removal and a language filter;
# 3. four tokenizers (character, word, WordPiece, byte-pair encoding) compared in one table;
# 4. labels, a stratified train/validation/test split and what NER labels look like;
# 5. a `tf.data` pipeline, timed with and without each of its stages.
#
# **Before you run it:** time: smoke ~25 s · cpu ~4 min (2 cores) · gpu ~3 min (estimated); memory: peak ~1.1 GB at cpu; data: tinyshakespeare (1.1 MB), rt-polarity (1.2 MB), lee-corpus (0.4 MB), spa-eng (8.0 MB), squad-v1.1 (4.9 MB), multi30k (1.3 MB), dialogsum (1.1 MB), topical-chat (7.6 MB) (downloaded once, verified by SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import os
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from course_lib import data
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything

seed = seed_everything()
profile = active_profile()
print(f"seed {seed}, profile {profile} ({profile.source})")

# %%
# Sizes per profile. smoke proves the code runs; cpu gives numbers worth reading.
DOCS_PER_SOURCE = profile.pick(smoke=300, cpu=None, gpu=None)  # None = every document
FOREIGN_DOCS = profile.pick(smoke=40, cpu=400, gpu=400)  # Spanish + German "stray pages"
TOKENIZER_CHARS = profile.pick(smoke=40_000, cpu=None, gpu=None)  # Tiny Shakespeare slice
BPE_VOCAB = profile.pick(smoke=300, cpu=1_000, gpu=1_000)  # 256 bytes + merges
WORDPIECE_VOCAB = profile.pick(smoke=300, cpu=2_000, gpu=2_000)  # upper bound; see §3
WORDPIECE_CHARS = profile.pick(smoke=None, cpu=300_000, gpu=None)  # its learner is slow
TOY_BPE_MERGES = profile.pick(smoke=10, cpu=40, gpu=40)  # merges the from-scratch BPE learns
PIPELINE_EXAMPLES = profile.pick(smoke=400, cpu=None, gpu=None)  # rt-polarity reviews timed
SEQUENCE_LENGTH = 48  # words per review in the tf.data pipeline: nearly all reviews fit

# %% [markdown]
# ## 1. Collection: what text do we have?
#
# Real pre-training corpora are scraped at the scale of trillions of tokens. The course uses
# small, verified public corpora instead, one for each kind of source the document lists.
# A **data card** says, for each one, where it comes from, under which license, how big it
# is, in which language, and what it is good for. Licenses matter: some of these allow
# non-commercial use only, and two state none.

# %%
# NBVAL_IGNORE_OUTPUT
shakespeare = data.load_tiny_shakespeare()
reviews, review_labels = data.load_rt_polarity()
news = data.load_lee_corpus()
squad = data.load_squad_dev()
paragraphs = list(dict.fromkeys(q["context"] for q in squad))  # unique paragraphs
chats = [message for conversation in data.load_topical_chat() for _, message in conversation]
dialogues = [d["dialogue"] for d in data.load_dialogsum()]
spa_eng = data.load_spa_eng()
multi30k = data.load_multi30k("val")

corpora = {  # dataset: (stands for, documents, language, good for)
    "tinyshakespeare": ("books", [shakespeare], "English (Early Modern)",
                        "character and small GPT language models"),
    "lee-corpus": ("articles (news)", news, "English", "document similarity, word vectors"),
    "squad-v1.1": ("web (Wikipedia)", paragraphs, "English", "question answering"),
    "rt-polarity": ("web (reviews)", reviews, "English", "sentiment classification"),
    "topical-chat": ("social media (chat)", chats, "English", "dialogue"),
    "dialogsum": ("dialogue transcripts", dialogues, "English", "summarization"),
    "spa-eng": ("parallel sentences", [e for e, _ in spa_eng] + [s for _, s in spa_eng],
                "English + Spanish", "translation, BLEU"),
    "multi30k": ("parallel captions", [e for e, _ in multi30k] + [g for _, g in multi30k],
                 "English + German", "translation"),
}
rows = ["| dataset | stands for | license | documents | words | characters | language | good for |",
        "|---|---|---|---:|---:|---:|---|---|"]
for name, (kind, docs, language, use) in corpora.items():
    info = data.info(name)
    words = sum(len(d.split()) for d in docs)
    chars = sum(len(d) for d in docs)
    rows.append(f"| `{name}` | {kind} | {info.license} | {len(docs):,} | {words:,} | {chars:,} "
                f"| {language} | {use} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# Together these are about 14 million characters: less than a millionth of what a modern
# model pre-trains on. Everything in this chapter scales, but the numbers are small on
# purpose, so each step runs in seconds.
#
# ## 2. Cleaning
#
# Scraped text is messy. To see how messy, we build a small "crawl": chat messages (social
# media), movie-review snippets and Wikipedia paragraphs (web), news articles, Shakespeare's
# speeches (books), plus a few hundred Spanish and German sentences standing in for the
# foreign-language pages every crawl picks up. Each kind of noise below is really in this
# data; none of it was added by hand.

# %%
# NBVAL_IGNORE_OUTPUT
def take(docs, n=DOCS_PER_SOURCE):
    return list(docs) if n is None else list(docs[:n])


rng = np.random.default_rng(seed)
speeches = [s for s in shakespeare.split("\n\n") if s.strip()]
foreign_pairs = rng.choice(len(spa_eng), FOREIGN_DOCS, replace=False)
spanish = [spa_eng[i][1] for i in foreign_pairs if len(spa_eng[i][1].split()) >= 4]
german = [g for _, g in multi30k[:FOREIGN_DOCS]]
crawl = {
    "chat": take(chats), "reviews": take(reviews), "wikipedia": take(paragraphs),
    "news": take(news), "shakespeare": take(speeches), "spanish": spanish, "german": german,
}
raw = [doc for docs in crawl.values() for doc in docs]
source_of = np.array([name for name, docs in crawl.items() for _ in docs])
print(f"{len(raw):,} documents, {sum(map(len, raw)):,} characters")
print({name: len(docs) for name, docs in crawl.items()})

# %% [markdown]
# Cleaning is a list of small steps. A **map** step rewrites every document (`str → str`); a
# **filter** step looks at the whole list and returns which documents to keep
# (`list → boolean mask`). The map steps come first: Unicode normalisation, markup and
# address removal, whitespace and case. Each is a few lines around one regular expression or
# one standard-library call. This cell starts the chapter's module,
# `course_lib.chapters.ch03_data_preparation`, which the tests and exercises import.

# %% [export]
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

# %% [markdown]
# `clean(texts, steps)` runs steps in order (a function wrapped as `Map(fn, **kwargs)` or
# `Filter(fn, **kwargs)`) and reports, for each, how many documents it changed or removed,
# keeping the indices of the survivors so that labels can follow them. This bookkeeping is
# folded in the next cell. We run the map steps one at a time first, on the raw crawl, and
# show one document each step changes.

# %% [export] fold
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

# %%
# NBVAL_IGNORE_OUTPUT

def show_step(step, texts):
    result = clean(texts, [step])
    report = result.report[0]
    print(f"{step.name}: {report.docs_changed:,} documents changed, "
          f"{report.docs_removed:,} removed, characters {report.chars_in:,} → "
          f"{report.chars_out:,}")
    if isinstance(step, Map):
        for before, after in zip(texts, result.texts, strict=True):
            if before != after:
                start = max(0, len(os.path.commonprefix([before, after])) - 40)
                print(f"   before: {before[start:start + 90]!r}\n   after:  "
                      f"{after[start:start + 90]!r}")
                break
    return result


for step in (Map(normalize_unicode), Map(strip_markup),
             Map(remove_urls), Map(normalize_whitespace),
             Map(lowercase)):
    show_step(step, raw)

# %% [markdown]
# Unicode normalisation (NFKC) folds "…" into "...", and our version also turns typographic
# quotes into ASCII ones, so "don’t" and "don't" become one word. Markup removal catches the
# `<b>…</b>` and `<i>…</i>` tags the review site left in its snippets. Whitespace
# normalisation collapses the double spaces and tabs of chat messages. Lower-casing changes
# two documents in three: whether to do it is a choice (it merges "Apple" the fruit and the
# company), so the pipeline below leaves case alone and lets the tokenizer decide.
#
# Filters remove documents. A **length filter** drops documents too short to learn from
# ("Ok!", "lol"). **Exact duplicates** ("Hi, how are you?" appears more than 20 times in
# the chat data) are removed by keeping the first copy of each text, compared after folding
# case and whitespace.

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
normalized = clean(raw, [Map(normalize_unicode), Map(strip_markup),
                         Map(normalize_whitespace)]).texts
show_step(Filter(length_mask, min_words=3), normalized)
dedup = show_step(Filter(exact_duplicate_mask), normalized)
repeats = Counter(t.casefold() for t in normalized).most_common(3)
print("most repeated:", repeats)

# %% [markdown]
# ### Near duplicates
#
# "Do you like football?" and "Hello do you like football?" are not equal, but a model
# learns nothing new from the second. Near-duplicate detection compares documents as sets
# of **shingles** (overlapping character 5-grams) with the **Jaccard similarity**
# J(A, B) = |A ∩ B| / |A ∪ B|. Here are the two functions the chapter uses (lower-case, drop
# punctuation, then cut into n-grams of characters or of words):

# %% [export]
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

# %% [markdown]
# They must agree with a version from scratch in three lines and with scikit-learn's
# `jaccard_score` on 0/1 shingle vectors (the output calls ours `course_lib`, the package
# the chapter module belongs to):

# %%
# NBVAL_CHECK_OUTPUT
from sklearn.metrics import jaccard_score

a_text, b_text = "Do you like football?", "Hello do you like football?"


def shingles_from_scratch(text, n=5):
    flat = " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
    return {flat[i:i + n] for i in range(len(flat) - n + 1)}


a, b = shingles_from_scratch(a_text), shingles_from_scratch(b_text)
ours = len(a & b) / len(a | b)
library = jaccard(shingles(a_text), shingles(b_text))
vocabulary = sorted(a | b)
reference = jaccard_score([s in a for s in vocabulary], [s in b for s in vocabulary])
print(f"J = {ours:.4f} (from scratch), {library:.4f} (course_lib), {reference:.4f} (sklearn)")
print("all three agree:", abs(ours - library) < 1e-12 and abs(ours - reference) < 1e-12)

# %% [markdown]
# Comparing every pair of N documents costs N²/2 Jaccard computations: about 5·10⁸ for our crawl.
# **MinHash** makes each document a short signature (here 64 numbers: for each of 64 random
# hash functions, the smallest hash of its shingles). Two signatures agree at a position with
# probability J (exactly so for truly random permutations; our hashes come close), so the share of equal positions estimates J. **Locality-sensitive
# hashing** then only compares documents whose signatures agree on all rows of at least one
# "band" (16 bands of 4 rows): a pair becomes a candidate with probability 1 − (1 − J⁴)¹⁶,
# an S-curve that rises around J ≈ 0.5 (its midpoint is (1/16)^(1/4)): a pair with J = 0.7
# is almost always a candidate, one with J = 0.3 rarely. The plot shows both: the MinHash
# estimate against the exact J for pairs of real chat messages, and the S-curve.
#
# The hash functions are $h(x) = (a x + b) \bmod p$ with random $a$, $b$ and the prime
# $p = 2^{31} - 1$, applied to a CRC-32 of each shingle (Python's own `hash` of a string
# changes from run to run). One NumPy broadcast computes all 64 hashes of all shingles.

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
sample = dedup.texts[: min(len(dedup.texts), 400)]
signatures = minhash_signatures(sample, num_perm=64)
sets = [shingles(t) for t in sample]
pairs = [(i, j) for i in range(len(sample)) for j in range(i + 1, len(sample))]
exact = np.array([jaccard(sets[i], sets[j]) for i, j in pairs])
estimate = np.array([(signatures[i] == signatures[j]).mean() for i, j in pairs])
similar = exact > 0.2  # most random pairs share nothing; show those that share something
print(f"{len(pairs):,} pairs; MinHash error on pairs with J > 0.2: mean "
      f"{np.abs(estimate - exact)[similar].mean():.3f}, max {np.abs(estimate - exact)[similar].max():.3f}"
      f" (expected ~{np.sqrt(0.25 / 64):.3f})")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.scatter(exact[similar], estimate[similar], s=8, alpha=0.5)
ax1.plot([0, 1], [0, 1], "k--", lw=1)
ax1.set(xlabel="exact Jaccard similarity", ylabel="MinHash estimate (64 hashes)",
        title="MinHash estimates Jaccard")
j = np.linspace(0, 1, 200)
for rows_, bands_ in ((4, 16), (8, 8), (2, 32)):
    ax2.plot(j, 1 - (1 - j**rows_) ** bands_, label=f"{bands_} bands × {rows_} rows")
ax2.axvline(0.7, color="gray", ls=":", lw=1)
ax2.set(xlabel="Jaccard similarity of a pair", ylabel="P(pair becomes a candidate)",
        title="Locality-sensitive hashing: the S-curve")
ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# `near_duplicate_pairs` puts the bands to work: documents whose signatures agree on one band
# land in the same bucket, every pair within a bucket is a candidate, and each candidate is
# checked with the exact Jaccard similarity, so no returned pair is a false positive.
# `near_duplicate_mask` then keeps the first document of each group of near duplicates (a
# union-find over the pairs, so a chain a ≈ b ≈ c keeps only a).

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
near = near_duplicate_pairs(dedup.texts, threshold=0.7)
seconds = time.perf_counter() - start
print(f"{len(near)} near-duplicate pairs among {len(dedup.texts):,} documents "
      f"({seconds:.1f} s, every candidate checked with the exact Jaccard similarity)")
for i, j, sim in sorted(near, key=lambda p: p[2])[:: max(1, len(near) // 6)][:6]:
    print(f"  J={sim:.2f}  {dedup.texts[i][:60]!r}  ~  {dedup.texts[j][:60]!r}")

# %% [markdown]
# ### Language filter
#
# A language filter keeps the languages the model is meant for. Ours, `detect_language`,
# counts **function words**: "the", "of", "and" for English, "que", "los", "está" for
# Spanish, "und", "nicht", "ist" for German, "les", "dans", "est" for French (the word lists
# are folded in the next cell). A word found in several lists, like "en" (Spanish and French)
# or "in" (English and German), counts only a fraction for each, so it cannot decide on its
# own.

# %% [export] fold
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

# %% [export]
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

# %% [markdown]
# The detector needs no model and no download, and it is easy to fool on very short texts,
# so how good is it? We measure it on sentence pairs whose language we know.

# %%
# NBVAL_IGNORE_OUTPUT
check = rng.choice(len(spa_eng), min(2_000, len(spa_eng)), replace=False)
tests = {
    "English (spa-eng)": ([spa_eng[i][0] for i in check], "en"),
    "Spanish (spa-eng)": ([spa_eng[i][1] for i in check], "es"),
    "English (multi30k)": ([e for e, _ in multi30k], "en"),
    "German (multi30k)": ([g for _, g in multi30k], "de"),
}
rows = ["| sentences | n | correct | unknown | wrong |", "|---|---:|---:|---:|---:|"]
for name, (texts, lang) in tests.items():
    guesses = Counter(detect_language(t) for t in texts)
    n = len(texts)
    wrong = n - guesses[lang] - guesses["unknown"]
    rows.append(f"| {name} | {n:,} | {guesses[lang] / n:.1%} | {guesses['unknown'] / n:.1%} "
                f"| {wrong / n:.1%} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# On the labelled sentences the detector is rarely wrong (the table); when it cannot tell, it
# says "unknown", mostly on very short sentences ("Go.", "Tom exagera.") that contain no
# function word from its lists. It is cruder on the rest of the crawl: the filter below also
# drops some short English documents whose few words happen to be in another language's list
# (the counts after it show more documents dropped than there were foreign sentences). That
# is why the filter keeps "unknown" documents by default and runs after the length
# filter; a production system would use a trained classifier (e.g. on character n-grams).
#
# ### The whole pipeline
#
# Now all the steps together, in a sensible order: normalise first (so duplicates look
# alike), remove markup and fix whitespace, then filter by length, remove exact and near
# duplicates, and finally filter by language. The table is the report `clean` returns.

# %%
# NBVAL_IGNORE_OUTPUT
pipeline = [
    Map(normalize_unicode),
    Map(strip_markup),
    Map(remove_urls),
    Map(normalize_whitespace),
    Filter(length_mask, min_words=3),
    Filter(exact_duplicate_mask),
    Filter(near_duplicate_mask, threshold=0.7),
    Filter(language_mask, keep="en"),
]
start = time.perf_counter()
result = clean(raw, pipeline)
print(f"cleaned {len(raw):,} documents in {time.perf_counter() - start:.1f} s")
display(Markdown(result.table()))

kept = Counter(source_of[result.indices])
total = Counter(source_of)
rows = ["| source | raw | kept | share kept |", "|---|---:|---:|---:|"]
rows += [f"| {name} | {total[name]:,} | {kept[name]:,} | {kept[name] / total[name]:.0%} |"
         for name in crawl]
display(Markdown("\n".join(rows)))

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(8, 3.2))
names = [r.step.split("(")[0] for r in result.report][::-1]
touched = [r.docs_changed or r.docs_removed for r in result.report][::-1]
colors = ["C0" if r.docs_changed or r.docs_in == r.docs_out else "C3"
          for r in result.report][::-1]
ax.barh(names, [max(n, 0.8) for n in touched], color=colors)  # 0.8: a visible stub for 0
for y, n in enumerate(touched):
    ax.text(max(n, 1) * 1.15, y, f"{n:,}", va="center", fontsize=8)
ax.set_xscale("log")
ax.set(xlim=(0.7, 1e5), xlabel="documents (log scale)",
       title="What each step did: documents rewritten (blue) or removed (red)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the second table: the filters removed nearly all the foreign sentences (the few that
# survive are short ones with no function word from the lists), about one chat message in
# twenty (short greetings, repeated questions, near duplicates), a few percent of the
# Shakespeare speeches (one-line replies, repeated lines) and almost nothing from the news
# and Wikipedia text. Cleaning changes *what* the model learns from, not only how much:
# here it mostly thins out the noisiest source, the chat.
#
# ## 3. Tokenization
#
# A model reads integers, not text. A **tokenizer** cuts text into pieces (tokens) and maps
# each piece to an id. The choice is a trade-off:
#
# - **characters**: a tiny vocabulary, nothing is ever unknown, but sequences are long;
# - **words**: short sequences, but a huge vocabulary, and every word not seen in training
#   becomes `[UNK]`;
# - **subwords** (WordPiece, byte-pair encoding): frequent words stay whole, rare words split
#   into frequent pieces; a vocabulary of a few thousand covers everything.
#
# We compare them on Tiny Shakespeare, trained on the first 90% of the text and measured on
# the last 10% (the validation split the later chapters use).

# %%
# NBVAL_IGNORE_OUTPUT
corpus = shakespeare if TOKENIZER_CHARS is None else shakespeare[:TOKENIZER_CHARS]
cut = int(len(corpus) * 0.9)
train_text, val_text = corpus[:cut], corpus[cut:]
val_lines = [line for line in val_text.split("\n") if line.strip()]
print(f"train {len(train_text):,} characters, validation {len(val_text):,} characters, "
      f"{len(val_lines):,} non-empty validation lines")

# %% [markdown]
# **Characters and words.** The character tokenizer is `course_lib.tokenizers.CharTokenizer`
# (nanoGPT's: one id per distinct character). For words, NLTK offers several rule-based
# tokenizers that need no downloaded data; they disagree on the details, which is the point:
# "word" has no single definition.

# %%
# NBVAL_CHECK_OUTPUT
from nltk.tokenize import RegexpTokenizer, TreebankWordTokenizer, wordpunct_tokenize
from nltk.tokenize.treebank import TreebankWordDetokenizer

line = "But, soft! what light through yonder window breaks? 'Tis the east."
print("whitespace :", line.split())
print("wordpunct  :", wordpunct_tokenize(line))
print("treebank   :", TreebankWordTokenizer().tokenize(line))
print("regexp     :", RegexpTokenizer(r"\w+|[^\w\s]+").tokenize(line))

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.tokenizers import CharTokenizer

char_tokenizer = CharTokenizer.from_text(train_text)
treebank, detokenizer = TreebankWordTokenizer(), TreebankWordDetokenizer()
word_counts = Counter(tok for ln in train_text.split("\n") for tok in treebank.tokenize(ln))
word_vocab = ["[UNK]"] + sorted(w for w, c in word_counts.items() if c >= 2)  # seen twice
word_set = set(word_vocab)
print(f"characters: {char_tokenizer.vocab_size} ids; words: {len(word_counts):,} distinct, "
      f"{len(word_vocab):,} kept (seen at least twice, plus [UNK])")

# %% [markdown]
# **WordPiece** (BERT's tokenizer) is trained with keras-hub's
# `compute_word_piece_vocabulary` (which runs TensorFlow Text's vocabulary learner) and
# applied with `keras_hub.tokenizers.WordPieceTokenizer`. Continuation pieces start with
# `##`. The learner searches for a count threshold that gives about the requested size; on a
# corpus this small it stops below it, so `WORDPIECE_VOCAB` is an upper bound. It is also
# slow (over a minute for all of Tiny Shakespeare on two cores: a search in Python, repeated
# many times), so on the cpu profile it learns from the first 300,000 characters of the
# training text only; it is still applied to the same validation lines as the others.

# %%
# NBVAL_IGNORE_OUTPUT
import keras_hub
import tensorflow as tf

start = time.perf_counter()
wordpiece_text = train_text if WORDPIECE_CHARS is None else train_text[:WORDPIECE_CHARS]
train_lines = tf.data.Dataset.from_tensor_slices(wordpiece_text.split("\n")).batch(1_000)
wordpiece_vocab = keras_hub.tokenizers.compute_word_piece_vocabulary(
    train_lines, WORDPIECE_VOCAB, reserved_tokens=["[PAD]", "[UNK]"]
)
wordpiece = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=wordpiece_vocab,
                                                    oov_token="[UNK]")
print(f"WordPiece: {len(wordpiece_vocab):,} tokens in {time.perf_counter() - start:.1f} s")
example = val_lines[3]
pieces = [wordpiece_vocab[i] for i in np.asarray(wordpiece(example))]
print(repr(example), "→", pieces)

# %% [markdown]
# **Byte-pair encoding** (GPT's tokenizer) starts from single bytes and repeatedly merges the
# most frequent adjacent pair into a new token. The whole algorithm fits in a few lines; here
# it is from scratch, working on the same pre-tokenized words and byte symbols as GPT-2 (a
# space before a word is written "Ġ"), with ties broken by the pair that sorts first.

# %%
from course_lib.tokenizers import bytes_to_unicode, pretokenize

BYTE_SYMBOL = bytes_to_unicode()  # byte value → printable symbol, e.g. 32 (space) → "Ġ"


def merge_pair(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def toy_bpe(text, num_merges):
    words = Counter(tuple(BYTE_SYMBOL[b] for b in piece.encode("utf-8"))
                    for piece in pretokenize(text))
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:], strict=False):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # most frequent, then first in order
        if pairs[best] < 2:
            break
        merges.append(best)
        merged = Counter()
        for word, count in words.items():
            merged[merge_pair(word, best)] += count
        words = merged
    return merges


toy_merges = toy_bpe(train_text[:20_000], TOY_BPE_MERGES)
print("first merges:", [" ".join(m) for m in toy_merges[:12]])

# %% [markdown]
# `course_lib.tokenizers.train_bpe` does the same, with bookkeeping that makes it fast enough
# for a real vocabulary (it only recounts the words a merge touches). It must learn the same
# merges, and `BPETokenizer.to_keras_hub()` must give exactly the ids of
# `keras_hub.tokenizers.BytePairTokenizer` built from the same tables:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.tokenizers import BPETokenizer, train_bpe

_, library_merges = train_bpe(train_text[:20_000], 256 + TOY_BPE_MERGES)
print("from-scratch merges == course_lib merges:",
      [" ".join(m) for m in toy_merges] == library_merges)

bpe = BPETokenizer.from_text(train_text, BPE_VOCAB)
keras_hub_bpe = bpe.to_keras_hub()
ours_ids = [bpe.encode(ln) for ln in val_lines]
their_ids = keras_hub_bpe(val_lines)
print("course_lib ids == keras-hub BytePairTokenizer ids on every validation line:",
      all(np.array_equal(o, np.asarray(t)) for o, t in zip(ours_ids, their_ids, strict=True)))

# %% [markdown]
# Now the comparison. For each tokenizer, on the validation lines: the vocabulary size, the
# average number of tokens per line (the sequence length a model must process), the share of
# tokens that are unknown, and the share of lines that decode back to exactly the original
# text (round-trip fidelity).

# %%
# NBVAL_IGNORE_OUTPUT
def measure(name, vocab_size, encode_decode):
    lengths, unknown, exact = [], 0, 0
    for ln in val_lines:
        tokens, unknown_here, decoded = encode_decode(ln)
        lengths.append(tokens)
        unknown += unknown_here
        exact += decoded == ln
    total = sum(lengths)
    return {"tokenizer": name, "vocabulary": vocab_size, "tokens/line": np.mean(lengths),
            "chars/token": sum(map(len, val_lines)) / total, "unknown": unknown / total,
            "round trip": exact / len(val_lines)}


def char_roundtrip(ln):
    known = [c for c in ln if c in char_tokenizer.vocabulary]
    return len(ln), len(ln) - len(known), char_tokenizer.decode(char_tokenizer.encode("".join(known)))


def word_roundtrip(ln):
    tokens = [t if t in word_set else "[UNK]" for t in treebank.tokenize(ln)]
    return len(tokens), tokens.count("[UNK]"), detokenizer.detokenize(tokens)


unk_id = wordpiece_vocab.index("[UNK]")


def wordpiece_roundtrip(ln):
    ids = np.asarray(wordpiece(ln))
    return len(ids), int((ids == unk_id).sum()), wordpiece.detokenize(ids)


def bpe_roundtrip(ln):
    ids = bpe.encode(ln)
    return len(ids), 0, bpe.decode(ids)


table = [
    measure("characters (CharTokenizer)", char_tokenizer.vocab_size, char_roundtrip),
    measure("words (NLTK Treebank)", len(word_vocab), word_roundtrip),
    measure("WordPiece (keras-hub)", len(wordpiece_vocab), wordpiece_roundtrip),
    measure("byte-level BPE (course_lib)", bpe.vocab_size, bpe_roundtrip),
]
rows = ["| tokenizer | vocabulary | tokens per line | characters per token | unknown tokens "
        "| exact round trip |", "|---|---:|---:|---:|---:|---:|"]
rows += [f"| {r['tokenizer']} | {r['vocabulary']:,} | {r['tokens/line']:.1f} | "
         f"{r['chars/token']:.2f} | {r['unknown']:.2%} | {r['round trip']:.1%} |" for r in table]
display(Markdown("\n".join(rows)))

# %% [markdown]
# What the table shows:
#
# - **Characters** give the longest sequences (one token per character) and lose nothing.
# - **Words** give the shortest sequences but need the largest vocabulary, and still meet
#   unknown words in new text: every rare name or spelling becomes `[UNK]`, and whatever
#   `[UNK]` stood for is lost for good. Joining words back does not restore the original
#   spacing either.
# - **WordPiece** has no unknown pieces on this text (every character is in its vocabulary)
#   and sequences a few times shorter than characters, but it is not reversible: it splits on
#   punctuation and whitespace, and decoding puts a space between every word and punctuation
#   mark ("Good morrow , neighbour").
# - **Byte-level BPE** is the only subword tokenizer here that is exactly reversible: it
#   works on bytes, so nothing is ever unknown, and spaces are part of the tokens. This is
#   why GPT-style models use it.
#
# The bigger the BPE or WordPiece vocabulary, the shorter the sequences, and the larger the
# model's embedding and output layers: another trade-off the model designer makes.
#
# ## 4. Annotation
#
# Pre-training needs no labels: the next token is the label. Fine-tuning for a task does.
# **Sentiment annotation** gives each text a class; the rt-polarity snippets came labelled by
# the Rotten Tomatoes mark of the review they were taken from: "fresh" (1, positive) or
# "rotten" (0, negative). We clean
# them with the same pipeline (the indices carry the labels along), then split them.

# %%
# NBVAL_IGNORE_OUTPUT
review_steps = [Map(normalize_unicode), Map(strip_markup),
                Map(normalize_whitespace), Filter(length_mask, min_words=2),
                Filter(exact_duplicate_mask)]
reviews_clean = clean(reviews, review_steps)
labels = review_labels[reviews_clean.indices]
display(Markdown(reviews_clean.table()))
for i in (0, -1):
    print(f"label {labels[i]}: {reviews_clean.texts[i][:100]}")

# %% [markdown]
# A **stratified split** shuffles each class on its own and cuts it at the same fractions
# (here 80% train, 10% validation, 10% test), so each split keeps the label balance of the
# whole. It is seeded: the same seed gives the same split on every machine, which is what
# makes a reported test score reproducible. Cutting m examples at fractions that do not divide
# m evenly needs a rounding rule: `allocate` gives each part its floor and hands the leftover
# examples to the largest remainders, so the parts always add up to m. scikit-learn's
# `train_test_split(..., stratify=labels)` is the reference.

# %% [export]
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

# %% [markdown]
# `label_balance` and `balance_table` count each label in each split and print the counts as a
# table (folded in the next cell).

# %% [export] fold
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

# %%
# NBVAL_IGNORE_OUTPUT
train_idx, val_idx, test_idx = stratified_split(labels, (0.8, 0.1, 0.1), seed=seed)
display(Markdown(balance_table(labels, [train_idx, val_idx, test_idx],
                               class_names=["negative (0)", "positive (1)"])))

# %% [markdown]
# The split is a partition (every review in exactly one split), each split has the same
# share of positives as the whole up to rounding, and scikit-learn's stratified split puts
# the same number of positives in its test set, give or take one:

# %%
# NBVAL_CHECK_OUTPUT
from sklearn.model_selection import train_test_split

together = np.sort(np.concatenate([train_idx, val_idx, test_idx]))
print("partition:", np.array_equal(together, np.arange(len(labels))))
share = labels.mean()
print("each split within one review of the overall share:",
      all(abs(labels[s].sum() - share * len(s)) <= 1 for s in (train_idx, val_idx, test_idx)))
_, sk_test = train_test_split(np.arange(len(labels)), test_size=len(test_idx),
                              stratify=labels, random_state=seed)
print("positives in the test set, course_lib vs sklearn, differ by at most 1:",
      abs(int(labels[test_idx].sum()) - int(labels[sk_test].sum())) <= 1)

# %% [markdown]
# Stratification matters most for rare classes. If 1% of examples were positive, an
# unstratified 10% test split could hold a fraction of the positives it should, or twice as
# many; a stratified one always holds 10% of them (rounded):

# %%
# NBVAL_IGNORE_OUTPUT
rare = (np.arange(len(labels)) % 100 == 0).astype(int)  # 1% "positive"
wanted = rare.sum() * 0.1
random_counts = [int(rare[random_split(len(rare), (0.8, 0.1, 0.1), seed=s)[2]].sum())
                 for s in range(200)]
stratified_counts = {int(rare[stratified_split(rare, (0.8, 0.1, 0.1), seed=s)[2]].sum())
                     for s in range(20)}
print(f"{rare.sum()} positives; a 10% test split should hold {wanted:.1f}. Random splits over "
      f"200 seeds hold {min(random_counts)} to {max(random_counts)}; stratified splits over 20 "
      f"seeds hold {sorted(stratified_counts)}")

# %% [markdown]
# **Named-entity annotation** labels spans of tokens instead of whole texts. The usual format
# is **BIO**: `B-TYPE` begins an entity, `I-TYPE` continues it, `O` is outside any entity.
# Here is the first sentence of the Lee news corpus, annotated by hand with locations (LOC):

# %%
# NBVAL_CHECK_OUTPUT
sentence = "Hundreds of people have been forced to vacate their homes in the Southern " \
           "Highlands of New South Wales as strong winds today pushed a huge bushfire " \
           "towards the town of Hill Top ."
tags = ("O O O O O O O O O O O O B-LOC I-LOC O B-LOC I-LOC I-LOC O O O O O O O O O O O O "
        "B-LOC I-LOC O").split()
tokens = sentence.split()
assert len(tokens) == len(tags)


def bio_spans(tokens, tags):
    spans, current = [], None
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-") or (tag.startswith("I-") and current is None):
            current = [tag[2:], [token]]
            spans.append(current)
        elif tag.startswith("I-"):
            current[1].append(token)
        else:
            current = None
    return [(kind, " ".join(words)) for kind, words in spans]


print(" ".join(f"{tok}/{tag}" for tok, tag in zip(tokens[11:20], tags[11:20], strict=True)))
print(bio_spans(tokens, tags))

# %% [markdown]
# Annotation is expensive, slow and sometimes ambiguous (is "Southern Highlands" a location or
# a region name inside one?), so real projects write guidelines, have several people label the
# same examples, and measure how often they agree before trusting the labels.
#
# ## 5. Pipelines: streaming data into a model
#
# A model trains on batches, and it should never wait for them. `tf.data` builds an input
# pipeline from stages:
#
# - `map`: a function per example, here Keras's `TextVectorization` layer (lower-case, strip
#   punctuation, split into words, look each up in a vocabulary, cut or pad to 48 ids), run in
#   parallel with `num_parallel_calls`;
# - `cache`: keep the mapped examples in memory after the first epoch;
# - `shuffle`: mix examples within a buffer, differently each epoch;
# - `batch`: group examples into a tensor;
# - `prefetch`: prepare the next batches while the model works on the current one.
#
# The vocabulary is learned (`adapt`) from the training reviews only, so nothing about the
# validation and test reviews leaks into preprocessing. We then time two epochs over the
# reviews with a stand-in "training step" that takes 3 ms per batch, with the full pipeline
# and with one stage changed at a time.

# %%
# NBVAL_IGNORE_OUTPUT
import keras

texts = reviews_clean.texts if PIPELINE_EXAMPLES is None else reviews_clean.texts[:PIPELINE_EXAMPLES]
text_labels = labels[: len(texts)]
vectorizer = keras.layers.TextVectorization(max_tokens=20_000,
                                            output_sequence_length=SEQUENCE_LENGTH)
vectorizer.adapt(tf.data.Dataset.from_tensor_slices(
    [reviews_clean.texts[i] for i in train_idx]).batch(512))
lengths = np.array([len(t.split()) for t in texts])
print(f"vocabulary {vectorizer.vocabulary_size():,} words (0 = padding, 1 = [UNK]); words per "
      f"review: median {np.median(lengths):.0f}, max {lengths.max()}; "
      f"{(lengths <= SEQUENCE_LENGTH).mean():.1%} fit in {SEQUENCE_LENGTH}")
STEP_SECONDS = 0.003  # the "model": 3 ms per batch


def make_dataset(parallel=True, cache=True, shuffle=True, prefetch=True, batch_first=False):
    ds = tf.data.Dataset.from_tensor_slices((texts, text_labels))
    calls = tf.data.AUTOTUNE if parallel else None
    if batch_first:  # vectorize 32 reviews per call
        ds = ds.batch(32)
    ds = ds.map(lambda t, y: (vectorizer(t), y), num_parallel_calls=calls)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(2_000, seed=seed)
    if not batch_first:
        ds = ds.batch(32)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def examples_per_second(ds, epochs=2):
    start = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for _, y in ds:
            n += int(y.shape[0])
            time.sleep(STEP_SECONDS)  # the model's work on this batch
    return n / (time.perf_counter() - start)


variants = {
    "full pipeline": {},
    "map not parallel": {"parallel": False},
    "no cache": {"cache": False},
    "no prefetch": {"prefetch": False},
    "batch, then map (vectorized)": {"batch_first": True},
}
examples_per_second(make_dataset())  # warm-up: builds the tokenizer's graph
speeds = {name: examples_per_second(make_dataset(**kw)) for name, kw in variants.items()}
for name, speed in speeds.items():
    print(f"{name:>30}: {speed:8,.0f} examples/s")
x, y = next(iter(make_dataset()))
print("one batch:", tuple(x.shape), x.dtype.name, tuple(y.shape))

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.barh(list(speeds)[::-1], list(speeds.values())[::-1], color="C0")
ax.set(xlabel="examples per second (2 epochs, 3 ms model step per batch)",
       title="tf.data: the effect of each stage")
plt.tight_layout()
plt.show()

# %% [markdown]
# How to read it (your numbers will differ with your machine and its load): with a 3 ms
# step, the model alone would allow about 10,000 examples per second (32 per batch), so the
# gap to that is the pipeline's cost. In principle, without the cache the map runs again in
# the second epoch, and without prefetch the model waits for each batch to be prepared; but
# with a map as cheap as `TextVectorization` (a fast, compiled operation) the differences here
# are small, and timings of a few seconds vary with whatever else the machine is doing, so
# the rows can come out in any order on your run. Mapping whole batches (32 reviews per
# call) saves per-call overhead. All these differences grow with the cost of the map (a subword tokenizer written in Python, decoding images,
# reading files) and with the number of cores to run it on.
#
# ## Summary
#
# - Collection: know your sources, their licenses and their languages (data cards).
# - Cleaning: composable steps, each measured; normalise before deduplicating; MinHash with
#   LSH finds near duplicates without comparing every pair.
# - Tokenization: characters (long, lossless), words (short, unknown words), WordPiece and
#   byte-level BPE (subwords); only byte-level BPE is both compact and exactly reversible.
# - Annotation: labels travel with the cleaned examples; stratified, seeded splits.
# - Pipelines: `map → cache → shuffle → batch → prefetch`, each stage measured.

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("03", {
    "documents in": len(raw),
    "documents kept": len(result.texts),
    "near-duplicate pairs": len(near),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell to fill in and a check that tells you whether your answer is
# right (and if not, a hint). Worked solutions: `notebooks/solutions/03_data_preparation.ipynb`.
#
# **Exercise 1.** Write `clean_review(text)` that removes HTML tags, decodes entities
# (`&amp;` → `&`), lower-cases and collapses whitespace, using only the Python standard
# library (`re`, `html`).

# %%
import html
import re

from course_lib.exercises.ch03 import check_clean_review


def clean_review(text):
    return None  # your code here


check_clean_review(clean_review)

# %% [markdown]
# **Exercise 2.** What is the Jaccard similarity of the sets of character 3-gram shingles of
# "Do you like football?" and "do you like the NFL?" (lower-cased, punctuation removed)?
# Compute it by hand or with `shingles(text, n=3)`.

# %%
from course_lib.exercises.ch03 import JACCARD_PAIR, check_jaccard

my_jaccard = None  # your answer
check_jaccard(my_jaccard)

# %% [markdown]
# **Exercise 3.** Which pair does byte-pair encoding merge first on the corpus
# `"low lower lowest newer newest wider widest"`? Count the adjacent symbol pairs by hand
# (remember the "Ġ" that marks a space before every word but the first), or use `toy_bpe`.
# Write it as `"left right"`.

# %%
from course_lib.exercises.ch03 import BPE_CORPUS, check_first_bpe_merge

my_merge = None  # your answer, e.g. "l o"
check_first_bpe_merge(my_merge)

# %% [markdown]
# ## Next
#
# `04_attention.ipynb`: the formula at the heart of the Transformer,
# softmax(QKᵀ/√d_k)V, one matrix at a time.
