# Generated from notebooks/src/02_representations.py (notebooks/02_representations.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Word embeddings from scratch: Word2Vec (skip-gram with negative sampling) and GloVe.

Written in notebooks/02_representations.ipynb, which trains both on the course's own text
and evaluates them against pretrained GloVe. The module has four parts:

1. Text to ids: :func:`tokenize_words`, :class:`Vocabulary`.
2. Word2Vec: :func:`skipgram_pairs` (window sampling), :func:`keep_probabilities`
   (subsampling of frequent words), :func:`negative_sampling_distribution` (unigram^0.75),
   :class:`Word2Vec` (the Keras model), :func:`compile_word2vec` (SGD, linearly decayed)
   and :class:`SkipGramData` (the ``tf.data`` input pipeline).
3. GloVe: :func:`cooccurrence_matrix` (1/d distance weighting), :func:`glove_weight`
   (f(x) = min(1, (x / x_max)^alpha)), :class:`GloVeData`, :class:`GloVe` and
   :func:`compile_glove` (the weighted least-squares loss, AdaGrad).
4. Evaluation: :class:`WordVectors` (nearest neighbours, analogies), :func:`spearman`,
   :func:`evaluate_similarity` and :func:`evaluate_analogies`.

Example:

>>> sents = [tokenize_words("The cat sat on the mat. The dog sat on the log.")]
>>> vocab = Vocabulary.build(sents, min_count=1)
>>> vocab.words[:3]
['the', 'on', 'sat']
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import scipy.sparse as sp
import tensorflow as tf
from keras import ops

from course_lib.config import check_positive_int

WORD_PATTERN = re.compile(r"[a-z]+")


def tokenize_words(text: str) -> list[str]:
    """Lower-cases and keeps runs of letters a-z as words (numbers and punctuation dropped).

    Deliberately crude: the evaluation sets (WordSim-353, SimLex-999, Google analogies) are
    lower-case alphabetic words, so this is all the embeddings need.

    Args:
        text: any text.

    Example:

    >>> tokenize_words("Don't PANIC: 42 towels!")
    ['don', 't', 'panic', 'towels']
    """
    return WORD_PATTERN.findall(text.lower())


class Vocabulary:
    """Word <-> id mapping with corpus counts; id 0 is the most frequent word.

    Args:
        words: the words, most frequent first.
        counts: their corpus counts, same order.

    Example:

    >>> v = Vocabulary.build([["a", "b", "a"], ["c", "a"]], min_count=1)
    >>> v.words, v.counts.tolist(), v.encode(["c", "zzz", "a"]).tolist()
    (['a', 'b', 'c'], [3, 1, 1], [2, 0])
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int]):
        if len(words) != len(counts):
            raise ValueError(f"{len(words)} words but {len(counts)} counts; they must match")
        if len(set(words)) != len(words):
            raise ValueError("words contain duplicates")
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], min_count: int = 5, max_size: int | None = None
    ) -> "Vocabulary":
        """Counts words and keeps those seen at least ``min_count`` times.

        Args:
            sentences: lists of tokens.
            min_count: rarer words are dropped (too few examples to learn a vector from).
            max_size: keep at most this many words, the most frequent.

        Returns:
            A :class:`Vocabulary` sorted by count (ties alphabetically).

        Example:

        >>> Vocabulary.build([["x", "y", "y"]], min_count=2).words
        ['y']
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1; got {min_count}")
        counter = Counter()
        for s in sentences:
            counter.update(s)
        items = sorted(
            ((w, c) for w, c in counter.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0])
        )
        if max_size is not None:
            items = items[:max_size]
        if not items:
            raise ValueError(f"No word occurs min_count={min_count} times; lower min_count.")
        return cls([w for w, _ in items], [c for _, c in items])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of the tokens that are in the vocabulary (others are skipped), int32.

        Args:
            tokens: words.

        Example:

        >>> Vocabulary(["hi", "yo"], [2, 1]).encode(["yo", "hey"]).tolist()
        [1]
        """
        ids = [self.index[t] for t in tokens if t in self.index]
        return np.asarray(ids, dtype=np.int32)

    def encode_corpus(self, sentences: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Encodes sentences into one id array plus a parallel sentence-number array.

        Keeping one flat array makes window and co-occurrence code vectorised; the sentence
        numbers stop windows from crossing sentence boundaries.

        Args:
            sentences: lists of tokens.

        Returns:
            ``(ids, sentence_ids)``, both int32 and the same length.

        Example:

        >>> Vocabulary(["a", "b"], [2, 1]).encode_corpus([["a", "b"], ["a"]])[1].tolist()
        [0, 0, 1]
        """
        ids, sent = [], []
        for k, s in enumerate(sentences):
            e = self.encode(s)
            ids.append(e)
            sent.append(np.full(len(e), k, dtype=np.int32))
        if not ids:
            raise ValueError("No sentences given.")
        return np.concatenate(ids), np.concatenate(sent)


