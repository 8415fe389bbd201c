"""course_lib.exercises.ch11: each check accepts the right answer and explains wrong ones."""

import doctest

import numpy as np

from course_lib.exercises import ch11 as ex


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_f1(capsys):
    ok, out = run(ex.check_f1, 2 / 3, capsys)
    assert ok and "precision 2/4" in out and "0.667" in out
    for wrong, words in [(4 / 7, 'counts "the"'), (0.0, "exact match"), (0.5, "precision alone"),
                         (66.7, "percent"), (0.8, "not the F1")]:
        ok, out = run(ex.check_f1, wrong, capsys)
        assert not ok and words in out, (wrong, out)
    ok, out = run(ex.check_f1, None, capsys)
    assert not ok and "replace the `None`" in out


def test_num_windows(capsys):
    ok, out = run(ex.check_num_windows, 5, capsys)
    assert ok and "105 context tokens" in out and "0, 64, 128, 192, 256" in out
    ok, out = run(ex.check_num_windows, 3, capsys)
    assert not ok and "not overlap" in out
    ok, out = run(ex.check_num_windows, 4, capsys)
    assert not ok and "not the number" in out
    assert not run(ex.check_num_windows, None, capsys)[0]


def test_best_span(capsys):
    ok, out = run(ex.check_best_span, (4, 5), capsys)
    assert ok and "6.0" in out
    for wrong, words in [((2, 5), "separately"), ((5, 4), "ends before"), ((0, 3), "cap is 3"),
                         ((2, 3), "scores 4.0"), ((0, 9), "outside"), ("4-5", "pair")]:
        ok, out = run(ex.check_best_span, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def reference(start, end, cap):
    best = None
    for i in range(len(start)):
        for j in range(i, min(len(start), i + cap)):
            if best is None or start[i] + end[j] > best[0]:
                best = (start[i] + end[j], i, j)
    return best[1], best[2]


def test_span_decoder(capsys):
    ok, out = run(ex.check_span_decoder, reference, capsys)
    assert ok and "all 23 cases" in out
    argmaxes = lambda s, e, cap: (int(np.argmax(s)), int(np.argmax(e)))  # noqa: E731
    ok, out = run(ex.check_span_decoder, argmaxes, capsys)
    assert not ok and "ends before it starts" in out
    no_cap = lambda s, e, cap: reference(s, e, len(s))  # noqa: E731
    ok, out = run(ex.check_span_decoder, no_cap, capsys)
    assert not ok and "longer than the cap" in out
    worst = lambda s, e, cap: (0, 0)  # noqa: E731
    ok, out = run(ex.check_span_decoder, worst, capsys)
    assert not ok and "best valid pair" in out
    assert not run(ex.check_span_decoder, None, capsys)[0]
    assert not run(ex.check_span_decoder, lambda s, e, cap: None, capsys)[0]
    ok, out = run(ex.check_span_decoder, lambda s, e, cap: 1 / 0, capsys)
    assert not ok and "ZeroDivisionError" in out


def test_doctests():
    assert doctest.testmod(ex).failed == 0
