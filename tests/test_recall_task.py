"""Chapter 05's long-range recall task: every question's answer is a fact shown earlier, at
least ``min_distance`` positions back, and nothing else in the sequence gives it away."""

import numpy as np
import pytest

from course_lib.chapters.ch05_transformer import RecallTask

IGNORE = RecallTask.IGNORE


@pytest.fixture
def task():
    return RecallTask(num_facts=4, num_keys=6, num_values=5, min_distance=12)


@pytest.fixture
def batch(task):
    return task.sample(300, np.random.default_rng(7))


def test_sizes_and_ids(task, batch):
    x, y = batch
    assert task.length == 2 * 4 - 1 + 12 == 19
    assert task.vocab_size == 6 * 5 + 6 + 1
    assert x.shape == y.shape == (300, task.length)
    assert x.dtype == y.dtype == np.int32
    assert x.min() >= 0 and x.max() < task.vocab_size
    assert task.chance == pytest.approx(1 / 5)


def test_layout_facts_filler_questions(task, batch):
    x, y = batch
    n, t = task.num_facts, task.length
    facts, filler, questions = x[:, :n], x[:, n:t - n], x[:, t - n:]
    assert (facts < task.first_question_id).all()
    assert (filler == task.filler_id).all()
    assert ((questions >= task.first_question_id) & (questions < task.filler_id)).all()
    # Labels only at the questions, and each label is a fact id.
    assert (y[:, :t - n] == IGNORE).all()
    assert (y[:, t - n:] < task.first_question_id).all() and (y[:, t - n:] >= 0).all()
    # The keys of one sequence are distinct, and every key is asked exactly once.
    fact_keys = np.sort(facts // task.num_values, axis=1)
    assert (np.diff(fact_keys, axis=1) > 0).all()
    assert (np.sort(questions - task.first_question_id, axis=1) == fact_keys).all()


def test_each_answer_is_the_fact_shown_at_least_min_distance_earlier(task, batch):
    x, y = batch
    distances = []
    for row_x, row_y in zip(x, y, strict=True):
        for position in np.flatnonzero(row_y != IGNORE):
            answer = row_y[position]
            key = row_x[position] - task.first_question_id  # the question names the key ...
            assert answer // task.num_values == key  # ... and the answer is a fact about it
            where = np.flatnonzero(row_x[:position] == answer)
            assert len(where) == 1  # shown once, before the question
            distances.append(position - where[0])
    assert min(distances) == task.min_distance  # the stated distance is met, and reached
    assert max(distances) <= task.length - 1


def test_values_are_uniform_so_chance_is_one_over_num_values(task):
    _, y = task.sample(4000, np.random.default_rng(1))
    values = y[y != IGNORE] % task.num_values
    shares = np.bincount(values, minlength=task.num_values) / values.size
    assert np.abs(shares - task.chance).max() < 0.02


def test_same_seed_same_batch_other_seed_other_batch(task):
    a = task.sample(8, np.random.default_rng(3))
    b = task.sample(8, np.random.default_rng(3))
    c = task.sample(8, np.random.default_rng(4))
    assert all((u == v).all() for u, v in zip(a, b, strict=True))
    assert not (a[0] == c[0]).all()


def test_render(task):
    small = RecallTask(num_facts=2, num_keys=3, num_values=4, min_distance=5)
    ids = [2 * 4 + 3, 0 * 4 + 1] + [small.filler_id] * 4 + [12 + 0, 12 + 2]
    assert small.render(ids) == "C=3 A=1 ·×4 A? C?"


@pytest.mark.parametrize("kwargs, words", [
    (dict(num_facts=7, num_keys=6), "num_facts"),
    (dict(num_keys=27), "num_keys"),
    (dict(num_values=11), "num_values"),
    (dict(num_values=1), "num_values"),
    (dict(min_distance=0), "min_distance"),
    (dict(num_facts=2.5), "num_facts"),
])
def test_bad_configs_say_what_to_change(kwargs, words):
    with pytest.raises(ValueError, match=words):
        RecallTask(**kwargs)
