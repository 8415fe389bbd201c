# %% [markdown]
# # 10 · Machine translation and summarization — exercise solutions
#
# Worked solutions to the exercises of `10_translation_and_summarization.ipynb`. Each solution
# cell shows the working a student would write; the check cell after it runs the same
# self-check as the chapter. Try the exercises in the chapter first.

# %%
import math

import numpy as np

from course_lib.exercises import ch10 as ex
from course_lib.text_features import TfidfVectorizer, cosine_similarity

# %% [markdown]
# **Exercise 1 (teacher forcing).** `pair_dataset` reads the padded target `ex.TARGET_IDS`
# (`[START]` = 1, `[END]` = 2, `[PAD]` = 0). Which label sequence does the decoder learn to
# predict?
#
# The decoder input is the target without its last id, the labels are the target without its
# first: at each position the label is the next token. The padding label is ignored by the
# loss, so we leave it out.

# %% [solution] ex1
### BEGIN SOLUTION
labels = ex.TARGET_IDS[1:]  # [7, 8, 9, 2, 0]
answer_labels = [t for t in labels if t != 0]
print(answer_labels)
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_labels(answer_labels)

# %% [markdown]
# **Exercise 2 (length penalty).** Which of `ex.HYPOTHESES` does beam search return with
# α = 1?
#
# With α = 1 each hypothesis is ranked by its log-probability divided by its length.

# %% [solution] ex2
### BEGIN SOLUTION
per_token = {h: lp / n for h, (lp, n) in ex.HYPOTHESES.items()}
print(per_token)  # -0.6 for the short one, -0.467 for the long one
answer_winner = max(per_token, key=per_token.get)
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_length_penalty_winner(answer_winner)

# %% [markdown]
# **Exercise 3 (brevity penalty).** BLEU's brevity penalty for `ex.BLEU_HYPOTHESIS` against
# `ex.BLEU_REFERENCE`.
#
# c = 7 hypothesis words, r = 9 reference words; c < r, so BP = exp(1 − r / c).

# %% [solution] ex3
### BEGIN SOLUTION
c, r = len(ex.BLEU_HYPOTHESIS.split()), len(ex.BLEU_REFERENCE.split())
answer_bp = math.exp(1 - r / c) if c < r else 1.0
print(c, r, round(answer_bp, 4))
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_brevity_penalty(answer_bp)

# %% [markdown]
# **Exercise 4 (ROUGE-1 by hand).** Summary tokens: person1 wants to buy a new car (7);
# reference tokens: person1 and person2 talk about buying a car (8). Shared: person1, a, car
# (3; "buy" and "buying" differ). P = 3/7, R = 3/8.

# %% [solution] ex4
### BEGIN SOLUTION
p, r = 3 / 7, 3 / 8
answer_rouge_1 = 2 * p * r / (p + r)
print(round(answer_rouge_1, 4))
### END SOLUTION

# %% [check] ex4_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_rouge_1(answer_rouge_1)

# %% [markdown]
# **Exercise 5 (centrality).** TF-IDF vectors of the units (fitted on the units themselves),
# cosine similarity between every pair, the diagonal (each unit with itself) set to zero, and
# each row summed.

# %% [solution] ex5
### BEGIN SOLUTION
def centrality(units):
    vectors = TfidfVectorizer().fit_transform(units)
    sim = cosine_similarity(vectors)
    np.fill_diagonal(sim, 0.0)
    return sim.sum(axis=1)


print(np.round(centrality(ex.CENTRALITY_UNITS), 3))
### END SOLUTION

# %% [check] ex5_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_centrality(centrality)
