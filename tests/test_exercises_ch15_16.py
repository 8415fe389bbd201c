"""course_lib.exercises.ch15 and ch16: each check accepts the right answer and explains wrong
ones."""

import math

import numpy as np

from course_lib.exercises import ch15, ch16


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def test_lora_weights(capsys):
    ok, out = run(ch15.check_lora_weights, 10_240, capsys)
    assert ok and "10,240" in out
    for wrong, words in [(262_144, "frozen kernel"), (2_048, "one of the two"),
                         (8_192, "one of the two"), (5, "not it")]:
        ok, out = run(ch15.check_lora_weights, wrong, capsys)
        assert not ok and words in out, (wrong, out)
    assert not run(ch15.check_lora_weights, None, capsys)[0]


def test_weighted_share(capsys):
    ok, out = run(ch15.check_weighted_share, 3 / 42, capsys)
    assert ok and "3 of the 42" in out
    for wrong, words in [(3 / 43, "n − 1"), (2 / 42, "<|eot|>"), (0.5, "not it")]:
        ok, out = run(ch15.check_weighted_share, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_template(capsys):
    ok, out = run(ch15.check_template,
                  "<|endoftext|><|A|> Name a colour.<|eot|><|B|> Blue.<|eot|>", capsys)
    assert ok
    for wrong, words in [("<|endoftext|><|A|>Name a colour.<|eot|><|B|>Blue.<|eot|>", "spaces"),
                         ("<|A|> Name a colour.<|eot|><|B|> Blue.<|eot|>", "<|endoftext|>"),
                         (42, "a str")]:
        ok, out = run(ch15.check_template, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def numpy_loss(targets, logits, weights):
    log_p = logits - logits.max(-1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
    return (weights * ce).sum() / weights.sum()


def test_response_loss(capsys):
    ok, out = run(ch15.check_response_loss, numpy_loss, capsys)
    assert ok and "every batch" in out

    def mean_everywhere(t, logits, w):
        return numpy_loss(t, logits, np.ones_like(w))

    ok, out = run(ch15.check_response_loss, mean_everywhere, capsys)
    assert not ok and "every position" in out
    ok, out = run(ch15.check_response_loss, lambda t, logits, w: None, capsys)
    assert not ok and "None" in out
    ok, out = run(ch15.check_response_loss, lambda t, logits, w: 1 / 0, capsys)
    assert not ok and "ZeroDivisionError" in out


def test_pair_loss_and_margin(capsys):
    ok, out = run(ch16.check_pair_loss, math.log1p(math.exp(-0.4)), capsys)
    assert ok and "0.5130" in out
    for wrong, words in [(math.log1p(math.exp(0.4)), "sign"), (math.log1p(math.exp(-4)), "β"),
                         (0.7, "not it")]:
        ok, out = run(ch16.check_pair_loss, wrong, capsys)
        assert not ok and words in out, (wrong, out)
    assert run(ch16.check_reward_margin, 0.4, capsys)[0]
    for wrong, words in [(-0.4, "sign"), (4.0, "β"), (0.2, "not it")]:
        ok, out = run(ch16.check_reward_margin, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_kl_estimate(capsys):
    ok, out = run(ch16.check_kl_estimate, 6.5 / 3, capsys)
    assert ok and "2.167" in out
    for wrong, words in [(-6.5 / 3, "sign"), (6.5, "sum"), (1.0, "not it")]:
        ok, out = run(ch16.check_kl_estimate, wrong, capsys)
        assert not ok and words in out, (wrong, out)


def test_dpo_loss(capsys):
    def stable(pc, pr, rc, rr, beta):
        return float(np.mean(np.logaddexp(0, -beta * ((pc - rc) - (pr - rr)))))

    def naive(pc, pr, rc, rr, beta):
        z = beta * ((pc - rc) - (pr - rr))
        return float(np.mean(-np.log(1 / (1 + np.exp(-z)))))

    def flipped(pc, pr, rc, rr, beta):
        return stable(pr, pc, rr, rc, beta)

    ok, out = run(ch16.check_dpo_loss, stable, capsys)
    assert ok and "large margins" in out
    ok, out = run(ch16.check_dpo_loss, naive, capsys)
    assert not ok and "logaddexp" in out
    ok, out = run(ch16.check_dpo_loss, flipped, capsys)
    assert not ok and "signs" in out
