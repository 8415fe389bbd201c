# %% [markdown]
# # 02 · Representations — exercise solutions
#
# Worked solutions to the exercises of `02_representations.ipynb`. Each solution cell shows the
# working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import numpy as np

from course_lib import data
from course_lib.chapters import ch02_representations as emb
from course_lib.exercises import ch02 as ex

# %% [markdown]
# **Exercise 1.** In the four documents below, what is the smoothed IDF of "cat"? Use
# $\ln\frac{1+n}{1+\mathrm{df}} + 1$ with the natural logarithm.
#
# Count the documents (n) and the documents that contain "cat" (df), then apply the formula.

# %% [solution] ex1
### BEGIN SOLUTION
print(ex.IDF_DOCS)
n = len(ex.IDF_DOCS)  # 4 documents
df_cat = sum(ex.IDF_WORD in doc.split() for doc in ex.IDF_DOCS)  # "cat" is in 2 of them
answer_idf = np.log((1 + n) / (1 + df_cat)) + 1
print(f"n = {n}, df = {df_cat}: idf = ln(5/3) + 1 = {answer_idf:.4f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_idf(answer_idf)

# %% [markdown]
# **Exercise 2.** What weight $f(x)$ does GloVe give a co-occurrence count $x = 25$, with
# $x_{\max} = 100$ and exponent 0.75?
#
# $f(x) = (x / x_{\max})^{0.75}$ below $x_{\max}$, and 1 above it.

# %% [solution] ex2
### BEGIN SOLUTION
x, x_max, alpha = 25, 100, 0.75
answer_weight = (x / x_max) ** alpha if x < x_max else 1.0
print(f"(25 / 100)^0.75 = {answer_weight:.4f}; course_lib agrees: "
      f"{np.isclose(answer_weight, emb.glove_weight(np.array([x]), x_max, alpha)[0])}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_glove_weight(answer_weight)

# %% [markdown]
# **Exercise 3.** How many (center, context) training pairs does the sentence "to be or not to
# be" (6 words) give with a fixed window of 2 (no window sampling, no subsampling)?
#
# Enumerate them: every word pairs with each word at distance 1 or 2 on either side.

# %% [solution] ex3
### BEGIN SOLUTION
words = ex.SKIPGRAM_SENTENCE
pairs = [(words[i], words[j])
         for i in range(len(words))
         for j in range(len(words))
         if i != j and abs(i - j) <= ex.SKIPGRAM_WINDOW]
answer_pairs = len(pairs)
print(pairs[:5], "...")
print(f"{answer_pairs} pairs = 2 × (5 at distance 1 + 4 at distance 2)")
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_skipgram_pairs(answer_pairs)

# %% [markdown]
# **Exercise 4.** Using the pretrained GloVe vectors, complete the analogy
# *paris : france :: rome : ?*.
#
# 3CosAdd: take the unit vectors, compute france − paris + rome, and find the word with the
# highest cosine to it, leaving out the three question words.

# %% [solution] ex4
### BEGIN SOLUTION
glove_words, glove_matrix = data.load_glove()  # 20,000 words × 50 dimensions
unit = glove_matrix / np.linalg.norm(glove_matrix, axis=1, keepdims=True)
index = {w: i for i, w in enumerate(glove_words)}
a, b, c = ex.ANALOGY  # paris : france :: rome : ?
target = unit[index[b]] - unit[index[a]] + unit[index[c]]
cosines = unit @ (target / np.linalg.norm(target))
for word in (a, b, c):
    cosines[index[word]] = -np.inf  # the question words are not allowed as answers
best = np.argsort(-cosines)[:3]
print([(glove_words[i], round(float(cosines[i]), 3)) for i in best])
answer_analogy = glove_words[best[0]]
print("course_lib agrees:",
      emb.WordVectors(glove_words, glove_matrix).analogy(a, b, c)[0][0] == answer_analogy)
### END SOLUTION

# %% [check] ex4_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_analogy(answer_analogy)
