"""course_lib.ngram_lm: add-k n-gram models, checked by hand and against nltk.lm.Lidstone."""

import math

import numpy as np
import pytest
from nltk.lm import Lidstone
from nltk.util import everygrams, ngrams

from course_lib.ngram_lm import NGramLM

TEXT = "the quick brown fox jumps over the lazy dog; the cat sat on the mat. " * 3


def char_ids(text, vocab):
    return np.array([vocab.index(c) for c in text])


def test_bigram_probability_by_hand():
    # counts: (0,1) twice, (1,0) once, (1,2) once; c(0) = 2, c(1) = 2
    lm = NGramLM(order=2, vocab_size=3, k=1.0).fit([0, 1, 0, 1, 2])
    assert lm.probability(1, context=[0]) == pytest.approx((2 + 1) / (2 + 3))
    assert lm.probability(2, context=[1]) == pytest.approx((1 + 1) / (2 + 3))
    assert lm.probability(0, context=[2]) == pytest.approx(1 / 3)  # unseen history: uniform
    assert lm.distribution([1]).sum() == pytest.approx(1.0)


def test_unigram_perplexity_by_hand():
    lm = NGramLM(order=1, vocab_size=4, k=0.0).fit([0, 0, 1, 2])
    # the first token is given; targets 0 and 1 have P = 2/4 and 1/4
    assert lm.perplexity([0, 0, 1]) == pytest.approx(math.exp(-(math.log(0.5) + math.log(0.25)) / 2))
    total, count = lm.nll([0, 0, 1])
    assert count == 2 and total == pytest.approx(-(math.log(0.5) + math.log(0.25)))


def test_uniform_model_has_perplexity_vocab_size():
    # With k huge the counts do not matter: every token gets 1/V.
    lm = NGramLM(order=2, vocab_size=7, k=1e9).fit(np.arange(7))
    assert lm.perplexity([1, 2, 3, 4]) == pytest.approx(7.0, rel=1e-6)


def test_unsmoothed_model_gives_unseen_tokens_zero_probability():
    lm = NGramLM(order=2, vocab_size=3, k=0.0).fit([0, 1, 0, 1])
    assert lm.perplexity([0, 2]) == math.inf
    assert lm.perplexity([0, 1, 0]) == pytest.approx(1.0)
    assert math.isfinite(NGramLM(order=2, vocab_size=3, k=0.1).fit([0, 1, 0, 1]).perplexity([0, 2]))


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("k", [1.0, 0.5, 0.01])
def test_log_probs_equal_nltk_lidstone(order, k):
    train, test = TEXT[:150], TEXT[150:]
    reference = Lidstone(k, order)
    reference.fit([list(everygrams(list(train), max_len=order))], vocabulary_text=list(train))
    vocab = sorted(set(TEXT))
    assert set(test) <= set(train)
    # nltk's vocabulary adds <UNK>; give ours the same size so the smoothing is the same.
    lm = NGramLM(order, len(reference.vocab), k=k).fit(char_ids(train, vocab))
    ours = lm.log_probs(char_ids(test, vocab))
    theirs = np.array(
        [reference.logscore(g[-1], g[:-1]) * math.log(2) for g in ngrams(list(test), order)]
    )
    # nltk scores full-history n-grams only: targets order-1 .. end (target 0 is given).
    ours_full = ours if order == 1 else ours[order - 2 :]
    theirs = theirs[1:] if order == 1 else theirs
    np.testing.assert_allclose(ours_full, theirs, atol=1e-10)


def test_short_histories_use_lower_orders():
    ids = [0, 1, 2, 0, 1, 2, 0, 1]
    tri = NGramLM(3, 3, k=1.0).fit(ids)
    bi = NGramLM(2, 3, k=1.0).fit(ids)
    # Target 1 has only one token of history: the trigram model scores it as the bigram does.
    assert tri.log_probs([0, 1])[0] == pytest.approx(bi.log_probs([0, 1])[0])
    assert len(tri.log_probs(ids)) == len(ids) - 1


def test_higher_order_fits_training_text_better():
    vocab = sorted(set(TEXT))
    ids = char_ids(TEXT, vocab)
    ppl = [NGramLM(n, len(vocab), k=0.01).fit(ids).perplexity(ids) for n in (1, 2, 3)]
    assert ppl[0] > ppl[1] > ppl[2]


def test_sample_is_reproducible_and_follows_counts():
    lm = NGramLM(2, 3, k=0.0).fit([0, 1, 2, 0, 1, 2])
    assert lm.sample([0], 6, seed=0) == [1, 2, 0, 1, 2, 0]  # deterministic transitions
    noisy = NGramLM(2, 3, k=1.0).fit([0, 1, 2])
    assert noisy.sample([0], 20, seed=1) == noisy.sample([0], 20, seed=1)
    assert noisy.sample([0], 20, seed=1) != noisy.sample([0], 20, seed=2)
    # After 0, add-one counts give p(0, 1, 2) = (1, 2, 1) / 4; 4,000 draws land within 0.03.
    first = np.bincount([noisy.sample([0], 1, seed=s)[0] for s in range(4_000)], minlength=3)
    assert np.allclose(first / 4_000, [0.25, 0.5, 0.25], atol=0.03)
    assert np.allclose(noisy.distribution([0]), [0.25, 0.5, 0.25])


def test_errors_say_what_to_change():
    with pytest.raises(ValueError, match="order"):
        NGramLM(0, 10)
    with pytest.raises(ValueError, match="k must be"):
        NGramLM(2, 10, k=-1)
    with pytest.raises(ValueError, match="64 bits"):
        NGramLM(5, 50_000)
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(2, 10).perplexity([1, 2])
    lm = NGramLM(2, 3).fit([0, 1, 2])
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        lm.perplexity([0, 3])
    with pytest.raises(ValueError, match="at least two tokens"):
        lm.perplexity([1])
    with pytest.raises(ValueError, match="integer"):
        lm.perplexity([0.5, 1.0])
