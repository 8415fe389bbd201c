"""Bag-of-words and TF-IDF features, built from scratch, plus cosine similarity.

Chapter 02 explains both ideas with a few NumPy lines and then uses the classes here. They
follow scikit-learn's ``CountVectorizer`` / ``TfidfVectorizer`` conventions on purpose
(same default tokenizer, vocabulary sorted alphabetically, same IDF formula and
normalisation), so the tests can check them against scikit-learn to 1e-6.

The formulas, for a term t, a document d and n documents:

- count:      tf(t, d) = number of times t occurs in d (``sublinear_tf``: 1 + ln tf)
- idf:        ln((1 + n) / (1 + df(t))) + 1   (``smooth_idf=True``)
              ln(n / df(t)) + 1               (``smooth_idf=False``)
- tf-idf:     tf(t, d) * idf(t), then each row divided by its L2 (or L1) norm.

Example:

>>> docs = ["the cat sat", "the dog sat", "the cat ran"]
>>> vec = TfidfVectorizer().fit(docs)
>>> vec.feature_names
['cat', 'dog', 'ran', 'sat', 'the']
>>> X = vec.transform(docs)
>>> X.shape
(3, 5)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default: words of two or more characters
NORMS = ("l2", "l1", None)


def tokenize(text: str, *, lowercase: bool = True, token_pattern: str = TOKEN_PATTERN) -> list[str]:
    """Splits a text into word tokens with a regular expression.

    Args:
        text: the document.
        lowercase: lower-case before matching (so "The" and "the" are one word).
        token_pattern: a regular expression; every match is a token.

    Returns:
        The tokens in order.

    Example:

    >>> tokenize("The cat's hat, a HAT!")
    ['the', 'cat', 'hat', 'hat']
    """
    if lowercase:
        text = text.lower()
    return re.findall(token_pattern, text)


def word_ngrams(tokens: Sequence[str], ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """Returns the word n-grams of a token list, joined by single spaces.

    Args:
        tokens: the tokens of one document.
        ngram_range: ``(min_n, max_n)``, both inclusive; ``(1, 2)`` gives words and bigrams.

    Example:

    >>> word_ngrams(["not", "very", "good"], (1, 2))
    ['not', 'very', 'good', 'not very', 'very good']
    """
    min_n, max_n = _check_ngram_range(ngram_range)
    out = []
    for n in range(min_n, max_n + 1):
        if n == 1:
            out.extend(tokens)
        else:
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _check_ngram_range(ngram_range) -> tuple[int, int]:
    try:
        min_n, max_n = (int(v) for v in ngram_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"ngram_range must be a pair (min_n, max_n), e.g. (1, 2); got {ngram_range!r}"
        ) from None
    if not 1 <= min_n <= max_n:
        raise ValueError(f"ngram_range needs 1 <= min_n <= max_n; got {ngram_range!r}")
    return min_n, max_n


def _doc_count_limit(value, n_docs: int, name: str) -> float:
    # An int is an absolute number of documents, a float a fraction of them (scikit-learn's rule).
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be an int (documents) or a float in [0, 1]; got {value!r}")
    if isinstance(value, Integral):
        if value < 0:
            raise ValueError(f"{name} as a document count must be >= 0; got {value}")
        return float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{name} as a fraction must lie in [0, 1]; got {value}. Use an int for counts."
        )
    return value * n_docs


class BagOfWords:
    """Turns documents into a sparse matrix of term counts (one row per document).

    Args:
        lowercase: lower-case text before tokenizing.
        token_pattern: regular expression that defines a token.
        ngram_range: ``(min_n, max_n)`` word n-grams to count.
        min_df: drop terms in fewer documents than this (int: documents, float: fraction).
        max_df: drop terms in more documents than this (int or fraction); removes
            corpus-specific stop words.
        max_features: keep only this many terms, the most frequent over the corpus.
        binary: record presence (1) instead of counts.

    Attributes (after ``fit``):
        vocabulary_: dict term -> column index; columns are in alphabetical order.
        document_frequency_: for each column, the number of training documents containing it.

    Example:

    >>> bow = BagOfWords().fit(["a rose is a rose", "a daisy"])
    >>> bow.feature_names
    ['daisy', 'is', 'rose']
    >>> bow.transform(["rose rose daisy"]).toarray().tolist()
    [[1, 0, 2]]
    """

    def __init__(
        self,
        *,
        lowercase: bool = True,
        token_pattern: str = TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: float = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        binary: bool = False,
    ):
        _check_ngram_range(ngram_range)
        if max_features is not None and (
            not isinstance(max_features, Integral) or max_features < 1
        ):
            raise ValueError(f"max_features must be a positive int or None; got {max_features!r}")
        re.compile(token_pattern)  # fail early on a bad pattern, not in the middle of fit
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.binary = binary
        self.vocabulary_: dict[str, int] | None = None
        self.document_frequency_: np.ndarray | None = None

    def analyze(self, doc: str) -> list[str]:
        """Returns the terms (tokens or n-grams) of one document.

        Args:
            doc: the document.

        Example:

        >>> BagOfWords(ngram_range=(1, 2)).analyze("Not good")
        ['not', 'good', 'not good']
        """
        tokens = tokenize(doc, lowercase=self.lowercase, token_pattern=self.token_pattern)
        return word_ngrams(tokens, self.ngram_range)

    def fit(self, docs: Iterable[str]) -> BagOfWords:
        """Builds the vocabulary from training documents.

        Args:
            docs: the training documents (strings).

        Returns:
            ``self``, so calls chain: ``BagOfWords().fit(docs).transform(docs)``.

        Example:

        >>> len(BagOfWords(min_df=2).fit(["red car", "red bus", "blue car"]).vocabulary_)
        2
        """
        self._fit_counts(_as_doc_list(docs))
        return self

    def _fit_counts(self, docs: list[str]) -> sp.csr_matrix:
        # First pass: count with a provisional vocabulary in order of first appearance, then
        # put the columns in alphabetical order, which makes every later tie-break reproducible.
        provisional: dict[str, int] = {}
        counts = _count_matrix([self.analyze(d) for d in docs], provisional, grow=True)
        if not provisional:
            raise ValueError("The documents contain no tokens matching token_pattern.")
        terms = np.array(list(provisional), dtype=object)
        alphabetical = np.argsort(terms.astype(str), kind="stable")
        terms = terms[alphabetical]
        counts = counts[:, alphabetical].tocsr()
        if self.binary:
            counts.data[:] = 1
        n_docs = len(docs)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        high = _doc_count_limit(self.max_df, n_docs, "max_df")
        low = _doc_count_limit(self.min_df, n_docs, "min_df")
        if high < low:
            raise ValueError(
                f"max_df ({self.max_df}) allows fewer documents than min_df ({self.min_df}); "
                "raise max_df or lower min_df."
            )
        keep = (df <= high) & (df >= low)
        if self.max_features is not None and keep.sum() > self.max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()
            kept = np.flatnonzero(keep)
            # Ties at the cut-off go to the alphabetically first term (scikit-learn's order
            # among tied terms is not specified).
            best = kept[np.argsort(-totals[kept], kind="stable")[: self.max_features]]
            keep = np.zeros_like(keep)
            keep[best] = True
        if not keep.any():
            raise ValueError(
                "No terms remain after min_df/max_df/max_features pruning; loosen those limits."
            )
        cols = np.flatnonzero(keep)
        self.vocabulary_ = {terms[c]: i for i, c in enumerate(cols)}
        self.document_frequency_ = df[cols]
        counts = counts[:, cols].tocsr()
        counts.sort_indices()
        return counts

    def transform(self, docs: Iterable[str]) -> sp.csr_matrix:
        """Counts the vocabulary's terms in each document; unknown terms are ignored.

        Args:
            docs: documents (strings).

        Returns:
            A ``scipy.sparse.csr_matrix`` of shape (documents, vocabulary), dtype int64.

        Example:

        >>> BagOfWords().fit(["to be or not"]).transform(["be be"]).toarray().tolist()
        [[2, 0, 0, 0]]
        """
        self._check_fitted()
        counts = _count_matrix(
            [self.analyze(d) for d in _as_doc_list(docs)], self.vocabulary_, grow=False
        )
        if self.binary:
            counts.data[:] = 1
        return counts

    def fit_transform(self, docs: Iterable[str]) -> sp.csr_matrix:
        """``fit`` then ``transform`` on the same documents, in one pass.

        Args:
            docs: the training documents.

        Example:

        >>> BagOfWords().fit_transform(["bb aa bb"]).toarray().tolist()
        [[1, 2]]
        """
        return self._fit_counts(_as_doc_list(docs))

    @property
    def feature_names(self) -> list[str]:
        """The terms in column order.

        Example:

        >>> BagOfWords().fit(["bb aa"]).feature_names
        ['aa', 'bb']
        """
        self._check_fitted()
        return sorted(self.vocabulary_, key=self.vocabulary_.get)

    def _check_fitted(self):
        if self.vocabulary_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call .fit(docs) first.")


def _as_doc_list(docs) -> list[str]:
    if isinstance(docs, str):
        raise TypeError("Pass a list of documents, not a single string (wrap it: [text]).")
    docs = list(docs)
    if not docs:
        raise ValueError("Need at least one document.")
    return docs


def _count_matrix(term_lists, vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
    indptr, indices, data = [0], [], []
    for terms in term_lists:
        counter = Counter()
        for t in terms:
            col = vocabulary.get(t)
            if col is None:
                if not grow:
                    continue
                col = vocabulary[t] = len(vocabulary)
            counter[col] += 1
        indices.extend(counter.keys())
        data.extend(counter.values())
        indptr.append(len(indices))
    m = sp.csr_matrix(
        (np.asarray(data, dtype=np.int64), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(term_lists), len(vocabulary)),
    )
    m.sort_indices()
    return m


def idf_weights(document_frequency, n_docs: int, *, smooth_idf: bool = True) -> np.ndarray:
    """Inverse document frequency of each term.

    Rare terms get large weights, terms in every document get weight 1 (never 0, so they are
    kept, just not emphasised).

    Args:
        document_frequency: array of df(t), the number of documents containing each term.
        n_docs: number of documents.
        smooth_idf: add one to n and every df, as if one extra document contained every term;
            avoids division by zero for unseen terms.

    Returns:
        float64 array: ``ln((1+n)/(1+df)) + 1`` (smooth) or ``ln(n/df) + 1``.

    Example:

    >>> idf_weights([1, 3], 3).round(4).tolist()
    [1.6931, 1.0]
    """
    df = np.asarray(document_frequency, dtype=np.float64)
    if n_docs < 1:
        raise ValueError(f"n_docs must be >= 1; got {n_docs}")
    if smooth_idf:
        return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    if (df <= 0).any():
        raise ValueError("A term has df = 0; use smooth_idf=True or drop unseen terms.")
    return np.log(n_docs / df) + 1.0


def normalize_rows(matrix, norm: str | None = "l2"):
    """Divides each row by its L2 or L1 norm; all-zero rows stay zero.

    Args:
        matrix: a dense array or scipy sparse matrix.
        norm: ``"l2"``, ``"l1"`` or ``None`` (unchanged).

    Returns:
        A float64 matrix of the same kind (sparse CSR stays sparse CSR).

    Example:

    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")
    if norm is None:
        return matrix
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        per_entry = m.copy()
        per_entry.data = m.data**2 if norm == "l2" else np.abs(m.data)
        sums = np.asarray(per_entry.sum(axis=1)).ravel()
        norms = np.sqrt(sums) if norm == "l2" else sums
        norms[norms == 0] = 1.0
        m.data /= np.repeat(norms, np.diff(m.indptr))
        return m
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, ord=2 if norm == "l2" else 1, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class TfidfVectorizer(BagOfWords):
    """Counts terms, weights them by IDF and normalises each document vector.

    Takes every argument of :class:`BagOfWords`, plus:

    Args:
        norm: ``"l2"`` (default: every document becomes a unit vector, so cosine similarity
            is a dot product), ``"l1"`` or ``None``.
        use_idf: multiply by IDF; with ``False`` this is normalised term frequency.
        smooth_idf: see :func:`idf_weights`.
        sublinear_tf: replace a count c by 1 + ln(c), so ten mentions weigh less than ten
            times one mention.

    Attributes (after ``fit``): ``vocabulary_``, ``document_frequency_`` and ``idf_``.

    Example:

    >>> vec = TfidfVectorizer().fit(["good film", "bad film"])
    >>> vec.idf_.round(3).tolist()  # bad, film, good
    [1.405, 1.0, 1.405]
    """

    def __init__(
        self,
        *,
        norm: str | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        **bow_kwargs,
    ):
        super().__init__(**bow_kwargs)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")
        self.norm = norm
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf
        self.sublinear_tf = sublinear_tf
        self.idf_: np.ndarray | None = None

    def fit(self, docs: Iterable[str]) -> TfidfVectorizer:
        """Builds the vocabulary and the IDF weights.

        Args:
            docs: the training documents.

        Returns:
            ``self``.

        Example:

        >>> TfidfVectorizer().fit(["ab bc", "bc cd"]).idf_.shape
        (3,)
        """
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Iterable[str]) -> sp.csr_matrix:
        """Fits on ``docs`` and returns their TF-IDF matrix (CSR, float64).

        Args:
            docs: the training documents.

        Example:

        >>> TfidfVectorizer().fit_transform(["ab ab", "cd"]).toarray().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        docs = _as_doc_list(docs)
        counts = self._fit_counts(docs)
        self.idf_ = idf_weights(self.document_frequency_, len(docs), smooth_idf=self.smooth_idf)
        return self._weight(counts)

    def transform(self, docs: Iterable[str]) -> sp.csr_matrix:
        """Returns the TF-IDF matrix of ``docs`` (CSR, float64) with the fitted vocabulary.

        Args:
            docs: documents; terms outside the vocabulary are ignored.

        Example:

        >>> vec = TfidfVectorizer().fit(["red car", "blue car"])
        >>> vec.transform(["red red"]).toarray().round(3).tolist()
        [[0.0, 0.0, 1.0]]
        """
        return self._weight(super().transform(docs))

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        m = counts.astype(np.float64)
        if self.sublinear_tf:
            m.data = 1.0 + np.log(m.data)
        if self.use_idf:
            m = sp.csr_matrix(m.multiply(self.idf_[None, :]))
        return normalize_rows(m, self.norm)


def cosine_similarity(a, b=None) -> np.ndarray:
    """Cosine similarity between the rows of ``a`` and the rows of ``b`` (default: ``a``).

    cos(u, v) = u . v / (|u| |v|); a zero row has similarity 0 with everything.

    Args:
        a: (n, d) dense array or sparse matrix.
        b: (m, d) dense array or sparse matrix, or ``None``.

    Returns:
        A dense (n, m) float64 array.

    Example:

    >>> cosine_similarity(np.array([[1.0, 0.0], [1.0, 1.0]])).round(3).tolist()
    [[1.0, 0.707], [0.707, 1.0]]
    """
    a_n = normalize_rows(a, "l2")
    b_n = a_n if b is None else normalize_rows(b, "l2")
    if a_n.shape[1] != b_n.shape[1]:
        raise ValueError(f"a has {a_n.shape[1]} columns but b has {b_n.shape[1]}; they must match.")
    sims = a_n @ b_n.T
    return sims.toarray() if sp.issparse(sims) else np.asarray(sims)


def nearest_documents(matrix, query: int, k: int = 5) -> list[tuple[int, float]]:
    """The ``k`` rows most cosine-similar to row ``query`` (excluding itself).

    Args:
        matrix: (n, d) document vectors, dense or sparse.
        query: row index of the query document.
        k: how many neighbours to return.

    Returns:
        ``[(row, similarity), ...]``, most similar first; ties broken by lower row index.

    Example:

    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> [(i, round(s, 3)) for i, s in nearest_documents(X, 0, k=2)]
    [(1, 0.994), (2, 0.0)]
    """
    n = matrix.shape[0]
    if not 0 <= query < n:
        raise IndexError(f"query must be a row index in [0, {n}); got {query}")
    sims = cosine_similarity(matrix[query : query + 1], matrix)[0]
    sims[query] = -np.inf
    order = np.argsort(-sims, kind="stable")[: min(k, n - 1)]
    return [(int(i), float(sims[i])) for i in order]