def skipgram_pairs(
    ids: np.ndarray,
    sentence_ids: np.ndarray | None,
    window: int,
    rng: np.random.Generator | None = None,
    shrink_window: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """All (center, context) id pairs within a window, vectorised.

    Window sampling: as in word2vec, each center word draws its own window b uniformly from
    1..``window`` and pairs with words at distance <= b. Near words are thus paired more
    often than far ones (distance d with probability (window - d + 1) / window): a cheap way
    to weight context by closeness.

    Args:
        ids: the corpus as one id array.
        sentence_ids: parallel sentence numbers (pairs never cross sentences), or ``None``.
        window: the maximum distance.
        rng: NumPy generator for the window draws (needed when ``shrink_window``).
        shrink_window: draw per-word windows; ``False`` uses the full window everywhere.

    Returns:
        ``(centers, contexts)``, two int32 arrays of the same length.

    Example:

    >>> c, x = skipgram_pairs(np.array([0, 1, 2]), None, window=1, shrink_window=False)
    >>> sorted(zip(c.tolist(), x.tolist()))
    [(0, 1), (1, 0), (1, 2), (2, 1)]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}")
    ids = np.asarray(ids)
    n = len(ids)
    if shrink_window:
        if rng is None:
            raise ValueError("shrink_window=True needs rng=np.random.default_rng(seed)")
        span = rng.integers(1, window + 1, size=n)
    else:
        span = np.full(n, window)
    centers, contexts = [], []
    for d in range(1, min(window, n - 1) + 1):
        same = (
            np.ones(n - d, dtype=bool)
            if sentence_ids is None
            else sentence_ids[:-d] == sentence_ids[d:]
        )
        fwd = same & (span[:-d] >= d)  # center i, context i + d
        bwd = same & (span[d:] >= d)  # center i + d, context i
        centers += [ids[:-d][fwd], ids[d:][bwd]]
        contexts += [ids[d:][fwd], ids[:-d][bwd]]
    if not centers:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return (np.concatenate(centers).astype(np.int32), np.concatenate(contexts).astype(np.int32))


def keep_probabilities(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word under frequent-word subsampling.

    With f the word's share of the corpus and t = ``sample``, this is the rule in the
    released word2vec code (and gensim): keep = (sqrt(f / t) + 1) * t / f, capped at 1.
    The paper states the similar discard rule 1 - sqrt(t / f). Words rarer than about t
    are always kept; "the" (f ~ 0.05) is kept about 16% of the time at t = 1e-3, so it
    stops dominating the training pairs and the rarer words get more updates.

    Args:
        counts: corpus count of each word id.
        sample: the threshold t; 0 disables subsampling.

    Example:

    >>> keep_probabilities(np.array([500, 10, 490]), sample=0.01).round(3).tolist()
    [0.161, 1.0, 0.163]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample < 0:
        raise ValueError(f"sample must be >= 0; got {sample}")
    if sample == 0:
        return np.ones_like(counts)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(f / sample) + 1.0) * sample / f
    return np.minimum(keep, 1.0)


def negative_sampling_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """The noise distribution for negative samples: P(w) proportional to count(w)^power.

    power = 1 is the unigram distribution (negatives would be mostly "the", "a", ...),
    power = 0 is uniform (mostly rare words); Mikolov et al. found 0.75 between the two
    worked best.

    Args:
        counts: corpus count of each word id.
        power: the exponent.

    Example:

    >>> negative_sampling_distribution(np.array([16, 1]), power=0.75).round(3).tolist()
    [0.889, 0.111]
    """
    p = np.asarray(counts, dtype=np.float64) ** power
    if p.sum() <= 0:
        raise ValueError("counts must contain a positive value")
    return p / p.sum()


@keras.saving.register_keras_serializable(package="course_lib")
class Word2Vec(keras.Model):
    """Skip-gram with negative sampling as a Keras model.

    Two tables: "input" vectors for center words and "output" vectors for context words.
    The score of a (center, candidate) pair is the dot product of their vectors; trained with
    sigmoid cross-entropy, true contexts are pushed to high scores and noise words to low
    ones. The input table is the embedding one keeps.

    Args:
        vocab_size: number of words.
        embed_dim: vector size.
        name: the Keras model name.

    Call args:
        inputs: ``(centers (batch,), candidates (batch, 1 + negatives))`` int tensors.

    Returns:
        logits of shape (batch, 1 + negatives).

    Example:

    >>> model = Word2Vec(vocab_size=10, embed_dim=4)
    >>> tuple(model((np.array([1, 2]), np.array([[3, 4, 5], [6, 7, 8]]))).shape)
    (2, 3)
    """

    def __init__(self, vocab_size: int, embed_dim: int, name: str = "word2vec", **kwargs):
        super().__init__(name=name, **kwargs)
        if vocab_size < 1 or embed_dim < 1:
            raise ValueError(
                f"vocab_size and embed_dim must be >= 1; got {vocab_size}, {embed_dim}"
            )
        self.vocab_size, self.embed_dim = int(vocab_size), int(embed_dim)
        # word2vec's initialisation: small uniform input vectors, zero output vectors, so all
        # scores start at 0 (probability 0.5) and no pair is favoured before training.
        lim = 0.5 / embed_dim
        self.center_embedding = keras.layers.Embedding(
            vocab_size,
            embed_dim,
            embeddings_initializer=keras.initializers.RandomUniform(-lim, lim),
            name="center_vectors",
        )
        self.context_embedding = keras.layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer="zeros", name="context_vectors"
        )

    def call(self, inputs):
        centers, candidates = inputs  # (B,), (B, K) with K = 1 + negatives
        u = self.center_embedding(centers)  # (B, D)
        v = self.context_embedding(candidates)  # (B, K, D)
        return ops.einsum("bd,bkd->bk", u, v)  # (B, K): one dot product per candidate

    def word_vectors(self) -> np.ndarray:
        """The learned center-word vectors as a (vocab_size, embed_dim) NumPy array.

        Example:

        >>> Word2Vec(5, 3).word_vectors().shape
        (5, 3)
        """
        if not self.center_embedding.built:  # never called: show the initial vectors
            self.center_embedding.build()
        return keras.ops.convert_to_numpy(self.center_embedding.embeddings)  # (V, D)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embed_dim": self.embed_dim}


def compile_word2vec(
    model: Word2Vec,
    learning_rate: float = 0.5,
    total_steps: int | None = None,
    final_fraction: float = 1e-3,
    steps_per_execution: int = 32,
) -> Word2Vec:
    """Compiles a :class:`Word2Vec` the way word2vec trains: plain SGD, linearly decayed.

    The loss is summed over the batch (not averaged), so each pair pushes its vectors as hard
    as in word2vec's one-pair-at-a-time updates and the learning rate does not depend on the
    batch size. Plain SGD only touches the rows in the batch; Adam would update every row of
    both tables at every step, which is much slower on a CPU. A ``pair_loss`` metric reports
    the mean cross-entropy per (pair, candidate), which is easier to read than the sum.

    Args:
        model: the model.
        learning_rate: the starting rate (per pair, candidates averaged).
        total_steps: steps until the rate reaches ``final_fraction * learning_rate``
            (``None``: constant rate).
        final_fraction: where the linear decay ends.
        steps_per_execution: training steps run per call into TensorFlow; fewer Python
            round trips for these tiny steps.

    Returns:
        The model, compiled.

    Example:

    >>> model = compile_word2vec(Word2Vec(10, 4), learning_rate=0.5, total_steps=100)
    >>> type(model.optimizer).__name__
    'SGD'
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate}")
    lr = learning_rate
    if total_steps is not None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1; got {total_steps}")
        lr = keras.optimizers.schedules.PolynomialDecay(
            learning_rate, total_steps, learning_rate * final_fraction
        )
    model.compile(
        optimizer=keras.optimizers.SGD(lr, name="SGD"),
        loss=keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum"),
        metrics=[keras.metrics.BinaryCrossentropy(from_logits=True, name="pair_loss")],
        jit_compile=True,
        steps_per_execution=steps_per_execution,
    )
    return model


