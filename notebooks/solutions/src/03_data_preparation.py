# %% [markdown]
# # 03 · Data preparation — exercise solutions
#
# Worked solutions to the exercises of `03_data_preparation.ipynb`. Each solution cell shows
# the working a student would write; the check cell after it runs the same self-check as the
# chapter. Try the exercises in the chapter first.

# %%
import html
import re
from collections import Counter

from course_lib.chapters import ch03_data_preparation as cleaning
from course_lib.exercises import ch03 as ex
from course_lib.tokenizers import bytes_to_unicode, pretokenize

# %% [markdown]
# **Exercise 1.** Write `clean_review(text)` that removes HTML tags, decodes entities
# (`&amp;` → `&`), lower-cases and collapses whitespace, using only the Python standard
# library (`re`, `html`).
#
# Order matters: strip the tags *before* decoding entities, or an encoded `&lt;b&gt;` would
# turn into a tag and be removed. A tag is `<`, a letter (or `/` and a letter), anything but
# angle brackets, `>`; that leaves "a < b" alone.

# %% [solution] ex1
### BEGIN SOLUTION
TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def clean_review(text):
    text = TAG.sub("", text)  # "<b>WANT</b>" -> "WANT"
    text = html.unescape(text)  # "&amp;" -> "&"
    return " ".join(text.lower().split())  # lower-case; split() also drops tabs and edges


print(repr(clean_review("  Tom &amp; Jerry\t are <i>BACK</i>. ")))
### END SOLUTION

# %% [check] ex1_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_clean_review(clean_review)

# %% [markdown]
# **Exercise 2.** What is the Jaccard similarity of the sets of character 3-gram shingles of
# "Do you like football?" and "do you like the NFL?" (lower-cased, punctuation removed)?
#
# Normalise each sentence, slide a 3-character window over it, and divide the size of the
# intersection of the two sets by the size of their union.

# %% [solution] ex2
### BEGIN SOLUTION
def char_shingles(text, n=3):
    words = re.findall(r"\w+", text.lower())  # lower-case, punctuation dropped
    joined = " ".join(words)
    return {joined[i:i + n] for i in range(len(joined) - n + 1)}


first, second = (char_shingles(t) for t in ex.JACCARD_PAIR)
assert first == cleaning.shingles(ex.JACCARD_PAIR[0], n=3)  # the same sets as course_lib's
shared, either = first & second, first | second
answer_jaccard = len(shared) / len(either)
print(f"{len(first)} and {len(second)} shingles; {len(shared)} shared, {len(either)} in all: "
      f"J = {answer_jaccard:.4f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_jaccard(answer_jaccard)

# %% [markdown]
# **Exercise 3.** Which pair does byte-pair encoding merge first on the corpus
# `"low lower lowest newer newest wider widest"`? Write it as `"left right"`.
#
# Pre-tokenize (a space before a word is written "Ġ" in the byte table), spell each word as
# symbols, count every adjacent pair, and take the most frequent; ties go to the pair that
# sorts first.

# %% [solution] ex3
### BEGIN SOLUTION
byte_symbol = bytes_to_unicode()
words = [tuple(byte_symbol[b] for b in piece.encode("utf-8")) for piece in pretokenize(ex.BPE_CORPUS)]
print(words[:3])
pair_counts = Counter(pair for word in words for pair in zip(word, word[1:], strict=False))
print(pair_counts.most_common(6))
best = min(pair_counts, key=lambda pair: (-pair_counts[pair], pair))  # most frequent, then sorted
answer_merge = " ".join(best)
print(f"first merge: {answer_merge!r} ({pair_counts[best]} times)")
### END SOLUTION

# %% [check] ex3_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_first_bpe_merge(answer_merge)
