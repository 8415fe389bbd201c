# Generated from notebooks/src/11_question_answering.py (notebooks/11_question_answering.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Extractive question answering on SQuAD v1.1, written in notebooks/11_question_answering.ipynb.

Extractive QA answers a question with a span copied from a context paragraph. A model reads
`<|endoftext|> question \n context <|endoftext|>` and scores every context token twice: how
likely the answer *starts* there and how likely it *ends* there. The answer is the best valid
pair. Chapter 11 writes the metric, the offsets, the windows, the span head and the decoder in
the open; the article split, the word splitting and the baseline sit in folded cells.

- **Metric**: `normalize_answer`, `exact_match_score`, `f1_score`, `question_scores` and
  `squad_evaluate` reproduce the official `evaluate-v1.1.py` of SQuAD: lower-case, drop
  punctuation, drop the articles a/an/the, collapse whitespace; each prediction is scored
  against every gold answer and keeps the best.
- **Tokens with offsets**: `encode_with_offsets` encodes text with the course's byte-level BPE
  tokenizer and gives each token the characters `[start, end)` it covers, from the tokens'
  lengths in bytes (`course_lib.pretraining.token_byte_lengths`) and the UTF-8 structure of the
  text, so a predicted token span maps back to the exact text of the context.
- **Features**: `build_features` turns each (question, context) pair into one or more
  fixed-length windows, question first (a GPT reads left to right); a long context is cut into
  overlapping windows, `stride` tokens apart. The closing `<|endoftext|>` is the "no answer in
  this window" position.
- **Model**: `SpanQAModel`, a Dense(2) start/end head on a `course_lib.gpt.GPT`'s
  `hidden_states`; `span_loss`, BERT's cross-entropy of the gold start and end.
- **Decoding**: `best_span` finds the best start ≤ end pair no longer than a cap in one
  window; `decode_predictions` keeps the best over all windows of a context.
- **Baseline**: `SlidingWindowBaseline`, a sliding-window lexical-overlap answerer with no
  learning (in the spirit of Richardson et al., 2013, used as a SQuAD baseline by Rajpurkar
  et al., 2016).

Shapes: N = windows (features), B = windows in a batch, T = window length in tokens,
C = the GPT's width, n = tokens of one text.

Example:

