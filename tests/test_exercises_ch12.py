"""Chapter 12 exercise checks: right answers pass, typical mistakes fail with a hint."""

import numpy as np
import pytest
import tensorflow as tf
from nltk.lm import Laplace
from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu
from nltk.util import everygrams

from course_lib.exercises import ch12 as ex


def sgd_step(w, b, x, y, learning_rate):
    w, b = tf.Variable(w), tf.Variable(b)
    with tf.GradientTape() as tape:
        logits = x @ w + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    gw, gb = tape.gradient(loss, [w, b])
    return (w - learning_rate * gw).numpy(), (b - learning_rate * gb).numpy()


def test_laplace_probability(capsys):
    words = ex.TOY_CORPUS.split()
    reference = Laplace(2)
    reference.fit([list(everygrams(words, max_len=2))], vocabulary_text=words)
    # NLTK's vocabulary has one extra <UNK> entry: (1 + 1) / (2 + 7) there, / (2 + 6) here.
    assert reference.score("sat", ["cat"]) == pytest.approx(2 / 9)
    assert ex.laplace_probability(ex.TOY_CORPUS, "cat", "sat") == pytest.approx(0.25)
    assert ex.check_laplace_probability(0.25)
    assert not ex.check_laplace_probability(0.5)
    assert "unsmoothed" in capsys.readouterr().out
    assert not ex.check_laplace_probability(2 / 11)
    assert "distinct" in capsys.readouterr().out
    assert not ex.check_laplace_probability(None)
    assert "replace the `None`" in capsys.readouterr().out


def test_nltk_bleu(capsys):
    nltk_score = 100 * nltk_corpus_bleu([[r.split()] for r in ex.BLEU_REFERENCES],
                                        [h.split() for h in ex.BLEU_HYPOTHESES])
    assert 10 < nltk_score < 90
    assert ex.check_nltk_bleu(nltk_score)
    assert not ex.check_nltk_bleu(nltk_score / 100)
    assert "multiply by 100" in capsys.readouterr().out
    assert not ex.check_nltk_bleu(nltk_score + 5)


def test_downloads(capsys):
    assert ex.check_downloads({"a", "c", "e", "g", "i"})
    assert ex.check_downloads("a, c, e, g, i")
    assert not ex.check_downloads({"a", "c", "e", "g"})
    assert "missed i" in capsys.readouterr().out
    assert not ex.check_downloads({"a", "b", "c", "e", "g", "i"})
    assert "b need(s) no download" in capsys.readouterr().out
    assert not ex.check_downloads({"z"})
    assert not ex.check_downloads(None)


def test_sgd_step(capsys):
    assert ex.check_sgd_step(sgd_step)
    assert not ex.check_sgd_step(lambda w, b, x, y, lr: (w, b))
    assert "did not move" in capsys.readouterr().out

    def uphill(w, b, x, y, lr):
        new_w, new_b = sgd_step(w, b, x, y, -lr)
        return new_w, new_b

    assert not ex.check_sgd_step(uphill)
    assert "uphill" in capsys.readouterr().out

    def summed(w, b, x, y, lr):
        return sgd_step(w, b, x, y, lr * len(y))

    assert not ex.check_sgd_step(summed)
    assert "summed" in capsys.readouterr().out

    def only_w(w, b, x, y, lr):
        return sgd_step(w, b, x, y, lr)[0], b

    assert not ex.check_sgd_step(only_w)
    assert "b is not" in capsys.readouterr().out
    assert not ex.check_sgd_step(lambda *args: None)
    assert not ex.check_sgd_step(np.zeros(3))