@dataclass
class SkipGramData:
    """Training examples for skip-gram with negative sampling, fresh every epoch.

    Each epoch: subsample frequent words, draw per-word windows, form (center, context)
    pairs, shuffle them, and draw ``negatives`` noise words per pair from unigram^power.
    An example is ``((center, [context, noise_1, ..., noise_k]), [1, 0, ..., 0])``: the
    model must score the true context above the noise words.

    Args:
        ids: the corpus as one id array (see :meth:`Vocabulary.encode_corpus`).
        sentence_ids: parallel sentence numbers, or ``None``.
        counts: corpus count per word id (for subsampling and the noise distribution).
        window: maximum context distance.
        negatives: noise words per true pair (5-20 for small corpora in the paper).
        sample: subsampling threshold t (0 disables).
        power: exponent of the noise distribution.
        seed: seed for every random draw.

    Example:

    >>> data = SkipGramData(np.array([0, 1, 0, 2]), None, np.array([2, 1, 1]), window=1,
    ...                     negatives=2, sample=0, seed=0)
    >>> c, cand, y = data.epoch_arrays()
    >>> cand.shape[1], y[0].tolist()
    (3, [1.0, 0.0, 0.0])
    """

    ids: np.ndarray
    sentence_ids: np.ndarray | None
    counts: np.ndarray
    window: int = 5
    negatives: int = 5
    sample: float = 1e-3
    power: float = 0.75
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self):
        if self.negatives < 1:
            raise ValueError(f"negatives must be >= 1; got {self.negatives}")
        if self.sentence_ids is not None and len(self.sentence_ids) != len(self.ids):
            raise ValueError("sentence_ids must be as long as ids")
        self.ids = np.asarray(self.ids, dtype=np.int32)
        self.counts = np.asarray(self.counts)
        if self.ids.size and self.ids.max() >= len(self.counts):
            raise ValueError("ids contain a word id >= len(counts)")
        self.keep_prob = keep_probabilities(self.counts, self.sample)
        self.noise_cdf = np.cumsum(negative_sampling_distribution(self.counts, self.power))
        self.rng = np.random.default_rng(self.seed)

    def subsample(self) -> tuple[np.ndarray, np.ndarray | None]:
        """One random draw of the corpus with frequent words thinned out.

        Returns:
            ``(ids, sentence_ids)`` of the kept words.

        Example:

        >>> ids = np.repeat([0, 1], [900, 100])  # word 0 is 90% of the text
        >>> data = SkipGramData(ids, None, np.array([900, 100]), sample=0.1)
        >>> round(float(data.keep_prob[0]), 3)  # (sqrt(0.9 / 0.1) + 1) * 0.1 / 0.9
        0.444
        >>> 400 < len(data.subsample()[0]) < 600  # about 0.444 * 900 + 100 = 500
        True
        """
        mask = self.rng.random(len(self.ids)) < self.keep_prob[self.ids]
        sent = None if self.sentence_ids is None else self.sentence_ids[mask]
        return self.ids[mask], sent

    def draw_negatives(self, shape) -> np.ndarray:
        """Noise word ids from unigram^power (inverse-CDF sampling: one searchsorted).

        Args:
            shape: shape of the array of ids to draw.

        Example:

        >>> SkipGramData(np.arange(3), None, np.array([5, 3, 1])).draw_negatives((2, 4)).shape
        (2, 4)
        """
        u = self.rng.random(shape) * self.noise_cdf[-1]
        return np.searchsorted(self.noise_cdf, u, side="right").astype(np.int32)

    def epoch_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One epoch of examples as arrays: centers (n,), candidates (n, 1+k), labels (n, 1+k).

        Example: see the class docstring.
        """
        ids, sent = self.subsample()
        centers, contexts = skipgram_pairs(ids, sent, self.window, self.rng)
        order = self.rng.permutation(len(centers))
        centers, contexts = centers[order], contexts[order]
        noise = self.draw_negatives((len(centers), self.negatives))
        candidates = np.concatenate([contexts[:, None], noise], axis=1)
        labels = np.zeros(candidates.shape, dtype=np.float32)
        labels[:, 0] = 1.0
        return centers, candidates, labels

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches in one epoch: the pairs of one sample draw, divided by ``batch_size``.

        The pair count varies by a fraction of a percent between epochs (subsampling and
        window draws are random), so one draw with its own generator gives the epoch length
        without disturbing the training draws.

        Args:
            batch_size: pairs per batch.

        Example:

        >>> SkipGramData(np.arange(10) % 3, None, np.array([4, 3, 3]), window=1, sample=0,
        ...              seed=0).steps_per_epoch(6)
        3
        """
        check_positive_int("batch_size", batch_size)
        rng = np.random.default_rng(self.seed + 1)
        mask = rng.random(len(self.ids)) < self.keep_prob[self.ids]
        sent = None if self.sentence_ids is None else self.sentence_ids[mask]
        n = len(skipgram_pairs(self.ids[mask], sent, self.window, rng)[0])
        return max(1, n // batch_size)

    def dataset(self, batch_size: int = 1024):
        """An endless ``tf.data.Dataset`` of batches, re-drawn every epoch.

        Use it as ``model.fit(ds, epochs=n, steps_per_epoch=data.steps_per_epoch(batch_size))``:
        each epoch sees new subsampling, windows and negatives, as in word2vec. The last
        incomplete batch of each epoch's draw is dropped.

        Args:
            batch_size: pairs per batch.

        Example:

        >>> data = SkipGramData(np.array([0, 1, 0, 2]), None, np.array([2, 1, 1]), window=1,
        ...                     sample=0)
        >>> (c, cand), y = next(iter(data.dataset(batch_size=2)))
        >>> tuple(cand.shape)
        (2, 6)
        """

        k = self.negatives + 1

        def epoch():
            centers, candidates, labels = self.epoch_arrays()
            return (centers, candidates), labels

        spec = (
            (tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, k], tf.int32)),
            tf.TensorSpec([None, k], tf.float32),
        )
        return _endless_batches(epoch, batch_size, spec)