>>> squad_evaluate([{"id": "q1", "answers": ["Denver Broncos"]}], {"q1": "the Denver Broncos"})
{'exact_match': 100.0, 'f1': 100.0}
"""

import collections
import math
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

import keras
import numpy as np
from keras import ops


def split_by_article(examples: Sequence[dict], test_fraction: float, seed: int):
    """Splits questions into train and test **by article**, so no test paragraph is seen in
    training (questions on the same paragraph share their answers' context).

    Args:
        examples: dicts with a `"title"` (the article).
        test_fraction: share of the articles that go to the test split, in (0, 1).
        seed: seeds the shuffle of the article titles.

    Returns:
        `(train, test, test_titles)`: two lists of examples and the sorted test titles.

    Example:

    >>> qs = [{"title": t} for t in "aabbbcd"]
    >>> train, test, titles = split_by_article(qs, 0.25, seed=0)
    >>> len(titles), {q["title"] for q in test} == set(titles)
    (1, True)
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    titles = sorted({e["title"] for e in examples})
    if len(titles) < 2:
        raise ValueError(f"need at least 2 articles to split, got {len(titles)}")
    order = np.random.default_rng(seed).permutation(len(titles))
    n_test = min(len(titles) - 1, max(1, round(test_fraction * len(titles))))
    test_titles = sorted(titles[i] for i in order[:n_test])
    chosen = set(test_titles)
    train = [e for e in examples if e["title"] not in chosen]
    test = [e for e in examples if e["title"] in chosen]
    return train, test, test_titles


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Normalises an answer as SQuAD's official `evaluate-v1.1.py` does.

    Lower-cases, removes ASCII punctuation, removes the articles "a", "an", "the" and collapses
    whitespace, in that order (the order matters: "the," loses its comma first, then "the").

    Args:
        text: an answer string.

    Returns:
        The normalised string.

    Example:

    >>> normalize_answer("The  Denver Broncos!")
    'denver broncos'
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, ground_truth: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0.

    Example:

    >>> exact_match_score("the Broncos", "Broncos.")
    1.0
    """
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-level F1 between the normalised prediction and one gold answer.

    Tokens are the whitespace-separated words after normalisation; common tokens are counted
    with multiplicity (a bag, not a set). When either side normalises to nothing the official
    script's behaviour is kept: F1 is 0.0 (no common tokens).

    Example:

    >>> round(f1_score("Denver Broncos team", "the Denver Broncos"), 3)
    0.8
    """
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def metric_max_over_ground_truths(metric, prediction: str, ground_truths: Sequence[str]) -> float:
    """The best score of `prediction` against any of the gold answers.

    Args:
        metric: `exact_match_score` or `f1_score`.
        prediction: the predicted answer.
        ground_truths: the gold answers (SQuAD dev has about three per question).

    Example:

    >>> metric_max_over_ground_truths(exact_match_score, "1994", ["1993", "in 1994"])
    0.0
    """
    if not ground_truths:
        raise ValueError("ground_truths is empty; every SQuAD question has at least one answer")
    return max(metric(prediction, gold) for gold in ground_truths)


def question_scores(examples: Sequence[dict], predictions: dict[str, str]) -> dict[str, np.ndarray]:
    """Exact match and F1 of each question, in percent (what `squad_evaluate` averages).

    A question without a prediction scores 0, as in the official script. Per-question scores
    are what a bootstrap interval resamples.

    Args:
        examples: dicts with `"id"` and `"answers"` (as `course_lib.data.load_squad_dev`).
        predictions: question id → predicted answer text.

    Returns:
        `{"exact_match": (n,), "f1": (n,)}` float64 arrays, each value in [0, 100].

    Example:

    >>> qs = [{"id": "a", "answers": ["Paris"]}, {"id": "b", "answers": ["in 1994"]}]
    >>> {k: v.tolist() for k, v in question_scores(qs, {"a": "paris", "b": "1994"}).items()}
    {'exact_match': [100.0, 0.0], 'f1': [100.0, 66.66666666666666]}
    """
    em, f1 = np.zeros(len(examples)), np.zeros(len(examples))  # (n,) each
    for k, example in enumerate(examples):
        prediction = predictions.get(example["id"])
        if prediction is None:
            continue
        em[k] = metric_max_over_ground_truths(exact_match_score, prediction, example["answers"])
        f1[k] = metric_max_over_ground_truths(f1_score, prediction, example["answers"])
    return {"exact_match": 100.0 * em, "f1": 100.0 * f1}


def squad_evaluate(examples: Sequence[dict], predictions: dict[str, str]) -> dict[str, float]:
    """Exact match and F1, in percent, as `evaluate-v1.1.py` reports them.

    A question without a prediction counts as wrong (the official script prints a warning and
    scores it 0).

    Args:
        examples: dicts with `"id"` and `"answers"` (as `course_lib.data.load_squad_dev`).
        predictions: question id → predicted answer text.

    Returns:
        `{"exact_match": ..., "f1": ...}`, each in [0, 100].

    Example:

    >>> squad_evaluate([{"id": "q1", "answers": ["Paris", "in Paris"]}], {"q1": "paris"})
    {'exact_match': 100.0, 'f1': 100.0}
    """
    if not examples:
        raise ValueError("no examples to evaluate")
    scores = question_scores(examples, predictions)
    return {name: float(values.mean()) for name, values in scores.items()}


# A word is a run of letters/digits/underscores; every other non-space character is its own
# token, as BERT's basic tokenizer splits punctuation off.
_WORD = re.compile(r"\w+|[^\w\s]")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """Words and punctuation marks of `text`, each with its character span `[start, end)`.

    Example:

    >>> split_words("Hi, Bo!")
    [('Hi', 0, 2), (',', 2, 3), ('Bo', 4, 6), ('!', 6, 7)]
    """
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def normalize_word(word: str) -> str:
    """Lower-cases and strips accents (NFD, combining marks removed), as uncased BERT does.

    Example:

    >>> normalize_word("Café")
    'cafe'
    """
    word = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in word if unicodedata.category(ch) != "Mn")


STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being as "
    "that this these those it its which who whom whose what when where why how did do does "
    "has have had not no can could would should will shall may might than then there their "
    "they he she his her him i we you our your us me my into over under about after before "
    "during between through up down out off also such so if because while".split()
)


class SlidingWindowBaseline:
    """Answers by lexical overlap, with no learning.

    For every candidate span of 1..`max_answer_words` context words (no question word in it,
    no stop word or punctuation at its edges), sums the IDF weights of the question's content
    words found within `window` words on either side of the span, and returns the best
    (ties: the shorter, then the earlier span). The answer to a question tends to sit next to
    the question's rarer words: that is all this baseline knows.

    Args:
        idf: word → inverse document frequency, from `SlidingWindowBaseline.fit_idf`.
        window: words on each side of a candidate that count towards its score.
        max_answer_words: the longest candidate.

    Example:

    >>> base = SlidingWindowBaseline({"born": 2.0, "paris": 1.0}, window=3)
    >>> base.predict("Where was Ada born?", "Ada was born in London in 1815.")
    'London'
    """

    def __init__(self, idf: dict[str, float], window: int = 5, max_answer_words: int = 3):
        if window < 1 or max_answer_words < 1:
            raise ValueError(
                f"window ({window}) and max_answer_words ({max_answer_words}) must be >= 1"
            )
        self.idf = dict(idf)
        self.default_idf = max(self.idf.values(), default=1.0)  # unseen words are rare
        self.window = int(window)
        self.max_answer_words = int(max_answer_words)

    @staticmethod
    def fit_idf(contexts: Iterable[str]) -> dict[str, float]:
        """IDF of each normalised word over the distinct training paragraphs:
        `log(n / df)` + 1.

        Example:

        >>> SlidingWindowBaseline.fit_idf(["a cat", "a dog"])["cat"]
        1.6931471805599454
        """
        contexts = list(dict.fromkeys(contexts))
        df = collections.Counter()
        for c in contexts:
            df.update({normalize_word(w) for w, _, _ in split_words(c)})
        n = len(contexts)
        return {w: math.log(n / k) + 1.0 for w, k in df.items()}

    def predict(self, question: str, context: str) -> str:
        """The best-scoring span of `context`, as text."""
        words = split_words(context)
        if not words:
            return ""
        norm = [normalize_word(w) for w, _, _ in words]
        q_words = {normalize_word(w) for w, _, _ in split_words(question)}
        q_words = {w for w in q_words if w not in STOPWORDS and w[0].isalnum()}
        weights = np.array([self.idf.get(w, self.default_idf) if w in q_words else 0.0
                            for w in norm])
        cum = np.concatenate([[0.0], np.cumsum(weights)])  # cum[k] = sum of weights[:k]
        n = len(words)
        in_question = np.array([w in q_words for w in norm])
        edge_ok = np.array([w[0].isalnum() and w not in STOPWORDS for w in norm])
        best_score, best = -1.0, (0, 0)
        for length in range(1, self.max_answer_words + 1):
            if length > n:
                break
            i = np.arange(n - length + 1)
            j = i + length - 1
            left = cum[i] - cum[np.maximum(i - self.window, 0)]
            right = cum[np.minimum(j + 1 + self.window, n)] - cum[j + 1]
            score = left + right
            blocked = np.array([in_question[a : a + length].any() for a in i])
            valid = edge_ok[i] & edge_ok[j] & ~blocked
            score = np.where(valid, score, -1.0)
            k = int(np.argmax(score))
            if score[k] > best_score + 1e-9:  # strictly better: ties keep the shorter span
                best_score, best = float(score[k]), (int(i[k]), int(j[k]))
        return context[words[best[0]][1] : words[best[1]][2]]


