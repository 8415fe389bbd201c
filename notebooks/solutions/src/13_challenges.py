# %% [markdown]
# # 13 · Challenges and trends, measured — exercise solutions
#
# Worked solutions to the exercises of `13_challenges.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib.exercises import ch13 as ex

# %% [markdown]
# **Exercise 1.** Using the 6·N·D rule, how many FLOPs does it take to train a model of
# `ex.EX1_PARAMETERS` parameters on `ex.EX1_TOKENS` tokens?
#
# 2 FLOPs per parameter per token for the forward pass (a multiply and an add), twice that for
# the backward pass: 6 in all.

# %% [solution] ex1
### BEGIN SOLUTION
answer_flops = 6 * ex.EX1_PARAMETERS * ex.EX1_TOKENS
print(f"6 x {ex.EX1_PARAMETERS:,} x {ex.EX1_TOKENS:,} = {answer_flops:.4g} FLOPs")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_training_flops(answer_flops)

# %% [markdown]
# **Exercise 2.** Bytes of weights, gradients and AdamW state for `ex.EX2_PARAMETERS`
# parameters under Keras's `mixed_bfloat16` policy (activations not included).
#
# Keras keeps the variables in float32 (4 bytes), so the gradients (4) and AdamW's two
# moments (4 + 4) are float32 too; each step also casts the weights to bfloat16 (2).

# %% [solution] ex2
### BEGIN SOLUTION
bytes_per_parameter = 4 + 4 + 2 * 4 + 2
answer_bytes = bytes_per_parameter * ex.EX2_PARAMETERS
print(f"{bytes_per_parameter} bytes x {ex.EX2_PARAMETERS:,} = {answer_bytes:,} bytes "
      f"({answer_bytes / 2**30:.2f} GiB)")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_mixed_memory(answer_bytes)

# %% [markdown]
# **Exercise 3.** The smallest probability of the teacher's distribution `ex.EX3_TEACHER`
# softened at T = `ex.EX3_TEMPERATURE`.

# %% [solution] ex3
### BEGIN SOLUTION
z = np.array(ex.EX3_TEACHER) / ex.EX3_TEMPERATURE
p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
answer_soft_probability = float(p.min())
print("softened probabilities:", np.round(p, 4))
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_soft_probability(answer_soft_probability)

# %% [markdown]
# **Exercise 4.** The WEAT effect size of `ex.EX4_X`, `ex.EX4_Y` (targets) and `ex.EX4_A`,
# `ex.EX4_B` (attributes), in NumPy.

# %% [solution] ex4
### BEGIN SOLUTION
def cos(u, v):
    return u @ v / (np.linalg.norm(u) * np.linalg.norm(v))


A, B = np.array(ex.EX4_A), np.array(ex.EX4_B)


def s(w):
    return np.mean([cos(w, a) for a in A]) - np.mean([cos(w, b) for b in B])


sx = [s(np.array(w)) for w in ex.EX4_X]
sy = [s(np.array(w)) for w in ex.EX4_Y]
answer_effect_size = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
print(f"s(X) = {np.round(sx, 3)}, s(Y) = {np.round(sy, 3)}, d = {answer_effect_size:.3f}")
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_weat_effect_size(answer_effect_size)

# %% [markdown]
# **Exercise 5.** Integrated gradients with the baseline 0 and the midpoint rule, given the
# gradient `grad_f` as a NumPy function.
#
# IG_i(x) = x_i · ∫₀¹ ∂f/∂x_i(α·x) dα, and the midpoint rule replaces the integral by the mean
# of the gradient at α = (k + 0.5)/steps.

# %% [solution] ex5
### BEGIN SOLUTION
def my_integrated_gradients(grad_f, x, steps=50):
    """Integrated gradients of f at x with baseline 0, by the midpoint rule."""
    alphas = (np.arange(steps) + 0.5) / steps
    mean_gradient = np.mean([grad_f(a * x) for a in alphas], axis=0)
    return x * mean_gradient
### END SOLUTION

# %% [check] ex5_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_integrated_gradients(my_integrated_gradients)