def _stack(a: np.ndarray, n_batches: int, batch_size: int) -> np.ndarray:
    return a[: n_batches * batch_size].reshape(n_batches, batch_size, *a.shape[1:])


def _endless_batches(make_epoch, batch_size: int, spec):
    """Endless dataset of batches; ``make_epoch()`` returns one epoch of shuffled arrays.

    Each epoch's arrays are cut into whole batches in NumPy and handed to TensorFlow as one
    stacked element, which ``unbatch`` splits in the graph. That is one Python call per
    epoch instead of one per batch, so the input pipeline does not compete with the
    training loop for Python's interpreter lock.
    """

    check_positive_int("batch_size", batch_size)

    def stacked():
        while True:
            for _ in range(100):  # a tiny corpus can subsample down to nothing: draw again
                arrays = make_epoch()
                flat = tf.nest.flatten(arrays)
                n = len(flat[0])
                if n:
                    break
            else:
                raise ValueError("100 epochs in a row had no training examples; corpus too small.")
            bs = min(batch_size, n)
            nb = n // bs
            yield tf.nest.map_structure(lambda a, nb=nb, bs=bs: _stack(a, nb, bs), arrays)

    stacked_spec = tf.nest.map_structure(lambda s: tf.TensorSpec([None, *s.shape], s.dtype), spec)
    ds = tf.data.Dataset.from_generator(stacked, output_signature=stacked_spec)
    return ds.unbatch().prefetch(tf.data.AUTOTUNE)


