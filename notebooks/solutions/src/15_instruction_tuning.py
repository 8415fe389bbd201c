# %% [markdown]
# # 15 · Instruction tuning — exercise solutions
#
# Worked solutions to the exercises of `15_instruction_tuning.ipynb`. Each solution cell shows
# the working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib.exercises import ch15 as ex

# %% [markdown]
# **Exercise 1 (LoRA's size).** A `Dense` layer maps 256 inputs to 1,024 outputs. How many
# trainable weights does `enable_lora(rank=8)` give it?
#
# LoRA adds A (r × d_in) and B (d_out × r); the kernel W (d_in × d_out) is frozen.

# %% [solution] ex1
### BEGIN SOLUTION
layer = ex.LORA_LAYER
answer_lora_weights = layer["rank"] * layer["inputs"] + layer["outputs"] * layer["rank"]
print(f"A: {layer['rank'] * layer['inputs']:,}, B: {layer['outputs'] * layer['rank']:,}, "
      f"total {answer_lora_weights:,}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_lora_weights(answer_lora_weights)

# %% [markdown]
# **Exercise 2 (what the loss counts).** A 40-token prompt and a 3-token answer: what share of
# the 42 targets carries weight 1?
#
# 43 tokens give 42 (input, target) pairs: the first token is never a target. The targets that
# are answer tokens, the closing `<|eot|>` included, are the last 3.

# %% [solution] ex2
### BEGIN SOLUTION
targets = ex.PROMPT_TOKENS + ex.ANSWER_TOKENS - 1
answer_share = ex.ANSWER_TOKENS / targets
print(f"{ex.ANSWER_TOKENS} / {targets} = {answer_share:.4f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_weighted_share(answer_share)

# %% [markdown]
# **Exercise 3 (the template).** The text of "Name a colour." → "Blue." in the chat template.

# %% [solution] ex3
### BEGIN SOLUTION
answer_template = "<|endoftext|><|A|> Name a colour.<|eot|><|B|> Blue.<|eot|>"
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_template(answer_template)

# %% [markdown]
# **Exercise 4 (write the loss).** Cross-entropy averaged over the weighted positions. A stable
# log-softmax subtracts each row's maximum before exponentiating.

# %% [solution] ex4
### BEGIN SOLUTION
def my_response_loss(targets, logits, weights):
    shifted = logits - logits.max(axis=-1, keepdims=True)  # (B, T, V)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (B, T, V)
    ce = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (B, T)
    return (weights * ce).sum() / weights.sum()
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_response_loss(my_response_loss)
