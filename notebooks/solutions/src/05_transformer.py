# %% [markdown]
# # 05 · The Transformer — exercise solutions
#
# Worked solutions to the exercises of `05_transformer.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import math

import numpy as np

from course_lib.exercises import ch05 as ex

# %% [markdown]
# **Exercise 1.** How many trainable parameters does one `TransformerBlock(width=48,
# num_heads=4)` have (MLP ratio 4, biases everywhere)? Count them from the structure, without
# calling `count_params`.
#
# The number of heads does not matter: the heads split the width, they add no weights.

# %% [solution] ex1
### BEGIN SOLUTION
C = 48
attention = 4 * (C * C + C)  # query, key, value, output: C×C weights + C biases each
mlp = (C * 4 * C + 4 * C) + (4 * C * C + C)  # C → 4C → C, with biases
layer_norms = 2 * (2 * C)  # two LayerNorms, a scale and a shift each
answer_block = attention + mlp + layer_norms
print(f"{attention:,} + {mlp:,} + {layer_norms} = {answer_block:,} "
      f"(12C² + 13C = {12 * C * C + 13 * C:,})")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_block_parameters(answer_block)

# %% [markdown]
# **Exercise 2.** A causal CNN has 6 layers of kernel size 2 with dilations 1, 2, 4, 8, 16 and
# 32. How many characters does one output see (itself included)?
#
# A layer with kernel size k and dilation d reaches (k − 1)·d positions further back than its
# input did. Start from the character itself and add each layer's reach.

# %% [solution] ex2
### BEGIN SOLUTION
kernel_size, dilations = 2, [1, 2, 4, 8, 16, 32]
answer_field = 1
for d in dilations:
    answer_field += (kernel_size - 1) * d
    print(f"after the layer with dilation {d:>2}: {answer_field} characters")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_receptive_field(answer_field)

# %% [markdown]
# **Exercise 3.** Compute the sinusoidal encoding PE[position 5, dimension 2] for width C = 8
# and base 10000.
#
# Even dimensions 2i use sin(pos / base^(2i/C)), odd ones the cosine. Dimension 2 is even,
# with i = 1: sin(5 / 10000^(2/8)) = sin(5 / 10) = sin(0.5). The whole table confirms it.

# %% [solution] ex3
### BEGIN SOLUTION
width, base = 8, 10_000
positions = np.arange(16)[:, None]  # (T, 1)
i = np.arange(width // 2)[None, :]  # (1, C/2)
angles = positions / base ** (2 * i / width)  # (T, C/2)
table = np.zeros((16, width))
table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
answer_pe = float(table[5, 2])
print(f"PE[5, 2] = {answer_pe:.4f}; sin(0.5) = {math.sin(0.5):.4f}")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_sinusoid_value(answer_pe)
