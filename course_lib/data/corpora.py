"""Task loaders: each course dataset in the shape a chapter needs.

All of them read verified files through :func:`~course_lib.data.loader.fetch`, so they work from
the mirror, the cache or a fresh download alike.

Example:

>>> from course_lib.data import load_spa_eng
>>> load_spa_eng()[0]
('Go.', 'Ve.')
"""

from __future__ import annotations

import numpy as np

from .loader import fetch
from .readers import read_json, read_jsonl, read_lines, read_text, read_tsv

__all__ = [
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
]


def _choose(kind: str, value: str, options: dict[str, str]) -> str:
    if value not in options:
        raise ValueError(f"Unknown {kind} {value!r}; use one of {', '.join(map(repr, options))}.")
    return options[value]


def load_tiny_shakespeare() -> str:
    """Tiny Shakespeare as one string of 1,115,394 characters.

    Example:

    >>> text = load_tiny_shakespeare()
    >>> len(text), len(set(text))
    (1115394, 65)
    """
    return read_text("tinyshakespeare", "input.txt")


def load_rt_polarity() -> tuple[list[str], np.ndarray]:
    """The rt-polarity sentences with labels: 5,331 positive (1) then 5,331 negative (0).

    The files are Latin-1, not UTF-8. Surrounding whitespace (each line ends with a space) is
    stripped.

    Returns:
        ``(texts, labels)``: a list of 10,662 strings and an ``int64`` array of 0/1.

    Example:

    >>> texts, labels = load_rt_polarity()
    >>> len(texts), int(labels.sum())
    (10662, 5331)
    """
    pos = [t.strip() for t in read_lines("rt-polarity", "rt-polarity.pos")]
    neg = [t.strip() for t in read_lines("rt-polarity", "rt-polarity.neg")]
    labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.int64)
    return pos + neg, labels


def load_spa_eng() -> list[tuple[str, str]]:
    """The 118,964 English-Spanish pairs, as ``(english, spanish)`` in file order.

    Example:

    >>> pairs = load_spa_eng()
    >>> len(pairs), pairs[0]
    (118964, ('Go.', 'Ve.'))
    """
    rows = read_tsv("spa-eng", "spa.txt")
    bad = [i for i, r in enumerate(rows) if len(r) != 2]
    if bad:
        raise ValueError(f"spa-eng/spa.txt: line {bad[0] + 1} does not have 2 tab-separated fields")
    return [(r[0], r[1]) for r in rows]


_MULTI30K = {"train": "train", "val": "val", "test": "test_2016_flickr"}


def load_multi30k(split: str = "train") -> list[tuple[str, str]]:
    """Multi30K English-German caption pairs, as ``(english, german)``.

    Args:
        split: ``"train"`` (29,000 pairs), ``"val"`` (1,014) or ``"test"`` (1,000, the
            2016 Flickr test set).

    Example:

    >>> pairs = load_multi30k("val")
    >>> len(pairs)
    1014
    """
    stem = _choose("split", split, _MULTI30K)
    en = read_lines("multi30k", f"{stem}.en.gz")
    de = read_lines("multi30k", f"{stem}.de.gz")
    if len(en) != len(de):
        raise ValueError(f"multi30k {split}: {len(en)} English but {len(de)} German lines")
    return list(zip(en, de, strict=True))


def load_squad_dev() -> list[dict]:
    """SQuAD v1.1 dev, flattened to one dict per question (10,570 in all).

    Returns:
        Dicts with keys ``id``, ``title``, ``context``, ``question``, ``answers`` (the answer
        texts, with duplicates kept) and ``answer_starts`` (their character offsets).

    Example:

    >>> q = load_squad_dev()[0]
    >>> sorted(q)
    ['answer_starts', 'answers', 'context', 'id', 'question', 'title']
    """
    out = []
    for article in read_json("squad-v1.1", "dev-v1.1.json")["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                out.append(
                    {
                        "id": qa["id"],
                        "title": article["title"],
                        "context": para["context"],
                        "question": qa["question"],
                        "answers": [a["text"] for a in qa["answers"]],
                        "answer_starts": [a["answer_start"] for a in qa["answers"]],
                    }
                )
    return out


_GLOVE = {False: ("glove", "glove.6B.50d.top20k.txt"), True: ("glove-full", "glove.6B.50d.400k.txt")}


