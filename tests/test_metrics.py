"""course_lib.metrics against its references: Keras, scikit-learn, sacrebleu, NLTK, rouge-score.

Each reference comparison runs on random inputs (fixed seeds) and on the edge cases: empty
hypothesis, no overlap, perfect match, a single class.
"""

import math

import numpy as np
import pytest
import sacrebleu
import sklearn.metrics as skm
from rouge_score import rouge_scorer

from course_lib import metrics as M

WORDS = "the a cat dog sat ran on under mat rug".split()


def random_sentence(rng, low=0, high=12, words=WORDS):
    return " ".join(rng.choice(words, rng.integers(low, high + 1)))


def bleu_sentence(rng, low, high):
    # Four words only, so that random sentences share 4-grams and BLEU is not degenerate.
    return random_sentence(rng, low, high, WORDS[:4])


# --- cross-entropy and perplexity --------------------------------------------------------------


def test_sparse_cross_entropy_equals_keras_from_logits():
    import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4, 5, 7)).astype("float32")
    labels = rng.integers(0, 7, (4, 5))
    ours = M.sparse_cross_entropy(labels, logits)
    theirs = float(
        keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        )
    )
    assert ours == pytest.approx(theirs, abs=1e-5)
    per_token = M.sparse_cross_entropy(labels, logits, reduction="none")
    assert per_token.shape == (4, 5)
    assert M.sparse_cross_entropy(labels, logits, reduction="sum") == pytest.approx(
        per_token.sum()
    )


def test_cross_entropy_is_stable_for_huge_logits():
    # log(softmax) would give log(0) = -inf here; the log-softmax form gives the exact 2000.
    assert M.sparse_cross_entropy([1], [[1000.0, -1000.0]]) == pytest.approx(2000.0)
    assert np.isfinite(M.log_softmax([1e30, -1e30, 0.0])).all()


def test_cross_entropy_rejects_bad_shapes_and_labels():
    with pytest.raises(ValueError, match="class axis"):
        M.sparse_cross_entropy([0, 1], [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        M.sparse_cross_entropy([2], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="reduction"):
        M.sparse_cross_entropy([0], [[0.0, 1.0]], reduction="avg")


def test_perplexity_of_uniform_guess_is_vocabulary_size():
    assert M.perplexity(math.log(65)) == pytest.approx(65.0)
    assert M.perplexity(0.0) == 1.0
    assert M.perplexity(math.inf) == math.inf
    with pytest.raises(ValueError, match="non-negative"):
        M.perplexity(-0.1)


def test_per_unit_perplexity_and_bits():
    total = 1000.0
    assert M.perplexity_from_total(total, 400) == pytest.approx(math.exp(2.5))
    assert M.bits_per_unit(total, 1000) == pytest.approx(1 / math.log(2))
    assert 2 ** M.bits_per_unit(total, 400) == pytest.approx(M.perplexity_from_total(total, 400))
    with pytest.raises(ValueError, match="positive"):
        M.perplexity_from_total(1.0, 0)


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_multiclass_prf_equals_sklearn(seed, average):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 5, 60)
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.integers(0, 6, 60))  # class 5: FP only
    ours = M.precision_recall_f1(y_true, y_pred, average=average)
    theirs = skm.precision_recall_fscore_support(
        y_true, y_pred, average=average, zero_division=0.0
    )[:3]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_micro_f1_equals_accuracy_for_single_label_data():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    assert M.f1_score(y_true, y_pred, average="micro") == pytest.approx(
        M.accuracy(y_true, y_pred)
    )
    assert M.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)


@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        ([1, 0, 1, 1, 0, 0, 1], [1, 1, 0, 1, 0, 0, 1]),  # ordinary
        ([1, 1, 1], [1, 1, 1]),  # one class, all right
        ([0, 0, 0], [0, 0, 0]),  # one class, never the positive one: 0/0 everywhere
        ([0, 0, 0], [1, 1, 1]),  # only false positives
        ([1, 1, 0], [0, 0, 0]),  # never predicts positive: precision 0/0
    ],
)
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_binary_prf_equals_sklearn_on_edge_cases(y_true, y_pred, zero_division):
    ours = M.precision_recall_f1(y_true, y_pred, zero_division=zero_division)
    theirs = skm.precision_recall_fscore_support(
        y_true, y_pred, average="binary", zero_division=zero_division
    )[:3]
    assert ours == pytest.approx(theirs)
    for average in ("macro", "micro", "weighted"):
        ours = M.precision_recall_f1(y_true, y_pred, average=average, zero_division=zero_division)
        theirs = skm.precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=zero_division
        )[:3]
        assert ours == pytest.approx(theirs), average


