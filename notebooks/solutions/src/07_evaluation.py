# %% [markdown]
# # 07 · Evaluation — exercise solutions
#
# Worked solutions to the exercises of `07_evaluation.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import math
from collections import Counter

from course_lib.exercises import ch07 as ex

# %% [markdown]
# **Exercise 7.1.** A character-level model has a validation loss of 1.2 nats per character.
# Words average 5.5 characters, the space included. What is its perplexity *per word*?
#
# Losses add over the characters of a word, so a word costs 1.2 × 5.5 = 6.6 nats on average;
# the per-word perplexity is exp(6.6), which is also (per-character perplexity)^5.5.

# %% [solution] ex1
### BEGIN SOLUTION
loss_per_word = ex.CHAR_LOSS * ex.CHARS_PER_WORD  # nats per word
answer_word_ppl = math.exp(loss_per_word)
print(f"per character {math.exp(ex.CHAR_LOSS):.3f}; per word exp({loss_per_word:.1f}) = "
      f"{answer_word_ppl:.1f} = {math.exp(ex.CHAR_LOSS):.3f}^{ex.CHARS_PER_WORD}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_word_perplexity(answer_word_ppl)

# %% [markdown]
# **Exercise 7.2.** A spam filter's test counts are TP = 30, FP = 10, FN = 20, TN = 940. What is
# its F1 score for the spam class? (And why is its accuracy, 0.97, not impressive?)
#
# Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean. Accuracy is
# high because 950 of the 1,000 e-mails are not spam: "never spam" already scores 0.95.

# %% [solution] ex2
### BEGIN SOLUTION
tp, fp, fn, tn = (ex.COUNTS[k] for k in ("tp", "fp", "fn", "tn"))
precision = tp / (tp + fp)  # 0.75
recall = tp / (tp + fn)  # 0.60
answer_f1 = 2 * precision * recall / (precision + recall)
accuracy = (tp + tn) / (tp + fp + fn + tn)
never_spam = (fp + tn) / (tp + fp + fn + tn)
print(f"precision {precision:.2f}, recall {recall:.2f}, F1 {answer_f1:.4f}; "
      f"accuracy {accuracy:.2f} vs {never_spam:.2f} for a filter that never says spam")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_f1(answer_f1)

# %% [markdown]
# **Exercise 7.3.** What is BLEU's clipped unigram precision of the candidate
# "the the the cat" against the reference "the cat is on the mat"?
#
# Each candidate word counts at most as often as it occurs in the reference: "the" three
# times in the candidate but twice in the reference counts 2; "cat" counts 1.

# %% [solution] ex3
### BEGIN SOLUTION
candidate, reference = ex.BLEU_HYPOTHESIS.split(), ex.BLEU_REFERENCE.split()
cand_counts, ref_counts = Counter(candidate), Counter(reference)
clipped = {word: min(n, ref_counts[word]) for word, n in cand_counts.items()}
answer_precision = sum(clipped.values()) / len(candidate)
print(f"clipped counts {clipped}: {sum(clipped.values())} / {len(candidate)} = {answer_precision}")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_modified_precision(answer_precision)

# %% [markdown]
# **Exercise 7.4.** And its brevity penalty?
#
# The candidate (c = 4 words) is shorter than the reference (r = 6), so
# BP = exp(1 − r / c); a candidate at least as long as the reference gets BP = 1.

# %% [solution] ex4
### BEGIN SOLUTION
c, r = len(candidate), len(reference)
answer_bp = 1.0 if c >= r else math.exp(1 - r / c)
print(f"c = {c}, r = {r}: BP = exp(1 - {r}/{c}) = {answer_bp:.4f}")
### END SOLUTION

# %% [check] ex4_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_brevity_penalty(answer_bp)