def encode_with_offsets(text: str, tokenizer, byte_lengths) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of `text` and, for each token, the characters `[start, end)` it covers.

    The offsets come from the tokens' lengths in bytes: their running sum gives each token's
    byte span in the UTF-8 encoding of `text`, and the UTF-8 structure (a character starts at
    every byte that is not a continuation byte `10xxxxxx`) turns byte spans into character
    spans. A token holding only part of a character (byte-level BPE may split "é" in two)
    covers that whole character, as does its neighbour.

    Args:
        text: the text to encode; it may not contain a special token such as
            `<|endoftext|>` (those stand for no bytes of the text).
        tokenizer: a `course_lib.tokenizers.BPETokenizer`.
        byte_lengths: `(V,)` bytes per id, from `course_lib.pretraining.token_byte_lengths`.

    Returns:
        `(ids, offsets)`: `(n,)` int32 ids and `(n, 2)` int32 character spans into `text`.

    Example:
    ```python
    ids, offsets = encode_with_offsets("Frédéric", tokenizer, token_byte_lengths(tokenizer))
    [text[a:b] for a, b in offsets]  # e.g. ['F', 'r', 'é', 'é', 'd', 'é', 'é', 'ric']
    ```
    """
    ids = np.asarray(tokenizer.encode(text), "int32")  # (n,)
    raw = np.frombuffer(text.encode("utf-8"), np.uint8)  # (n_bytes,)
    lengths = np.asarray(byte_lengths)[ids]  # (n,): bytes of text each token stands for
    byte_end = np.cumsum(lengths)  # (n,): one past each token's last byte
    byte_start = byte_end - lengths  # (n,)
    total = int(byte_end[-1]) if len(ids) else 0
    if total != len(raw) or (lengths == 0).any():
        raise ValueError(
            f"the tokens of this text stand for {total} bytes but the text has {len(raw)}: it "
            "holds a special token or a character the tokenizer drops; remove it from the text"
        )
    # A character starts at every byte that is not a UTF-8 continuation byte (10xxxxxx).
    char_of_byte = np.cumsum((raw & 0xC0) != 0x80) - 1  # (n_bytes,): the character of each byte
    offsets = np.stack([char_of_byte[byte_start],  # (n,): the character of the first byte
                        char_of_byte[byte_end - 1] + 1], axis=1)  # (n, 2): [start, end)
    return ids, offsets.reshape(-1, 2).astype("int32")


def answer_token_span(offsets: np.ndarray, char_start: int, char_end: int):
    """The first and last token covering the characters `[char_start, end)`.

    Args:
        offsets: `(n, 2)` character spans of the context's tokens.
        char_start, char_end: the answer's characters.

    Returns:
        `(first, last)` token indices, or None when no token overlaps the answer.

    Example:

    >>> answer_token_span(np.array([[0, 2], [2, 8], [8, 12]]), 3, 12)
    (1, 2)
    """
    overlaps = np.nonzero((offsets[:, 1] > char_start) & (offsets[:, 0] < char_end))[0]
    if overlaps.size == 0:
        return None
    return int(overlaps[0]), int(overlaps[-1])


def _window_starts(n, window, stride):
    """Where the windows of an `n`-token context start: every `stride` tokens from 0, until a
    window of `window` tokens reaches the end.

    >>> _window_starts(300, 105, 64)
    [0, 64, 128, 192, 256]
    """
    starts = [0]
    while starts[-1] + window < n:
        starts.append(starts[-1] + stride)
    return starts


END_OF_TEXT = "<|endoftext|>"


def build_features(
    examples: Sequence[dict],
    tokenizer,
    byte_lengths,
    max_length: int = 256,
    max_question_tokens: int = 32,
    stride: int = 128,
) -> dict[str, np.ndarray]:
    """Turns questions into fixed-length GPT inputs, one or more windows per question.

    Each window is `<|endoftext|> question \\n context[s : s + W] <|endoftext|>`, padded to
    `max_length` with `<|endoftext|>`, where W = `max_length - len(question) - 3`. The question
    comes first so that, under causal attention, every context token has read it. The closing
    `<|endoftext|>` (its position is `null_position`) is the label of windows that do not hold
    the whole answer. Window starts are `stride` tokens apart (the first at 0) until a window
    reaches the end of the context, so consecutive windows overlap by W - `stride` tokens and
    every context token is in at least one window. The question is cut to
    `max_question_tokens` tokens.

    Args:
        examples: dicts with `"question"`, `"context"` and, for training labels, `"answers"`
            and `"answer_starts"` (the first gold answer is the label).
        tokenizer: the foundation model's `BPETokenizer`.
        byte_lengths: `(V,)` bytes per id, from `course_lib.pretraining.token_byte_lengths`.
        max_length: window length T in tokens; at most the model's context.
        max_question_tokens: the question's token budget.
        stride: tokens between the starts of consecutive windows; at most W.

    Returns:
        A dict of arrays, one row per window: `token_ids` `(N, T)` int32; `span_mask`
        `(N, T)` bool (the positions a start/end may take: the context tokens and the closing
        `<|endoftext|>`; it does not depend on the answer, so test windows are built exactly
        like training ones); `offsets` `(N, T, 2)` int32 character spans into the context (-1
        outside it); `null_position` `(N,)` int32; `example_index` `(N,)` int32;
        `start_positions` and `end_positions` `(N,)` int32 (`null_position` when the answer is
        not wholly in the window, or when the example has no answers).

    Example:
    ```python
    features = build_features(train_questions, tokenizer, token_byte_lengths(tokenizer))
    features["token_ids"].shape  # (windows, 256)
    ```
    """
    min_window = 8
    if max_question_tokens < 1 or max_length < max_question_tokens + 3 + min_window:
        raise ValueError(
            f"max_length {max_length} leaves fewer than {min_window} context tokens after a "
            f"{max_question_tokens}-token question and 3 special tokens; raise max_length or "
            "lower max_question_tokens"
        )
    window_min = max_length - max_question_tokens - 3
    if not 1 <= stride <= window_min:
        raise ValueError(
            f"stride must be in [1, {window_min}] so consecutive windows overlap and every "
            f"context token is covered; got {stride}"
        )
    eot = tokenizer.token_to_id(END_OF_TEXT)
    newline = tokenizer.encode("\n")
    if len(newline) != 1:
        raise ValueError("the tokenizer has no single id for a newline; it is not the course's")
    cols = collections.defaultdict(list)
    context_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for index, example in enumerate(examples):
        context = example["context"]
        if context not in context_cache:
            context_cache[context] = encode_with_offsets(context, tokenizer, byte_lengths)
        c_ids, c_offsets = context_cache[context]  # (n,), (n, 2)
        q_ids = tokenizer.encode(example["question"])[:max_question_tokens]
        window = max_length - len(q_ids) - 3
        span = None
        if example.get("answers"):
            a_start = int(example["answer_starts"][0])
            span = answer_token_span(c_offsets, a_start, a_start + len(example["answers"][0]))
        first = len(q_ids) + 2  # position of the first context token in a window
        for s in _window_starts(len(c_ids), window, stride):
            e = min(s + window, len(c_ids))  # this window holds context tokens s .. e - 1
            n_ctx = e - s
            ctx = slice(first, first + n_ctx)  # where they sit in the window
            null = first + n_ctx  # the closing <|endoftext|>
            token_ids = np.full(max_length, eot, "int32")  # (T,): padding is <|endoftext|> too
            token_ids[1 : first - 1] = q_ids
            token_ids[first - 1] = newline[0]
            token_ids[ctx] = c_ids[s:e]
            offsets = np.full((max_length, 2), -1, "int32")  # (T, 2): characters of each token
            offsets[ctx] = c_offsets[s:e]
            mask = np.zeros(max_length, bool)  # (T,)
            mask[ctx] = True
            mask[null] = True  # the label of windows that do not hold the answer
            start_pos = end_pos = null
            if span is not None and s <= span[0] and span[1] < e:  # the whole answer is inside
                start_pos, end_pos = first + span[0] - s, first + span[1] - s
            cols["token_ids"].append(token_ids)
            cols["span_mask"].append(mask)
            cols["offsets"].append(offsets)
            cols["null_position"].append(null)
            cols["example_index"].append(index)
            cols["start_positions"].append(start_pos)
            cols["end_positions"].append(end_pos)
    if not cols:
        raise ValueError("no examples given")
    return {k: np.asarray(v, bool if k == "span_mask" else "int32") for k, v in cols.items()}


_MASKED = -1e9  # the score of positions an answer may not start or end at


class SpanQAModel(keras.Model):
    """A start/end span head on a GPT: one Dense(2) on its hidden states.

    Every position's vector (`backbone.hidden_states`, after the final LayerNorm) is mapped to
    two scores, start and end; positions outside `span_mask` get -1e9, so the softmax over a
    window's positions only spreads over allowed ones. Training minimises the cross-entropy of
    the gold start plus that of the gold end (`span_loss`), as BERT does for SQuAD. The
    backbone's weights are trained too (full fine-tuning); the head starts random.

    Args:
        backbone: a `course_lib.gpt.GPT` (pretrained, or freshly built for a random start).
        **kwargs: passed to `keras.Model`.

    Call arguments:
        inputs: a dict with `"token_ids"` `(B, T)` and optionally `"span_mask"` `(B, T)`
            (by default every position is allowed).
        training: enables the backbone's dropout.

    Returns:
        A dict of float32 `"start_logits"` and `"end_logits"`, each `(B, T)`.

    Example:
    ```python
    model = SpanQAModel(load_foundation().model)
    out = model({"token_ids": ids, "span_mask": mask})  # {"start_logits": (B, T), ...}
    ```
    """

    def __init__(self, backbone, **kwargs):
        if not hasattr(backbone, "hidden_states"):
            raise TypeError(
                f"the backbone must have hidden_states(token_ids) (a course_lib.gpt.GPT); got "
                f"{type(backbone).__name__}"
            )
        super().__init__(**kwargs)
        self.backbone = backbone
        # float32 even under mixed precision: the scores feed a softmax.
        self.span_head = keras.layers.Dense(
            2, kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
            dtype="float32", name="span_head",
        )
        self.span_head.build((None, None, backbone.config.width))
        self.built = True

    def call(self, inputs, training=None):
        token_ids = ops.convert_to_tensor(inputs["token_ids"])  # (B, T)
        x = self.backbone.hidden_states(token_ids, training=training)  # (B, T, C)
        logits = self.span_head(ops.cast(x, "float32"))  # (B, T, 2)
        start_logits = logits[..., 0]  # (B, T): "the answer starts here"
        end_logits = logits[..., 1]  # (B, T): "the answer ends here"
        allowed = inputs.get("span_mask")  # (B, T) booleans, or None
        if allowed is None:
            return {"start_logits": start_logits, "end_logits": end_logits}
        penalty = (1.0 - ops.cast(allowed, "float32")) * _MASKED  # (B, T): 0 or -1e9
        return {"start_logits": start_logits + penalty,  # (B, T)
                "end_logits": end_logits + penalty}  # (B, T)


def span_loss():
    """The loss of each head: sparse categorical cross-entropy over the window's positions.

    Keras sums the two heads' losses when a model has two outputs, which gives BERT's
    `(CE_start + CE_end)` up to its factor 1/2.

    Example:
    ```python
    model.compile(optimizer, loss={"start_logits": span_loss(), "end_logits": span_loss()})
    ```
    """
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def best_span(start_logits, end_logits, allowed, max_answer_tokens: int = 30):
    """The best answer span in one window: `argmax start_logits[i] + end_logits[j]` over
    allowed positions with `i ≤ j < i + max_answer_tokens`.

    Computed band by band (span length d = 0, 1, …), O(T · max_answer_tokens), without the
    `(T, T)` score matrix.

    Args:
        start_logits, end_logits: `(T,)` scores.
        allowed: `(T,)` booleans, the positions an answer may start or end at (the context).
        max_answer_tokens: the longest span, in tokens.

    Returns:
        `(i, j, score)`, or None when no position is allowed.

    Example:

    >>> best_span(np.array([0., 5., 1.]), np.array([9., 0., 2.]), np.array([0, 1, 1], bool))
    (1, 2, 7.0)
    """
    if max_answer_tokens < 1:
        raise ValueError(f"max_answer_tokens must be >= 1, got {max_answer_tokens}")
    start = np.where(allowed, np.asarray(start_logits, "float64"), -np.inf)  # (T,)
    end = np.where(allowed, np.asarray(end_logits, "float64"), -np.inf)  # (T,)
    best = (None, None, -np.inf)
    for d in range(min(max_answer_tokens, len(start))):  # d = j - i
        scores = start[: len(start) - d] + end[d:]  # (T - d,): the spans (i, i + d)
        i = int(np.argmax(scores))  # ties: the earliest start
        if scores[i] > best[2]:
            best = (i, i + d, float(scores[i]))
    return None if best[0] is None else best


def decode_predictions(
    examples: Sequence[dict],
    features: dict[str, np.ndarray],
    start_logits,
    end_logits,
    max_answer_tokens: int = 30,
    subtract_null: bool = True,
) -> dict[str, str]:
    """Answer texts: for each question, the best span over **all** its windows, mapped back
    to the context's characters.

    A span's score is `start[i] + end[j]`; with `subtract_null` the window's "no answer" score
    `start[p] + end[p]` at its `null_position` p is subtracted, so a window where the model
    believes the answer is elsewhere (it was trained to point at p there) counts less. This is
    the "null score" of BERT's SQuAD 2.0 recipe; without it, scores of different windows are
    compared raw, as in BERT's SQuAD 1.1 recipe. A span seen in two overlapping windows is
    scored in both and the better score kept.

    Args:
        examples: the examples `features` were built from.
        features: `build_features` output (`offsets`, `example_index` and, with
            `subtract_null`, `null_position`).
        start_logits, end_logits: `(N, T)` model outputs.
        max_answer_tokens: the longest span, in tokens.
        subtract_null: subtract each window's "no answer" score.

    Returns:
        question id → answer text, stripped of surrounding whitespace (empty if no window
        allowed a span).

    Example:
    ```python
    out = model.predict(inputs)
    answers = decode_predictions(test, features, out["start_logits"], out["end_logits"])
    ```
    """
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)  # (N, T) each
    context_mask = features["offsets"][:, :, 0] >= 0  # (N, T): context tokens only
    best: dict[int, tuple[float, int, int]] = {}  # question → (score, first char, end char)
    for n in range(len(start_logits)):
        found = best_span(start_logits[n], end_logits[n], context_mask[n], max_answer_tokens)
        if found is None:
            continue
        i, j, score = found
        if subtract_null:
            p = int(features["null_position"][n])
            score -= float(start_logits[n, p] + end_logits[n, p])
        index = int(features["example_index"][n])
        if index not in best or score > best[index][0]:
            best[index] = (score, int(features["offsets"][n, i, 0]),
                           int(features["offsets"][n, j, 1]))
    out = {}
    for index, example in enumerate(examples):
        _, a, b = best.get(index, (None, 0, 0))  # no span at all: the empty answer
        out[example["id"]] = example["context"][a:b].strip()
    return out
