# %% [markdown]
# # 08 · Text classification — exercise solutions
#
# Worked solutions to the exercises of `08_text_classification.ipynb`. Each solution cell shows
# the working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib.exercises import ch08 as ex

# %% [markdown]
# **Exercise 1 (WordPiece by hand).** Split `unbelievably` with the toy vocabulary the way
# WordPiece does: the longest entry that starts the word, then the longest `##` entry that
# continues it, and so on.
#
# The longest entry starting the word is `unbeliev` (longer than `un`). What is left is
# `ably`: `##able` does not match (`ably` ≠ `able…`), `##ab` does; then `ly` is `##ly`.

# %% [solution] ex1
### BEGIN SOLUTION
print(ex.TOY_VOCABULARY)
answer_pieces = ["unbeliev", "##ab", "##ly"]
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_pieces(answer_pieces)

# %% [markdown]
# **Exercise 2 (the MLM loss).** Four masked slots, the first two real (weight 1); the model
# gave the true token probabilities 0.5, 0.25, 0.9, 0.01. The loss is the mean of −ln p over
# the real slots only: the generator's padding slots must count neither in the sum nor in the
# count.

# %% [solution] ex2
### BEGIN SOLUTION
p = np.array(ex.MLM_PROBABILITIES)
w = np.array(ex.MLM_WEIGHTS)
answer_mlm_loss = float((-np.log(p) * w).sum() / w.sum())  # (ln 2 + ln 4) / 2 = 1.040
print(f"{answer_mlm_loss:.3f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_mlm_loss(answer_mlm_loss)

# %% [markdown]
# **Exercise 3 (F1).** TP = 40, FP = 20, FN = 5, TN = 35. Precision = 40 / 60, recall =
# 40 / 45, F1 = 2·P·R / (P + R) = 2·TP / (2·TP + FP + FN) = 80 / 105. Accuracy is
# (40 + 35) / 100 = 0.75: it also counts the true negatives, which F1 ignores, so the two
# differ whenever the errors are not symmetric.

# %% [solution] ex3
### BEGIN SOLUTION
c = ex.CONFUSION
precision = c["tp"] / (c["tp"] + c["fp"])
recall = c["tp"] / (c["tp"] + c["fn"])
answer_f1 = 2 * precision * recall / (precision + recall)
print(f"precision {precision:.3f}, recall {recall:.3f}, F1 {answer_f1:.3f}")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_f1(answer_f1)

# %% [markdown]
# **Exercise 4 (mean pooling with a padding mask).** Zero the padding vectors by multiplying
# with `keep` as floats, sum over time, and divide by the number of real tokens per row (at
# least 1, so an all-padding row gives zeros instead of a division by zero).

# %% [solution] ex4
### BEGIN SOLUTION
def mean_pool(vectors, keep):
    weights = np.asarray(keep, dtype="float32")[:, :, None]  # (B, T, 1)
    total = (np.asarray(vectors) * weights).sum(axis=1)  # (B, C)
    return total / np.maximum(weights.sum(axis=1), 1.0)
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_mean_pool(mean_pool)

# %% [markdown]
# **Going further (open).** With `pooling="mean"` every position's vector contributes to the
# prediction from the first step, so gradients reach all of them. With `"cls"` the model must
# first learn to gather the sentence into the `[CLS]` vector; a pretrained encoder already has
# some of that skill (its `[CLS]` vector has attended to the sentence during MLM training), a
# from-scratch one does not, so mean pooling tends to help the from-scratch model more. Run
# both in the chapter to see how large the effect is at this scale.
