"""Chapter 14 exercise checks: right answers pass, typical mistakes fail with a hint."""

import math

from course_lib.exercises import ch14 as ex


def test_uniform_loss(capsys):
    assert ex.check_uniform_loss(math.log(65))
    assert ex.check_uniform_loss(4.174)
    assert not ex.check_uniform_loss(math.log2(65))
    assert "bits" in capsys.readouterr().out
    assert not ex.check_uniform_loss(65)
    assert "perplexity" in capsys.readouterr().out
    assert not ex.check_uniform_loss(1 / 65)
    assert not ex.check_uniform_loss(None)


def test_training_flops(capsys):
    n, d = 809_856, 2_000 * 12 * 64
    assert ex.check_training_flops(6 * n * d)
    assert ex.check_training_flops(7.46e12)
    assert not ex.check_training_flops(2 * n * d)
    assert "forward pass only" in capsys.readouterr().out
    assert not ex.check_training_flops(6 * n * 2_000 * 12)
    assert "sequences" in capsys.readouterr().out
    assert not ex.check_training_flops(6 * n * 2_000)
    assert not ex.check_training_flops(n * d)


def test_training_minutes(capsys):
    seconds = 5_000 * 64 * 256 / 20_000
    assert ex.check_training_minutes(seconds / 60)
    assert ex.check_training_minutes(68.3)
    assert not ex.check_training_minutes(seconds)
    assert "seconds" in capsys.readouterr().out
    assert not ex.check_training_minutes(seconds / 60 / 256)
    assert "leaves out" in capsys.readouterr().out
    assert not ex.check_training_minutes(seconds / 3600)
    assert "hours" in capsys.readouterr().out


def test_shuffled_labels_curve(capsys):
    assert ex.check_shuffled_labels_curve("C")
    assert ex.check_shuffled_labels_curve(" c ")
    for letter, word in [("A", "leak"), ("B", "healthy"), ("D", "never leaves")]:
        assert not ex.check_shuffled_labels_curve(letter)
        assert word in capsys.readouterr().out
    assert not ex.check_shuffled_labels_curve("E")
    assert not ex.check_shuffled_labels_curve(None)
