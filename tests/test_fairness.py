"""Chapter 13's bias measures (course_lib.chapters.ch13_challenges): WEAT against a hand
computation, permutation p-values that behave as they must, and the template probe."""

import itertools

import numpy as np
import pytest

from course_lib.chapters import ch13_challenges as fairness


def cos(u, v):
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


X = np.array([[1.0, 0.2, 0.0], [0.8, 0.1, 0.3]])
Y = np.array([[0.1, 1.0, 0.2], [0.3, 0.7, 0.1]])
A = np.array([[1.0, 0.0, 0.0], [0.9, 0.0, 0.2]])
B = np.array([[0.0, 1.0, 0.0]])


def s(w):
    return np.mean([cos(w, a) for a in A]) - np.mean([cos(w, b) for b in B])


def test_effect_size_and_statistic_by_hand():
    sx, sy = [s(w) for w in X], [s(w) for w in Y]
    d = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
    assert fairness.weat_effect_size(X, Y, A, B) == pytest.approx(d)
    assert fairness.weat_statistic(X, Y, A, B) == pytest.approx(sum(sx) - sum(sy))
    assert fairness.association(X[0], A, B) == pytest.approx(sx[0])
    # Swapping the targets flips the sign; scaling a vector changes nothing (cosines).
    assert fairness.weat_effect_size(Y, X, A, B) == pytest.approx(-d)
    assert fairness.weat_effect_size(3 * X, Y, A, B) == pytest.approx(d)


def test_exact_p_value_by_enumeration():
    rng = np.random.default_rng(1)
    Xr, Yr = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    Ar, Br = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    result = fairness.weat_test(Xr, Yr, Ar, Br)
    targets = np.concatenate([Xr, Yr])
    observed = fairness.weat_statistic(Xr, Yr, Ar, Br)
    stats = []
    for idx in itertools.combinations(range(6), 3):
        rest = [i for i in range(6) if i not in idx]
        stats.append(fairness.weat_statistic(targets[list(idx)], targets[rest], Ar, Br))
    assert result.exact and result.permutations == 20
    assert result.p_value == pytest.approx(np.mean(np.array(stats) >= observed - 1e-12))


def test_p_value_small_for_a_real_association_and_not_for_noise():
    rng = np.random.default_rng(0)
    a_dir, b_dir = rng.normal(size=20), rng.normal(size=20)
    Xs = a_dir + 0.5 * rng.normal(size=(10, 20))
    Ys = b_dir + 0.5 * rng.normal(size=(10, 20))
    As = a_dir + 0.5 * rng.normal(size=(6, 20))
    Bs = b_dir + 0.5 * rng.normal(size=(6, 20))
    strong = fairness.weat_test(Xs, Ys, As, Bs, permutations=2000)
    assert not strong.exact and strong.effect_size > 1.5 and strong.p_value < 0.002
    noise = fairness.weat_test(*(rng.normal(size=(10, 20)) for _ in range(4)), permutations=2000)
    assert noise.p_value > 0.05
    # Random p-values are never 0, and they come from the requested number of splits.
    assert strong.p_value >= 1 / 2001 and strong.permutations == 2000


def test_lookup_vectors():
    m, found, missing = fairness.lookup_vectors(["b", "zz", "a"], ["a", "b"], np.eye(2))
    assert found == ["b", "a"] and missing == ["zz"]
    np.testing.assert_array_equal(m, [[0, 1], [1, 0]])


def test_template_probe():
    def score(sentences):  # positive iff the sentence contains "bob"
        return np.array([1.0 if "bob" in t else 0.0 for t in sentences])

    probe = fairness.template_probe(score, ["{} came.", "I saw {}."],
                                    {"g1": ["bob", "bobby"], "g2": ["al", "ed"]},
                                    permutations=500)
    assert probe.group_means == {"g1": 1.0, "g2": 0.0} and probe.gap == 1.0
    assert probe.scores["g1"].shape == (2, 2)
    assert probe.p_value == pytest.approx(1 / 3, abs=0.06)  # 2 of 6 splits give the full gap
    flat = fairness.template_probe(lambda t: np.zeros(len(t)), ["{}"], {"a": ["x"], "b": ["y"]},
                                   permutations=50)
    assert flat.gap == 0.0 and flat.p_value == 1.0
    with pytest.raises(ValueError, match="two groups"):
        fairness.template_probe(score, ["{}"], {"a": ["x"]})
    with pytest.raises(ValueError, match="'{}'"):
        fairness.template_probe(score, ["no slot"], {"a": ["x"], "b": ["y"]})