class WordVectors:
    """A word list with one vector per word: similarity, neighbours and analogies.

    Args:
        words: the words.
        vectors: (len(words), dim) array.

    Example:

    >>> wv = WordVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
    >>> [w for w, _ in wv.most_similar("a", k=2)]
    ['b', 'c']
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"vectors must be ({len(words)}, dim); got {vectors.shape}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.vectors = vectors
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / np.maximum(norms, 1e-12)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def _id(self, word: str) -> int:
        if word not in self.index:
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self)} words)")
        return self.index[word]

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words.

        Args:
            w1: a word in the vocabulary.
            w2: another word in the vocabulary.

        Example:

        >>> WordVectors(["x", "y"], np.eye(2)).similarity("x", "y")
        0.0
        """
        return float(self.unit[self._id(w1)] @ self.unit[self._id(w2)])

    def most_similar(
        self, query, k: int = 10, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The k words whose vectors have the highest cosine with ``query``.

        Args:
            query: a word (excluded from its own results) or a vector.
            k: number of neighbours.
            exclude: further words to leave out.

        Returns:
            ``[(word, cosine), ...]``, best first.

        Example:

        >>> WordVectors(["x", "y"], np.eye(2)).most_similar(np.array([1.0, 0.2]), k=1)[0][0]
        'x'
        """
        banned = set(exclude)
        if isinstance(query, str):
            banned.add(query)
            q = self.unit[self._id(query)]
        else:
            q = np.asarray(query, dtype=np.float32)
            q = q / max(np.linalg.norm(q), 1e-12)
        sims = self.unit @ q
        for w in banned:
            if w in self.index:
                sims[self.index[w]] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        return [(self.words[i], float(sims[i])) for i in top if np.isfinite(sims[i])]

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """Solves a : b :: c : ? by the word nearest to b - a + c (3CosAdd, unit vectors).

        Example: ``analogy("man", "king", "woman")`` should give "queen". The three question
        words are excluded from the answers, as in the original evaluation.

        Args:
            a: first word of the known pair.
            b: second word of the known pair.
            c: first word of the question pair.
            k: number of answers.

        Returns:
            ``[(word, cosine), ...]``, best first.

        >>> wv = WordVectors(["man", "king", "woman", "queen"],
        ...                  np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1.0]]))
        >>> wv.analogy("man", "king", "woman")[0][0]
        'queen'
        """
        target = self.unit[self._id(b)] - self.unit[self._id(a)] + self.unit[self._id(c)]
        return self.most_similar(target, k=k, exclude=(a, b, c))

    def restrict(self, words: Iterable[str]) -> "WordVectors":
        """A copy keeping only ``words`` that are present, in this object's order.

        Args:
            words: the words to keep.

        Example:

        >>> WordVectors(["x", "y"], np.eye(2)).restrict(["y", "zzz"]).words
        ['y']
        """
        keep = set(words)
        idx = [i for i, w in enumerate(self.words) if w in keep]
        return WordVectors([self.words[i] for i in idx], self.vectors[idx])


def cooccurrence_matrix(
    ids: np.ndarray,
    sentence_ids: np.ndarray | None,
    vocab_size: int,
    window: int = 10,
    distance_weighting: bool = True,
    symmetric: bool = True,
) -> sp.csr_matrix:
    """Word-word co-occurrence counts X[i, j] within a window, as GloVe builds them.

    A pair of words d positions apart adds 1/d (``distance_weighting``) or 1: a word right
    next to another says more about it than one ten words away. ``symmetric`` counts
    both the left and the right context (X is then symmetric).

    Args:
        ids: the corpus as one id array.
        sentence_ids: parallel sentence numbers (windows never cross sentences), or ``None``.
        vocab_size: number of words (matrix size).
        window: maximum distance.
        distance_weighting: add 1/d instead of 1.
        symmetric: count context on both sides; ``False`` counts only the left context
            (X[i, j]: j occurs before i).

    Returns:
        A (vocab_size, vocab_size) float64 CSR matrix.

    Example:

    >>> cooccurrence_matrix(np.array([0, 1, 2]), None, 3, window=2).toarray().tolist()
    [[0.0, 1.0, 0.5], [1.0, 0.0, 1.0], [0.5, 1.0, 0.0]]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}")
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must lie in [0, {vocab_size}); check vocab_size")
    n = len(ids)
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.float64)
    for d in range(1, min(window, n - 1) + 1):
        left, right = ids[:-d], ids[d:]
        if sentence_ids is not None:
            same = sentence_ids[:-d] == sentence_ids[d:]
            left, right = left[same], right[same]
        w = np.full(len(left), 1.0 / d if distance_weighting else 1.0)
        # Row = center word, column = a context word d positions to its left.
        total = total + sp.csr_matrix((w, (right, left)), shape=(vocab_size, vocab_size))
        if symmetric:
            total = total + sp.csr_matrix((w, (left, right)), shape=(vocab_size, vocab_size))
    total.sum_duplicates()
    return total