def load_glove(full: bool = False) -> tuple[list[str], np.ndarray]:
    """GloVe 6B words with their 50-d vectors: the 20,000 most frequent, or all 400,000.

    Args:
        full: ``False`` (the default, what the chapters use): the 20,000 most frequent words
            (8.5 MB). ``True``: all 400,000 words, the optional dataset ``glove-full``
            (171 MB, rebuilt from a 76 MB download on first use; about 80 MB in memory).

    Returns:
        ``(words, vectors)``: the words in frequency order and a ``float32`` array of shape
        ``(20000, 50)`` (or ``(400000, 50)``).

    Example:

    >>> words, vectors = load_glove()
    >>> words[0], vectors.shape, float(vectors[0, 0])
    ('the', (20000, 50), 0.4180000126361847)
    """
    name, file = _GLOVE[bool(full)]
    path = fetch(name, file)
    words, rows = [], []
    # Line by line: the full file as one string would take several times its 171 MB.
    with open(path, "rb") as fh:
        for raw in fh:  # binary lines end at b"\n" only, as read_lines splits them
            line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
            word, *values = line.split(" ")
            words.append(word)
            rows.append(np.array(values, dtype=np.float32))
    vectors = np.stack(rows) if rows else np.zeros((0, 50), dtype=np.float32)
    return words, vectors


_LEE = {"background": "lee_background.cor", "test": "lee.cor"}


def load_lee_corpus(split: str = "background") -> list[str]:
    """The Lee corpus: one news document per string.

    Args:
        split: ``"background"`` (300 documents, for training) or ``"test"`` (the 50 documents
            of the similarity study).

    Example:

    >>> len(load_lee_corpus()), len(load_lee_corpus("test"))
    (300, 50)
    """
    return [doc for doc in read_lines("lee-corpus", _choose("split", split, _LEE)) if doc.strip()]


_SIMILARITY = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def load_word_similarity(which: str = "wordsim353") -> list[tuple[str, str, float]]:
    """Word pairs with mean human scores (0-10).

    Args:
        which: ``"wordsim353"`` (353 pairs, relatedness) or ``"simlex999"`` (999 pairs,
            similarity).

    Example:

    >>> load_word_similarity()[0]
    ('love', 'sex', 6.77)
    """
    rows = read_tsv("embedding-eval", _choose("set", which, _SIMILARITY))
    return [(r[0], r[1], float(r[2])) for r in rows if not r[0].startswith("#")]


def load_analogies() -> dict[str, list[tuple[str, str, str, str]]]:
    """The Google analogy questions ``a : b :: c : d`` by section (19,544 in 14 sections).

    Returns:
        ``{section: [(a, b, c, d), ...]}`` in file order; section names drop the leading
        ``": "`` (e.g. ``"capital-common-countries"``).

    Example:

    >>> sections = load_analogies()
    >>> sections["capital-common-countries"][0]
    ('Athens', 'Greece', 'Baghdad', 'Iraq')
    """
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for line in read_lines("embedding-eval", "questions-words.txt"):
        if line.startswith(":"):
            current = sections.setdefault(line[1:].strip(), [])
        elif line.strip():
            if current is None:
                raise ValueError("questions-words.txt: a question comes before any section")
            a, b, c, d = line.split()
            current.append((a, b, c, d))
    return sections


_DIALOGSUM = {"dev": "dialogsum.dev.jsonl", "test": "dialogsum.test.jsonl"}


def load_dialogsum(split: str = "dev") -> list[dict]:
    """DialogSum dialogues with their summaries (500 per split).

    Args:
        split: ``"dev"`` (keys ``fname, dialogue, summary, topic``) or ``"test"`` (keys
            ``fname, dialogue, summary1..3, topic1..3``).

    Example:

    >>> d = load_dialogsum()[0]
    >>> d["dialogue"].splitlines()[0]
    '#Person1#: Hello, how are you doing today?'
    """
    return read_jsonl("dialogsum", _choose("split", split, _DIALOGSUM))


_TOPICAL = {"valid": "valid_freq.json", "test": "test_freq.json"}


def load_topical_chat(split: str = "valid") -> list[list[tuple[str, str]]]:
    """Topical-Chat conversations as lists of ``(agent, message)`` turns (539 per split).

    Args:
        split: ``"valid"`` (valid_freq, 11,681 turns) or ``"test"`` (test_freq, 11,760).

    Example:

    >>> conv = load_topical_chat()[0]
    >>> conv[0]
    ('agent_1', 'Are you a football fan?')
    """
    data = read_json("topical-chat", _choose("split", split, _TOPICAL))
    return [[(t["agent"], t["message"]) for t in conv["content"]] for conv in data.values()]
