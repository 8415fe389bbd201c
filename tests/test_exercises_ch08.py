"""course_lib.exercises.ch08: each check accepts the right answer and explains wrong ones."""

import numpy as np

from course_lib.exercises import ch08 as ex


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_pieces(capsys):
    ok, out = run(ex.check_pieces, ["unbeliev", "##ab", "##ly"], capsys)
    assert ok and "longest match first" in out
    for wrong, words in [
        (["un", "##believ", "##ab", "##ly"], "longest entry"),
        (["unbeliev", "##ably"], "not in the vocabulary"),
        (["unbeliev", "ab", "##ly"], "not in the vocabulary"),
        (["unbelievable"], "do not spell"),
        ("unbeliev ##ab ##ly", "list of strings"),
        (None, "list of strings"),
    ]:
        ok, out = run(ex.check_pieces, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_mlm_loss(capsys):
    expected = (np.log(2) + np.log(4)) / 2
    ok, out = run(ex.check_mlm_loss, expected, capsys)
    assert ok and "1.040" in out
    nll = -np.log(ex.MLM_PROBABILITIES)
    for wrong, words in [
        (nll.mean(), "padding ones too"),
        ((nll[0] + nll[1]) / 4, "all 4 slots"),
        (nll[0] + nll[1], "the sum"),
        (expected / np.log(2), "wrong logarithm"),
        (0.3, "not the loss"),
        (None, "replace the `None`"),
    ]:
        ok, out = run(ex.check_mlm_loss, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_f1(capsys):
    ok, out = run(ex.check_f1, 80 / 105, capsys)
    assert ok and "0.762" in out
    for wrong, words in [
        (0.75, "accuracy"),
        (40 / 60, "precision alone"),
        (40 / 45, "recall alone"),
        ((40 / 60 + 40 / 45) / 2, "arithmetic mean"),
        (76.2, "percentage"),
        (0.5, "not the F1"),
    ]:
        ok, out = run(ex.check_f1, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_mean_pool(capsys):
    def right(v, k):
        k = k.astype("float32")[:, :, None]
        return (v * k).sum(1) / k.sum(1)

    ok, out = run(ex.check_mean_pool, right, capsys)
    assert ok and "left out" in out
    for wrong, words in [
        (lambda v, k: v.mean(axis=1), "padding positions too"),
        (lambda v, k: (v * k[:, :, None]).sum(1) / v.shape[1], "divide by T"),
        (lambda v, k: v[:, 0], "differ from the masked mean"),
        (lambda v, k: v.mean(), "shape"),
        (lambda v, k: 1 / 0, "ZeroDivisionError"),
        (None, "expected a function"),
    ]:
        ok, out = run(ex.check_mean_pool, wrong, capsys)
        assert not ok and words in out, out
