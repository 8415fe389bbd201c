"""course_lib.exercises.ch10: each check accepts the right answer and explains wrong ones."""

import math

import numpy as np

from course_lib.chapters.ch10_translation_and_summarization import centrality_scores
from course_lib.exercises import ch10 as ex


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_labels(capsys):
    ok, out = run(ex.check_labels, [7, 8, 9, 2], capsys)
    assert ok and "shifted left" in out
    assert run(ex.check_labels, [7, 8, 9, 2, 0], capsys)[0]  # with the padding label too
    for wrong, words in [([1, 7, 8, 9, 2], "decoder input"), ([1, 7, 8, 9], "[START]"),
                         ([7, 8, 9], "no [END]"), (None, "list of ids")]:
        ok, out = run(ex.check_labels, wrong, capsys)
        assert not ok and words in out


def test_length_penalty_winner(capsys):
    ok, out = run(ex.check_length_penalty_winner, "Sí, lo he visto.", capsys)
    assert ok and "-0.467" in out
    ok, out = run(ex.check_length_penalty_winner, "Sí.", capsys)
    assert not ok and "α = 0" in out
    assert not run(ex.check_length_penalty_winner, "No.", capsys)[0]


def test_brevity_penalty(capsys):
    ok, out = run(ex.check_brevity_penalty, math.exp(1 - 9 / 7), capsys)
    assert ok and "0.7515" in out
    for wrong, words in [(7 / 9, "length ratio"), (math.exp(1 - 7 / 9), "swaps"),
                         (1.0, "at least as long"), (0.3, "count the words"),
                         (None, "replace the `None`")]:
        ok, out = run(ex.check_brevity_penalty, wrong, capsys)
        assert not ok and words in out


def test_rouge_1(capsys):
    p, r = 3 / 7, 3 / 8  # person1, a, car shared; 7 summary and 8 reference tokens
    ok, out = run(ex.check_rouge_1, 2 * p * r / (p + r), capsys)
    assert ok and "F1 = 0.400" in out
    ok, out = run(ex.check_rouge_1, p, capsys)
    assert not ok and "precision" in out
    ok, out = run(ex.check_rouge_1, r, capsys)
    assert not ok and "recall" in out
    assert not run(ex.check_rouge_1, 0.5, capsys)[0]


def test_centrality(capsys):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    def by_sklearn(units):
        sim = cosine_similarity(TfidfVectorizer().fit_transform(units))
        np.fill_diagonal(sim, 0.0)
        return sim.sum(1)

    ok, out = run(ex.check_centrality, by_sklearn, capsys)
    assert ok and "table for two at eight" in out
    ok, out = run(ex.check_centrality, lambda u: centrality_scores(u) + 1.0, capsys)
    assert not ok and "diagonal" in out
    ok, out = run(ex.check_centrality, lambda u: [1.0] * len(u), capsys)
    assert not ok and "differ" in out
    ok, out = run(ex.check_centrality, lambda u: 1 / 0, capsys)
    assert not ok and "ZeroDivisionError" in out
    assert not run(ex.check_centrality, None, capsys)[0]


def test_doctests():
    import doctest

    assert doctest.testmod(ex).failed == 0
