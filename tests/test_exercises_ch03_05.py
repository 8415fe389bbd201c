"""The chapter 03-05 exercise checkers accept the right answers and reject typical wrong ones."""

import html
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.exercises import ch03, ch04, ch05

# One name for the checks of these chapters, as the tests were written before the split.
ex = SimpleNamespace(**{**vars(ch03), **vars(ch04), **vars(ch05)})


def correct_clean_review(text):
    text = html.unescape(re.sub(r"</?[A-Za-z][^<>]*>", "", text))
    return " ".join(text.lower().split())


def attention(q, k, scale=True):
    logits = q @ k.T / (math.sqrt(q.shape[1]) if scale else 1.0)
    w = np.exp(logits - logits.max(1, keepdims=True))
    return w / w.sum(1, keepdims=True)


def test_clean_review(capsys):
    assert ex.check_clean_review(correct_clean_review)
    assert "Correct" in capsys.readouterr().out
    assert not ex.check_clean_review(lambda t: t.lower())  # tags and spaces left
    assert "expected" in capsys.readouterr().out
    assert not ex.check_clean_review(lambda t: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not ex.check_clean_review("not a function")


def test_jaccard(capsys):
    assert ex.check_jaccard(0.4)
    assert not ex.check_jaccard(0.5)
    assert not ex.check_jaccard(1.5)
    assert "between 0 and 1" in capsys.readouterr().out.splitlines()[-1]
    assert not ex.check_jaccard("0.4")


def test_first_bpe_merge(capsys):
    assert ex.check_first_bpe_merge("w e")
    assert not ex.check_first_bpe_merge("l o")  # a frequent pair, but not the most frequent
    assert not ex.check_first_bpe_merge("we")
    assert "one space" in capsys.readouterr().out.splitlines()[-1]


def test_attention_weights(capsys):
    want = attention(ex.ATTENTION_Q, ex.ATTENTION_K)
    assert ex.check_attention_weights(want)
    assert ex.check_attention_weights(want.tolist())
    assert not ex.check_attention_weights(attention(ex.ATTENTION_Q, ex.ATTENTION_K, False))
    assert "√d_k" in capsys.readouterr().out.splitlines()[-1]
    assert not ex.check_attention_weights(want.T)
    assert not ex.check_attention_weights(np.exp(ex.ATTENTION_Q @ ex.ATTENTION_K.T))
    assert "sum to 1" in capsys.readouterr().out.splitlines()[-1]


def test_dot_product_std(capsys):
    assert ex.check_dot_product_std(8)
    assert not ex.check_dot_product_std(64)
    assert "variance" in capsys.readouterr().out.splitlines()[-1]
    assert not ex.check_dot_product_std(1.0)


def test_padded_causal_mask(capsys):
    n = len(ex.MASK_IDS)
    causal = np.tril(np.ones((n, n), bool))
    want = causal & (ex.MASK_IDS != 0)[None, :]
    assert ex.check_padded_causal_mask(want)
    assert ex.check_padded_causal_mask(want.astype(int))
    assert not ex.check_padded_causal_mask(causal)
    assert "padding" in capsys.readouterr().out.splitlines()[-1]
    assert not ex.check_padded_causal_mask(want.T)
    assert "transpose" in capsys.readouterr().out.splitlines()[-1]
    assert not ex.check_padded_causal_mask(np.ones((4, 4)))


@pytest.mark.parametrize("check, right, wrong", [
    (ex.check_block_parameters, 12 * 48 * 48 + 13 * 48, 12 * 48 * 48),
    (ex.check_receptive_field, 64, 7),
    (ex.check_sinusoid_value, math.sin(0.5), math.cos(0.5)),
])
def test_chapter_05_numbers(capsys, check, right, wrong):
    assert check(right)
    assert "Correct" in capsys.readouterr().out
    assert not check(wrong)
    assert "Not yet" in capsys.readouterr().out
    assert not check("a string")
