"""course_lib.exercises.ch13: each check accepts the right answer and explains wrong ones."""

import numpy as np

from course_lib.chapters.ch13_challenges import weat_effect_size
from course_lib.exercises import ch13 as ex


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_training_flops(capsys):
    ok, out = run(ex.check_training_flops, 1.875e18, capsys)
    assert ok and "1.875e+18" in out
    ok, out = run(ex.check_training_flops, 6.25e17, capsys)
    assert not ok and "forward pass only" in out
    ok, out = run(ex.check_training_flops, 3.125e17, capsys)
    assert not ok and "N·D" in out
    assert not run(ex.check_training_flops, 1.875e17, capsys)[0]
    ok, out = run(ex.check_training_flops, None, capsys)
    assert not ok and "replace the `None`" in out


def test_mixed_memory(capsys):
    ok, out = run(ex.check_mixed_memory, 18 * 350_000_000, capsys)
    assert ok and "18 bytes" in out
    ok, out = run(ex.check_mixed_memory, 16 * 350_000_000, capsys)
    assert not ok and "float32 figure" in out
    ok, out = run(ex.check_mixed_memory, 8 * 350_000_000, capsys)
    assert not ok and "pure bfloat16" in out
    ok, out = run(ex.check_mixed_memory, 18 * 350_000_000 / 1e9, capsys)
    assert not ok and "bytes" in out


def test_soft_probability(capsys):
    z = np.array(ex.EX3_TEACHER) / ex.EX3_TEMPERATURE
    p = np.exp(z) / np.exp(z).sum()
    ok, out = run(ex.check_soft_probability, float(p.min()), capsys)
    assert ok and "0.1211" in out
    ok, out = run(ex.check_soft_probability, 0.0057, capsys)
    assert not ok and "T = 1" in out
    ok, out = run(ex.check_soft_probability, float(p.max()), capsys)
    assert not ok and "most likely" in out
    assert not run(ex.check_soft_probability, 1.5, capsys)[0]


def test_weat_effect_size(capsys):
    vectors = [np.array(v) for v in (ex.EX4_X, ex.EX4_Y, ex.EX4_A, ex.EX4_B)]
    d = weat_effect_size(*vectors)
    ok, out = run(ex.check_weat_effect_size, d, capsys)
    assert ok and f"{d:.3f}" in out
    ok, out = run(ex.check_weat_effect_size, -d, capsys)
    assert not ok and "sign" in out
    ok, out = run(ex.check_weat_effect_size, d * np.sqrt(4 / 3), capsys)  # ddof = 0
    assert not ok and "population" in out
    assert not run(ex.check_weat_effect_size, 0.1, capsys)[0]


def my_integrated_gradients(grad_f, x, steps=50):
    alphas = (np.arange(steps) + 0.5) / steps
    return x * np.mean([grad_f(a * x) for a in alphas], axis=0)


def test_integrated_gradients(capsys):
    ok, out = run(ex.check_integrated_gradients, my_integrated_gradients, capsys)
    assert ok and "completeness" in out
    ok, out = run(ex.check_integrated_gradients, lambda g, x, steps=50: x * g(x), capsys)
    assert not ok and "gradient × input" in out
    ok, out = run(ex.check_integrated_gradients,
                  lambda g, x, steps=50: my_integrated_gradients(g, x, steps) / x, capsys)
    assert not ok and "average gradient" in out
    ok, out = run(ex.check_integrated_gradients, lambda g, x, steps=50: None, capsys)
    assert not ok and "None" in out
    ok, out = run(ex.check_integrated_gradients, lambda g, x, steps=50: 1 / 0, capsys)
    assert not ok and "ZeroDivisionError" in out
