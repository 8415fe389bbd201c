# %% [markdown]
# # 06 · The training loop — exercise solutions
#
# Worked solutions to the exercises of `06_training_loop.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import math

import numpy as np
from scipy.special import logsumexp

from course_lib.exercises import ch06 as ex
from course_lib.training import WarmupCosineSchedule  # imports TensorFlow: done here, once

# %% [markdown]
# **Exercise 6.1.** GPT-2's tokenizer has 50,257 tokens. What loss (in nats) should a freshly,
# well-initialised GPT-2 report at its first step?
#
# Small initial weights give nearly equal logits, so the model predicts every token with
# probability about 1/V. The cross-entropy of the true token is then −ln(1/V) = ln V.

# %% [solution] ex1
### BEGIN SOLUTION
V = ex.GPT2_VOCAB
answer_initial_loss = -math.log(1 / V)
print(f"ln {V:,} = {answer_initial_loss:.4f} nats")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_initial_loss(answer_initial_loss)

# %% [markdown]
# **Exercise 6.2.** Write `cross_entropy(logits, labels)` in NumPy: logits `(N, V)`, integer
# labels `(N,)`, one loss per row. It must stay finite for logits of ±1000.
#
# The loss is −log softmax(z)[label] = logsumexp(z) − z[label]. Computing exp(1000) overflows,
# so subtract each row's maximum first: softmax does not change when every logit moves by the
# same amount.

# %% [solution] ex2
### BEGIN SOLUTION
def cross_entropy(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    z = logits - logits.max(axis=-1, keepdims=True)  # (N, V), largest entry 0 in every row
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # log-softmax
    return -log_probs[np.arange(len(labels)), labels]  # (N,)


test_logits = np.array([[2.0, 1.0, 0.1], [1000.0, -1000.0, 0.0]])
test_labels = np.array([0, 1])
print("ours:  ", cross_entropy(test_logits, test_labels))
print("scipy: ", logsumexp(test_logits, axis=1) - test_logits[[0, 1], test_labels])
### END SOLUTION

# %% [check] ex2_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_cross_entropy_function(cross_entropy)

# %% [markdown]
# **Exercise 6.3.** With nanoGPT's CPU schedule (peak 10⁻³ after 100 warm-up steps, cosine
# decay to 10⁻⁴ at step 2,000), what is the learning rate at step 1,500?
#
# Step 1,500 is past the warm-up, so the cosine part applies: the progress through the decay
# is r = (1500 − 100) / (2000 − 100), and lr = min + ½(1 + cos πr)(peak − min).

# %% [solution] ex3
### BEGIN SOLUTION
peak, minimum = ex.SCHEDULE["peak"], ex.SCHEDULE["minimum"]
warmup, decay_end = ex.SCHEDULE["warmup_steps"], ex.SCHEDULE["decay_steps"]
step = ex.SCHEDULE_STEP
ratio = (step - warmup) / (decay_end - warmup)  # 0.737: about three quarters of the decay done
answer_lr = minimum + 0.5 * (1 + math.cos(math.pi * ratio)) * (peak - minimum)
print(f"r = {ratio:.4f}, learning rate at step {step}: {answer_lr:.3e}")
library_lr = float(WarmupCosineSchedule(**ex.SCHEDULE)(step))
print(f"the course's WarmupCosineSchedule agrees: {math.isclose(answer_lr, library_lr, rel_tol=1e-6)}")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_learning_rate(answer_lr)
