# %% [markdown]
# # 01 · Foundations — exercise solutions
#
# Worked solutions to the exercises of `01_foundations.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib.chapters import ch01_foundations as nb
from course_lib.exercises import ch01 as ex

# %% [markdown]
# **Exercise 1.** How many parameters has a dense network with 784 inputs (a 28×28 image),
# one hidden layer of 256 units and 10 outputs? Compute it by the formula, not with Keras.
#
# A dense layer from n inputs to m units has an n × m weight matrix and m biases.

# %% [solution] ex1
### BEGIN SOLUTION
n_in, n_hidden, n_out = ex.MLP_SIZES  # (784, 256, 10)
hidden_layer = n_in * n_hidden + n_hidden  # weights + biases: 200,960
output_layer = n_hidden * n_out + n_out  # 2,570
answer_mlp = hidden_layer + output_layer
print(f"{hidden_layer:,} + {output_layer:,} = {answer_mlp:,}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_mlp_params(answer_mlp)

# %% [markdown]
# **Exercise 2.** One sigmoid neuron, $p = \sigma(w x + b)$, with cross-entropy loss
# $L = -\log p$ for a positive example ($y = 1$). For $x = 2$, $w = 0.5$, $b = -0.5$, compute
# $\partial L / \partial w$ by hand (use $\partial L / \partial z = p - y$ for $z = wx + b$).
#
# The chain rule: $\partial L/\partial w = (\partial L/\partial z)(\partial z/\partial w)
# = (p - y)\,x$. We confirm it with a central finite difference.

# %% [solution] ex2
### BEGIN SOLUTION
x, w, b, y = (ex.NEURON[k] for k in ("x", "w", "b", "y"))
z = w * x + b  # 0.5
p = 1 / (1 + np.exp(-z))  # sigmoid(0.5) = 0.6225
answer_gradient = (p - y) * x
print(f"z = {z}, p = {p:.4f}, dL/dw = (p - y) x = {answer_gradient:.4f}")


def loss_at(w_value):
    return -np.log(1 / (1 + np.exp(-(w_value * x + b))))


h = 1e-6
finite_difference = (loss_at(w + h) - loss_at(w - h)) / (2 * h)
print(f"finite difference: {finite_difference:.4f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_neuron_gradient(answer_gradient)

# %% [markdown]
# **Exercise 3.** GPT-2 small has 12 layers, $d = 768$, a vocabulary of 50,257 tokens and a
# context of 1,024 positions, and reuses its token embedding as the output layer. Count its
# parameters with the formulas of section 4.
#
# Per block: attention Q, K, V and output projections, $4(d^2 + d)$; MLP $d \to 4d \to d$,
# $8d^2 + 5d$; two layer norms, $4d$. Together $12d^2 + 13d$. Then the token and position
# embeddings and the final layer norm; the output layer shares the token embedding, so it
# adds nothing.

# %% [solution] ex3
### BEGIN SOLUTION
d, layers, vocab, context = 768, 12, 50_257, 1_024
per_block = 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 2 * 2 * d
assert per_block == 12 * d**2 + 13 * d == nb.transformer_layer_params(d)["total"]
embeddings = vocab * d + context * d
final_norm = 2 * d
answer_gpt2 = layers * per_block + embeddings + final_norm
print(f"{layers} × {per_block:,} + {embeddings:,} + {final_norm:,} = {answer_gpt2:,}")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_gpt2_params(answer_gpt2)
