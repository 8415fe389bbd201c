"""The course foundation model: one GPT, pretrained once on the course's English text, reused.

Later chapters start from this model instead of training a small one each: ``load_foundation``
loads the committed artifact (``artifacts/foundation/`` at the repository root), after checking
the SHA-256 of its files. ``python -m course_lib pretrain --profile cpu`` makes it; the run can
be killed at any moment and resumes where its last checkpoint left off, to the same losses.

**The corpus** is every English running text the course registers (``datasets/registry.json``),
each source split into a training part and a held-out part. Held-out text includes everything a
chapter validates or tests on, so the model never trains on a chapter's test data, and it gives
the validation curve in bits per byte. The sizes of the full corpus (``corpus_table()``
recomputes the characters; tokens are those of the cpu profile's 4,096-id BPE, about 3.4 bytes
each):

=================  ===========  ============  ==============  ===============
source             train chars  train tokens  held-out chars  held-out tokens
=================  ===========  ============  ==============  ===============
tinyshakespeare      1,003,854       342,708         111,540           41,429
rt-polarity                  0             0       1,227,553          389,351
squad-v1.1           1,890,417       559,446         359,067          112,849
spa-eng              3,252,836       971,349         170,479           51,037
multi30k             1,800,658       485,061         125,332           33,555
lee-corpus             359,783       102,451          24,609            7,368
dialogsum              433,669       132,192         441,946          134,597
topical-chat         1,137,350       315,513       1,382,413          391,684
all                  9,878,567     2,908,720       3,842,939        1,161,870
=================  ===========  ============  ==============  ===============

What is held out of each source, and why (the rule is the chapter's own split, restated):

- tinyshakespeare: the last 10% of the characters, where chapters 04-07, 09, 13 and 14
  validate (``split_tokens(char_ids, 0.9)``).
- rt-polarity: every sentence. Chapters 02, 07, 08, 13 and 14 test on four different splits of
  it, so only holding all of it out stays right whichever split a chapter uses.
- squad-v1.1: the 10 articles (20%) of chapter 11's test split
  (``split_by_article(questions, 0.2, seed=11)``), paragraphs and questions.
- spa-eng: the 5% of distinct English sentences chapter 10 tests translation on
  (``split_pairs_by_source(pairs, 0.05, seed=10)``).
- multi30k: the val and 2016 test captions (the official evaluation splits).
- lee-corpus: the 50 test documents of the similarity study.
- dialogsum: the whole test file (chapter 10 evaluates summaries on it); dev is trained on.
- topical-chat: test_freq, and the 10% of valid_freq conversations that chapter 09 validates
  on (``default_rng(9).permutation``, the first 54).

Only the English side of the translation pairs is used. Not used: ``embedding-eval`` and
``glove`` (word lists and vectors, not running text). Each source's licence comes from the
registry and is repeated in the model card; several allow only non-commercial, educational or
research use, so the model is for teaching. ``tests/test_pretraining.py`` checks each rule
against the chapter's own split (the function, or the notebook's constants where the split is
written inline), so a chapter that changes its split makes that test fail.

Documents are separated by ``<|endoftext|>`` (GPT-2's convention), and sources with one
sentence per line are grouped into documents of 50 lines. The BPE tokenizer is trained on the
training text only, all of it: the course's ``train_bpe`` learns 4,096 ids from the ~10 MB in
about 40 s and encoding the corpus takes about 75 s (on a busy 2-core machine), so no sample is
needed; both are cached in the run folder.

**Bits per byte** make models with different tokenizers comparable: the mean loss in nats per
token times tokens per byte, over ln 2 (``bits_per_byte``). ``<|endoftext|>`` counts as a
token but not as a byte. ``ngram_bits_per_byte`` scores the course's n-gram models
(``course_lib.ngram_lm``) on the same held-out text as the GPT's final evaluation.

Example:

>>> round(bits_per_byte(1.0, num_tokens=10, num_bytes=40), 4)  # 1 nat/token, 4 bytes/token
0.3607
>>> PretrainConfig.for_profile("cpu").context_length
256
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from course_lib import data
from course_lib.files import process_alive, write_text_atomically
from course_lib.profiles import PROFILE_NAMES, Profile, active_profile
from course_lib.tokenizers import BPETokenizer

__all__ = [
    "DEFAULT_ARTIFACT_DIR",
    "END_OF_TEXT",
    "CorpusSource",
    "CorpusTokens",
    "Foundation",
    "FoundationModelError",
    "PretrainConfig",
    "ResumeMismatchError",
    "RunInProgressError",
    "bits_per_byte",
    "chat_validation_indices",
    "corpus_fingerprint",
    "corpus_markdown",
    "corpus_table",
    "corpus_tokens",
    "encode_corpus",
    "evaluate_bits_per_byte",
    "load_corpus",
    "load_foundation",
    "model_card",
    "ngram_bits_per_byte",
    "pretrain",
    "spa_eng_test_sources",
    "squad_test_titles",
    "token_byte_lengths",
    "train_tokenizer",
    "verify_foundation",
]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ARTIFACT_DIR = REPO / "artifacts" / "foundation"
END_OF_TEXT = "<|endoftext|>"
LINES_PER_DOCUMENT = 50
REMEDY = "run `python -m course_lib pretrain --profile cpu`"

# The chapters' own splits, restated: core code may not import chapter modules, so the rules are
# written out here and tests/test_pretraining.py compares them with the chapters' functions and
# notebook constants.
SHAKESPEARE_TRAIN_FRACTION = 0.9  # split_tokens(char_ids, 0.9): chapters 04-07, 09, 13, 14
SQUAD_TEST_ARTICLES, SQUAD_SEED = 0.2, 11  # ch11: split_by_article(questions, 0.2, seed=11)
SPA_ENG_TEST_FRACTION, SPA_ENG_SEED = 0.05, 10  # ch10: split_pairs_by_source(pairs, 0.05, 10)
CHAT_HELD_OUT, CHAT_SEED = 0.1, 9  # ch09: first 10% of default_rng(9).permutation(valid)

# Prompts for the samples saved in the run record: one per kind of text in the corpus.
SAMPLE_PROMPTS = ("ROMEO:", "The history of the city", "A: Do you like movies?\nB:")


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CorpusSource:
    """One registered dataset's English text, split into training and held-out documents.

    Args:
        name: the dataset's registry name (``"tinyshakespeare"``).
        license: its licence, as the registry states it.
        rule: what is held out and why, in words.
        train: the training documents.
        heldout: the held-out documents (never trained on).

    Example:

    >>> s = CorpusSource("toy", "CC0", "the last document", ("a b",), ("c",))
    >>> s.train_chars, s.heldout_chars
    (3, 1)
    """

    name: str
    license: str
    rule: str
    train: tuple[str, ...]
    heldout: tuple[str, ...]

    @property
    def train_chars(self) -> int:
        return sum(len(d) for d in self.train)

    @property
    def heldout_chars(self) -> int:
        return sum(len(d) for d in self.heldout)


def _line_documents(lines: Sequence[str]) -> tuple[str, ...]:
    # One document per line would spend a tenth of the tokens on <|endoftext|>; 50 lines
    # joined by newlines keep the text's own form.
    return tuple(
        "\n".join(lines[i : i + LINES_PER_DOCUMENT])
        for i in range(0, len(lines), LINES_PER_DOCUMENT)
    )


def squad_test_titles(titles: Sequence[str]) -> set[str]:
    """The SQuAD articles chapter 11 tests on: its ``split_by_article`` rule, restated.

    Args:
        titles: the article titles (repeats are fine: one per question).

    Returns:
        The set of held-out titles.

    Example:

    >>> sorted(squad_test_titles(list("abcdefghij")))
    ['f', 'i']
    """
    titles = sorted(set(titles))
    order = np.random.default_rng(SQUAD_SEED).permutation(len(titles))
    n_test = min(len(titles) - 1, max(1, round(SQUAD_TEST_ARTICLES * len(titles))))
    return {titles[i] for i in order[:n_test]}


def spa_eng_test_sources(english: Sequence[str]) -> set[str]:
    """The English sentences chapter 10 tests translation on: ``split_pairs_by_source``'s rule.

    Args:
        english: the English side of the pairs, in file order (repeats are fine).

    Returns:
        The set of held-out sentences.

    Example:

    >>> len(spa_eng_test_sources([f"s{i}" for i in range(100)]))
    5
    """
    sources = list(dict.fromkeys(english))
    order = np.random.default_rng(SPA_ENG_SEED).permutation(len(sources))
    n_test = max(1, int(round(SPA_ENG_TEST_FRACTION * len(sources))))
    return {sources[i] for i in order[:n_test]}


def chat_validation_indices(count: int) -> set[int]:
    """Which valid_freq conversations chapter 09 holds out for its validation perplexity.

    Args:
        count: the number of conversations (539 in valid_freq).

    Returns:
        Their indices.

    Example:

    >>> len(chat_validation_indices(539))
    54
    """
    order = np.random.default_rng(CHAT_SEED).permutation(count)
    return set(order[: max(1, int(round(CHAT_HELD_OUT * count)))].tolist())


def _conversation(turns) -> str:
    speakers = {}
    for speaker, _ in turns:
        speakers.setdefault(speaker, "AB"[min(len(speakers), 1)])
    return "\n".join(f"{speakers[s]}: {message}" for s, message in turns)


def _squad_article(article: dict) -> str:
    # Each paragraph followed by the questions asked about it, one per line.
    return "\n\n".join(
        p["context"] + "".join("\n" + q["question"] for q in p["qas"])
        for p in article["paragraphs"]
    )


def _tinyshakespeare():
    text = data.load_tiny_shakespeare()
    cut = int(len(text) * SHAKESPEARE_TRAIN_FRACTION)
    return (text[:cut],), (text[cut:],)


def _rt_polarity():
    texts, _ = data.load_rt_polarity()
    return (), _line_documents(texts)


def _squad():
    articles = data.read_json("squad-v1.1", "dev-v1.1.json")["data"]
    held = squad_test_titles([a["title"] for a in articles])
    train = tuple(_squad_article(a) for a in articles if a["title"] not in held)
    return train, tuple(_squad_article(a) for a in articles if a["title"] in held)


def _spa_eng():
    english = list(dict.fromkeys(en for en, _ in data.load_spa_eng()))
    held = spa_eng_test_sources(english)
    train = [s for s in english if s not in held]
    return _line_documents(train), _line_documents([s for s in english if s in held])


def _multi30k():
    train = [en for en, _ in data.load_multi30k("train")]
    heldout = [en for split in ("val", "test") for en, _ in data.load_multi30k(split)]
    return _line_documents(train), _line_documents(heldout)


def _lee_corpus():
    return tuple(data.load_lee_corpus("background")), tuple(data.load_lee_corpus("test"))


def _dialogsum():
    train = tuple(f"{d['dialogue']}\nSummary: {d['summary']}" for d in data.load_dialogsum("dev"))
    test = tuple(f"{d['dialogue']}\nSummary: {d['summary1']}" for d in data.load_dialogsum("test"))
    return train, test


def _topical_chat():
    valid = data.load_topical_chat("valid")
    held = chat_validation_indices(len(valid))
    train = tuple(_conversation(c) for i, c in enumerate(valid) if i not in held)
    heldout = [_conversation(c) for i, c in enumerate(valid) if i in held]
    heldout += [_conversation(c) for c in data.load_topical_chat("test")]
    return train, tuple(heldout)


_SOURCES = {
    "tinyshakespeare": (
        _tinyshakespeare,
        "the last 10% of the characters (chapters 04-07, 09, 13, 14 validate there)",
    ),
    "rt-polarity": (
        _rt_polarity,
        "every sentence (chapters 02, 07, 08, 13, 14 test on four different splits)",
    ),
    "squad-v1.1": (
        _squad,
        "chapter 11's test articles (split_by_article, 20%, seed 11)",
    ),
    "spa-eng": (
        _spa_eng,
        "chapter 10's test sentences (split_pairs_by_source, 5%, seed 10); English side only",
    ),
    "multi30k": (_multi30k, "the val and 2016 test captions; English side only"),
    "lee-corpus": (_lee_corpus, "the 50 test documents"),
    "dialogsum": (_dialogsum, "the test file (chapter 10 evaluates on it)"),
    "topical-chat": (
        _topical_chat,
        "test_freq, and the 10% of valid_freq chapter 09 validates on (seed 9)",
    ),
}


@lru_cache(maxsize=1)
def _full_corpus() -> tuple[CorpusSource, ...]:
    out = []
    for name, (build, rule) in _SOURCES.items():
        train, heldout = build()
        out.append(CorpusSource(name, data.info(name).license, rule, tuple(train), tuple(heldout)))
    return tuple(out)


def _cap(documents: tuple[str, ...], max_chars: int | None) -> tuple[str, ...]:
    if max_chars is None:
        return documents
    out, left = [], max_chars
    for doc in documents:
        if left <= 0:
            break
        out.append(doc[:left])
        left -= len(out[-1])
    return tuple(out)


def load_corpus(max_chars_per_source: int | None = None) -> tuple[CorpusSource, ...]:
    """The pretraining corpus: every English source the course registers, split.

    The split rules are in the module's docstring. Loading reads the verified dataset files
    (see ``course_lib.data``) once per process.

    Args:
        max_chars_per_source: keep only the first this many characters of each side (train,
            held-out) of each source, whole documents first; ``None`` keeps everything. The
            smoke profile uses it to stay small.

    Returns:
        A tuple of :class:`CorpusSource`, in a fixed order.

    Example:
    ```python
    for source in load_corpus():
        print(source.name, source.train_chars, source.heldout_chars)
    ```
    """
    if max_chars_per_source is not None and max_chars_per_source < 1:
        raise ValueError(
            f"max_chars_per_source must be a positive number of characters or None (all), "
            f"got {max_chars_per_source}"
        )
    return tuple(
        dataclasses.replace(
            s,
            train=_cap(s.train, max_chars_per_source),
            heldout=_cap(s.heldout, max_chars_per_source),
        )
        for s in _full_corpus()
    )


def corpus_table(corpus: Sequence[CorpusSource] | None = None) -> list[tuple[str, str, int, int]]:
    """The corpus's sources with their licences and sizes.

    Args:
        corpus: the sources (default: the full corpus, :func:`load_corpus`).

    Returns:
        One ``(source, license, train chars, held-out chars)`` tuple per source.

    Example:
    ```python
    for name, license, train, heldout in corpus_table():
        print(f"{name:16} {train:>10,} {heldout:>10,}  {license}")
    ```
    """
    corpus = load_corpus() if corpus is None else corpus
    return [(s.name, s.license, s.train_chars, s.heldout_chars) for s in corpus]


def corpus_fingerprint(corpus: Sequence[CorpusSource]) -> str:
    """SHA-256 of the corpus's text and split: what the token caches and a resume are keyed by.

    Example:

    >>> len(corpus_fingerprint([CorpusSource("toy", "CC0", "-", ("a",), ("b",))]))
    64
    """
    h = hashlib.sha256()
    for s in corpus:
        h.update(f"\x00source {s.name}\x00".encode())
        for side, docs in (("train", s.train), ("heldout", s.heldout)):
            h.update(f"\x00{side} {len(docs)}\x00".encode())
            for doc in docs:
                h.update(doc.encode("utf-8"))
                h.update(b"\x00")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def train_tokenizer(corpus: Sequence[CorpusSource], vocab_size: int) -> BPETokenizer:
    """Trains the byte-level BPE tokenizer on the training documents only.

    Args:
        corpus: the sources.
        vocab_size: ids in all: 256 bytes, the merges, and ``<|endoftext|>``.

    Returns:
        A ``BPETokenizer`` with ``<|endoftext|>`` as its special token.

    Example:

    >>> toy = [CorpusSource("toy", "CC0", "-", ("low lower lowest " * 5,), ("low",))]
    >>> train_tokenizer(toy, 260).vocab_size
    260
    """
    documents = [doc for s in corpus for doc in s.train]
    return BPETokenizer.from_text(documents, vocab_size, special_tokens=[END_OF_TEXT])


def token_byte_lengths(tokenizer: BPETokenizer) -> np.ndarray:
    """How many bytes of text each id stands for (0 for special tokens such as end-of-text).

    Every character of a byte-level token spells one byte (``bytes_to_unicode``), so a
    token's length is its byte count.

    Args:
        tokenizer: a ``BPETokenizer``.

    Returns:
        An int64 array of length ``vocab_size``.

    Example:

    >>> tok = BPETokenizer.from_text("héllo héllo", 260, special_tokens=[END_OF_TEXT])
    >>> ids = tok.encode("héllo" + END_OF_TEXT)
    >>> int(token_byte_lengths(tok)[ids].sum()) == len("héllo".encode())
    True
    """
    special = set(tokenizer.special_tokens)
    return np.array(
        [
            0 if (t := tokenizer.id_to_token(i)) in special else len(t)
            for i in range(tokenizer.vocab_size)
        ],
        dtype=np.int64,
    )


@dataclasses.dataclass
class CorpusTokens:
    """The corpus as token ids: all training text in one array, all held-out text in another.

    Every document starts with ``<|endoftext|>``; the sources follow one another in corpus
    order, and ``train_spans`` / ``heldout_spans`` give each source's ``[start, end)``.

    Args:
        train: 1-D int32 array of training ids.
        heldout: 1-D int32 array of held-out ids.
        train_spans: source name to ``(start, end)`` in ``train``.
        heldout_spans: source name to ``(start, end)`` in ``heldout``.
        byte_lengths: bytes per id (:func:`token_byte_lengths`).

    Example:
    ```python
    tokens = encode_corpus(load_corpus(), tokenizer)
    tokens.tokens_per_byte("heldout")
    ```
    """

    train: np.ndarray
    heldout: np.ndarray
    train_spans: dict[str, tuple[int, int]]
    heldout_spans: dict[str, tuple[int, int]]
    byte_lengths: np.ndarray

    def num_bytes(self, side: str, source: str | None = None) -> int:
        """Bytes of text in ``side`` (``"train"`` or ``"heldout"``), or in one source of it."""
        ids = self.ids(side, source)
        return int(self.byte_lengths[ids].sum())

    def tokens_per_byte(self, side: str) -> float:
        """Tokens per byte of text on ``side``: converts nats per token into nats per byte."""
        return len(self.ids(side)) / max(1, self.num_bytes(side))

    def ids(self, side: str, source: str | None = None) -> np.ndarray:
        """The token ids of ``side`` (``"train"`` or ``"heldout"``), or of one source of it."""
        if side not in ("train", "heldout"):
            raise ValueError(f"side must be 'train' or 'heldout', got {side!r}")
        ids = getattr(self, side)
        if source is None:
            return ids
        start, end = getattr(self, f"{side}_spans")[source]
        return ids[start:end]


def _encode_side(corpus, side, tokenizer, eot):
    parts, spans, at = [], {}, 0
    for s in corpus:
        start = at
        for doc in getattr(s, side):
            ids = tokenizer.encode(doc)
            parts.append(np.concatenate([[eot], ids]).astype(np.int32))
            at += len(ids) + 1
        spans[s.name] = (start, at)
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    return ids.astype(np.int32), spans


def _save_npz_atomically(path: Path, **arrays) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def encode_corpus(
    corpus: Sequence[CorpusSource], tokenizer: BPETokenizer, cache_dir=None
) -> CorpusTokens:
    """Encodes every document, with ``<|endoftext|>`` before each.

    Args:
        corpus: the sources.
        tokenizer: a ``BPETokenizer`` with ``<|endoftext|>``.
        cache_dir: a folder to keep the ids in, under a name made from the corpus's and the
            tokenizer's hashes (so a cache is never used for other text or another tokenizer);
            ``None`` keeps none. Encoding the full corpus takes a minute or two.

    Returns:
        A :class:`CorpusTokens`.

    Example:

    >>> toy = [CorpusSource("toy", "CC0", "-", ("low lower", "lowest"), ("low",))]
    >>> tokens = encode_corpus(toy, train_tokenizer(toy, 260))
    >>> tokens.train_spans, tokens.num_bytes("heldout")
    ({'toy': (0, 9)}, 3)
    """
    eot = tokenizer.token_to_id(END_OF_TEXT)
    lengths = token_byte_lengths(tokenizer)
    key = hashlib.sha256(
        (corpus_fingerprint(corpus) + json.dumps(tokenizer.get_config(), sort_keys=True)).encode()
    ).hexdigest()[:16]
    path = Path(cache_dir) / f"tokens-{key}.npz" if cache_dir is not None else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as z:
            names = [str(n) for n in z["names"]]
            return CorpusTokens(
                z["train"].astype(np.int32),
                z["heldout"].astype(np.int32),
                {n: tuple(int(v) for v in z["train_spans"][i]) for i, n in enumerate(names)},
                {n: tuple(int(v) for v in z["heldout_spans"][i]) for i, n in enumerate(names)},
                lengths,
            )
    train, train_spans = _encode_side(corpus, "train", tokenizer, eot)
    heldout, heldout_spans = _encode_side(corpus, "heldout", tokenizer, eot)
    tokens = CorpusTokens(train, heldout, train_spans, heldout_spans, lengths)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        small = np.uint16 if tokenizer.vocab_size <= 2**16 else np.int32  # halves the file
        names = [s.name for s in corpus]
        _save_npz_atomically(
            path,
            train=train.astype(small),
            heldout=heldout.astype(small),
            names=np.array(names),
            train_spans=np.array([train_spans[n] for n in names], dtype=np.int64),
            heldout_spans=np.array([heldout_spans[n] for n in names], dtype=np.int64),
        )
    return tokens


# ---------------------------------------------------------------------------------------------
# Bits per byte
# ---------------------------------------------------------------------------------------------


def bits_per_byte(nats_per_token: float, num_tokens: int, num_bytes: int) -> float:
    """Cross-entropy in bits per byte of text: ``nats_per_token * num_tokens / num_bytes / ln 2``.

    A loss per token depends on the tokenizer (longer tokens, more nats each); per byte of
    text it does not, so a character model, a BPE model and an n-gram model compare.

    Args:
        nats_per_token: mean loss per token, in nats (Keras's cross-entropy).
        num_tokens: how many tokens the mean is over.
        num_bytes: the UTF-8 bytes of text those tokens spell.

    Returns:
        Bits per byte.

    Example:

    >>> round(bits_per_byte(math.log(2), num_tokens=4, num_bytes=8), 6)  # 1 bit/token
    0.5
    """
    if num_tokens < 1 or num_bytes < 1:
        raise ValueError(
            f"num_tokens and num_bytes must be positive, got {num_tokens} and {num_bytes}; "
            "score at least one token of non-empty text"
        )
    if not nats_per_token >= 0:
        raise ValueError(f"nats_per_token must be a loss >= 0, got {nats_per_token}")
    return float(nats_per_token) * num_tokens / num_bytes / math.log(2)


def _eval_slices(tokens: CorpusTokens, per_source: int) -> dict[str, np.ndarray]:
    # The first `per_source` held-out tokens of each source: the same text for every model.
    out = {}
    for name, (start, end) in tokens.heldout_spans.items():
        ids = tokens.heldout[start : min(end, start + per_source)]
        if len(ids) >= 2:
            out[name] = ids
    return out


def _bpb_table(nll: dict[str, float], nbytes: dict[str, int], counts: dict[str, int]) -> dict:
    by_source = {
        n: bits_per_byte(nll[n] / counts[n], counts[n], nbytes[n]) for n in nll if nbytes[n]
    }
    total, total_bytes, total_count = sum(nll.values()), sum(nbytes.values()), sum(counts.values())
    return {
        "all": bits_per_byte(total / total_count, total_count, total_bytes),
        "by_source": by_source,
        "tokens_scored": total_count,
        "bytes_scored": total_bytes,
    }


def evaluate_bits_per_byte(model, tokens: CorpusTokens, tokens_per_source: int,
                           *, batch_size: int = 16) -> dict:
    """The model's bits per byte on the first held-out tokens of each source.

    Every token after a slice's first is scored once, with up to a full window of context
    (``course_lib.generation.token_log_probs``, windows overlapping by half).

    Args:
        model: a ``course_lib.gpt.GPT`` for the corpus's tokenizer.
        tokens: the :class:`CorpusTokens`.
        tokens_per_source: how many held-out tokens of each source to read.
        batch_size: windows per forward pass.

    Returns:
        ``{"all": bpb, "by_source": {name: bpb}, "tokens_scored": n, "bytes_scored": b}``.

    Example:
    ```python
    evaluate_bits_per_byte(model, corpus_tokens(), 16_384)["all"]
    ```
    """
    from course_lib.generation import token_log_probs

    slices = _eval_slices(tokens, tokens_per_source)
    log_probs = token_log_probs(model, list(slices.values()), batch_size=batch_size)
    nll, nbytes, counts = {}, {}, {}
    for (name, ids), lp in zip(slices.items(), log_probs, strict=True):
        nll[name] = float(-lp.sum())
        nbytes[name] = int(tokens.byte_lengths[ids[1:]].sum())
        counts[name] = len(lp)
    return _bpb_table(nll, nbytes, counts)


NGRAM_K_GRID = (1.0, 0.1, 0.01, 0.001)


def _ngram_bpb(tokens: CorpusTokens, order: int, tokens_per_source: int, k=None) -> dict:
    from course_lib.ngram_lm import NGramLM

    vocab_size = len(tokens.byte_lengths)
    if k is None:
        # Choose the add-k constant on the last 5% of the training ids, never on held-out text.
        cut = int(len(tokens.train) * 0.95)
        fit, dev = tokens.train[:cut], tokens.train[cut:]
        k = min(NGRAM_K_GRID,
                key=lambda kk: NGramLM(order, vocab_size, kk).fit(fit).nll(dev)[0])
    lm = NGramLM(order, vocab_size, k).fit(tokens.train)
    nll, nbytes, counts = {}, {}, {}
    for name, ids in _eval_slices(tokens, tokens_per_source).items():
        nll[name], counts[name] = lm.nll(ids)
        nbytes[name] = int(tokens.byte_lengths[ids[1:]].sum())
    return {**_bpb_table(nll, nbytes, counts), "order": order, "k": k}


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """Everything a pretraining run is: data, tokenizer, model, schedule, evaluation.

    ``PretrainConfig.for_profile(name)`` gives the course's three sizes. A resumed run must
    have the same configuration as the run it continues (``pretrain`` checks it).

    Args:
        profile: the profile it was made for (``smoke``, ``cpu``, ``gpu``).
        vocab_size: BPE ids, ``<|endoftext|>`` included.
        max_chars_per_source: cap on each side of each source (None: all the text).
        context_length, num_layers, num_heads, width, dropout: the GPT.
        batch_size: windows per step.
        max_steps, warmup_steps, learning_rate, min_learning_rate, weight_decay: the
            optimizer and its warm-up/cosine schedule (``course_lib.training``).
        eval_interval: steps between evaluations (and checkpoints).
        eval_batches: held-out batches per evaluation.
        log_interval: steps between progress lines.
        sample_interval: steps between saved samples; a multiple of ``eval_interval``.
        sample_tokens: tokens per sample.
        eval_tokens_per_source: held-out tokens per source in the final evaluation.
        ngram_orders: n-gram baselines scored on the same text at the end.
        jit_compile: compile the training step with XLA.
        mixed_precision: ``None`` or ``"mixed_bfloat16"`` (GPU).
        seed: seeds the weights and the batches.

    Example:

    >>> config = PretrainConfig.for_profile("smoke")
    >>> config.max_steps, config.gpt_config().num_layers
    (6, 1)
    """

    profile: str
    vocab_size: int
    max_chars_per_source: int | None
    context_length: int
    num_layers: int
    num_heads: int
    width: int
    batch_size: int
    max_steps: int
    warmup_steps: int
    learning_rate: float
    min_learning_rate: float
    eval_interval: int
    eval_batches: int
    log_interval: int
    sample_interval: int
    sample_tokens: int
    eval_tokens_per_source: int
    ngram_orders: tuple[int, ...] = (1, 2, 3)
    dropout: float = 0.0
    weight_decay: float = 0.1
    jit_compile: bool = False
    mixed_precision: str | None = None
    seed: int = 1337

    def __post_init__(self):
        if self.profile not in PROFILE_NAMES:
            raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {self.profile!r}")
        if self.vocab_size < 258:
            raise ValueError(
                f"vocab_size {self.vocab_size} leaves no room for merges: byte-level BPE needs "
                "256 byte ids plus <|endoftext|>; use at least 300 (the cpu profile uses 4096)"
            )
        for name in ("batch_size", "eval_tokens_per_source", "sample_tokens", "log_interval"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.sample_interval < 1 or self.sample_interval % self.eval_interval:
            raise ValueError(
                f"sample_interval ({self.sample_interval}) must be a positive multiple of "
                f"eval_interval ({self.eval_interval}): samples are taken at evaluations"
            )
        if not self.ngram_orders or min(self.ngram_orders) < 1:
            raise ValueError(f"ngram_orders must list orders >= 1, got {self.ngram_orders}")
        self.gpt_config()  # checks the model's fields (heads divide the width, ...)
        self.train_config()  # checks the schedule (warm-up shorter than the run, ...)

    @classmethod
    def for_profile(cls, profile: str | Profile | None = None) -> PretrainConfig:
        """The course's configuration for a profile (default: the active one).

        Example:

        >>> PretrainConfig.for_profile("gpu").width
        512
        """
        p = Profile(str(profile)) if profile is not None else active_profile()
        return cls(**p.pick(smoke=SMOKE, cpu=CPU, gpu=GPU), profile=p.name)

    def gpt_config(self, vocab_size: int | None = None):
        """The ``GPTConfig`` (for the tokenizer's ``vocab_size`` if given)."""
        from course_lib.gpt import GPTConfig

        return GPTConfig(
            vocab_size=vocab_size or self.vocab_size, context_length=self.context_length,
            num_layers=self.num_layers, num_heads=self.num_heads, width=self.width,
            dropout=self.dropout,
        )

    def train_config(self):
        """The ``TrainConfig`` for ``course_lib.training.Trainer``."""
        from course_lib.training import TrainConfig

        return TrainConfig(
            max_steps=self.max_steps, learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate, warmup_steps=self.warmup_steps,
            weight_decay=self.weight_decay, eval_interval=self.eval_interval,
            eval_batches=self.eval_batches, keep_checkpoints=2, jit_compile=self.jit_compile,
            mixed_precision=self.mixed_precision, verbose=0,
        )

    def to_dict(self) -> dict:
        """The configuration as JSON-ready data."""
        out = dataclasses.asdict(self)
        out["ngram_orders"] = list(self.ngram_orders)
        return out


SMOKE = dict(
    vocab_size=300, max_chars_per_source=3000, context_length=32, num_layers=1, num_heads=2,
    width=32, batch_size=4, max_steps=6, warmup_steps=1, learning_rate=3e-3,
    min_learning_rate=3e-4, eval_interval=2, eval_batches=2, log_interval=2, sample_interval=4,
    sample_tokens=8, eval_tokens_per_source=128, ngram_orders=(1, 2),
)
# The cpu model: 6 layers of width 256, context 256, 4,096 BPE ids: 5,853,184 parameters
# (4.7 M in the blocks, 1.05 M in the tied embedding). The training text is 2.9 M tokens
# (3.4 bytes per token), so 1,400 steps of 16 x 256 = 4,096 tokens read 5.7 M tokens: two
# passes. Time: a training step costs ~6 x (4.74 M + 1.05 M head) + 12 x 6 x 256 x 256
# = 39.5 MFLOP per token. benchmarks/results/char_gpt_cpu.json measured 13,442 tokens/s for a
# 0.81 M model at ~5.2 MFLOP per token with XLA on 2 quiet cores, about 70 GFLOP/s; at that rate
# this model reads ~1,770 tokens/s, 2.3 s a step, 54 min for the 1,400 steps, plus 20
# evaluations (~5 s each after the first, which compiles), samples and the final evaluation
# (~2 min): about an hour on a quiet 2-core machine, and up to 2-2.5 hours when other work
# shares the cores, as in char_gpt_cpu_loaded.json (2.5x slower). Dropout stays 0: two passes barely overfit, and
# with dropout a resumed run would not repeat the losses exactly.
CPU = dict(
    vocab_size=4096, max_chars_per_source=None, context_length=256, num_layers=6, num_heads=4,
    width=256, batch_size=16, max_steps=1400, warmup_steps=100, learning_rate=6e-4,
    min_learning_rate=6e-5, eval_interval=70, eval_batches=8, log_interval=10,
    sample_interval=350, sample_tokens=48, eval_tokens_per_source=16_384, jit_compile=True,
)
# The gpu model: 8 layers of width 512, context 512, 8,192 ids: ~29.6 M parameters; 32 x 512
# tokens a step, 2,000 steps (~12 passes over ~2.6 M tokens, so dropout 0.1 against
# overfitting; a resume then agrees with an uninterrupted run only statistically). A few
# minutes on one modern GPU.
GPU = dict(
    vocab_size=8192, max_chars_per_source=None, context_length=512, num_layers=8, num_heads=8,
    width=512, batch_size=32, max_steps=2000, warmup_steps=200, learning_rate=6e-4,
    min_learning_rate=6e-5, eval_interval=100, eval_batches=20, log_interval=20,
    sample_interval=500, sample_tokens=64, eval_tokens_per_source=65_536, dropout=0.1,
    jit_compile=True, mixed_precision="mixed_bfloat16", ngram_orders=(1, 2, 3),
)


# ---------------------------------------------------------------------------------------------
# Pretraining
# ---------------------------------------------------------------------------------------------


class _Log:
    """Progress lines on stdout, flushed at once (a run under nohup writes them to a file)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, message: str) -> None:
        if self.enabled:
            stamp = datetime.now().strftime("%H:%M:%S")
            print(f"[{stamp}] {message}", flush=True)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _samples(model, tokenizer, step: int, config: PretrainConfig) -> dict:
    from course_lib.generation import generate

    eot = tokenizer.token_to_id(END_OF_TEXT)
    rows = []
    for i, prompt in enumerate(SAMPLE_PROMPTS):
        ids = [eot, *tokenizer.encode(prompt).tolist()]
        row = {"prompt": prompt}
        for label, kwargs in (("greedy", {"temperature": 0.0}),
                              ("top_p", {"temperature": 0.8, "top_p": 0.9, "seed": i})):
            new = generate(model, ids, config.sample_tokens, stop_token=eot, jit_compile=False,
                           **kwargs)
            row[label] = tokenizer.decode([t for t in new if t != eot])
        rows.append(row)
    return {"step": step, "samples": rows}


def _prepare_data(corpus, config: PretrainConfig, cache: Path, log: _Log):
    tok_path = cache / f"bpe-{config.vocab_size}-{corpus_fingerprint(corpus)[:16]}.json"
    if tok_path.exists():
        tokenizer = BPETokenizer.load(tok_path)
    else:
        chars = sum(s.train_chars for s in corpus)
        log(f"training the BPE tokenizer ({config.vocab_size} ids) on {chars:,} characters")
        start = time.perf_counter()
        tokenizer = train_tokenizer(corpus, config.vocab_size)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = tok_path.with_name(f".{tok_path.name}.{os.getpid()}.tmp")
        tokenizer.save(tmp)
        os.replace(tmp, tok_path)
        log(f"tokenizer trained in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    tokens = encode_corpus(corpus, tokenizer, cache_dir=cache)
    log(f"{len(tokens.train):,} training and {len(tokens.heldout):,} held-out tokens "
        f"({time.perf_counter() - start:.0f} s; cached in {cache})")
    return tokenizer, tokens


class ResumeMismatchError(RuntimeError):
    """The checkpoints in a run folder belong to another configuration or corpus."""


class RunInProgressError(RuntimeError):
    """Another process is pretraining into the same folder."""


class _FolderLock:
    """One pretraining process per folder: two would overwrite each other's checkpoints (a
    restart while the old run still lives, say). The folder's ``.pretrain.pid`` names the
    process; a killed run leaves it behind, and a dead process's file is taken over."""

    def __init__(self, folder: Path):
        self.path = folder / ".pretrain.pid"

    def __enter__(self):
        try:
            pid = int(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != os.getpid() and process_alive(pid):
            raise RunInProgressError(
                f"Another pretraining process (pid {pid}) is writing to {self.path.parent}. "
                f"Wait for it to finish, or stop it (kill {pid}) and run this command again: "
                "it resumes from the last checkpoint."
            )
        write_text_atomically(self.path, str(os.getpid()))
        return self

    def __exit__(self, *exc):
        try:
            if self.path.read_text(encoding="utf-8") == str(os.getpid()):
                self.path.unlink()
        except OSError:
            pass


def _differences(saved, expected: dict) -> str:
    if not isinstance(saved, dict):
        return "no configuration recorded"
    found = [f"{k}: {saved.get(k)!r} there, {v!r} here" for k, v in expected.items()
             if saved.get(k) != v]
    return "; ".join(found[:4])


def _finished_record(out: Path, identity: dict) -> dict | None:
    """The run record of a finished run of this configuration in ``out``, if there is one."""
    path = out / "run.json"
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResumeMismatchError(
            f"{path} is damaged ({exc}); start over with --no-resume, or restore it."
        ) from exc
    saved = {**record.get("config", {}), "corpus_sha256": record.get("corpus_sha256")}
    if saved == identity:
        return record
    raise ResumeMismatchError(
        f"{out} holds a finished model of another run ({_differences(saved, identity)}). "
        "Replace it with --no-resume (pretrain(..., resume=False)), or write this run "
        "elsewhere with --out DIR."
    )


def _check_resumable(ckpt_dir: Path, expected: dict) -> None:
    from course_lib.training import CheckpointManager

    if not (ckpt_dir / CheckpointManager.STATE).exists():
        return
    saved = CheckpointManager(ckpt_dir).latest().get("extra", {}).get("run_identity")
    if saved == expected:
        return
    raise ResumeMismatchError(
        f"The checkpoints in {ckpt_dir} come from another run ({_differences(saved, expected)}), "
        "so resuming would mix two runs. Start over with --no-resume (pretrain(..., "
        "resume=False)), or write this run elsewhere with --out DIR."
    )


def pretrain(
    profile: str | PretrainConfig | None = None,
    out_dir=None,
    *,
    resume: bool = True,
    progress: bool = True,
    max_minutes: float | None = None,
    corpus: Sequence[CorpusSource] | None = None,
    on_evaluation: Callable[[dict], bool | None] | None = None,
) -> dict:
    """Pretrains the course foundation model and writes the artifact; resumes where it stopped.

    Steps: the corpus (:func:`load_corpus`), the BPE tokenizer (trained on the training text,
    cached), the token ids (cached in ``out_dir/cache``), then training with the course
    ``Trainer``: AdamW with warm-up and cosine decay, an evaluation on held-out text every
    ``eval_interval`` steps (loss and bits per byte), a checkpoint after each (in
    ``out_dir/checkpoints``, written atomically), samples every ``sample_interval`` steps.
    A run that is killed, or stopped by ``max_minutes``, continues from its last checkpoint
    when called again, with the same batches, so the losses are those of an uninterrupted run.
    At the end: the per-source held-out bits per byte of the model and of the n-gram
    baselines on the same text, and the artifact in ``out_dir``: ``model.keras`` (weights
    only, no optimizer state), ``tokenizer.json``, ``run.json`` (written last; it holds the
    files' SHA-256) and ``MODEL_CARD.md``.

    Args:
        profile: a profile name or a :class:`PretrainConfig` (default: the active profile).
        out_dir: where the run and the artifact go (default ``artifacts/foundation``; the
            smoke profile must name another folder, so a test never replaces the real model).
        resume: continue from the checkpoints in ``out_dir`` if there are any; ``False``
            deletes them (and the artifact's files) and starts over.
        progress: print progress lines (step, loss, tokens/s, ETA).
        max_minutes: stop at the first checkpoint after this many minutes; run again to go on.
        corpus: the sources to train on (default: :func:`load_corpus` at the profile's cap).
        on_evaluation: called with each evaluation's row (``step``, ``train_loss``,
            ``val_loss``, ``val_bpb``, ...); returning True stops the run after that row's
            checkpoint, as ``max_minutes`` does.

    Returns:
        The run record: ``run.json``'s content when the run is complete (``"status":
        "complete"``; a folder that already holds this run's finished model returns its
        record without training), or ``{"status": "stopped", "step": ..., ...}`` when it
        stopped early.

    Raises:
        ResumeMismatchError: ``out_dir`` holds checkpoints or a finished model of a run with
            another configuration or corpus (the message says how to start over).
        RunInProgressError: another live process is pretraining into ``out_dir``.

    Example:
    ```python
    record = pretrain("cpu")                        # about an hour on 2 quiet cores
    record = pretrain("smoke", "/tmp/foundation")   # seconds; numbers mean nothing
    ```
    """
    config = profile if isinstance(profile, PretrainConfig) else PretrainConfig.for_profile(profile)
    if out_dir is None and config.profile == "smoke":
        raise ValueError(
            "A smoke run would replace the course's foundation model in artifacts/foundation; "
            "give it another folder (--out DIR), or use --profile cpu."
        )
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be a positive number of minutes, got {max_minutes}")
    out = Path(out_dir) if out_dir is not None else DEFAULT_ARTIFACT_DIR
    out.mkdir(parents=True, exist_ok=True)
    with _FolderLock(out):
        return _pretrain(config, out, resume, _Log(progress), max_minutes, corpus,
                         on_evaluation)


def _pretrain(config, out, resume, log, max_minutes, corpus, on_evaluation) -> dict:
    import keras

    from course_lib.gpt import GPT
    from course_lib.reproducibility import seed_everything
    from course_lib.training import LMBatches, Trainer

    ckpt_dir = out / "checkpoints"
    started = time.perf_counter()
    if not resume:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        for name in ("model.keras", "tokenizer.json", "run.json", "MODEL_CARD.md"):
            (out / name).unlink(missing_ok=True)

    corpus = load_corpus(config.max_chars_per_source) if corpus is None else tuple(corpus)
    identity = {**config.to_dict(), "corpus_sha256": corpus_fingerprint(corpus)}
    finished = _finished_record(out, identity)
    if finished is not None:
        log(f"{out} already holds the finished model of this configuration; nothing to do "
            "(--no-resume trains it again)")
        return finished
    _check_resumable(ckpt_dir, identity)
    tokenizer, tokens = _prepare_data(corpus, config, out / "cache", log)

    previous_policy = keras.mixed_precision.dtype_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_dtype_policy(config.mixed_precision)
    try:
        seed_everything(config.seed)
        model = GPT(config.gpt_config(tokenizer.vocab_size))
        trainer = Trainer(model, config.train_config(), checkpoint_dir=ckpt_dir)
        trainer.extra_state = {"run_identity": identity, "losses": [], "samples": [],
                               "wall_s": 0.0, "sessions": []}
        tokens_per_step = config.batch_size * config.context_length
        train_size = (len(tokens.train), tokens.num_bytes("train"))
        heldout_size = (len(tokens.heldout), tokens.num_bytes("heldout"))
        passes = config.max_steps * tokens_per_step / len(tokens.train)
        log(f"model: {model.count_params():,} parameters; {config.max_steps} steps of "
            f"{tokens_per_step:,} tokens = {passes:.1f} passes over the training text")
        session = {"start": time.perf_counter(), "wall_before": None, "t_log": None,
                   "step_log": None, "recent": []}

        def on_step(step, loss, seconds):
            extra = trainer.extra_state
            if session["wall_before"] is None:  # the first step of this process
                session["wall_before"] = float(extra.get("wall_s", 0.0))
                session["t_log"], session["step_log"] = time.perf_counter(), step - 1
                extra.setdefault("sessions", []).append(
                    {"date": _now(), "from_step": step - 1})
                if step > 1:
                    log(f"resumed from the checkpoint at step {step - 1}")
            # Restored with the checkpoint, so it holds exactly the steps before this one.
            extra.setdefault("losses", []).append(loss)
            session["recent"].append((loss, seconds))
            if step % config.log_interval == 0 or step == config.max_steps:
                now = time.perf_counter()
                # Speed from the steps alone; the ETA from the wall clock, which also counts
                # evaluations, checkpoints and samples.
                losses_, seconds_ = zip(*session["recent"], strict=True)
                per_step = (now - session["t_log"]) / max(1, step - session["step_log"])
                log(f"step {step:>6}/{config.max_steps}  loss {np.mean(losses_):.4f}  "
                    f"{tokens_per_step / np.median(seconds_):,.0f} tokens/s  "
                    f"ETA {_duration(per_step * (config.max_steps - step))}")
                session["t_log"], session["step_log"], session["recent"] = now, step, []

        def on_eval(row):
            extra = trainer.extra_state
            step = row["step"]
            # The losses are means per token over random windows; the token/byte ratio of
            # the whole text turns them into bits per byte.
            row["train_bpb"] = bits_per_byte(row["train_loss"], *train_size)
            row["val_bpb"] = bits_per_byte(row["val_loss"], *heldout_size)
            extra["wall_s"] = (session["wall_before"] or 0.0) + time.perf_counter() - session[
                "start"]
            log(f"eval at step {step}: held-out loss {row['val_loss']:.4f} nats/token = "
                f"{row['val_bpb']:.3f} bits/byte (train {row['train_bpb']:.3f})")
            if step % config.sample_interval == 0 or step == config.max_steps:
                samples = [s for s in extra.get("samples", []) if s["step"] != step]
                extra["samples"] = samples + [_samples(model, tokenizer, step, config)]
                log(f"sample at step {step}: {extra['samples'][-1]['samples'][0]['top_p']!r}")
            stop = bool(on_evaluation(row)) if on_evaluation is not None else False
            if max_minutes is not None and time.perf_counter() - started >= max_minutes * 60:
                log(f"{max_minutes:g} minutes are up: stopping after the checkpoint at step "
                    f"{step}; run the same command again to continue")
                stop = True
            if stop and step < config.max_steps:
                trainer.request_stop()

        history = trainer.fit(
            LMBatches(tokens.train, config.context_length, config.batch_size, seed=config.seed),
            LMBatches(tokens.heldout, config.context_length, config.batch_size,
                      seed=config.seed + 1),
            on_step=on_step,
            on_eval=on_eval,
        )
        if trainer.step < config.max_steps:
            return {"status": "stopped", "step": trainer.step, "max_steps": config.max_steps,
                    "out_dir": str(out), "history": history}
        return _finish(model, tokenizer, tokens, corpus, config, trainer, out, log)
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _finish(model, tokenizer, tokens, corpus, config, trainer, out: Path, log: _Log) -> dict:
    import keras
    import tensorflow as tf

    from course_lib.gpt import GPT
    from course_lib.memory import machine_description
    from course_lib.model_io import save_model

    log(f"final evaluation on {config.eval_tokens_per_source:,} held-out tokens per source")
    heldout = evaluate_bits_per_byte(model, tokens, config.eval_tokens_per_source)
    ngrams = {str(n): _ngram_bpb(tokens, n, config.eval_tokens_per_source)
              for n in config.ngram_orders}
    log(f"held-out bits per byte: GPT {heldout['all']:.3f}; "
        + ", ".join(f"{n}-gram {r['all']:.3f}" for n, r in ngrams.items()))

    # The artifact holds the weights in float32 without the optimizer's state: a third of
    # the checkpoint's size, and what a chapter needs to load and fine-tune it.
    keras.mixed_precision.set_dtype_policy("float32")
    final = GPT(model.config)
    final.set_weights(model.get_weights())
    save_model(final, out / "model.keras")
    tmp = out / f".tokenizer.json.{os.getpid()}.tmp"
    tokenizer.save(tmp)
    os.replace(tmp, out / "tokenizer.json")

    extra = trainer.extra_state
    sources = []
    for s in corpus:
        t0, t1 = tokens.train_spans[s.name]
        h0, h1 = tokens.heldout_spans[s.name]
        sources.append({
            "source": s.name, "license": s.license, "held_out": s.rule,
            "train_chars": s.train_chars, "heldout_chars": s.heldout_chars,
            "train_tokens": t1 - t0, "heldout_tokens": h1 - h0,
            "train_bytes": tokens.num_bytes("train", s.name),
            "heldout_bytes": tokens.num_bytes("heldout", s.name),
        })
    tokens_seen = trainer.step * config.batch_size * config.context_length
    record = {
        "format": 1,
        "status": "complete",
        "date": _now(),
        "profile": config.profile,
        "config": config.to_dict(),
        "model": model.config.to_dict(),
        "parameters": int(model.count_params()),
        "tokenizer": {"vocab_size": tokenizer.vocab_size, "special_tokens":
                      tokenizer.special_tokens, "trained_on": "all training text"},
        "corpus": sources,
        "corpus_sha256": corpus_fingerprint(corpus),
        "steps": trainer.step,
        "tokens_seen": tokens_seen,
        "passes": tokens_seen / len(tokens.train),
        "wall_s": round(float(extra.get("wall_s", 0.0)), 1),
        "sessions": extra.get("sessions", []),
        "machine": {**machine_description(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "losses": extra.get("losses", []),
        "history": trainer.history,
        "bpb_curve": [{"step": r["step"], "val_bpb": r.get("val_bpb")} for r in trainer.history],
        "heldout_bpb": {**heldout, "tokens_per_source": config.eval_tokens_per_source},
        "ngram_bpb": ngrams,
        "samples": extra.get("samples", []),
        "files": {
            name: {"sha256": _sha256(out / name), "bytes": (out / name).stat().st_size}
            for name in ("model.keras", "tokenizer.json")
        },
    }
    write_text_atomically(out / "MODEL_CARD.md", model_card(record))
    # Last: run.json names the files' hashes, so an artifact without it is incomplete.
    write_text_atomically(out / "run.json", json.dumps(record, indent=1) + "\n")
    log(f"wrote {out / 'model.keras'}, tokenizer.json, run.json and MODEL_CARD.md")
    return record


# ---------------------------------------------------------------------------------------------
# The model card
# ---------------------------------------------------------------------------------------------


def corpus_markdown(rows: Sequence[dict]) -> str:
    """A Markdown table of the corpus from the run record's ``corpus`` entries.

    Example:

    >>> print(corpus_markdown([{"source": "toy", "license": "CC0", "held_out": "none",
    ...     "train_chars": 10, "heldout_chars": 2, "train_tokens": 4, "heldout_tokens": 1}]))
    | source | licence | train chars | train tokens | held-out chars | held-out tokens | held out |
    |---|---|--:|--:|--:|--:|---|
    | toy | CC0 | 10 | 4 | 2 | 1 | none |
    """
    lines = [
        "| source | licence | train chars | train tokens | held-out chars | held-out tokens "
        "| held out |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['license']} | {r['train_chars']:,} | {r['train_tokens']:,} "
            f"| {r['heldout_chars']:,} | {r['heldout_tokens']:,} | {r['held_out']} |"
        )
    return "\n".join(lines)


def model_card(record: dict) -> str:
    """``MODEL_CARD.md`` from a run record: data and licences, training, evaluation, limits.

    Args:
        record: the content of ``run.json``.

    Returns:
        The Markdown text.

    Example:
    ```python
    print(model_card(json.loads(Path("artifacts/foundation/run.json").read_text())))
    ```
    """
    m, cfg, machine = record["model"], record["config"], record["machine"]
    heldout, ngrams = record["heldout_bpb"], record["ngram_bpb"]
    names = list(heldout["by_source"])
    eval_rows = ["| model | " + " | ".join(names) + " | all |",
                 "|---|" + "--:|" * (len(names) + 1)]
    for label, r in [("GPT (this model)", heldout)] + [
        (f"{n}-gram, add-{v['k']:g}", v) for n, v in ngrams.items()
    ]:
        cells = " | ".join(f"{r['by_source'].get(n, float('nan')):.3f}" for n in names)
        eval_rows.append(f"| {label} | {cells} | {r['all']:.3f} |")
    samples = record["samples"][-1]["samples"] if record["samples"] else []
    sample_text = "\n\n".join(
        f"Prompt `{s['prompt']!r}`, top-p 0.9 at temperature 0.8:\n\n```text\n"
        f"{s['prompt']}{s['top_p']}\n```" for s in samples
    )
    gpus = ", ".join(machine.get("gpus") or []) or "none"
    return f"""# Model card: the course foundation model ({record['profile']} profile)

A decoder-only Transformer (`course_lib.gpt.GPT`) pretrained once on the English text the
course registers, so that later chapters can start from it. Load it with
`course_lib.pretraining.load_foundation()`, which checks the SHA-256 of `model.keras` and
`tokenizer.json` against `run.json` first. Made by `python -m course_lib pretrain --profile
{record['profile']}` on {record['date'][:10]}.

## Model

- {record['parameters']:,} parameters: {m['num_layers']} layers, width {m['width']}, \
{m['num_heads']} heads, context {m['context_length']} tokens, tied input/output embedding, \
dropout {m['dropout']}.
- Tokenizer: byte-level BPE with {record['tokenizer']['vocab_size']:,} ids (256 bytes, the \
merges, and `<|endoftext|>`, which starts every document), trained on the training text only.

## Training data

Every source with its licence (from `datasets/registry.json`) and its held-out rule: the
held-out text contains everything a chapter validates or tests on, and was never trained on.

{corpus_markdown(record['corpus'])}

## Training

{record['steps']:,} steps of {cfg['batch_size']} x {cfg['context_length']} tokens:
{record['tokens_seen']:,} tokens seen, {record['passes']:.2f} passes over the training text.
AdamW, peak learning rate {cfg['learning_rate']:g} after {cfg['warmup_steps']} warm-up steps,
cosine decay to {cfg['min_learning_rate']:g}, weight decay {cfg['weight_decay']}, gradients
clipped at norm 1. {_duration(record['wall_s'])} of training in
{len(record['sessions'])} session(s) on {machine.get('cpu')} ({machine.get('cores')} cores,
GPUs: {gpus}), TensorFlow {machine.get('tensorflow')}, Keras {machine.get('keras')}.

## Evaluation: bits per byte on held-out text

The first {heldout['tokens_per_source']:,} held-out tokens of each source (lower is better;
the n-gram models are trained on the same training tokens, with add-k smoothing chosen on
training text):

{chr(10).join(eval_rows)}

## Samples (last checkpoint)

{sample_text or '(none)'}

## Intended use

Teaching: the course's chapters load it to show fine-tuning, decoding, evaluation and
interpretability on a model that has seen more than one chapter's text. It is not meant for
any other use.

## Known limits

- Small: a few million parameters trained on a few million tokens. It writes locally fluent
  English in the styles of its sources (plays, Wikipedia paragraphs, short sentences, captions,
  chats, dialogues) but no reliable facts, and it repeats itself in long greedy outputs.
- English only; the translation sets' other sides are not in the data.
- Its data carries the sources' licences, several of which allow only non-commercial,
  educational or research use (see the table): use the model for teaching only.
- The sources' biases (the topics of 48 Wikipedia articles, news of one broadcaster,
  crowd-sourced chats, Elizabethan English) are in the model; nothing was filtered.
- Numbers on the held-out text are comparable between models only at the same profile.
"""


# ---------------------------------------------------------------------------------------------
# Loading the artifact
# ---------------------------------------------------------------------------------------------


class FoundationModelError(RuntimeError):
    """The foundation model's files are missing, incomplete or changed; the message says what
    to do."""


class Foundation(NamedTuple):
    """What :func:`load_foundation` returns: unpack it as ``model, tokenizer, record``."""

    model: object
    tokenizer: BPETokenizer
    record: dict


def _remedy(folder: Path) -> str:
    if folder.resolve() == DEFAULT_ARTIFACT_DIR.resolve():
        return REMEDY
    return f"run `python -m course_lib pretrain --profile cpu --out {folder}`"


def verify_foundation(path=None, files: Sequence[str] = ("model.keras", "tokenizer.json")) -> dict:
    """Checks the artifact's files against the SHA-256 that ``run.json`` records.

    Args:
        path: the artifact folder (default ``artifacts/foundation``).
        files: which files to check.

    Returns:
        The run record (``run.json``).

    Raises:
        FoundationModelError: ``run.json`` or a file is missing, or a file's hash differs;
            the message names the file and the remedy.

    Example:
    ```python
    record = verify_foundation()
    ```
    """
    folder = Path(path) if path is not None else DEFAULT_ARTIFACT_DIR
    remedy = _remedy(folder)
    run_file = folder / "run.json"
    if not run_file.exists():
        raise FoundationModelError(
            f"No foundation model in {folder}: {run_file.name} is missing (a run writes it "
            f"last, so the run never finished). To make it, {remedy} (about an hour on 2 "
            "cores; it resumes if interrupted)."
        )
    try:
        record = json.loads(run_file.read_text(encoding="utf-8"))
        recorded = {name: record["files"][name]["sha256"] for name in files}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FoundationModelError(
            f"{run_file} is damaged ({type(exc).__name__}: {exc}). Restore it with "
            f"`git checkout -- {run_file}`, or {remedy}."
        ) from exc
    for name, expected in recorded.items():
        file = folder / name
        if not file.exists():
            raise FoundationModelError(
                f"{file} is missing. Restore it with `git checkout -- {file}`, or {remedy}."
            )
        actual = _sha256(file)
        if actual != expected:
            raise FoundationModelError(
                f"{file} does not match the SHA-256 recorded in {run_file.name} (recorded "
                f"{expected[:12]}..., found {actual[:12]}...): it was changed or damaged "
                f"after the run. Restore it with `git checkout -- {file}`, or {remedy}."
            )
    return record


def load_foundation(path=None) -> Foundation:
    """Loads the course foundation model, its tokenizer and its run record, verified.

    The SHA-256 of ``model.keras`` and ``tokenizer.json`` are checked against ``run.json``
    before anything is read, then the model loads through the course's one safe loader
    (``course_lib.model_io.load_model``).

    Args:
        path: the artifact folder (default ``artifacts/foundation`` at the repository root).

    Returns:
        A :class:`Foundation`: ``model, tokenizer, record = load_foundation()``.

    Raises:
        FoundationModelError: a file is missing or changed; the message says to restore it
            or to run ``python -m course_lib pretrain --profile cpu``.

    Example:
    ```python
    model, tokenizer, record = load_foundation()
    print(generation.generate_text(model, tokenizer, "ROMEO:", 50, temperature=0.8, seed=0))
    ```
    """
    from course_lib.model_io import check_tokenizer_matches, load_model

    folder = Path(path) if path is not None else DEFAULT_ARTIFACT_DIR
    record = verify_foundation(folder)
    model = load_model(folder / "model.keras", compile=False)
    tokenizer = BPETokenizer.load(folder / "tokenizer.json")
    check_tokenizer_matches(model, tokenizer)
    return Foundation(model, tokenizer, record)


def corpus_tokens(path=None) -> CorpusTokens:
    """The corpus the artifact was trained on, as its tokenizer's ids (cached in ``path/cache``).

    Args:
        path: the artifact folder (default ``artifacts/foundation``).

    Returns:
        A :class:`CorpusTokens`.

    Example:
    ```python
    tokens = corpus_tokens()
    len(tokens.train), len(tokens.heldout)
    ```
    """
    folder = Path(path) if path is not None else DEFAULT_ARTIFACT_DIR
    record = verify_foundation(folder, files=("tokenizer.json",))
    corpus = load_corpus(record["config"]["max_chars_per_source"])
    if corpus_fingerprint(corpus) != record.get("corpus_sha256"):
        raise FoundationModelError(
            f"The corpus differs from the one the model in {folder} was trained on (the "
            f"datasets or the split rules changed since). {_remedy(folder).capitalize()} to "
            "train it again."
        )
    return encode_corpus(corpus, BPETokenizer.load(folder / "tokenizer.json"),
                         cache_dir=folder / "cache")


def ngram_bits_per_byte(order: int, *, path=None, k: float | None = None,
                        by_source: bool = False):
    """An n-gram baseline's bits per byte on the held-out text the foundation model is scored on.

    The n-gram model (``course_lib.ngram_lm.NGramLM``) counts the foundation model's training
    tokens and is scored on the first ``eval_tokens_per_source`` held-out tokens of each
    source, exactly the text of the GPT's ``record["heldout_bpb"]``. The first call encodes
    the corpus with the artifact's tokenizer (about a minute on 2 cores) and caches the ids
    in ``path/cache``.

    Args:
        order: n (1 = unigram, 2 = bigram, ...).
        path: the artifact folder (default ``artifacts/foundation``).
        k: the add-k constant; ``None`` picks the best of 1, 0.1, 0.01, 0.001 on the last 5%
            of the training tokens (never on held-out text).
        by_source: also return each source's figure.

    Returns:
        Bits per byte over all sources, or with ``by_source`` the dict ``{"all": ...,
        "by_source": {...}, "k": ...}``.

    Example:
    ```python
    model, tokenizer, record = load_foundation()
    print(record["heldout_bpb"]["all"], ngram_bits_per_byte(2), ngram_bits_per_byte(3))
    ```
    """
    folder = Path(path) if path is not None else DEFAULT_ARTIFACT_DIR
    record = verify_foundation(folder, files=("tokenizer.json",))
    result = _ngram_bpb(corpus_tokens(folder), order,
                        record["config"]["eval_tokens_per_source"], k)
    return result if by_source else result["all"]