def test_string_labels_and_pos_label():
    y_true = ["spam", "ham", "spam", "ham", "ham"]
    y_pred = ["spam", "spam", "ham", "ham", "ham"]
    ours = M.precision_recall_f1(y_true, y_pred, pos_label="spam")
    theirs = skm.precision_recall_fscore_support(y_true, y_pred, pos_label="spam", average="binary")
    assert ours == pytest.approx(theirs[:3])


def test_accuracy_misleads_on_imbalanced_labels():
    y_true = np.array([0] * 95 + [1] * 5)
    always_zero = np.zeros(100, dtype=int)
    assert M.accuracy(y_true, always_zero) == 0.95
    assert M.f1_score(y_true, always_zero) == 0.0
    assert M.f1_score(y_true, always_zero, average="macro") == pytest.approx(0.95 / 1.95)


def test_confusion_matrix_equals_sklearn():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 4, 40), rng.integers(0, 5, 40)
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    labels = [3, 0, 1]
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )
    assert M.confusion_matrix([2, 2], [2, 2]).tolist() == [[2]]


def test_classification_input_errors():
    with pytest.raises(ValueError, match="empty"):
        M.accuracy([], [])
    with pytest.raises(ValueError, match="3 labels but y_pred has 2"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="argmax"):
        M.accuracy([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="at most two labels"):
        M.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="pos_label"):
        M.f1_score(["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="average"):
        M.f1_score([0, 1], [0, 1], average="samples")


# --- BLEU ---------------------------------------------------------------------------------------


def sacre(hyps, refs, **kwargs):
    # refs here: one list of references per hypothesis; sacrebleu wants reference streams.
    width = max(len(r) for r in refs)
    streams = [[r[i] if i < len(r) else "" for r in refs] for i in range(width)]
    return sacrebleu.corpus_bleu(hyps, streams, **kwargs)


@pytest.mark.parametrize("smooth", ["none", "floor", "add-k", "exp"])
@pytest.mark.parametrize("seed", [0, 1])
def test_corpus_bleu_equals_sacrebleu(smooth, seed):
    rng = np.random.default_rng(seed)
    refs = [[bleu_sentence(rng, 3, 12), bleu_sentence(rng, 3, 12)] for _ in range(30)]
    hyps = [bleu_sentence(rng, 0, 12) for _ in range(30)]
    ours = M.corpus_bleu(hyps, refs, smooth=smooth)
    theirs = sacre(hyps, refs, smooth_method=smooth, tokenize="none")
    assert ours.score == pytest.approx(theirs.score, abs=0.01)
    assert ours.score > 0.5  # a real, non-degenerate case
    assert ours.brevity_penalty == pytest.approx(theirs.bp)
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    np.testing.assert_allclose(ours.precisions, theirs.precisions, atol=1e-9)


def test_corpus_bleu_13a_equals_sacrebleu_default():
    hyps = ["The cat, it seems, sat on the mat.", "Prices rose 3.5% in 2023-24!"]
    refs = [["The cat sat on the mat."], ['Prices rose by 3.5% in 2023-24 ("a lot").']]
    ours = M.corpus_bleu(hyps, refs, tokenize="13a")
    theirs = sacre(hyps, refs)  # sacrebleu's defaults: 13a, exp smoothing
    assert ours.score == pytest.approx(theirs.score, abs=0.01)
    assert M.corpus_bleu(hyps, refs, tokenize="13a", lowercase=True).score == pytest.approx(
        sacre(hyps, refs, lowercase=True).score, abs=0.01
    )


@pytest.mark.parametrize(
    "line",
    [
        "Hello, world! It costs $3.50.",
        'He said "no" -- twice; (really?) 1,000-2,000 items &amp; more',
        "e-mail: a.b@c.com, 5-6 p.m.\nnext-\nline <skipped>",
        "",
    ],
)
def test_tokenize_13a_equals_sacrebleu(line):
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    assert M.tokenize_13a(line) == Tokenizer13a()(line)


@pytest.mark.parametrize(
    "hyp, refs",
    [
        ("", ["the cat sat on the mat"]),  # empty hypothesis
        ("dog ran under rug", ["the cat sat on the mat"]),  # no overlap
        ("the cat sat on the mat", ["the cat sat on the mat"]),  # perfect match
        ("the cat", ["the cat sat on the mat"]),  # shorter than 4 tokens
        ("the cat sat on a mat", ["the cat sat on the mat", "a cat sat on a mat"]),
    ],
)
@pytest.mark.parametrize("smooth", ["none", "floor", "add-k", "exp"])
def test_sentence_bleu_edge_cases_equal_sacrebleu(hyp, refs, smooth):
    ours = M.sentence_bleu(hyp, refs, smooth=smooth)
    theirs = sacrebleu.sentence_bleu(hyp, refs, smooth_method=smooth, tokenize="none")
    assert ours.score == pytest.approx(theirs.score, abs=0.01)


def test_bleu_edge_values():
    ref = ["the cat sat on the mat"]
    assert M.sentence_bleu("the cat sat on the mat", ref).score == pytest.approx(100.0)
    assert M.sentence_bleu("dog ran under rug", ref).score == 0.0
    empty = M.corpus_bleu([""], [ref])
    assert empty.score == 0.0 and empty.brevity_penalty == 0.0 and empty.hyp_len == 0


def test_modified_precision_clips_repeated_words():
    # Papineni et al. (2002), section 2.1: "the" x7 against two references.
    stats = M.bleu_statistics(
        ["the the the the the the the"],
        [["the cat is on the mat", "there is a cat on the mat"]],
        max_order=1,
    )
    assert stats[0, 2] / stats[0, 3] == pytest.approx(2 / 7)


def test_corpus_bleu_is_not_mean_of_sentence_bleu():
    hyps = ["the cat sat on the mat", "a dog"]
    refs = [["the cat sat on the mat"], ["the dog ran away from the cat"]]
    corpus = M.corpus_bleu(hyps, refs).score
    mean = np.mean([M.sentence_bleu(h, r).score for h, r in zip(hyps, refs, strict=True)])
    # 49.46 pooled vs (100 + 4.10) / 2 = 52.05 averaged
    assert corpus == pytest.approx(49.46, abs=0.01) and mean == pytest.approx(52.05, abs=0.01)


def test_corpus_bleu_close_to_nltk_without_smoothing():
    from nltk.translate.bleu_score import corpus_bleu as nltk_bleu

    rng = np.random.default_rng(5)
    refs = [[bleu_sentence(rng, 6, 12)] for _ in range(40)]
    hyps = [bleu_sentence(rng, 6, 12) for _ in range(40)]
    ours = M.corpus_bleu(hyps, refs, smooth="none").score
    theirs = 100 * nltk_bleu([[r.split() for r in rs] for rs in refs], [h.split() for h in hyps])
    assert ours > 1 and ours == pytest.approx(theirs, abs=0.01)


def test_bleu_input_errors():
    with pytest.raises(ValueError, match="one\nentry|one entry"):
        M.corpus_bleu(["a", "b"], [["a"]])
    with pytest.raises(TypeError, match="string"):
        M.corpus_bleu([["a", "b"]], [["a b"]])
    with pytest.raises(ValueError, match="smooth"):
        M.corpus_bleu(["a"], [["a"]], smooth="laplace")
    with pytest.raises(ValueError, match="at least one reference"):
        M.corpus_bleu(["a"], [[]])


# --- ROUGE --------------------------------------------------------------------------------------


def test_rouge_examples_from_lin_2004():
    # Lin (2004), section 3.1: S1 is the reference; S2 and S3 tie on ROUGE-2, ROUGE-L prefers S2.
    s1, s2, s3 = "police killed the gunman", "police kill the gunman", "the gunman kill police"
    assert M.rouge_n(s2, s1, 2).fmeasure == M.rouge_n(s3, s1, 2).fmeasure == pytest.approx(1 / 3)
    assert M.rouge_l(s2, s1).fmeasure == pytest.approx(3 / 4)
    assert M.rouge_l(s3, s1).fmeasure == pytest.approx(2 / 4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rouge_equals_rouge_score(seed):
    rng = np.random.default_rng(seed)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for _ in range(20):
        hyp = random_sentence(rng, 0, 15).capitalize() + "."
        ref = random_sentence(rng, 0, 15) + ", again!"
        ours = M.rouge(hyp, ref)
        theirs = scorer.score(ref, hyp)  # rouge-score takes the reference first
        for kind in ("rouge1", "rouge2", "rougeL"):
            assert (ours[kind].precision, ours[kind].recall, ours[kind].fmeasure) == (
                pytest.approx(tuple(theirs[kind]))
            ), kind


@pytest.mark.parametrize(
    "hyp, ref",
    [
        ("", "the cat sat"),  # empty hypothesis
        ("the cat sat", ""),  # empty reference
        ("dog ran", "the cat sat"),  # no overlap
        ("The cat sat!", "the cat sat"),  # perfect match after tokenization
    ],
)
def test_rouge_edge_cases_equal_rouge_score(hyp, ref):
    theirs = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"]).score(ref, hyp)
    ours = M.rouge(hyp, ref)
    for kind in theirs:
        assert ours[kind].fmeasure == pytest.approx(theirs[kind].fmeasure)


def test_rouge_multi_reference_takes_the_best():
    refs = ["a cat sat on the mat", "the cat sat on the mat"]
    theirs = rouge_scorer.RougeScorer(["rouge1", "rougeL"]).score_multi(refs, "the cat sat")
    ours = M.rouge("the cat sat", refs, types=("rouge1", "rougeL"))
    assert ours["rouge1"].fmeasure == pytest.approx(theirs["rouge1"].fmeasure)
    assert ours["rougeL"].fmeasure == pytest.approx(theirs["rougeL"].fmeasure)
    scores = M.corpus_rouge(["the cat sat", "x"], [refs, "x"], types=("rouge1",))
    assert scores["rouge1"] == pytest.approx((theirs["rouge1"].fmeasure + 1.0) / 2)
    with pytest.raises(ValueError, match="unknown ROUGE type"):
        M.rouge("a", "a", types=("rougeLsum",))


# --- bootstrap ----------------------------------------------------------------------------------


def test_bootstrap_matches_scipy_percentile_interval():
    from scipy.stats import bootstrap

    x = np.random.default_rng(6).normal(10, 2, 200)
    ours = M.bootstrap_ci(np.mean, x, n_resamples=4000, seed=1)
    theirs = bootstrap((x,), np.mean, n_resamples=4000, method="percentile", rng=2)
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=0.05)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=0.05)
    assert ours.estimate == pytest.approx(x.mean())


def test_bootstrap_is_reproducible_and_pairs_rows():
    t = np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 1])
    p = np.array([1, 0, 0, 1, 0, 1, 1, 0, 1, 1])
    a = M.bootstrap_ci(M.accuracy, t, p, n_resamples=300, seed=3)
    b = M.bootstrap_ci(M.accuracy, t, p, n_resamples=300, seed=3)
    assert (a.low, a.high) == (b.low, b.high)
    assert a.low <= a.estimate == 0.8 <= a.high
    # Perfect predictions stay perfect under any paired resample.
    perfect = M.bootstrap_ci(M.accuracy, t, t, n_resamples=50)
    assert perfect.low == perfect.high == 1.0


def test_bootstrap_of_bleu_from_statistics():
    rng = np.random.default_rng(7)
    refs = [[bleu_sentence(rng, 5, 12)] for _ in range(50)]
    hyps = [bleu_sentence(rng, 5, 12) for _ in range(50)]
    rows = M.bleu_statistics(hyps, refs)
    result = M.bootstrap_ci(lambda r: M.bleu_from_statistics(r.sum(0)).score, rows, seed=0)
    assert result.estimate == pytest.approx(M.corpus_bleu(hyps, refs).score)
    assert result.low < result.estimate < result.high


def test_bootstrap_errors():
    with pytest.raises(ValueError, match="same length"):
        M.bootstrap_ci(M.accuracy, [1, 0], [1])
    with pytest.raises(ValueError, match="confidence"):
        M.bootstrap_ci(np.mean, [1.0, 2.0], confidence=95)
