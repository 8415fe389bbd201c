"""Count-based n-gram language models with add-k smoothing: the baselines a neural LM must beat.

An n-gram model predicts a token from the ``n − 1`` tokens before it, by counting:

    P(w | h) = (c(h, w) + k) / (c(h) + k·V)

where ``c(h, w)`` counts how often ``w`` followed the history ``h`` in the training text,
``c(h) = Σ_w c(h, w)``, ``V`` is the vocabulary size and ``k`` the add-k (Lidstone) constant:
``k = 1`` is Laplace smoothing, ``k = 0`` the maximum-likelihood estimate, which gives every
n-gram it never saw probability 0 (and an infinite perplexity). A unigram model (n = 1) ignores
the history; a bigram model (n = 2) looks one token back.

Scoring convention, shared with the GPT evaluation of chapter 07: the first token of a text is
given, and every later token is predicted, so a text of L tokens has L − 1 scored targets. For
the first targets, whose history is shorter than ``n − 1``, the model uses the longest history
available (the (i+1)-gram statistics for the i-th target).

The counts are kept as sorted integer codes of the n-grams (NumPy), so a model of a million
tokens fits and scores in a fraction of a second. With the same vocabulary size, the
probabilities equal NLTK's ``nltk.lm.Lidstone`` (``tests/test_ngram_lm.py`` checks it).

Example:

>>> lm = NGramLM(order=2, vocab_size=3, k=1.0).fit([0, 1, 0, 1, 2])
>>> round(lm.probability(1, context=[0]), 4)     # (2 + 1) / (2 + 3)
0.6
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NGramLM"]


class NGramLM:
    """An n-gram language model over integer token ids, with add-k smoothing.

    Args:
        order: n, the number of tokens in an n-gram (1 = unigram, 2 = bigram, ...).
        vocab_size: V, the number of possible token ids (ids lie in ``[0, V)``). Use the
            tokenizer's vocabulary size, so that every id gets probability mass.
        k: the add-k constant, ≥ 0. ``k = 0`` is the unsmoothed maximum-likelihood model.

    Example:

    >>> lm = NGramLM(order=1, vocab_size=4, k=0.0).fit([0, 0, 1, 2])
    >>> round(lm.perplexity([0, 0, 1]), 4)     # targets 0 and 1: P = 1/2 and 1/4
    2.8284
    """

    def __init__(self, order: int, vocab_size: int, k: float = 1.0):
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"order must be a positive int (1 = unigram, 2 = bigram), got {order}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive int, got {vocab_size}")
        if not (k >= 0 and math.isfinite(k)):
            raise ValueError(f"k must be a finite number >= 0 (1 = Laplace), got {k}")
        if order * math.log2(vocab_size) > 62:
            raise ValueError(
                f"order {order} with vocab_size {vocab_size} has too many possible n-grams to "
                "encode in 64 bits; use a lower order or a smaller vocabulary."
            )
        self.order = order
        self.vocab_size = vocab_size
        self.k = float(k)
        # For each m = 1..order: sorted m-gram codes with their counts, and the sorted
        # (m-1)-gram history codes with their totals c(h).
        self._grams: list[tuple[np.ndarray, np.ndarray]] = []
        self._histories: list[tuple[np.ndarray, np.ndarray]] = []
        self.num_training_tokens = 0

    def __repr__(self):
        return f"NGramLM(order={self.order}, vocab_size={self.vocab_size}, k={self.k})"

    # -- counting ----------------------------------------------------------------------------

    def _check_ids(self, tokens, what):
        tokens = np.asarray(tokens)
        if tokens.ndim != 1:
            raise ValueError(
                f"{what} must be a 1-D sequence of token ids, got shape {tokens.shape}"
            )
        if tokens.size and not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"{what} must be integer token ids; encode the text first")
        tokens = tokens.astype(np.int64)
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(
                f"{what} has ids outside [0, {self.vocab_size}); was it encoded with a tokenizer "
                "of this vocabulary size?"
            )
        return tokens

    def _codes(self, tokens, m):
        # code = t[i]·V^(m-1) + ... + t[i+m-1], for every window of m tokens
        count = len(tokens) - m + 1
        codes = np.zeros(max(count, 0), dtype=np.int64)
        for j in range(m):
            codes = codes * self.vocab_size + tokens[j : j + count]
        return codes

    def fit(self, tokens) -> NGramLM:
        """Counts the n-grams (of every order up to n) of a training sequence.

        Args:
            tokens: 1-D array of token ids (one long text; documents may be joined with a
                separator token).

        Returns:
            ``self``, so that ``NGramLM(...).fit(ids)`` reads as one line.

        Example:

        >>> NGramLM(2, 10).fit([1, 2, 3]).num_training_tokens
        3
        """
        tokens = self._check_ids(tokens, "tokens")
        if len(tokens) < self.order:
            raise ValueError(
                f"the training text has {len(tokens)} tokens, fewer than the order {self.order}"
            )
        self._grams, self._histories = [], []
        for m in range(1, self.order + 1):
            codes, counts = np.unique(self._codes(tokens, m), return_counts=True)
            histories, inverse = np.unique(codes // self.vocab_size, return_inverse=True)
            totals = np.bincount(inverse, weights=counts).astype(np.int64)
            self._grams.append((codes, counts.astype(np.int64)))
            self._histories.append((histories, totals))
        self.num_training_tokens = len(tokens)
        return self

    @staticmethod
    def _lookup(table, keys):
        codes, counts = table
        pos = np.searchsorted(codes, keys)
        pos = np.minimum(pos, len(codes) - 1)
        found = codes[pos] == keys
        return np.where(found, counts[pos], 0)

    def _require_fit(self):
        if not self._grams:
            raise RuntimeError("the model has no counts yet; call fit(training_ids) first")

    # -- probabilities -----------------------------------------------------------------------

    def _log_prob_of_codes(self, m, gram_codes):
        c_hw = self._lookup(self._grams[m - 1], gram_codes).astype(np.float64)
        c_h = self._lookup(self._histories[m - 1], gram_codes // self.vocab_size).astype(np.float64)
        numerator = c_hw + self.k
        denominator = c_h + self.k * self.vocab_size
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.log(numerator) - np.log(denominator)
        # k = 0 and an unseen history: 0/0. The MLE gives such a token no probability.
        return np.where(denominator > 0, logp, -np.inf)

    def log_probs(self, tokens) -> np.ndarray:
        """Natural-log probability of each token after the first, given its history.

        Args:
            tokens: 1-D array of token ids (a validation text).

        Returns:
            A float64 array of ``len(tokens) − 1`` log-probabilities (``−inf`` where an
            unsmoothed model gives probability 0).

        Example:

        >>> lm = NGramLM(2, 2, k=1.0).fit([0, 1, 0, 1])
        >>> np.exp(lm.log_probs([0, 1])).round(3).tolist()     # (2 + 1) / (2 + 2)
        [0.75]
        """
        self._require_fit()
        tokens = self._check_ids(tokens, "tokens")
        n_tokens = len(tokens)
        out = np.empty(max(n_tokens - 1, 0))
        # Targets 1 .. n-2 have a history shorter than n - 1: score target i with the
        # (i+1)-gram statistics.
        for i in range(1, min(self.order - 1, n_tokens)):
            code = self._codes(tokens[: i + 1], i + 1)
            out[i - 1] = self._log_prob_of_codes(i + 1, code)[0]
        # Every later target has its full history: one vectorised lookup.
        first = max(self.order - 1, 1)
        if n_tokens > first:
            codes = self._codes(tokens, self.order)
            if self.order == 1:
                codes = codes[1:]  # the first token is given, not scored
            out[first - 1 :] = self._log_prob_of_codes(self.order, codes)
        return out

    def nll(self, tokens) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of a text and the number of scored tokens.

        Args:
            tokens: 1-D array of token ids.

        Returns:
            ``(total_nll, count)`` with ``count = len(tokens) − 1``; divide to get the mean, or
            divide by a character count for a per-character figure.

        Example:

        >>> lm = NGramLM(1, 2, k=0.0).fit([0, 1])
        >>> total, count = lm.nll([0, 1, 1])
        >>> round(total / count, 4)        # ln 2
        0.6931
        """
        logp = self.log_probs(tokens)
        if logp.size == 0:
            raise ValueError("need at least two tokens: the first is given, the rest are scored")
        return float(-logp.sum()), int(logp.size)

    def perplexity(self, tokens) -> float:
        """Per-token perplexity ``exp(mean NLL)`` of a text (``inf`` if a token has P = 0).

        Args:
            tokens: 1-D array of token ids.

        Returns:
            The perplexity.

        Example:

        >>> round(NGramLM(1, 5, k=1.0).fit([0, 1, 2, 3, 4]).perplexity([0, 1, 2]), 4)
        5.0
        """
        total, count = self.nll(tokens)
        mean = total / count
        return math.exp(mean) if mean < 700 else math.inf

    def distribution(self, context=()) -> np.ndarray:
        """The model's next-token distribution after ``context`` (its last n − 1 tokens).

        Args:
            context: a sequence of token ids (may be shorter than n − 1 or empty).

        Returns:
            A float64 array of V probabilities (all zero when ``k = 0`` and the history was never
            seen).

        Example:

        >>> NGramLM(2, 3, k=0.0).fit([0, 1, 0, 2]).distribution([0]).tolist()
        [0.0, 0.5, 0.5]
        """
        self._require_fit()
        history = self._check_ids(list(context), "context") if self.order > 1 else []
        history = history[len(history) - min(len(history), self.order - 1) :]
        m = len(history) + 1
        base = 0
        for t in history:
            base = base * self.vocab_size + int(t)
        codes = base * self.vocab_size + np.arange(self.vocab_size, dtype=np.int64)
        return np.exp(self._log_prob_of_codes(m, codes))

    def probability(self, token: int, context=()) -> float:
        """P(token | context), with the smoothing of this model.

        Args:
            token: a token id.
            context: the preceding token ids.

        Returns:
            The probability.

        Example:

        >>> round(NGramLM(1, 2, k=1.0).fit([0, 0, 0]).probability(1), 2)   # (0 + 1) / (3 + 2)
        0.2
        """
        return float(self.distribution(context)[int(token)])

    def sample(self, context, num_tokens: int, *, seed: int | None = None) -> list[int]:
        """Draws ``num_tokens`` tokens after ``context``, one at a time.

        Args:
            context: the starting token ids (at least one for n ≥ 2 is usual).
            num_tokens: how many tokens to draw.
            seed: NumPy seed for reproducible samples.

        Returns:
            The new token ids.

        Example:

        >>> NGramLM(2, 3, k=0.0).fit([0, 1, 2, 0, 1, 2]).sample([0], 4, seed=0)
        [1, 2, 0, 1]
        """
        rng = np.random.default_rng(seed)
        history = [int(t) for t in context]
        new = []
        for _ in range(num_tokens):
            p = self.distribution(history)
            if p.sum() == 0:  # an unseen history under k = 0: fall back to the unigram counts
                p = self._unigram()
            token = int(rng.choice(self.vocab_size, p=p / p.sum()))
            new.append(token)
            history.append(token)
        return new

    def _unigram(self):
        codes, counts = self._grams[0]
        p = np.zeros(self.vocab_size)
        p[codes] = counts
        return p
