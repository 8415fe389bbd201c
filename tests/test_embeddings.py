"""Word2Vec, GloVe and embedding evaluation from course_lib.chapters.ch02_representations, on tiny fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from course_lib.chapters.ch02_representations import (
    GloVe,
    GloVeData,
    SkipGramData,
    Vocabulary,
    Word2Vec,
    WordVectors,
    compile_glove,
    compile_word2vec,
    cooccurrence_matrix,
    evaluate_analogies,
    evaluate_similarity,
    glove_weight,
    keep_probabilities,
    negative_sampling_distribution,
    rankdata,
    skipgram_pairs,
    spearman,
    tokenize_words,
)
from course_lib.reproducibility import seed_everything

# ------------------------------------------------------------------------------------------
# Text to ids


def test_tokenize_and_vocabulary():
    sents = [tokenize_words("The cat, the DOG; the end."), tokenize_words("A cat 2 go")]
    assert sents[0] == ["the", "cat", "the", "dog", "the", "end"]
    v = Vocabulary.build(sents, min_count=2)
    assert v.words == ["the", "cat"] and v.counts.tolist() == [3, 2]
    ids, sent = v.encode_corpus(sents)
    assert ids.tolist() == [0, 1, 0, 0, 1] and sent.tolist() == [0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build(sents, min_count=10)


# ------------------------------------------------------------------------------------------
# Word2Vec data


def test_keep_probabilities_formula():
    counts = np.array([900, 90, 10])  # shares 0.9, 0.09, 0.01
    keep = keep_probabilities(counts, sample=0.01)
    f = counts / counts.sum()
    expected = np.minimum(1, (np.sqrt(f / 0.01) + 1) * 0.01 / f)
    np.testing.assert_allclose(keep, expected)
    assert keep[0] == pytest.approx((np.sqrt(90) + 1) / 90)
    assert keep[2] == 1.0  # a word at or below the threshold is always kept
    assert keep_probabilities(counts, sample=0).tolist() == [1.0, 1.0, 1.0]


def test_subsampling_drops_frequent_words_at_expected_rate():
    counts = np.array([5000, 300, 200, 100])
    ids = np.repeat(np.arange(4), counts)
    data = SkipGramData(ids, None, counts, window=2, sample=0.01, seed=3)
    kept = np.zeros(4)
    rounds = 40
    for _ in range(rounds):
        sub, _ = data.subsample()
        kept += np.bincount(sub, minlength=4)
    rate = kept / (counts * rounds)
    expected = data.keep_prob
    assert expected[0] < 0.2  # the frequent word really is thinned out
    # Binomial standard error on 200,000 draws is about 0.001; allow 0.01.
    np.testing.assert_allclose(rate, expected, atol=0.01)


def test_negatives_follow_unigram_to_the_075():
    counts = np.array([1000, 400, 100, 10, 1])
    data = SkipGramData(np.arange(5), None, counts, negatives=5, seed=0)
    draws = data.draw_negatives((40000, 5)).ravel()
    freq = np.bincount(draws, minlength=5) / draws.size
    want = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(freq, want, atol=0.005)
    np.testing.assert_allclose(negative_sampling_distribution(counts), want)
    # ...and not the plain unigram distribution, which gives the top word 66% of draws.
    assert abs(freq[0] - counts[0] / counts.sum()) > 0.05


def test_window_pairs_on_a_tiny_sentence():
    ids = np.array([10, 11, 12, 13, 14])
    c, x = skipgram_pairs(ids, None, window=2, shrink_window=False)
    got = sorted(zip(c.tolist(), x.tolist(), strict=True))
    want = sorted(
        (ids[i], ids[j]) for i in range(5) for j in range(5) if i != j and abs(i - j) <= 2
    )
    assert got == [(int(a), int(b)) for a, b in want]
    assert len(got) == 14


def test_window_pairs_respect_sentences():
    ids = np.array([0, 1, 2, 3])
    sent = np.array([0, 0, 1, 1])
    c, x = skipgram_pairs(ids, sent, window=3, shrink_window=False)
    assert sorted(zip(c.tolist(), x.tolist(), strict=True)) == [(0, 1), (1, 0), (2, 3), (3, 2)]


def test_window_sampling_favours_near_words():
    rng = np.random.default_rng(0)
    n, window = 20000, 4
    pos = np.arange(n)  # ids equal positions, so the distance of a pair is |center - context|
    c, x = skipgram_pairs(pos, None, window=window, rng=rng)
    dist = np.abs(c - x)
    share = np.bincount(dist, minlength=window + 1)[1:] / (2 * n)
    # Distance d is used when the drawn window b >= d: probability (window - d + 1) / window.
    want = (window - np.arange(1, window + 1) + 1) / window
    np.testing.assert_allclose(share, want, atol=0.015)


def test_epoch_arrays_and_dataset_shapes():
    ids = np.tile(np.arange(6), 20)
    data = SkipGramData(ids, None, np.full(6, 20), window=2, negatives=3, sample=0, seed=1)
    centers, cand, labels = data.epoch_arrays()
    assert cand.shape == (len(centers), 4) and labels.shape == cand.shape
    assert labels[:, 0].tolist() == [1.0] * len(centers) and labels[:, 1:].sum() == 0
    # Every true context is within distance 2 in the cyclic sequence 0..5.
    d = np.abs(centers - cand[:, 0])
    assert set(np.minimum(d, 6 - d).tolist()) <= {1, 2}
    (c, k), y = next(iter(data.dataset(batch_size=16)))
    assert tuple(c.shape) == (16,) and tuple(k.shape) == (16, 4) and tuple(y.shape) == (16, 4)
    assert data.steps_per_epoch(16) == pytest.approx(len(centers) / 16, rel=0.3)


# ------------------------------------------------------------------------------------------
# Word2Vec model

TOY = (
    "the cat drinks milk . the dog drinks milk . the cat chases the mouse . "
    "the dog chases the cat . a car needs fuel . a truck needs fuel . the car drives fast . "
    "the truck drives fast . "
) * 40


def _toy_corpus():
    sents = [tokenize_words(s) for s in TOY.split(".") if s.strip()]
    vocab = Vocabulary.build(sents, min_count=1)
    return vocab, *vocab.encode_corpus(sents)


def test_word2vec_shapes():
    model = Word2Vec(vocab_size=12, embed_dim=5)
    out = model((np.array([1, 2, 3]), np.zeros((3, 6), dtype="int32")))
    assert tuple(out.shape) == (3, 6)
    np.testing.assert_allclose(np.asarray(out), 0.0)  # zero context vectors: every score 0
    assert model.word_vectors().shape == (12, 5)
    with pytest.raises(ValueError, match="embed_dim"):
        Word2Vec(10, 0)


def test_word2vec_loss_decreases_and_learns_contexts():
    seed_everything(0)
    vocab, ids, sent = _toy_corpus()
    data = SkipGramData(ids, sent, vocab.counts, window=2, negatives=3, sample=0, seed=0)
    steps = data.steps_per_epoch(64)
    model = compile_word2vec(
        Word2Vec(len(vocab), 16),
        learning_rate=0.3,
        total_steps=steps * 4,
        steps_per_execution=8,
    )
    hist = model.fit(data.dataset(64), epochs=4, steps_per_epoch=steps, verbose=0).history
    losses = hist["pair_loss"]
    assert losses[0] > losses[-1] + 0.1, losses
    wv = WordVectors(vocab.words, model.word_vectors())
    # cat and dog share every context; cat and fuel share none.
    assert wv.similarity("cat", "dog") > wv.similarity("cat", "fuel") + 0.3


# ------------------------------------------------------------------------------------------
# GloVe


def test_glove_weight_values():
    w = glove_weight(np.array([0.0, 1.0, 10.0, 50.0, 100.0, 1000.0]), x_max=100, alpha=0.75)
    np.testing.assert_allclose(w, [0.0, 0.01**0.75, 0.1**0.75, 0.5**0.75, 1.0, 1.0])
    assert glove_weight(5.0, x_max=10, alpha=1.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="x_max"):
        glove_weight(1.0, x_max=0)


def test_cooccurrence_counts_with_distance_weighting():
    # "a b c a" with window 2: pairs (a,b) d=1, (b,c) d=1, (c,a) d=1, (a,c) d=2, (b,a) d=2.
    a, b, c = 0, 1, 2
    X = cooccurrence_matrix(np.array([a, b, c, a]), None, 3, window=2).toarray()
    want = np.zeros((3, 3))
    for i, j, w in [(a, b, 1), (b, c, 1), (c, a, 1), (a, c, 0.5), (b, a, 0.5)]:
        want[i, j] += w
        want[j, i] += w
    np.testing.assert_allclose(X, want)
    assert X[a, c] == pytest.approx(1.5)  # once at distance 1, once at distance 2
    # Unweighted counts, left context only, and a sentence boundary between b and c.
    L = cooccurrence_matrix(
        np.array([a, b, c, a]),
        np.array([0, 0, 1, 1]),
        3,
        window=2,
        distance_weighting=False,
        symmetric=False,
    ).toarray()
    assert L.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 0]]  # b after a; a after c


def test_glove_shapes_and_loss_decreases():
    seed_everything(0)
    vocab, ids, sent = _toy_corpus()
    X = cooccurrence_matrix(ids, sent, len(vocab), window=3)
    data = GloVeData(X, x_max=10.0, seed=0)
    (i, j), target, weight = data.epoch_arrays()
    assert target.shape == (len(data), 1) and weight.shape == (len(data),)
    np.testing.assert_allclose(np.exp(target[:, 0]), X[i, j].A1, rtol=1e-5)
    model = compile_glove(
        GloVe(len(vocab), 8), learning_rate=0.1, steps_per_execution=4, jit_compile=False
    )
    assert tuple(model((np.array([0, 1]), np.array([2, 3]))).shape) == (2, 1)
    hist = model.fit(
        data.dataset(32), epochs=5, steps_per_epoch=data.steps_per_epoch(32), verbose=0
    )
    losses = hist.history["weighted_mse"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert model.word_vectors().shape == (len(vocab), 8)


# ------------------------------------------------------------------------------------------
# Evaluation


def test_rankdata_and_spearman_match_scipy():
    rng = np.random.default_rng(7)
    for _ in range(5):
        x = rng.integers(0, 6, size=40).astype(float)  # many ties
        y = x + rng.normal(0, 2, size=40)
        np.testing.assert_allclose(rankdata(x), scipy.stats.rankdata(x))
        assert spearman(x, y) == pytest.approx(scipy.stats.spearmanr(x, y).statistic, abs=1e-12)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2], [1, 2, 3])


HAND = WordVectors(
    ["man", "woman", "king", "queen", "boy", "girl", "apple"],
    np.array(
        [
            [1.0, 0.0, 0.0],  # man:   male
            [0.0, 1.0, 0.0],  # woman: female
            [1.0, 0.0, 1.0],  # king:  male + royal
            [0.0, 1.0, 1.0],  # queen: female + royal
            [1.0, 0.1, -0.3],  # boy
            [0.1, 1.0, -0.3],  # girl
            [0.3, 0.3, 0.3],  # apple
        ]
    ),
)


def test_analogy_accuracy_on_hand_made_vectors():
    assert HAND.analogy("man", "king", "woman")[0][0] == "queen"
    questions = {
        "royal": [("man", "king", "woman", "queen"), ("woman", "queen", "man", "king")],
        "young": [
            ("man", "boy", "woman", "girl"),
            ("man", "boy", "king", "queen"),
            ("man", "prince", "woman", "princess"),
        ],
    }
    r = evaluate_analogies(HAND, questions)
    # 4 of 5 questions are covered; "man:boy::king:?" answers "apple", not queen.
    assert (r.n_correct, r.n_found, r.n_total) == (3, 4, 5)
    assert r.per_section == {"royal": (2, 2, 2), "young": (1, 2, 3)}
    assert r.accuracy == pytest.approx(0.75) and r.coverage == pytest.approx(0.8)
    # Restricting to the 4 most frequent words leaves only the royal questions.
    r4 = evaluate_analogies(HAND, questions, restrict_vocab=4)
    assert (r4.n_correct, r4.n_found) == (2, 2)


def test_similarity_spearman_and_coverage():
    pairs = [
        ("MAN", "boy", 8.0),
        ("king", "queen", 7.0),
        ("man", "apple", 1.0),
        ("girl", "apple", 0.5),
        ("man", "unicorn", 3.0),
    ]
    r = evaluate_similarity(HAND, pairs)
    model = [HAND.similarity(a.lower(), b) for a, b, _ in pairs[:4]]
    assert (r.n_found, r.n_total) == (4, 5) and r.coverage == pytest.approx(0.8)
    assert r.spearman == pytest.approx(scipy.stats.spearmanr(model, [8, 7, 1, 0.5]).statistic)


def test_most_similar_excludes_query_and_restrict():
    # apple (0.3, 0.3, 0.3) points between male and royal, so it beats queen here.
    assert [w for w, _ in HAND.most_similar("king", k=2)] == ["apple", "man"]
    sub = HAND.restrict(["queen", "man", "nope"])
    assert sub.words == ["man", "queen"] and sub.vectors.shape == (2, 3)
    with pytest.raises(KeyError, match="unicorn"):
        HAND.similarity("unicorn", "man")