def glove_weight(x, x_max: float = 100.0, alpha: float = 0.75) -> np.ndarray:
    """GloVe's weighting f(x) = (x / x_max)^alpha for x < x_max, else 1.

    Rare pairs (small x, noisy counts) get little weight; frequent pairs are capped at 1 so
    "the"-"of" does not dominate the loss.

    Args:
        x: co-occurrence values (scalar or array).
        x_max: the count at which the weight reaches 1 (100 in the paper, for billions of
            tokens; smaller corpora need a smaller value).
        alpha: the exponent (0.75 in the paper).

    Example:

    >>> glove_weight(np.array([0.0, 10.0, 100.0, 500.0])).round(4).tolist()
    [0.0, 0.1778, 1.0, 1.0]
    """
    if x_max <= 0:
        raise ValueError(f"x_max must be positive; got {x_max}")
    x = np.asarray(x, dtype=np.float64)
    return np.minimum(1.0, (x / x_max) ** alpha)


@dataclass
class GloVeData:
    """GloVe training triples from the non-zero entries X[i, j], reshuffled every epoch.

    Each example is ``((i, j), log X_ij, f(X_ij))``; Keras reads the third item as the
    sample weight, so a squared-error loss becomes GloVe's weighted least squares
    sum f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2. Zero entries are skipped: log 0
    is undefined and f(0) = 0 anyway.

    Args:
        cooc: the co-occurrence matrix from :func:`cooccurrence_matrix`.
        x_max: see :func:`glove_weight`.
        alpha: see :func:`glove_weight`.
        seed: shuffling seed.

    Example:

    >>> X = cooccurrence_matrix(np.array([0, 1, 2]), None, 3, window=2)
    >>> data = GloVeData(X, x_max=1.0)
    >>> (i, j), target, weight = data.epoch_arrays()
    >>> len(i), data.steps_per_epoch(4)
    (6, 1)
    """

    cooc: sp.spmatrix
    x_max: float = 100.0
    alpha: float = 0.75
    seed: int = 0

    def __post_init__(self):
        coo = sp.coo_matrix(self.cooc)
        keep = coo.data > 0
        self.rows = coo.row[keep].astype(np.int32)
        self.cols = coo.col[keep].astype(np.int32)
        vals = coo.data[keep]
        if len(vals) == 0:
            raise ValueError("The co-occurrence matrix has no positive entries.")
        self.log_x = np.log(vals).astype(np.float32)[:, None]  # (n, 1), like the model output
        self.weight = glove_weight(vals, self.x_max, self.alpha).astype(np.float32)
        self.rng = np.random.default_rng(self.seed)

    def __len__(self) -> int:
        return len(self.log_x)

    def epoch_arrays(self):
        """One shuffled epoch: ``((rows, cols), log_x, weights)``.

        Example: see the class docstring.
        """
        p = self.rng.permutation(len(self))
        return (self.rows[p], self.cols[p]), self.log_x[p], self.weight[p]

    def steps_per_epoch(self, batch_size: int) -> int:
        """Whole batches per epoch (the remainder is dropped and reshuffled next epoch).

        Args:
            batch_size: entries per batch.

        Example: see the class docstring.
        """
        check_positive_int("batch_size", batch_size)
        return max(1, len(self) // batch_size)

    def dataset(self, batch_size: int = 4096):
        """An endless ``tf.data.Dataset`` of ``((i, j), log X_ij, f(X_ij))`` batches.

        Use with ``model.fit(ds, epochs=n, steps_per_epoch=data.steps_per_epoch(batch_size))``.

        Args:
            batch_size: entries per batch.

        Example:

        >>> X = cooccurrence_matrix(np.array([0, 1, 2]), None, 3, window=2)
        >>> (i, j), target, w = next(iter(GloVeData(X).dataset(batch_size=6)))
        >>> int(i.shape[0])
        6
        """

        spec = (
            (tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)),
            tf.TensorSpec([None, 1], tf.float32),
            tf.TensorSpec([None], tf.float32),
        )
        return _endless_batches(self.epoch_arrays, batch_size, spec)


