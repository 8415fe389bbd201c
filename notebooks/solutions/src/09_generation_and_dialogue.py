# %% [markdown]
# # 09 · Text generation and dialogue — exercise solutions
#
# Worked solutions to the exercises of `09_generation_and_dialogue.ipynb`. Each solution cell
# shows the working a student would write; the check cell after it runs the same self-check as
# the chapter. Try the exercises in the chapter first.

# %%
from course_lib.chapters import ch09_generation_and_dialogue as dialogue
from course_lib.exercises import ch09 as ex

# %% [markdown]
# **Exercise 1 (distinct-n).** Compute distinct-2 of these two samples (words split on spaces):
# the number of different bigrams divided by the number of bigrams, pooled over both samples.

# %% [solution] ex1
### BEGIN SOLUTION
print(ex.DISTINCT_SAMPLES)
bigrams = []
for sample in ex.DISTINCT_SAMPLES:
    words = sample.split()
    bigrams += list(zip(words, words[1:], strict=False))  # 5 + 2 bigrams
print(bigrams)
answer_distinct_2 = len(set(bigrams)) / len(bigrams)  # ("the", "cat") occurs twice
print(f"{len(set(bigrams))} different of {len(bigrams)}: {answer_distinct_2:.3f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_distinct_2(answer_distinct_2)

# %% [markdown]
# **Exercise 2 (top-p).** A model gives these probabilities for the next word. How many words
# does top-p sampling with p = 0.75 keep?
#
# Sort by probability and add words, most likely first, until the kept mass reaches p.

# %% [solution] ex2
### BEGIN SOLUTION
print(ex.NUCLEUS_PROBS, "p =", ex.NUCLEUS_P)
mass, answer_nucleus = 0.0, 0
for word, prob in sorted(ex.NUCLEUS_PROBS.items(), key=lambda item: -item[1]):
    mass += prob
    answer_nucleus += 1
    print(f"keep {word!r}: mass {mass:.2f}")
    if mass >= ex.NUCLEUS_P:
        break
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_nucleus_size(answer_nucleus)

# %% [markdown]
# **Exercise 3 (beam search by hand).** Greedy decoding picks "good night". Which two words
# does beam search with width 2 return?
#
# Keep the two likeliest first words, extend each with every second word, and compare the
# probabilities of the whole sequences, p(first) × p(second | first).

# %% [solution] ex3
### BEGIN SOLUTION
beam = sorted(ex.BEAM_TREE, key=lambda w: -ex.BEAM_TREE[w][0])[:2]  # ["good", "sweet"]
candidates = {}
for first in beam:
    p_first, following = ex.BEAM_TREE[first]
    for second, p_second in following.items():
        candidates[f"{first} {second}"] = p_first * p_second
for sequence, p in sorted(candidates.items(), key=lambda item: -item[1]):
    print(f"{sequence:>12}: {p:.3f}")
answer_beam = max(candidates, key=candidates.get)
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_beam_choice(answer_beam)

# %% [markdown]
# **Exercise 4 (the context window).** A model has a context of 64 tokens; `chat()` keeps 16
# free for the reply and one for the bot's speaker token. How many turns (the newest, the
# user's new message, included) does the prompt keep?
#
# The budget is 64 − 16 − 1 = 47 tokens. Add turns from the newest backwards while the total
# stays within the budget.

# %% [solution] ex4
### BEGIN SOLUTION
budget = ex.CONTEXT_LENGTH - ex.REPLY_RESERVE - 1
used, answer_turns = 0, 0
for length in reversed(ex.TURN_LENGTHS):
    if used + length > budget:
        break
    used += length
    answer_turns += 1
print(f"budget {budget}: the newest {answer_turns} turns take {used} tokens; "
      f"dialogue.turns_that_fit agrees: {dialogue.turns_that_fit(ex.TURN_LENGTHS, budget) == answer_turns}")
### END SOLUTION

# %% [check] ex4_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_kept_turns(answer_turns)
