# Generated from notebooks/src/14_faq.py (notebooks/14_faq.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Answers to the questions learners ask most, as functions: how long will training take, and
why is my loss stuck. Written in notebooks/14_faq.ipynb.

**How long will training take?** Training a Transformer costs about ``6·N·D`` floating-point
operations (FLOPs) for N parameters and D training tokens (Kaplan et al., 2020): 2·N per token
for the forward pass, twice that for the backward pass. Attention adds about ``6·L·T·C`` per
token (L layers, context T, width C), which matters for small, long-context models. Divide by
the FLOP rate your machine *achieves* (measure it: tokens per second × FLOPs per token) and
you have an estimate; :func:`estimate_training` does it.

**Why is my loss stuck?** A language model's loss has two landmarks: ``ln V``, the loss of a
uniform guess over V tokens (where an untrained model starts), and the **unigram entropy**, the
loss of a model that learned token frequencies and nothing else. :func:`diagnose_loss` reads a
loss curve against them and names the usual causes.

Example:

>>> training_flops(1_000_000, 2_000_000)     # 6 · 10⁶ · 2·10⁶
12000000000000.0
>>> estimate_training(num_parameters=809_856, num_tokens=1_536_000, tokens_per_second=13_442).minutes
1.9
>>> diagnose_loss([4.17, 4.18, 4.17, 4.17], vocab_size=65).verdict  # ln 65 = 4.17: nothing learned
'stuck at uniform'
"""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

import course_lib
from course_lib.config import check_positive_number


def unigram_entropy(token_ids, vocab_size=None) -> float:
    """The entropy (nats) of the token frequencies: the loss of a model that predicts every
    token with its overall frequency, ignoring the context.

    Args:
        token_ids: 1-D token ids.
        vocab_size: V (only checked against the ids).

    Example:

    >>> round(unigram_entropy([0, 0, 1, 1]), 4)     # two equally likely tokens: ln 2
    0.6931
    """
    ids = np.asarray(token_ids).ravel()
    if ids.size == 0:
        raise ValueError("token_ids is empty; pass the training tokens")
    if vocab_size is not None and ids.max() >= vocab_size:
        raise ValueError(f"token id {ids.max()} is outside the vocabulary of {vocab_size}")
    p = np.bincount(ids) / ids.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@dataclasses.dataclass(frozen=True)
class LossDiagnosis:
    """What a loss curve says.

    Attributes:
        verdict: ``"diverged"``, ``"too good"``, ``"rising"``, ``"stuck at uniform"``,
            ``"frequencies only"`` or ``"learning"``.
        explanation: the likely causes and what to try, in one or two sentences.
        final_loss: the mean of the last quarter of the curve.
    """

    verdict: str
    explanation: str
    final_loss: float

    def __str__(self):
        return f"{self.verdict} (final loss {self.final_loss:.3f}): {self.explanation}"


def diagnose_loss(losses, vocab_size, *, unigram=None, tolerance=0.05) -> LossDiagnosis:
    """Reads a training-loss curve of a language model (cross-entropy in nats per token).

    The checks, in order:

    1. any NaN/inf → **diverged** (learning rate far too high, no gradient clipping, or a bug
       such as log(0));
    2. the end of the curve below 2% of ``ln V`` → **too good** (the target is visible in the
       input: x and y not shifted by one token; or a tiny set learned by heart);
    3. the end above the start → **rising** (learning rate too high);
    4. the end within ``tolerance`` of ``ln V`` → **stuck at uniform** (nothing learned: the
       learning rate is ~0 or so high the model collapsed, or the gradient does not reach the
       weights);
    5. the end within ``tolerance`` of the unigram entropy → **frequencies only** (the labels
       do not depend on the inputs: shuffled or misaligned targets);
    6. otherwise **learning**.

    Args:
        losses: the training losses, one per step (or per evaluation), oldest first.
        vocab_size: V, the number of token ids.
        unigram: the unigram entropy of the training tokens (see :func:`unigram_entropy`);
            without it check 5 is skipped.
        tolerance: relative closeness for checks 4 and 5 (0.05 = within 5%).

    Returns:
        A :class:`LossDiagnosis`.

    Example:

    >>> diagnose_loss([4.17, 4.18, 4.17, 4.17], vocab_size=65).verdict
    'stuck at uniform'
    >>> diagnose_loss([4.2, 3.6, 3.35, 3.31, 3.30, 3.30, 3.29, 3.30], 65, unigram=3.30).verdict
    'frequencies only'
    """
    values = np.asarray(losses, dtype=np.float64).ravel()
    if values.size < 2:
        raise ValueError(f"need at least 2 losses to read a curve, got {values.size}")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
        raise ValueError(f"vocab_size must be an int >= 2, got {vocab_size!r}")
    uniform = math.log(vocab_size)
    if not np.all(np.isfinite(values)):
        step = int(np.argmin(np.isfinite(values)))
        return LossDiagnosis(
            "diverged",
            f"the loss became {values[step]} at step {step}: lower the learning rate, clip "
            "gradients, and look for log(0) or a division by zero.",
            float("nan"),
        )
    tail = values[-max(1, values.size // 4):]  # the last quarter: single steps are noisy
    final = float(tail.mean())
    if final < 0.02 * uniform:
        return LossDiagnosis(
            "too good",
            "almost zero loss: the target is probably visible in the input (are the labels the "
            "inputs shifted by one token?), or the model memorised a tiny training set.",
            final,
        )
    if final > values[0] * (1 + tolerance):
        return LossDiagnosis(
            "rising",
            f"the loss went up from {values[0]:.3f}: the learning rate is too high; divide it "
            "by 10 and add warm-up.",
            final,
        )
    if abs(final - uniform) <= tolerance * uniform:
        return LossDiagnosis(
            "stuck at uniform",
            f"still at ln V = {uniform:.3f}, the loss of a uniform guess: the learning rate is "
            "far too low or so high that the model collapsed, or no gradient reaches the "
            "weights.",
            final,
        )
    if unigram is not None and abs(final - unigram) <= tolerance * unigram:
        return LossDiagnosis(
            "frequencies only",
            f"stuck near the unigram entropy {unigram:.3f}: the model learned which tokens are "
            "frequent and nothing about context, so the targets do not depend on the inputs "
            "(shuffled or misaligned labels).",
            final,
        )
    return LossDiagnosis(
        "learning",
        f"down from {values[0]:.3f}; below the unigram entropy, so the model uses context."
        if unigram is not None and final < unigram else f"down from {values[0]:.3f}.",
        final,
    )


def training_flops(num_parameters, num_tokens, *, attention_per_token=0.0) -> float:
    """Training FLOPs ≈ (6·N + attention) · D.

    Args:
        num_parameters: N, the trainable parameters.
        num_tokens: D, the tokens the model trains on (steps × batch × context).
        attention_per_token: extra FLOPs per token for attention scores, e.g. from
            :func:`attention_flops_per_token`; 0 gives the plain 6·N·D rule.

    Example:

    >>> training_flops(100, 10)
    6000.0
    """
    n = check_positive_number("num_parameters", num_parameters)
    d = check_positive_number("num_tokens", num_tokens)
    if attention_per_token < 0:
        raise ValueError(f"attention_per_token must be >= 0, got {attention_per_token}")
    return (6.0 * n + float(attention_per_token)) * d


def attention_flops_per_token(config) -> float:
    """Training FLOPs per token spent on attention scores and their weighted sum: 6·L·T·C.

    The 6·N rule counts the weight matrices only; ``QKᵀ`` and ``softmax · V`` add 2·T·C
    multiply-adds per layer and token in the forward pass (Kaplan et al., 2020, Table 1),
    tripled for training. A causal mask makes half of them unnecessary, but the usual kernels
    compute them anyway.

    Args:
        config: a ``course_lib.gpt.GPTConfig`` (``num_layers``, ``context_length``, ``width``).

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> attention_flops_per_token(GPTConfig(65, context_length=64, num_layers=4, num_heads=4, width=128))
    196608.0
    """
    return 6.0 * config.num_layers * config.context_length * config.width


def achieved_flops_per_second(num_parameters, tokens_per_second, *, attention_per_token=0.0):
    """The FLOP rate a measured training throughput corresponds to.

    Args:
        num_parameters: N of the model that was timed.
        tokens_per_second: its measured training throughput.
        attention_per_token: as in :func:`training_flops`.

    Example:

    >>> achieved_flops_per_second(1_000, 50)
    300000.0
    """
    return training_flops(num_parameters, tokens_per_second, attention_per_token=attention_per_token)


# The checkout this module belongs to, where benchmarks/results/ lives.
_REPO = Path(course_lib.__file__).resolve().parents[1]


def format_duration(seconds) -> str:
    """A duration in the largest unit that keeps it readable: ``"45 s"``, ``"3.2 min"``, ``"5.1 h"``,
    ``"12 days"``, ``"3.4 years"``.

    Example:

    >>> format_duration(7200)
    '2.0 h'
    """
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.1f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    if s < 730 * 86400:
        return f"{s / 86400:.0f} days"
    return f"{s / (365.25 * 86400):.1f} years"


def load_benchmarks(folder=None) -> dict[str, dict]:
    """The throughput records in ``benchmarks/results/*.json`` that have ``tokens_per_sec``.

    Args:
        folder: where to look; default the repository's ``benchmarks/results``.

    Returns:
        ``{file stem: record}``, sorted by name ({} when there is none).

    Example:
    ```python
    load_benchmarks()["char_gpt_cpu"]["tokens_per_sec"]  # 13442.4
    ```
    """
    folder = Path(folder) if folder is not None else _REPO / "benchmarks" / "results"
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and "tokens_per_sec" in record:
            out[path.stem] = record
    return out


@dataclasses.dataclass(frozen=True)
class TrainingEstimate:
    """How long a training run takes at a given throughput.

    Attributes:
        num_tokens: D, tokens processed.
        tokens_per_second: the throughput assumed.
        seconds: D / throughput.
        flops: training FLOPs (``nan`` when the parameter count was not given).
    """

    num_tokens: float
    tokens_per_second: float
    seconds: float
    flops: float

    @property
    def minutes(self) -> float:
        """The estimate in minutes, rounded to 0.1."""
        return round(self.seconds / 60, 1)

    def __str__(self):
        flops = "" if math.isnan(self.flops) else f", {self.flops:.2e} FLOPs"
        return (f"{self.num_tokens:,.0f} tokens at {self.tokens_per_second:,.0f} tokens/s: "
                f"{format_duration(self.seconds)}{flops}")


def estimate_training(*, num_tokens, tokens_per_second=None, num_parameters=None,
                      flops_per_second=None, attention_per_token=0.0) -> TrainingEstimate:
    """Estimates training time from a measured throughput or a measured FLOP rate.

    Give either ``tokens_per_second`` (measured on this model) or ``flops_per_second`` with
    ``num_parameters`` (a FLOP rate measured on another model, scaled to this one: a model
    twice as large trains about half as many tokens per second on the same machine).

    Args:
        num_tokens: D = steps × batch size × context length.
        tokens_per_second: measured training throughput of this model.
        num_parameters: N, needed for the FLOP count and for ``flops_per_second``.
        flops_per_second: an achieved FLOP rate, e.g. from :func:`achieved_flops_per_second`.
        attention_per_token: as in :func:`training_flops`.

    Returns:
        A :class:`TrainingEstimate`.

    Example:

    >>> str(estimate_training(num_tokens=7_200_000, tokens_per_second=1_000))
    '7,200,000 tokens at 1,000 tokens/s: 2.0 h'
    """
    d = check_positive_number("num_tokens", num_tokens)
    flops = float("nan")
    if num_parameters is not None:
        flops = training_flops(num_parameters, d, attention_per_token=attention_per_token)
    if (tokens_per_second is None) == (flops_per_second is None):
        raise ValueError(
            "give exactly one of tokens_per_second (measured on this model) or "
            "flops_per_second (with num_parameters)"
        )
    if flops_per_second is not None:
        if num_parameters is None:
            raise ValueError("flops_per_second needs num_parameters to turn FLOPs into tokens")
        rate = check_positive_number("flops_per_second", flops_per_second)
        # The same FLOP rate on a model with more FLOPs per token: fewer tokens per second.
        tokens_per_second = rate / (6.0 * float(num_parameters) + attention_per_token)
    tps = check_positive_number("tokens_per_second", tokens_per_second)
    return TrainingEstimate(d, tps, d / tps, flops)
