# %% [markdown]
# # 04 · Attention — exercise solutions
#
# Worked solutions to the exercises of `04_attention.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import math

import numpy as np

from course_lib.exercises import ch04 as ex

# %% [markdown]
# **Exercise 1.** Compute softmax(QKᵀ/√d_k) for the queries `ATTENTION_Q` (2×2) and keys
# `ATTENTION_K` (3×2) with NumPy. The result is a 2×3 matrix.
#
# One score per (query, key) pair, scaled by √d_k, then a softmax along each row (over the
# keys). Subtracting the row maximum first changes nothing but keeps `exp` from overflowing.

# %% [solution] ex1
### BEGIN SOLUTION
Q, K = ex.ATTENTION_Q, ex.ATTENTION_K
d_k = Q.shape[1]
scores = Q @ K.T / np.sqrt(d_k)  # (2 queries, 3 keys)
scores = scores - scores.max(axis=1, keepdims=True)
answer_weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
print(np.round(answer_weights, 4))
print("rows sum to 1:", np.allclose(answer_weights.sum(axis=1), 1))
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_attention_weights(answer_weights)

# %% [markdown]
# **Exercise 2.** q and k are 64-dimensional, with independent entries of mean 0 and
# variance 1. What is the standard deviation of q·k?
#
# q·k is a sum of 64 products qᵢkᵢ. Each product has mean 0 and variance
# E[qᵢ²]E[kᵢ²] = 1, and variances of independent terms add: Var(q·k) = 64, so the standard
# deviation is √64 = 8. A quick simulation agrees.

# %% [solution] ex2
### BEGIN SOLUTION
d = 64
answer_std = math.sqrt(d * 1.0 * 1.0)  # variance of a sum of d independent unit-variance products
rng = np.random.default_rng(0)
q, k = rng.standard_normal((2, 100_000, d))
print(f"by reasoning: {answer_std}; simulated: {np.std((q * k).sum(axis=1)):.2f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_dot_product_std(answer_std)

# %% [markdown]
# **Exercise 3.** Build the 5×5 boolean mask for `MASK_IDS = [5, 9, 2, 0, 0]` (0 is padding)
# that is both causal and hides padding keys: `mask[i, j]` is True when query i may attend
# to key j.
#
# Two masks combined with "and": the causal one (j ≤ i, a lower triangle) and the padding one
# (key j is not padding, the same for every query row, so it broadcasts along the rows).

# %% [solution] ex3
### BEGIN SOLUTION
n = len(ex.MASK_IDS)
causal = np.tril(np.ones((n, n), dtype=bool))  # (query i, key j): j <= i
not_padding = (ex.MASK_IDS != 0)[None, :]  # (1, keys): broadcast over the queries
answer_mask = causal & not_padding
print(answer_mask.astype(int))
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_padded_causal_mask(answer_mask)
