"""Bag-of-words and TF-IDF from course_lib.text_features, checked by hand and against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer as SkCount
from sklearn.feature_extraction.text import TfidfVectorizer as SkTfidf

from course_lib.text_features import (
    BagOfWords,
    TfidfVectorizer,
    cosine_similarity,
    idf_weights,
    nearest_documents,
    normalize_rows,
    tokenize,
    word_ngrams,
)

DOCS = [
    "The movie was good, really good.",
    "The movie was bad.",
    "A good plot, a bad ending; the actors were good.",
    "Nothing happens in this movie and nothing is good",
    "Ending? What ending? The plot never ends!",
    "Good actors cannot save a bad plot.",
]


def test_tokenize_and_ngrams():
    assert tokenize("It's A test, a TEST!") == ["it", "test", "test"]
    assert tokenize("It's", lowercase=False, token_pattern=r"\S+") == ["It's"]
    assert word_ngrams(["a", "b", "c"], (2, 3)) == ["a b", "b c", "a b c"]


def test_bag_of_words_counts_by_hand():
    bow = BagOfWords().fit(["red red car", "blue car"])
    assert bow.feature_names == ["blue", "car", "red"]
    assert bow.transform(["red red car", "blue car"]).toarray().tolist() == [[0, 1, 2], [1, 1, 0]]
    assert bow.document_frequency_.tolist() == [1, 2, 1]
    # Unknown words are ignored, not errors.
    assert bow.transform(["green car"]).toarray().tolist() == [[0, 1, 0]]
    assert BagOfWords(binary=True).fit_transform(["aa aa bb"]).toarray().tolist() == [[1, 1]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"min_df": 2},
        {"max_df": 0.5, "ngram_range": (1, 2)},
        {"binary": True, "min_df": 0.3},
    ],
)
def test_bag_of_words_matches_sklearn(kwargs):
    ours = BagOfWords(**kwargs)
    X = ours.fit_transform(DOCS)
    ref = SkCount(**kwargs)
    Y = ref.fit_transform(DOCS)
    assert ours.vocabulary_ == ref.vocabulary_
    assert np.array_equal(X.toarray(), Y.toarray())
    assert np.array_equal(
        ours.transform(["good good plot"]).toarray(), ref.transform(["good good plot"]).toarray()
    )


def test_max_features_keeps_most_frequent():
    docs = ["aa aa aa bb bb cc", "aa bb dd"]  # totals: aa 4, bb 3, cc 1, dd 1
    ours = BagOfWords(max_features=2).fit(docs)
    assert ours.feature_names == ["aa", "bb"]
    assert ours.vocabulary_ == SkCount(max_features=2).fit(docs).vocabulary_


def test_idf_by_hand():
    # 4 documents; a term in 1 of them: smooth idf = ln(5/2) + 1, plain idf = ln(4) + 1.
    assert idf_weights([1], 4)[0] == pytest.approx(np.log(5 / 2) + 1)
    assert idf_weights([1], 4, smooth_idf=False)[0] == pytest.approx(np.log(4) + 1)
    assert idf_weights([4], 4, smooth_idf=False)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="smooth_idf"):
        idf_weights([0], 4, smooth_idf=False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"norm": "l2", "smooth_idf": False},
        {"sublinear_tf": True},
        {"sublinear_tf": True, "smooth_idf": False, "min_df": 2},
        {"norm": "l1", "ngram_range": (1, 2)},
        {"norm": None, "use_idf": False},
        {"min_df": 2, "max_df": 0.8, "sublinear_tf": True, "norm": None},
    ],
)
def test_tfidf_matches_sklearn(kwargs):
    ours = TfidfVectorizer(**kwargs)
    X = ours.fit_transform(DOCS)
    ref = SkTfidf(**kwargs)
    Y = ref.fit_transform(DOCS)
    assert ours.vocabulary_ == ref.vocabulary_
    np.testing.assert_allclose(X.toarray(), Y.toarray(), atol=1e-6)
    if ours.use_idf:
        np.testing.assert_allclose(ours.idf_, ref.idf_, atol=1e-6)
    new = ["a good movie with a bad bad ending", "zzz"]
    np.testing.assert_allclose(
        ours.transform(new).toarray(), ref.transform(new).toarray(), atol=1e-6
    )


def test_tfidf_values_by_hand():
    # Two documents: "good film" / "bad film". film is in both: idf = ln(3/3) + 1 = 1;
    # good is in one: idf = ln(3/2) + 1. Row "good film" = [0, 1, ln 1.5 + 1] / norm.
    X = TfidfVectorizer().fit_transform(["good film", "bad film"]).toarray()
    g = np.log(1.5) + 1
    np.testing.assert_allclose(X[0], np.array([0, 1, g]) / np.hypot(1, g), atol=1e-12)


def test_normalize_rows_sparse_and_dense_agree():
    import scipy.sparse as sp

    A = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -1.0, 2.0]])
    for norm in ("l1", "l2"):
        dense = normalize_rows(A, norm)
        sparse = normalize_rows(sp.csr_matrix(A), norm).toarray()
        np.testing.assert_allclose(dense, sparse)
    assert normalize_rows(A, "l2")[0].tolist() == [0.6, 0.8, 0.0]
    assert normalize_rows(A, "l1")[2].tolist() == [0.25, -0.25, 0.5]
    with pytest.raises(ValueError, match="norm"):
        normalize_rows(A, "l3")


def test_cosine_and_nearest_documents():
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [0.0, 0.0]])
    S = cosine_similarity(X)
    assert S[0, 1] == pytest.approx(1 / np.sqrt(2))
    assert S[3].tolist() == [0.0, 0.0, 0.0, 0.0]  # a zero vector is similar to nothing
    assert [i for i, _ in nearest_documents(X, 2, k=2)] == [1, 0]
    vec = TfidfVectorizer()
    T = vec.fit_transform(DOCS)
    # The most similar document to "movie was bad" shares "movie", "was"...
    assert nearest_documents(T, 1, k=1)[0][0] == 0


def test_config_errors_say_what_to_change():
    with pytest.raises(ValueError, match="ngram_range"):
        BagOfWords(ngram_range=(2, 1))
    with pytest.raises(ValueError, match="max_df"):
        BagOfWords(min_df=5, max_df=2).fit(DOCS)
    with pytest.raises(ValueError, match="No terms remain"):
        BagOfWords(min_df=6, max_df=6).fit(DOCS)  # no word is in all six documents
    with pytest.raises(TypeError, match="list of documents"):
        BagOfWords().fit("just one string")
    with pytest.raises(RuntimeError, match="fit"):
        BagOfWords().transform(DOCS)