@keras.saving.register_keras_serializable(package="course_lib")
class GloVe(keras.Model):
    """GloVe as a Keras model: predicts log X_ij as w_i . w~_j + b_i + b~_j.

    Train it with :func:`compile_glove` on :meth:`GloVeData.dataset`, whose sample weights
    f(X_ij) make the squared error GloVe's weighted least squares. Following the paper, the final vector
    of a word is w + w~ (the two tables play symmetric roles).

    Args:
        vocab_size: number of words.
        embed_dim: vector size.
        name: the Keras model name.

    Example:

    >>> model = GloVe(vocab_size=5, embed_dim=3)
    >>> tuple(model((np.array([0, 1]), np.array([2, 3]))).shape)
    (2, 1)
    """

    def __init__(self, vocab_size: int, embed_dim: int, name: str = "glove", **kwargs):
        super().__init__(name=name, **kwargs)
        if vocab_size < 1 or embed_dim < 1:
            raise ValueError(
                f"vocab_size and embed_dim must be >= 1; got {vocab_size}, {embed_dim}"
            )
        self.vocab_size, self.embed_dim = int(vocab_size), int(embed_dim)
        # The reference implementation starts everything uniform in +-0.5/dim.
        init = keras.initializers.RandomUniform(-0.5 / embed_dim, 0.5 / embed_dim)
        self.w = keras.layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer=init, name="w"
        )
        self.w_tilde = keras.layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer=init, name="w_tilde"
        )
        self.b = keras.layers.Embedding(vocab_size, 1, embeddings_initializer=init, name="b")
        self.b_tilde = keras.layers.Embedding(
            vocab_size, 1, embeddings_initializer=init, name="b_tilde"
        )

    def call(self, inputs):
        i, j = inputs  # (B,), (B,): row and column of X_ij
        w_i, w_j = self.w(i), self.w_tilde(j)  # (B, D), (B, D)
        # keepdims: (B, 1), so that Keras' squared error gives one loss per entry, which the
        # f(X_ij) sample weights then scale.
        dot = ops.sum(w_i * w_j, axis=-1, keepdims=True)  # (B, 1)
        return dot + self.b(i) + self.b_tilde(j)  # (B, 1) + (B, 1) + (B, 1) -> (B, 1)

    def word_vectors(self) -> np.ndarray:
        """w + w~ as a (vocab_size, embed_dim) NumPy array.

        Example:

        >>> GloVe(5, 3).word_vectors().shape
        (5, 3)
        """
        for table in (self.w, self.w_tilde):
            if not table.built:  # never called: show the initial vectors
                table.build()
        return keras.ops.convert_to_numpy(self.w.embeddings + self.w_tilde.embeddings)  # (V, D)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embed_dim": self.embed_dim}


