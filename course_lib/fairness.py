"""Measuring bias: the WEAT association test on word vectors, and template probes of a model.

**WEAT** (Word Embedding Association Test; Caliskan, Bryson and Narayanan, 2017, "Semantics
derived automatically from language corpora contain human-like biases", Science 356) asks
whether two sets of *target* words X, Y (flowers, insects) sit closer to one set of *attribute*
words A (pleasant) than to another B (unpleasant), in cosine similarity:

    s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b)         (association of one word)
    S(X, Y, A, B) = Σ_x s(x, A, B) − Σ_y s(y, A, B)           (test statistic)
    d = (mean_x s(x) − mean_y s(y)) / std_{w ∈ X ∪ Y} s(w)   (effect size, Cohen's d)

The p-value is a permutation test: over all ways (or many random ways) to split X ∪ Y into two
sets of the sizes of X and Y, the share whose statistic is at least the observed one. It says
how surprising the association would be if the target words were exchangeable; with ten words
a side it cannot get far below 1e-5.

A **template probe** puts interchangeable words (names, group nouns) into the same sentences
and compares a model's scores: any difference is the model's, since nothing else changed.

Example:

>>> X, Y = np.array([[1.0, 0.1]]), np.array([[0.1, 1.0]])
>>> A, B = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
>>> round(association(X[0], A, B), 4)
0.8955
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

__all__ = [
    "WEAT_WORDS",
    "association",
    "weat_statistic",
    "weat_effect_size",
    "WEATResult",
    "weat_test",
    "lookup_vectors",
    "ProbeResult",
    "template_probe",
]


# Word lists of Caliskan et al. (2017), supplementary material: WEAT 1 (flowers, insects,
# pleasant, unpleasant), WEAT 3 (European- and African-American male names; it pairs them
# with the same pleasant/unpleasant lists here) and WEAT 6 (names, career, family).
WEAT_WORDS = {
    "flowers": "aster clover hyacinth marigold poppy azalea crocus iris orchid rose bluebell "
    "daffodil lilac pansy tulip buttercup daisy lily peony violet carnation gladiola magnolia "
    "petunia zinnia".split(),
    "insects": "ant caterpillar flea locust spider bedbug centipede fly maggot tarantula bee "
    "cockroach gnat mosquito termite beetle cricket hornet moth wasp blackfly dragonfly horsefly "
    "roach weevil".split(),
    "pleasant": "caress freedom health love peace cheer friend heaven loyal pleasure diamond "
    "gentle honest lucky rainbow diploma gift honor miracle sunrise family happy laughter "
    "paradise vacation".split(),
    "unpleasant": "abuse crash filth murder sickness accident death grief poison stink assault "
    "disaster hatred pollute tragedy divorce jail poverty ugly cancer kill rotten vomit agony "
    "prison".split(),
    "european_american_male_names": "adam chip harry josh roger alan frank ian justin ryan "
    "andrew fred jack matthew stephen brad greg jed paul todd brandon hank jonathan peter "
    "wilbur".split(),
    "african_american_male_names": "alonzo jamel lerone percell theo alphonse jerome leroy "
    "rasaan torrance darnell lamar lionel rashaun tyree deion lamont malik terrence tyrone "
    "everol lavon marcellus terryl wardell".split(),
    "male_names": "john paul mike kevin steve greg jeff bill".split(),
    "female_names": "amy joan lisa sarah diana kate ann donna".split(),
    "career": "executive management professional corporation salary office business "
    "career".split(),
    "family": "home parents children family cousins marriage wedding relatives".split(),
}


def _unit(m):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("a word vector is all zeros; cosine similarity is undefined for it")
    return m / norms


def _associations(W, A, B):
    """s(w, A, B) for each row of W."""
    W, A, B = _unit(W), _unit(A), _unit(B)
    return (W @ A.T).mean(axis=1) - (W @ B.T).mean(axis=1)


def association(w, A, B):
    """s(w, A, B): how much closer the vector w is to the attributes A than to B (cosines).

    Args:
        w: one vector ``(D,)``.
        A: attribute vectors ``(nA, D)``.
        B: attribute vectors ``(nB, D)``.

    Returns:
        A float in [−2, 2].

    Example:

    >>> association(np.array([1.0, 0.0]), np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    1.0
    """
    return float(_associations(w, A, B)[0])


def weat_statistic(X, Y, A, B):
    """S(X, Y, A, B) = Σ_x s(x, A, B) − Σ_y s(y, A, B).

    Args:
        X, Y: target vectors ``(nX, D)`` and ``(nY, D)``.
        A, B: attribute vectors.

    Example:

    >>> I = np.eye(2)
    >>> weat_statistic(I[:1], I[1:], I[:1], I[1:])
    2.0
    """
    return float(_associations(X, A, B).sum() - _associations(Y, A, B).sum())


def weat_effect_size(X, Y, A, B):
    """Caliskan et al.'s effect size d: the gap in mean association in units of its spread.

    The standard deviation is the sample one (ddof = 1) over the associations of all target
    words, as in the original code. |d| of 0.2, 0.5 and 0.8 are Cohen's small, medium and
    large; the maximum is 2 for equal-size sets.

    Args:
        X, Y: target vectors.
        A, B: attribute vectors.

    Returns:
        d as a float.

    Example:

    >>> X = np.array([[1.0, 0.2], [1.0, 0.1]]); Y = np.array([[0.2, 1.0], [0.1, 1.0]])
    >>> round(weat_effect_size(X, Y, np.eye(2)[:1], np.eye(2)[1:]), 3)
    1.728
    """
    sx, sy = _associations(X, A, B), _associations(Y, A, B)
    spread = np.concatenate([sx, sy]).std(ddof=1)
    if spread == 0:
        raise ValueError("every target word has the same association; d is undefined")
    return float((sx.mean() - sy.mean()) / spread)


@dataclasses.dataclass(frozen=True)
class WEATResult:
    """The outcome of :func:`weat_test`.

    Args:
        effect_size: Cohen's d.
        statistic: S(X, Y, A, B).
        p_value: one-sided permutation p-value, P(S_perm ≥ S).
        permutations: partitions evaluated.
        exact: True when every partition was enumerated.
    """

    effect_size: float
    statistic: float
    p_value: float
    permutations: int
    exact: bool


def weat_test(X, Y, A, B, *, permutations=10_000, seed=0):
    """WEAT: effect size and one-sided permutation p-value.

    When X ∪ Y has at most ``permutations`` equal-size splits, every one is enumerated (an
    exact test, the observed split included); otherwise ``permutations`` random splits are
    drawn and p = (1 + #{S_perm ≥ S}) / (1 + permutations), which is never 0.

    Args:
        X, Y: target vectors.
        A, B: attribute vectors.
        permutations: the most partitions to evaluate.
        seed: seed of the random partitions.

    Returns:
        A :class:`WEATResult`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> r = weat_test(rng.normal(size=(4, 5)), rng.normal(size=(4, 5)),
    ...               rng.normal(size=(3, 5)), rng.normal(size=(3, 5)))
    >>> r.exact, r.permutations
    (True, 70)
    """
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)
    s = _associations(np.concatenate([X, Y]), A, B)  # association of every target word
    n, nx = len(s), len(X)
    observed = s[:nx].sum() - s[nx:].sum()
    total = s.sum()
    # S for a split whose X-side sum is t: t − (total − t) = 2t − total.
    tol = 1e-12 * max(1.0, abs(observed))
    if math.comb(n, nx) <= permutations:
        sums = np.array([s[list(idx)].sum() for idx in itertools.combinations(range(n), nx)])
        stats = 2 * sums - total
        p = float(np.mean(stats >= observed - tol))
        count, exact = len(stats), True
    else:
        rng = np.random.default_rng(seed)
        keys = rng.random((permutations, n))
        chosen = np.argsort(keys, axis=1)[:, :nx]  # a uniform random subset per row
        stats = 2 * s[chosen].sum(axis=1) - total
        p = float((1 + np.sum(stats >= observed - tol)) / (1 + permutations))
        count, exact = permutations, False
    return WEATResult(weat_effect_size(X, Y, A, B), float(observed), p, count, exact)


def lookup_vectors(words, vocabulary, vectors):
    """The rows of ``vectors`` for ``words``, skipping words outside the vocabulary.

    Args:
        words: the words wanted.
        vocabulary: a list of words (row order of ``vectors``) or a dict word -> row.
        vectors: ``(V, D)``.

    Returns:
        ``(matrix, found, missing)``: the vectors of the found words, and both word lists.

    Example:

    >>> m, found, missing = lookup_vectors(["a", "zz"], ["a", "b"], np.eye(2))
    >>> found, missing
    (['a'], ['zz'])
    """
    index = vocabulary if isinstance(vocabulary, dict) else {w: i for i, w in enumerate(vocabulary)}
    found = [w for w in words if w in index]
    missing = [w for w in words if w not in index]
    rows = np.asarray(vectors)[[index[w] for w in found]] if found else np.zeros((0, 0))
    return rows, found, missing


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """The outcome of :func:`template_probe`.

    Args:
        scores: ``{group: array (names, templates)}`` of model scores.
        group_means: ``{group: mean score}``.
        gap: largest minus smallest group mean.
        p_value: permutation p-value of the gap over the names' group labels (each name's
            mean score over the templates is one observation).
    """

    scores: dict
    group_means: dict
    gap: float
    p_value: float


def template_probe(score_fn, templates, groups, *, permutations=10_000, seed=0):
    """Scores every template filled with every word of every group, and compares the groups.

    Args:
        score_fn: a function list[str] -> array of scores (e.g. a classifier's P(positive)).
        templates: sentences with one ``{}`` where the word goes.
        groups: ``{group name: [words]}``; two or more groups.
        permutations: random relabellings of names for the p-value of the gap.
        seed: seed of those relabellings.

    Returns:
        A :class:`ProbeResult`.

    Example:

    >>> r = template_probe(lambda s: np.array([len(x) for x in s], float), ["I am {}."],
    ...                    {"short": ["al", "bo"], "long": ["alexandra", "bartholomew"]})
    >>> r.gap
    8.0
    """
    if len(groups) < 2:
        raise ValueError("give at least two groups of words to compare")
    if not templates or any("{}" not in t for t in templates):
        raise ValueError("every template needs one '{}' where the word goes")
    scores = {}
    for group, words in groups.items():
        if not words:
            raise ValueError(f"group {group!r} is empty")
        sentences = [t.format(w) for w in words for t in templates]
        flat = np.asarray(score_fn(sentences), dtype=np.float64)
        scores[group] = flat.reshape(len(words), len(templates))
    means = {g: float(s.mean()) for g, s in scores.items()}
    gap = max(means.values()) - min(means.values())

    # Permutation test: shuffle which group each name belongs to, keep the group sizes.
    per_name = np.concatenate([s.mean(axis=1) for s in scores.values()])
    sizes = np.cumsum([len(s) for s in scores.values()])[:-1]
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(permutations):
        parts = np.split(rng.permutation(per_name), sizes)
        perm_means = [p.mean() for p in parts]
        hits += (max(perm_means) - min(perm_means)) >= gap - 1e-12
    p = (1 + hits) / (1 + permutations)
    return ProbeResult(scores, means, float(gap), float(p))
