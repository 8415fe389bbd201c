"""course_lib.chapters.ch14_faq: training-time estimates checked by hand, loss-curve diagnoses."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import entropy

from course_lib.chapters import ch14_faq as faq
from course_lib.gpt import GPTConfig

# The checkout's root, found by what it holds rather than by how deep this file sits.
REPO = next(p for p in Path(__file__).resolve().parents
            if (p / "pyproject.toml").is_file() and (p / "course_lib").is_dir())


def test_flops_and_estimates_match_hand_computation():
    # nanoGPT's CPU run: 2000 steps x 12 windows x 64 tokens, 809,856 parameters.
    n, d, tps = 809_856, 2000 * 12 * 64, 13_442.4
    assert faq.training_flops(n, d) == 6 * 809_856 * 1_536_000
    config = GPTConfig(65, context_length=64, num_layers=4, num_heads=4, width=128)
    att = faq.attention_flops_per_token(config)
    assert att == 6 * 4 * 64 * 128
    assert faq.training_flops(n, d, attention_per_token=att) == (6 * n + att) * d
    est = faq.estimate_training(num_tokens=d, tokens_per_second=tps, num_parameters=n)
    assert math.isclose(est.seconds, 1_536_000 / 13_442.4)
    assert est.minutes == 1.9 and "1.9 min" in str(est)
    # A FLOP rate measured on one model predicts the throughput of a model 10x as large.
    rate = faq.achieved_flops_per_second(n, tps)
    assert math.isclose(rate, 6 * n * tps)
    big = faq.estimate_training(num_tokens=d, flops_per_second=rate, num_parameters=10 * n)
    assert math.isclose(big.tokens_per_second, tps / 10)
    assert math.isclose(big.seconds, 10 * est.seconds)


def test_estimate_arguments_are_validated():
    with pytest.raises(ValueError, match="exactly one"):
        faq.estimate_training(num_tokens=10)
    with pytest.raises(ValueError, match="needs num_parameters"):
        faq.estimate_training(num_tokens=10, flops_per_second=1e9)
    with pytest.raises(ValueError, match="positive"):
        faq.training_flops(0, 10)


@pytest.mark.parametrize("seconds, text", [(45, "45 s"), (600, "10.0 min"), (7200, "2.0 h"),
                                           (10 * 86400, "10 days"), (3 * 365.25 * 86400, "3.0 years")])
def test_format_duration(seconds, text):
    assert faq.format_duration(seconds) == text


def test_unigram_entropy_equals_scipy():
    ids = np.random.default_rng(0).integers(0, 7, size=500)
    expected = entropy(np.bincount(ids))  # natural log, normalised counts
    assert math.isclose(faq.unigram_entropy(ids, 7), expected, rel_tol=1e-12)
    assert not math.isclose(faq.unigram_entropy(ids), math.log(7), rel_tol=1e-3)  # not uniform


def test_diagnoses_of_typical_curves():
    v = 65
    uniform, uni = math.log(v), 3.3
    steps = np.arange(40)
    healthy = uniform * np.exp(-steps / 20) + 1.5 * (1 - np.exp(-steps / 20))
    cases = {
        "learning": healthy,
        "diverged": [4.1, 3.9, float("nan"), float("nan")],
        "too good": uniform * np.exp(-steps / 3),
        "rising": np.linspace(4.0, 6.0, 40),
        "stuck at uniform": np.full(40, uniform) + 0.01 * np.sin(steps),
        "frequencies only": uni + (uniform - uni) * np.exp(-steps / 5),
    }
    for verdict, curve in cases.items():
        got = faq.diagnose_loss(curve, v, unigram=uni)
        assert got.verdict == verdict, (verdict, str(got))
    # Without the unigram entropy the shuffled-labels curve cannot be told from learning.
    assert faq.diagnose_loss(cases["frequencies only"], v).verdict == "learning"
    with pytest.raises(ValueError, match="at least 2"):
        faq.diagnose_loss([1.0], v)


def test_load_benchmarks_reads_throughput_records(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"tokens_per_sec": 10.0, "parameters": 5}))
    (tmp_path / "b.json").write_text(json.dumps({"speedup": 2.0}))
    (tmp_path / "c.json").write_text("{broken")
    assert faq.load_benchmarks(tmp_path) == {"a": {"tokens_per_sec": 10.0, "parameters": 5}}
    # Without a folder: the checkout's benchmarks/results, whatever the module's own depth.
    stored = json.loads((REPO / "benchmarks" / "results" / "char_gpt_cpu.json").read_text("utf-8"))
    records = faq.load_benchmarks()
    assert records == faq.load_benchmarks(REPO / "benchmarks" / "results")
    assert records["char_gpt_cpu"]["tokens_per_sec"] == stored["tokens_per_sec"] == 13_442.4
    assert records["char_gpt_cpu"]["parameters"] == GPTConfig.nanogpt_cpu(65).num_parameters()