def compile_glove(
    model: GloVe,
    learning_rate: float = 0.05,
    steps_per_execution: int = 32,
    jit_compile: bool = True,
) -> GloVe:
    """Compiles a :class:`GloVe` as the reference implementation trains it: AdaGrad.

    Loss: squared error summed over the batch, weighted by the f(X_ij) sample weights of
    :class:`GloVeData`, i.e. GloVe's objective on the batch. AdaGrad gives rarely seen words
    larger steps, which the paper relies on. The ``weighted_mse`` metric is the per-entry
    mean of the same quantity.

    Args:
        model: the model.
        learning_rate: AdaGrad's rate (0.05 in the paper).
        steps_per_execution: training steps per call into TensorFlow.
        jit_compile: compile with XLA: about 3-4x faster per epoch on a CPU for a vocabulary
            of ~8,000 words, but it takes several seconds to compile, which a one-epoch
            test run does not win back.

    Example:

    >>> type(compile_glove(GloVe(10, 4)).optimizer).__name__
    'Adagrad'
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate}")
    model.compile(
        optimizer=keras.optimizers.Adagrad(learning_rate, initial_accumulator_value=1.0),
        loss=keras.losses.MeanSquaredError(reduction="sum"),
        weighted_metrics=[keras.metrics.MeanSquaredError(name="weighted_mse")],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def rankdata(x) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (as ``scipy.stats.rankdata``).

    Args:
        x: 1-D values.

    Example:

    >>> rankdata([10, 20, 20, 5]).tolist()
    [2.0, 3.5, 3.5, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    # Start of each run of equal values; every member of a run gets the run's mean rank.
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    mean_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks.

    1 means the two lists order the items identically, 0 no monotone relation.

    Args:
        x: first list of values.
        y: second list, same length.

    Returns:
        The correlation, or NaN when one list is constant.

    Example:

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 35])
    1.0
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two 1-D arrays of equal length >= 2; got {x.shape} and {y.shape}")
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx**2).sum() * (ry**2).sum())
    if denom == 0:
        return float("nan")  # one list is constant: correlation undefined
    return float(np.clip((rx * ry).sum() / denom, -1.0, 1.0))


@dataclass
class SimilarityResult:
    """Spearman correlation between model cosines and human scores, with coverage.

    Args:
        spearman: the rank correlation on the covered pairs.
        n_found: pairs whose two words have vectors.
        n_total: all pairs.

    Example:

    >>> SimilarityResult(0.5, 3, 4).coverage
    0.75
    """

    spearman: float
    n_found: int
    n_total: int

    @property
    def coverage(self) -> float:
        """Fraction of pairs whose two words both have vectors."""
        return self.n_found / self.n_total if self.n_total else 0.0


def evaluate_similarity(
    wv: WordVectors, pairs: Iterable[tuple[str, str, float]]
) -> SimilarityResult:
    """Spearman correlation of cosine similarity with human ratings, on covered pairs.

    Pairs with a word missing from ``wv`` are skipped (not scored as 0), and the coverage
    is reported, so always read the two numbers together.

    Args:
        wv: the word vectors.
        pairs: ``(word1, word2, human_score)`` triples (e.g. WordSim-353, SimLex-999).
            Words are lower-cased.

    Example:

    >>> wv = WordVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0]]))
    >>> r = evaluate_similarity(wv, [("a", "b", 9), ("a", "c", 1), ("b", "c", 3), ("a", "z", 5)])
    >>> r.spearman, r.n_found, r.n_total
    (1.0, 3, 4)
    """
    pairs = list(pairs)
    model, human = [], []
    for w1, w2, score in pairs:
        w1, w2 = w1.lower(), w2.lower()
        if w1 in wv and w2 in wv:
            model.append(wv.similarity(w1, w2))
            human.append(float(score))
    rho = spearman(model, human) if len(model) >= 2 else float("nan")
    return SimilarityResult(rho, len(model), len(pairs))


@dataclass
class AnalogyResult:
    """Analogy accuracy overall and per section, on the questions the vocabulary covers.

    Args:
        n_correct: questions answered correctly.
        n_found: questions whose four words are all in the vocabulary.
        n_total: all questions.
        per_section: section -> (correct, covered, total).

    Example:

    >>> r = AnalogyResult(1, 4, 8)
    >>> r.accuracy, r.coverage
    (0.25, 0.5)
    """

    n_correct: int
    n_found: int
    n_total: int
    per_section: dict = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """Correct answers / covered questions."""
        return self.n_correct / self.n_found if self.n_found else float("nan")

    @property
    def coverage(self) -> float:
        """Covered questions / all questions."""
        return self.n_found / self.n_total if self.n_total else 0.0


def evaluate_analogies(
    wv: WordVectors,
    sections: dict[str, list[tuple[str, str, str, str]]],
    restrict_vocab: int | None = None,
    batch_size: int = 512,
) -> AnalogyResult:
    """Accuracy on analogy questions a : b :: c : d, answered by 3CosAdd over the vocabulary.

    A question counts only if its four words are all among the first ``restrict_vocab`` words
    (all words if ``None``); the answer is searched in that same set, excluding a, b and c.
    This matches gensim's ``evaluate_word_analogies``.

    Args:
        wv: the word vectors (ordered by frequency if ``restrict_vocab`` is used).
        sections: ``{section_name: [(a, b, c, d), ...]}`` (e.g. the Google analogy set).
            Words are lower-cased.
        restrict_vocab: size of the candidate vocabulary.
        batch_size: questions scored per matrix product.

    Returns:
        An :class:`AnalogyResult`; ``per_section`` maps a section to (correct, covered, total).

    Example:

    >>> wv = WordVectors(["man", "king", "woman", "queen"],
    ...                  np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1.0]]))
    >>> r = evaluate_analogies(wv, {"royal": [("man", "king", "woman", "queen"),
    ...                                       ("man", "prince", "woman", "princess")]})
    >>> r.n_correct, r.n_found, r.n_total
    (1, 1, 2)
    """
    n_vocab = len(wv) if restrict_vocab is None else min(restrict_vocab, len(wv))
    unit = wv.unit[:n_vocab]
    index = {w: i for w, i in wv.index.items() if i < n_vocab}
    per_section, total_correct, total_found, total = {}, 0, 0, 0
    for name, questions in sections.items():
        q = [tuple(w.lower() for w in qu) for qu in questions]
        found = np.array(
            [[index[w] for w in qu] for qu in q if all(w in index for w in qu)], dtype=np.int64
        ).reshape(-1, 4)
        correct = 0
        for s in range(0, len(found), batch_size):
            chunk = found[s : s + batch_size]
            a, b, c, d = chunk.T
            sims = (unit[b] - unit[a] + unit[c]) @ unit.T
            rows = np.arange(len(chunk))
            for col in (a, b, c):
                sims[rows, col] = -np.inf
            correct += int((sims.argmax(axis=1) == d).sum())
        per_section[name] = (correct, len(found), len(q))
        total_correct += correct
        total_found += len(found)
        total += len(q)
    return AnalogyResult(total_correct, total_found, total, per_section)
