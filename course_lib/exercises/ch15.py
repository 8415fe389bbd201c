"""Self-checks for the exercises of chapter 15 (instruction tuning, LoRA).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from
`course_lib.chapters.ch15_instruction_tuning`, so an exercise and the chapter can never
disagree.

Example:

>>> check_lora_weights(10_240)
✅ Correct: r·(d_in + d_out) = 8 × (256 + 1,024) = 10,240 weights, 3.9% of the layer's 262,144.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters import ch15_instruction_tuning as it
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "LORA_LAYER",
    "PROMPT_TOKENS",
    "ANSWER_TOKENS",
    "TEMPLATE_INSTRUCTION",
    "TEMPLATE_RESPONSE",
    "check_lora_weights",
    "check_weighted_share",
    "check_template",
    "check_response_loss",
]

LORA_LAYER = {"inputs": 256, "outputs": 1024, "rank": 8}  # exercise 1
PROMPT_TOKENS, ANSWER_TOKENS = 40, 3  # exercise 2
TEMPLATE_INSTRUCTION, TEMPLATE_RESPONSE = "Name a colour.", "Blue."  # exercise 3


def check_lora_weights(answer):
    """Exercise 15.1: LoRA's trainable weights on a Dense(256 → 1,024) at rank 8.

    Example:
    ```python
    check_lora_weights(262_144)  # Not yet: that is the frozen kernel
    ```
    """
    value = as_number(answer, "the number of LoRA weights")
    if value is None:
        return False
    d_in, d_out, r = LORA_LAYER["inputs"], LORA_LAYER["outputs"], LORA_LAYER["rank"]
    want = r * (d_in + d_out)
    if value == want:
        return _ok(f"r·(d_in + d_out) = {r} × ({d_in:,} + {d_out:,}) = {want:,} weights, "
                   f"{want / (d_in * d_out):.1%} of the layer's {d_in * d_out:,}.")
    if value == d_in * d_out:
        return _wrong(f"{value:,.0f} is the frozen kernel W itself.",
                      "LoRA adds A (r × d_in) and B (d_out × r) next to it.")
    if value in (r * d_in, r * d_out):
        return _wrong(f"{value:,.0f} counts only one of the two adapter matrices.",
                      "add A (r × d_in) and B (d_out × r).")
    return _wrong(f"{value:,.0f} is not it.", "count the entries of A (r × d_in) and B (d_out × r).")


def check_weighted_share(answer):
    """Exercise 15.2: the share of the targets that carry weight 1.

    Example:
    ```python
    check_weighted_share(3 / 43)  # Not yet: the targets are one fewer than the tokens
    ```
    """
    value = as_number(answer, "the share")
    if value is None:
        return False
    targets = PROMPT_TOKENS + ANSWER_TOKENS - 1
    want = ANSWER_TOKENS / targets
    if math.isclose(value, want, rel_tol=1e-3):
        return _ok(f"{ANSWER_TOKENS} of the {targets} targets ({want:.1%}): the answer's tokens "
                   "and its <|eot|>; every prompt target has weight 0.")
    if math.isclose(value, ANSWER_TOKENS / (targets + 1), rel_tol=1e-3):
        return _wrong(f"{value:.4f} divides by all {targets + 1} tokens.",
                      "the first token is never a target: there are n − 1 targets.")
    if math.isclose(value, (ANSWER_TOKENS - 1) / targets, rel_tol=1e-3):
        return _wrong(f"{value:.4f} leaves out the closing <|eot|>.",
                      "the model must learn to stop, so <|eot|> is weighted too.")
    return _wrong(f"{value:.4f} is not it.", "count the targets that are answer tokens.")


def check_template(answer):
    """Exercise 15.3: the chat template, character for character.

    Example:
    ```python
    check_template("<|A|> Name a colour.<|B|> Blue.")  # Not yet
    ```
    """
    want = it.format_example(TEMPLATE_INSTRUCTION, TEMPLATE_RESPONSE)
    if not isinstance(answer, str):
        return _wrong(f"expected a str, got {answer!r}.", "write the text in quotes.")
    if answer == want:
        return _ok(f"{want!r}: a new document, the user's turn, the assistant's turn.")
    if "".join(answer.split()) == "".join(want.split()):
        return _wrong("almost: the spaces differ.",
                      "a space follows <|A|> and <|B|>, none comes before <|eot|>.")
    missing = [t for t in ("<|endoftext|>", "<|A|>", "<|eot|>", "<|B|>") if t not in answer]
    if missing:
        return _wrong(f"your text lacks {', '.join(missing)}.",
                      "the template is <|endoftext|><|A|> instruction<|eot|><|B|> answer<|eot|>.")
    return _wrong(f"{answer!r} is not it.",
                  "the template is <|endoftext|><|A|> instruction<|eot|><|B|> answer<|eot|>.")


def _cases():
    rng = np.random.default_rng(15)
    for b, t, v in ((2, 5, 7), (3, 4, 11), (1, 6, 5)):
        targets = rng.integers(0, v, (b, t))
        logits = rng.normal(size=(b, t, v)) * 3
        weights = (rng.random((b, t)) < 0.5).astype("float32")
        weights[0, -1] = 1.0  # never all zero
        yield targets, logits, weights


def check_response_loss(fn):
    """Exercise 15.4: the learner's NumPy `fn(targets, logits, weights)` against Keras's
    `response_loss()` (cross-entropy averaged over the weighted positions).

    Example:
    ```python
    check_response_loss(lambda t, l, w: 0.0)  # Not yet
    ```
    """
    if not callable(fn):
        return _wrong(f"expected a function, got {fn!r}.",
                      "define `my_response_loss(targets, logits, weights)`.")
    for targets, logits, weights in _cases():
        want = float(it.response_loss()(targets, logits, sample_weight=weights))
        try:
            got = fn(targets.copy(), logits.copy(), weights.copy())
        except Exception as error:  # the learner's code: report any failure as a hint
            return _wrong(f"your function raised {type(error).__name__}: {error}.",
                          "try it on a batch of one example first.")
        if got is None:
            return _wrong("your function returned None.", "return the loss, a float.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _wrong(f"expected a number, got {got!r}.", "return a float.")
        if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6):
            continue
        log_p = logits - logits.max(-1, keepdims=True)
        log_p = log_p - np.log(np.exp(log_p).sum(-1, keepdims=True))
        ce = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
        if math.isclose(got, float(ce.mean()), rel_tol=1e-5):
            return _wrong(f"{got:.4f} is the mean over every position.",
                          "weight each position's cross-entropy and divide by the sum of weights.")
        if math.isclose(got, float((weights * ce).sum() / weights.size), rel_tol=1e-5):
            return _wrong(f"{got:.4f} divides by all B·T positions.",
                          "divide by the sum of the weights, the number of answer tokens.")
        return _wrong(f"your loss is {got:.4f}, the reference {want:.4f}.",
                      "cross-entropy = −log softmax(logits)[target]; average it over weighted positions.")
    return _ok("your loss matches Keras's reduction='mean_with_sample_weight' on every batch.")
