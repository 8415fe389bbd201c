# %% [markdown]
# # 11 · Extractive question answering — exercise solutions
#
# Worked solutions to the exercises of `11_question_answering.ipynb`. Each solution cell shows
# the working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib.chapters import ch11_question_answering as qa
from course_lib.exercises import ch11 as ex

# %% [markdown]
# **Exercise 1 (the metric).** By hand, compute the SQuAD F1 of the prediction against the gold
# answer, as a fraction between 0 and 1. (Normalise both first.)
#
# Normalising drops "the": the prediction becomes "in late 10th century" (4 words), the gold
# "10th century" (2 words). They share 2 words.

# %% [solution] ex1
### BEGIN SOLUTION
print(f"prediction: {ex.F1_PREDICTION!r}, gold: {ex.F1_GOLD!r}")
pred = qa.normalize_answer(ex.F1_PREDICTION).split()
gold = qa.normalize_answer(ex.F1_GOLD).split()
common = len(set(pred) & set(gold))  # no repeated words here, so a set is enough
precision, recall = common / len(pred), common / len(gold)
answer_f1 = 2 * precision * recall / (precision + recall)
print(pred, gold, f"P = {precision}, R = {recall}, F1 = {answer_f1:.3f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_f1(answer_f1)

# %% [markdown]
# **Exercise 2 (windows).** A context has 300 tokens, the question 20; windows are 128 tokens
# long (with `[CLS]` and two `[SEP]`) and start every 64 context tokens. How many windows does
# `build_features` make?
#
# Each window holds 128 − 20 − 3 = 105 context tokens. Starts: 0, 64, 128, 192 (192 + 105 =
# 297 < 300, the last token is not reached yet), 256 (256 + 105 ≥ 300: done).

# %% [solution] ex2
### BEGIN SOLUTION
window = ex.WINDOW_MAX_LENGTH - ex.WINDOW_QUESTION_TOKENS - 3
starts = [0]
while starts[-1] + window < ex.WINDOW_CONTEXT_TOKENS:
    starts.append(starts[-1] + ex.WINDOW_STRIDE)
answer_windows = len(starts)
print(f"window of {window} context tokens, starts {starts}: {answer_windows} windows")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_num_windows(answer_windows)

# %% [markdown]
# **Exercise 3 (span decoding by hand).** Six context tokens, answers of at most 3 tokens:
# which `(start, end)` does the decoder return?
#
# The best start (2, score 3.0) and the best end (5, score 3.5) are 4 tokens apart: too long.
# Listing the valid pairs, (4, 5) scores 2.5 + 3.5 = 6.0, more than any other.

# %% [solution] ex3
### BEGIN SOLUTION
pairs = {(i, j): ex.SPAN_START[i] + ex.SPAN_END[j]
         for i in range(6) for j in range(i, min(6, i + ex.SPAN_CAP))}
answer_span = max(pairs, key=pairs.get)
print(sorted(pairs.items(), key=lambda kv: -kv[1])[:3])
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_best_span(answer_span)

# %% [markdown]
# **Exercise 4 (write the decoder).** `my_best_span(start_logits, end_logits,
# max_answer_tokens)` returns the best `(start, end)` with start ≤ end and
# end − start + 1 ≤ `max_answer_tokens`.
#
# Build the score matrix `start[i] + end[j]`, keep only the band `0 ≤ j − i < cap` (an upper
# triangle cut off after `cap` diagonals) and take its argmax. The course's `qa.best_span`
# does the same band by band, without the square matrix.

# %% [solution] ex4
### BEGIN SOLUTION
def my_best_span(start_logits, end_logits, max_answer_tokens):
    start, end = np.asarray(start_logits), np.asarray(end_logits)
    scores = start[:, None] + end[None, :]  # (T, T): row = start, column = end
    i, j = np.indices(scores.shape)
    valid = (j >= i) & (j - i < max_answer_tokens)
    best = np.argmax(np.where(valid, scores, -np.inf))
    return tuple(int(v) for v in np.unravel_index(best, scores.shape))


print(my_best_span(ex.SPAN_START, ex.SPAN_END, ex.SPAN_CAP))
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_span_decoder(my_best_span)
