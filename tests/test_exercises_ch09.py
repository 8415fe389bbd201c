"""course_lib.exercises.ch09: each check accepts the right answer and explains wrong ones."""

import pytest

from course_lib.exercises import ch09 as ex


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_distinct_2(capsys):
    ok, out = run(ex.check_distinct_2, 6 / 7, capsys)
    assert ok and "6 distinct bigrams of 7" in out
    for wrong, words in [(1.0, "separately"), (0.5, "not distinct-2"), (6, "a count")]:
        ok, out = run(ex.check_distinct_2, wrong, capsys)
        assert not ok and words in out
    ok, out = run(ex.check_distinct_2, 6 / 9, capsys)  # distinct-1: 6 words of 9
    assert not ok and "distinct-1" in out
    ok, out = run(ex.check_distinct_2, None, capsys)
    assert not ok and "replace the `None`" in out


def test_nucleus_size(capsys):
    ok, out = run(ex.check_nucleus_size, 3, capsys)
    assert ok and "the, a, my" in out and "0.80" in out
    assert not run(ex.check_nucleus_size, 2, capsys)[0]
    ok, out = run(ex.check_nucleus_size, 4, capsys)
    assert not ok and "more than the nucleus" in out
    assert not run(ex.check_nucleus_size, 0, capsys)[0]


def test_beam_choice(capsys):
    assert ex.best_two_token_sequence(beam_width=1)[:2] == ("good", "night")
    first, second, p = ex.best_two_token_sequence(beam_width=2)
    assert (first, second) == ("sweet", "prince") and p == pytest.approx(0.36)
    ok, out = run(ex.check_beam_choice, "Sweet Prince", capsys)
    assert ok and "0.36" in out and "0.20" in out
    ok, out = run(ex.check_beam_choice, "good night", capsys)
    assert not ok and "greedy" in out
    ok, out = run(ex.check_beam_choice, "fair lady", capsys)
    assert not ok and "third" in out
    assert not run(ex.check_beam_choice, "sweet", capsys)[0]
    assert not run(ex.check_beam_choice, "good morrow", capsys)[0]


def test_kept_turns(capsys):
    ok, out = run(ex.check_kept_turns, 4, capsys)
    assert ok and "46 of 47" in out
    ok, out = run(ex.check_kept_turns, 5, capsys)
    assert not ok and "66 tokens" in out
    ok, out = run(ex.check_kept_turns, 2, capsys)
    assert not ok and "room unused" in out
