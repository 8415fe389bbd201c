# %% [markdown]
# # 16 · Preference tuning — exercise solutions
#
# Worked solutions to the exercises of `16_preference_tuning.ipynb`. Each solution cell shows
# the working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import math

import numpy as np

from course_lib.exercises import ch16 as ex

# %% [markdown]
# **Exercise 1 (the loss by hand).** β = 0.1; log π_θ(y_w) = −20, log π_ref(y_w) = −23,
# log π_θ(y_l) = −25, log π_ref(y_l) = −24.
#
# The chosen review's log-ratio is −20 − (−23) = 3, the rejected one's −25 − (−24) = −1. The
# bracket is 3 − (−1) = 4, z = 0.4 and the loss is −log σ(0.4) = log(1 + e^−0.4).

# %% [solution] ex1
### BEGIN SOLUTION
p = ex.PAIR
z = p["beta"] * ((p["policy_chosen"] - p["reference_chosen"])
                 - (p["policy_rejected"] - p["reference_rejected"]))
answer_loss = math.log1p(math.exp(-z))
print(f"z = {z:.2f}, loss = {answer_loss:.4f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_pair_loss(answer_loss)

# %% [markdown]
# **Exercise 2 (implicit reward).** The margin is z itself: 0.4 > 0, so the policy already
# ranks the pair as the judge did (it gives the chosen review relatively more probability than
# the reference does).

# %% [solution] ex2
### BEGIN SOLUTION
answer_margin = z
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_reward_margin(answer_margin)

# %% [markdown]
# **Exercise 3 (a KL estimate).** Average log π_θ(y) − log π_ref(y) over the policy's samples.

# %% [solution] ex3
### BEGIN SOLUTION
answer_kl = float(np.mean(np.array(ex.KL_SAMPLES["policy"]) - np.array(ex.KL_SAMPLES["reference"])))
print(f"{answer_kl:.3f} nats per review")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_kl_estimate(answer_kl)

# %% [markdown]
# **Exercise 4 (write the loss).** −log σ(z) = log(1 + e^−z) = `np.logaddexp(0, -z)`, which
# never overflows.

# %% [solution] ex4
### BEGIN SOLUTION
def my_dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    z = beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))
    return float(np.mean(np.logaddexp(0.0, -z)))
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_dpo_loss(my_dpo_loss)
