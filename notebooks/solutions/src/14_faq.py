# %% [markdown]
# # 14 · The FAQ, answered with evidence — exercise solutions
#
# Worked solutions to the exercises of `14_faq.ipynb`. Each solution cell shows the working a
# student would write; the check cell after it runs the same self-check as the chapter. Try the
# exercises in the chapter first.

# %%
import math

from course_lib.exercises import ch14 as ex

# %% [markdown]
# **Exercise 1 (the uniform loss).** A character model with V = 65 predicts evenly before it
# has learned anything. What is its loss, in nats per character?
#
# Every character gets probability 1/V, so the cross-entropy is −ln(1/V) = ln V.

# %% [solution] ex1
### BEGIN SOLUTION
answer_uniform = math.log(ex.VOCAB_SIZE)  # natural log: Keras's losses are in nats
print(f"ln {ex.VOCAB_SIZE} = {answer_uniform:.3f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_uniform_loss(answer_uniform)

# %% [markdown]
# **Exercise 2 (6·N·D).** How many FLOPs did chapter 06's run cost, ignoring attention?
#
# D counts tokens: steps × batch size × context length.

# %% [solution] ex2
### BEGIN SOLUTION
m = ex.FLOPS_MODEL
tokens = m["steps"] * m["batch_size"] * m["context_length"]  # 1,536,000
answer_flops = 6 * m["parameters"] * tokens
print(f"6 x {m['parameters']:,} x {tokens:,} = {answer_flops:.3e} FLOPs")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_training_flops(answer_flops)

# %% [markdown]
# **Exercise 3 (time from throughput).** How many minutes will the planned run take at the
# measured throughput?

# %% [solution] ex3
### BEGIN SOLUTION
r = ex.RUN
tokens = r["steps"] * r["batch_size"] * r["context_length"]  # 81,920,000
seconds = tokens / r["tokens_per_second"]
answer_minutes = seconds / 60
print(f"{tokens:,} tokens / {r['tokens_per_second']:,} tokens/s = {seconds:,.0f} s = "
      f"{answer_minutes:.1f} min")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_training_minutes(answer_minutes)

# %% [markdown]
# **Exercise 4 (diagnosis).** Which curve comes from a run with shuffled targets?
#
# Compare where each curve ends with the two landmarks: ln 65 = 4.17 (nothing learned) and
# the unigram entropy 3.30 (frequencies learned, context not).

# %% [solution] ex4
### BEGIN SOLUTION
for letter, curve in ex.LOSS_CURVES.items():
    end = sum(curve[-3:]) / 3
    print(f"{letter}: ends at {end:.2f}")
# A falls to ~0 (no shift), B goes well below 3.30 (healthy), D stays at 4.17 (stuck):
answer_curve = "C"  # flattens at the unigram entropy
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_shuffled_labels_curve(answer_curve)
