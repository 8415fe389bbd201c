# %% [markdown]
# # 03 · Data preparation: collection, cleaning, tokenization, annotation
#
# *Mirrors §3.1 of the source document (数据准备, "Data preparation").*
#
# The source document says that training a large language model needs a great deal of text,
# that the quality of that text matters a lot, and that preparing it takes three steps:
#
# - **collection** (数据收集): gather text from books, articles, web pages, social media;
# - **cleaning** (数据清洗): remove noise, fix errors, split text into tokens (分词);
# - **annotation** (数据标注): for some tasks, add labels, e.g. sentiment or named entities.
#
# This chapter does each step on real data, then adds the step the document leaves out:
# streaming the prepared data into a model with a `tf.data` pipeline. What you will see:
#
# 1. data cards for the course corpora, our stand-ins for books, articles, web and social text;
# 2. a cleaning pipeline, step by step, with the number of documents each step changes or
#    removes, including exact and near-duplicate removal and a language filter;
# 3. four tokenizers (character, word, WordPiece, byte-pair encoding) compared in one table;
# 4. labels, a stratified train/validation/test split and what NER labels look like;
# 5. a `tf.data` pipeline, timed with and without each of its stages.
#
# **Before you run it:** time: smoke ~25 s · cpu ~4 min (2 cores) · gpu ~3 min (estimated); memory: peak ~1.1 GB at cpu; data: tinyshakespeare (1.1 MB), rt-polarity (1.2 MB), lee-corpus (0.4 MB), spa-eng (8.0 MB), squad-v1.1 (4.9 MB), multi30k (1.3 MB), dialogsum (1.1 MB), topical-chat (7.6 MB) (downloaded once, verified by SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import os
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from course_lib import data
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything

seed = seed_everything()
profile = active_profile()
print(f"seed {seed}, profile {profile} ({profile.source})")

# %%
# Sizes per profile. smoke proves the code runs; cpu gives numbers worth reading.
DOCS_PER_SOURCE = profile.pick(smoke=300, cpu=None, gpu=None)  # None = every document
FOREIGN_DOCS = profile.pick(smoke=40, cpu=400, gpu=400)  # Spanish + German "stray pages"
TOKENIZER_CHARS = profile.pick(smoke=40_000, cpu=None, gpu=None)  # Tiny Shakespeare slice
BPE_VOCAB = profile.pick(smoke=300, cpu=1_000, gpu=1_000)  # 256 bytes + merges
WORDPIECE_VOCAB = profile.pick(smoke=300, cpu=2_000, gpu=2_000)  # upper bound; see §3
WORDPIECE_CHARS = profile.pick(smoke=None, cpu=300_000, gpu=None)  # its learner is slow
TOY_BPE_MERGES = profile.pick(smoke=10, cpu=40, gpu=40)  # merges the from-scratch BPE learns
PIPELINE_EXAMPLES = profile.pick(smoke=400, cpu=None, gpu=None)  # rt-polarity reviews timed
SEQUENCE_LENGTH = 48  # words per review in the tf.data pipeline: nearly all reviews fit

# %% [markdown]
# ## 1. Collection: what text do we have?
#
# Real pre-training corpora are scraped at the scale of trillions of tokens. The course uses
# small, verified public corpora instead, one for each kind of source the document lists.
# A **data card** says, for each one, where it comes from, under which license, how big it
# is, in which language, and what it is good for. Licenses matter: some of these allow
# non-commercial use only, and one states none.

# %%
# NBVAL_IGNORE_OUTPUT
shakespeare = data.load_tiny_shakespeare()
reviews, review_labels = data.load_rt_polarity()
news = data.load_lee_corpus()
squad = data.load_squad_dev()
paragraphs = list(dict.fromkeys(q["context"] for q in squad))  # unique paragraphs
chats = [message for conversation in data.load_topical_chat() for _, message in conversation]
dialogues = [d["dialogue"] for d in data.load_dialogsum()]
spa_eng = data.load_spa_eng()
multi30k = data.load_multi30k("val")

corpora = {  # dataset: (stands for, documents, language, good for)
    "tinyshakespeare": ("books", [shakespeare], "English (Early Modern)",
                        "character and small GPT language models"),
    "lee-corpus": ("articles (news)", news, "English", "document similarity, word vectors"),
    "squad-v1.1": ("web (Wikipedia)", paragraphs, "English", "question answering"),
    "rt-polarity": ("web (reviews)", reviews, "English", "sentiment classification"),
    "topical-chat": ("social media (chat)", chats, "English", "dialogue"),
    "dialogsum": ("dialogue transcripts", dialogues, "English", "summarization"),
    "spa-eng": ("parallel sentences", [e for e, _ in spa_eng] + [s for _, s in spa_eng],
                "English + Spanish", "translation, BLEU"),
    "multi30k": ("parallel captions", [e for e, _ in multi30k] + [g for _, g in multi30k],
                 "English + German", "translation"),
}
rows = ["| dataset | stands for | license | documents | words | characters | language | good for |",
        "|---|---|---|---:|---:|---:|---|---|"]
for name, (kind, docs, language, use) in corpora.items():
    info = data.info(name)
    words = sum(len(d.split()) for d in docs)
    chars = sum(len(d) for d in docs)
    rows.append(f"| `{name}` | {kind} | {info.license} | {len(docs):,} | {words:,} | {chars:,} "
                f"| {language} | {use} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# Together these are about 14 million characters: less than a millionth of what a modern
# model pre-trains on. Everything in this chapter scales, but the numbers are small on
# purpose, so each step runs in seconds.
#
# ## 2. Cleaning
#
# Scraped text is messy. To see how messy, we build a small "crawl": chat messages (social
# media), movie-review snippets and Wikipedia paragraphs (web), news articles, Shakespeare's
# speeches (books), plus a few hundred Spanish and German sentences standing in for the
# foreign-language pages every crawl picks up. Each kind of noise below is really in this
# data; none of it was added by hand.

# %%
# NBVAL_IGNORE_OUTPUT
def take(docs, n=DOCS_PER_SOURCE):
    return list(docs) if n is None else list(docs[:n])


rng = np.random.default_rng(seed)
speeches = [s for s in shakespeare.split("\n\n") if s.strip()]
foreign_pairs = rng.choice(len(spa_eng), FOREIGN_DOCS, replace=False)
spanish = [spa_eng[i][1] for i in foreign_pairs if len(spa_eng[i][1].split()) >= 4]
german = [g for _, g in multi30k[:FOREIGN_DOCS]]
crawl = {
    "chat": take(chats), "reviews": take(reviews), "wikipedia": take(paragraphs),
    "news": take(news), "shakespeare": take(speeches), "spanish": spanish, "german": german,
}
raw = [doc for docs in crawl.values() for doc in docs]
source_of = np.array([name for name, docs in crawl.items() for _ in docs])
print(f"{len(raw):,} documents, {sum(map(len, raw)):,} characters")
print({name: len(docs) for name, docs in crawl.items()})

# %% [markdown]
# Each cleaning function lives in `course_lib.chapters.ch03_data_preparation`. A **map** step rewrites every
# document (`str → str`); a **filter** step looks at the whole list and returns which
# documents to keep (`list → boolean mask`). `clean(texts, steps)` runs steps in order and
# reports, for each, how many documents it changed or removed. We run them one at a time
# first, on the raw crawl, and show one document each step changes.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.chapters import ch03_data_preparation as cleaning
from course_lib.chapters.ch03_data_preparation import Filter, Map, clean


def show_step(step, texts):
    result = clean(texts, [step])
    report = result.report[0]
    print(f"{step.name}: {report.docs_changed:,} documents changed, "
          f"{report.docs_removed:,} removed, characters {report.chars_in:,} → "
          f"{report.chars_out:,}")
    if isinstance(step, Map):
        for before, after in zip(texts, result.texts, strict=True):
            if before != after:
                start = max(0, len(os.path.commonprefix([before, after])) - 40)
                print(f"   before: {before[start:start + 90]!r}\n   after:  "
                      f"{after[start:start + 90]!r}")
                break
    return result


for step in (Map(cleaning.normalize_unicode), Map(cleaning.strip_markup),
             Map(cleaning.remove_urls), Map(cleaning.normalize_whitespace),
             Map(cleaning.lowercase)):
    show_step(step, raw)

# %% [markdown]
# Unicode normalisation (NFKC) folds "…" into "...", and our version also turns typographic
# quotes into ASCII ones, so "don’t" and "don't" become one word. Markup removal catches the
# `<b>…</b>` and `<i>…</i>` tags the review site left in its snippets. Whitespace
# normalisation collapses the double spaces and tabs of chat messages. Lower-casing changes
# two documents in three: whether to do it is a choice (it merges "Apple" the fruit and the
# company), so the pipeline below leaves case alone and lets the tokenizer decide.
#
# Filters remove documents. A **length filter** drops documents too short to learn from
# ("Ok!", "lol"). **Exact duplicates** ("Hi, how are you?" appears more than 20 times in
# the chat data) are removed by keeping the first copy of each text, compared after folding
# case and whitespace.

# %%
# NBVAL_IGNORE_OUTPUT
normalized = clean(raw, [Map(cleaning.normalize_unicode), Map(cleaning.strip_markup),
                         Map(cleaning.normalize_whitespace)]).texts
show_step(Filter(cleaning.length_mask, min_words=3), normalized)
dedup = show_step(Filter(cleaning.exact_duplicate_mask), normalized)
repeats = Counter(t.casefold() for t in normalized).most_common(3)
print("most repeated:", repeats)

# %% [markdown]
# ### Near duplicates
#
# "Do you like football?" and "Hello do you like football?" are not equal, but a model
# learns nothing new from the second. Near-duplicate detection compares documents as sets
# of **shingles** (overlapping character 5-grams) with the **Jaccard similarity**
# J(A, B) = |A ∩ B| / |A ∪ B|. First from scratch, then with `course_lib`, then with
# scikit-learn's `jaccard_score` on 0/1 shingle vectors: the three must agree.

# %%
# NBVAL_CHECK_OUTPUT
from sklearn.metrics import jaccard_score

a_text, b_text = "Do you like football?", "Hello do you like football?"


def shingles_from_scratch(text, n=5):
    flat = " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
    return {flat[i:i + n] for i in range(len(flat) - n + 1)}


a, b = shingles_from_scratch(a_text), shingles_from_scratch(b_text)
ours = len(a & b) / len(a | b)
library = cleaning.jaccard(cleaning.shingles(a_text), cleaning.shingles(b_text))
vocabulary = sorted(a | b)
reference = jaccard_score([s in a for s in vocabulary], [s in b for s in vocabulary])
print(f"J = {ours:.4f} (from scratch), {library:.4f} (course_lib), {reference:.4f} (sklearn)")
print("all three agree:", abs(ours - library) < 1e-12 and abs(ours - reference) < 1e-12)

# %% [markdown]
# Comparing every pair of N documents costs N²/2 Jaccard computations: 4·10⁸ for our crawl.
# **MinHash** makes each document a short signature (here 64 numbers: for each of 64 random
# hash functions, the smallest hash of its shingles). Two signatures agree at a position with
# probability exactly J, so the share of equal positions estimates J. **Locality-sensitive
# hashing** then only compares documents whose signatures agree on all rows of at least one
# "band" (16 bands of 4 rows): a pair becomes a candidate with probability 1 − (1 − J⁴)¹⁶,
# an S-curve that is near 1 above J ≈ 0.7 and small below. The plot shows both: the MinHash
# estimate against the exact J for pairs of real chat messages, and the S-curve.

# %%
# NBVAL_IGNORE_OUTPUT
sample = dedup.texts[: min(len(dedup.texts), 400)]
signatures = cleaning.minhash_signatures(sample, num_perm=64)
sets = [cleaning.shingles(t) for t in sample]
pairs = [(i, j) for i in range(len(sample)) for j in range(i + 1, len(sample))]
exact = np.array([cleaning.jaccard(sets[i], sets[j]) for i, j in pairs])
estimate = np.array([(signatures[i] == signatures[j]).mean() for i, j in pairs])
similar = exact > 0.2  # most random pairs share nothing; show those that share something
print(f"{len(pairs):,} pairs; MinHash error on pairs with J > 0.2: mean "
      f"{np.abs(estimate - exact)[similar].mean():.3f}, max {np.abs(estimate - exact)[similar].max():.3f}"
      f" (expected ~{np.sqrt(0.25 / 64):.3f})")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.scatter(exact[similar], estimate[similar], s=8, alpha=0.5)
ax1.plot([0, 1], [0, 1], "k--", lw=1)
ax1.set(xlabel="exact Jaccard similarity", ylabel="MinHash estimate (64 hashes)",
        title="MinHash estimates Jaccard")
j = np.linspace(0, 1, 200)
for rows_, bands_ in ((4, 16), (8, 8), (2, 32)):
    ax2.plot(j, 1 - (1 - j**rows_) ** bands_, label=f"{bands_} bands × {rows_} rows")
ax2.axvline(0.7, color="gray", ls=":", lw=1)
ax2.set(xlabel="Jaccard similarity of a pair", ylabel="P(pair becomes a candidate)",
        title="Locality-sensitive hashing: the S-curve")
ax2.legend()
plt.tight_layout()
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
near = cleaning.near_duplicate_pairs(dedup.texts, threshold=0.7)
seconds = time.perf_counter() - start
print(f"{len(near)} near-duplicate pairs among {len(dedup.texts):,} documents "
      f"({seconds:.1f} s, every candidate checked with the exact Jaccard similarity)")
for i, j, sim in sorted(near, key=lambda p: p[2])[:: max(1, len(near) // 6)][:6]:
    print(f"  J={sim:.2f}  {dedup.texts[i][:60]!r}  ~  {dedup.texts[j][:60]!r}")

# %% [markdown]
# ### Language filter
#
# A language filter keeps the languages the model is meant for. Ours,
# `cleaning.detect_language`, counts **function words**: "the", "of", "and" for English,
# "que", "los", "está" for Spanish, "und", "nicht", "ist" for German, "les", "dans", "est" for
# French. A word found in several lists, like "en" (Spanish and French) or "in" (English and
# German), counts only a fraction for each, so it cannot decide on its own. The detector
# needs no model and no download, and it is easy to fool on very short texts, so how good is
# it? We measure it on sentence pairs whose language we know.

# %%
# NBVAL_IGNORE_OUTPUT
check = rng.choice(len(spa_eng), min(2_000, len(spa_eng)), replace=False)
tests = {
    "English (spa-eng)": ([spa_eng[i][0] for i in check], "en"),
    "Spanish (spa-eng)": ([spa_eng[i][1] for i in check], "es"),
    "English (multi30k)": ([e for e, _ in multi30k], "en"),
    "German (multi30k)": ([g for _, g in multi30k], "de"),
}
rows = ["| sentences | n | correct | unknown | wrong |", "|---|---:|---:|---:|---:|"]
for name, (texts, lang) in tests.items():
    guesses = Counter(cleaning.detect_language(t) for t in texts)
    n = len(texts)
    wrong = n - guesses[lang] - guesses["unknown"]
    rows.append(f"| {name} | {n:,} | {guesses[lang] / n:.1%} | {guesses['unknown'] / n:.1%} "
                f"| {wrong / n:.1%} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# The detector is rarely wrong (well under 1% here); when it cannot tell, it says "unknown",
# mostly on very short sentences ("Go.", "Tom exagera.") that contain no function word from
# its lists. Spanish gets the most unknowns because the Tatoeba sentences are the shortest.
# That is why the filter keeps "unknown" documents by default and runs after the length
# filter; a production system would use a trained classifier (e.g. on character n-grams).
#
# ### The whole pipeline
#
# Now all the steps together, in a sensible order: normalise first (so duplicates look
# alike), remove markup and fix whitespace, then filter by length, remove exact and near
# duplicates, and finally filter by language. The table is the report `clean` returns.

# %%
# NBVAL_IGNORE_OUTPUT
pipeline = [
    Map(cleaning.normalize_unicode),
    Map(cleaning.strip_markup),
    Map(cleaning.remove_urls),
    Map(cleaning.normalize_whitespace),
    Filter(cleaning.length_mask, min_words=3),
    Filter(cleaning.exact_duplicate_mask),
    Filter(cleaning.near_duplicate_mask, threshold=0.7),
    Filter(cleaning.language_mask, keep="en"),
]
start = time.perf_counter()
result = clean(raw, pipeline)
print(f"cleaned {len(raw):,} documents in {time.perf_counter() - start:.1f} s")
display(Markdown(result.table()))

kept = Counter(source_of[result.indices])
total = Counter(source_of)
rows = ["| source | raw | kept | share kept |", "|---|---:|---:|---:|"]
rows += [f"| {name} | {total[name]:,} | {kept[name]:,} | {kept[name] / total[name]:.0%} |"
         for name in crawl]
display(Markdown("\n".join(rows)))

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(8, 3.2))
names = [r.step.split("(")[0] for r in result.report][::-1]
touched = [r.docs_changed or r.docs_removed for r in result.report][::-1]
colors = ["C0" if r.docs_changed or r.docs_in == r.docs_out else "C3"
          for r in result.report][::-1]
ax.barh(names, [max(n, 0.8) for n in touched], color=colors)  # 0.8: a visible stub for 0
for y, n in enumerate(touched):
    ax.text(max(n, 1) * 1.15, y, f"{n:,}", va="center", fontsize=8)
ax.set_xscale("log")
ax.set(xlim=(0.7, 1e5), xlabel="documents (log scale)",
       title="What each step did: documents rewritten (blue) or removed (red)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the second table: the filters removed nearly all the foreign sentences (the few that
# survive are short ones with no function word from the lists), about one chat message in
# twenty (short greetings, repeated questions, near duplicates), a few percent of the
# Shakespeare speeches (one-line replies, repeated lines) and almost nothing from the news
# and Wikipedia text. Cleaning changes *what* the model learns from, not only how much:
# here it mostly thins out the noisiest source, the chat.
#
# ## 3. Tokenization
#
# A model reads integers, not text. A **tokenizer** cuts text into pieces (tokens) and maps
# each piece to an id. The choice is a trade-off:
#
# - **characters**: a tiny vocabulary, nothing is ever unknown, but sequences are long;
# - **words**: short sequences, but a huge vocabulary, and every word not seen in training
#   becomes `[UNK]`;
# - **subwords** (WordPiece, byte-pair encoding): frequent words stay whole, rare words split
#   into frequent pieces; a vocabulary of a few thousand covers everything.
#
# We compare them on Tiny Shakespeare, trained on the first 90% of the text and measured on
# the last 10% (the validation split the later chapters use).

# %%
# NBVAL_IGNORE_OUTPUT
corpus = shakespeare if TOKENIZER_CHARS is None else shakespeare[:TOKENIZER_CHARS]
cut = int(len(corpus) * 0.9)
train_text, val_text = corpus[:cut], corpus[cut:]
val_lines = [line for line in val_text.split("\n") if line.strip()]
print(f"train {len(train_text):,} characters, validation {len(val_text):,} characters, "
      f"{len(val_lines):,} non-empty validation lines")

# %% [markdown]
# **Characters and words.** The character tokenizer is `course_lib.tokenizers.CharTokenizer`
# (nanoGPT's: one id per distinct character). For words, NLTK offers several rule-based
# tokenizers that need no downloaded data; they disagree on the details, which is the point:
# "word" has no single definition.

# %%
# NBVAL_CHECK_OUTPUT
from nltk.tokenize import RegexpTokenizer, TreebankWordTokenizer, wordpunct_tokenize
from nltk.tokenize.treebank import TreebankWordDetokenizer

line = "But, soft! what light through yonder window breaks? 'Tis the east."
print("whitespace :", line.split())
print("wordpunct  :", wordpunct_tokenize(line))
print("treebank   :", TreebankWordTokenizer().tokenize(line))
print("regexp     :", RegexpTokenizer(r"\w+|[^\w\s]+").tokenize(line))

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.tokenizers import CharTokenizer

char_tokenizer = CharTokenizer.from_text(train_text)
treebank, detokenizer = TreebankWordTokenizer(), TreebankWordDetokenizer()
word_counts = Counter(tok for ln in train_text.split("\n") for tok in treebank.tokenize(ln))
word_vocab = ["[UNK]"] + sorted(w for w, c in word_counts.items() if c >= 2)  # seen twice
word_set = set(word_vocab)
print(f"characters: {char_tokenizer.vocab_size} ids; words: {len(word_counts):,} distinct, "
      f"{len(word_vocab):,} kept (seen at least twice, plus [UNK])")

# %% [markdown]
# **WordPiece** (BERT's tokenizer) is trained with keras-hub's
# `compute_word_piece_vocabulary` (which runs TensorFlow Text's vocabulary learner) and
# applied with `keras_hub.tokenizers.WordPieceTokenizer`. Continuation pieces start with
# `##`. The learner searches for a count threshold that gives about the requested size; on a
# corpus this small it stops below it, so `WORDPIECE_VOCAB` is an upper bound. It is also
# slow (over a minute for all of Tiny Shakespeare on two cores: a search in Python, repeated
# many times), so on the cpu profile it learns from the first 300,000 characters of the
# training text only; it is still applied to the same validation lines as the others.

# %%
# NBVAL_IGNORE_OUTPUT
import keras_hub
import tensorflow as tf

start = time.perf_counter()
wordpiece_text = train_text if WORDPIECE_CHARS is None else train_text[:WORDPIECE_CHARS]
train_lines = tf.data.Dataset.from_tensor_slices(wordpiece_text.split("\n")).batch(1_000)
wordpiece_vocab = keras_hub.tokenizers.compute_word_piece_vocabulary(
    train_lines, WORDPIECE_VOCAB, reserved_tokens=["[PAD]", "[UNK]"]
)
wordpiece = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=wordpiece_vocab,
                                                    oov_token="[UNK]")
print(f"WordPiece: {len(wordpiece_vocab):,} tokens in {time.perf_counter() - start:.1f} s")
example = val_lines[3]
pieces = [wordpiece_vocab[i] for i in np.asarray(wordpiece(example))]
print(repr(example), "→", pieces)

# %% [markdown]
# **Byte-pair encoding** (GPT's tokenizer) starts from single bytes and repeatedly merges the
# most frequent adjacent pair into a new token. The whole algorithm fits in a few lines; here
# it is from scratch, working on the same pre-tokenized words and byte symbols as GPT-2 (a
# space before a word is written "Ġ"), with ties broken by the pair that sorts first.

# %%
from course_lib.tokenizers import bytes_to_unicode, pretokenize

BYTE_SYMBOL = bytes_to_unicode()  # byte value → printable symbol, e.g. 32 (space) → "Ġ"


def merge_pair(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def toy_bpe(text, num_merges):
    words = Counter(tuple(BYTE_SYMBOL[b] for b in piece.encode("utf-8"))
                    for piece in pretokenize(text))
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:], strict=False):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # most frequent, then first in order
        if pairs[best] < 2:
            break
        merges.append(best)
        merged = Counter()
        for word, count in words.items():
            merged[merge_pair(word, best)] += count
        words = merged
    return merges


toy_merges = toy_bpe(train_text[:20_000], TOY_BPE_MERGES)
print("first merges:", [" ".join(m) for m in toy_merges[:12]])

# %% [markdown]
# `course_lib.tokenizers.train_bpe` does the same, with bookkeeping that makes it fast enough
# for a real vocabulary (it only recounts the words a merge touches). It must learn the same
# merges, and `BPETokenizer.to_keras_hub()` must give exactly the ids of
# `keras_hub.tokenizers.BytePairTokenizer` built from the same tables:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.tokenizers import BPETokenizer, train_bpe

_, library_merges = train_bpe(train_text[:20_000], 256 + TOY_BPE_MERGES)
print("from-scratch merges == course_lib merges:",
      [" ".join(m) for m in toy_merges] == library_merges)

bpe = BPETokenizer.from_text(train_text, BPE_VOCAB)
keras_hub_bpe = bpe.to_keras_hub()
ours_ids = [bpe.encode(ln) for ln in val_lines]
their_ids = keras_hub_bpe(val_lines)
print("course_lib ids == keras-hub BytePairTokenizer ids on every validation line:",
      all(np.array_equal(o, np.asarray(t)) for o, t in zip(ours_ids, their_ids, strict=True)))

# %% [markdown]
# Now the comparison. For each tokenizer, on the validation lines: the vocabulary size, the
# average number of tokens per line (the sequence length a model must process), the share of
# tokens that are unknown, and the share of lines that decode back to exactly the original
# text (round-trip fidelity).

# %%
# NBVAL_IGNORE_OUTPUT
def measure(name, vocab_size, encode_decode):
    lengths, unknown, exact = [], 0, 0
    for ln in val_lines:
        tokens, unknown_here, decoded = encode_decode(ln)
        lengths.append(tokens)
        unknown += unknown_here
        exact += decoded == ln
    total = sum(lengths)
    return {"tokenizer": name, "vocabulary": vocab_size, "tokens/line": np.mean(lengths),
            "chars/token": sum(map(len, val_lines)) / total, "unknown": unknown / total,
            "round trip": exact / len(val_lines)}


def char_roundtrip(ln):
    known = [c for c in ln if c in char_tokenizer.vocabulary]
    return len(ln), len(ln) - len(known), char_tokenizer.decode(char_tokenizer.encode("".join(known)))


def word_roundtrip(ln):
    tokens = [t if t in word_set else "[UNK]" for t in treebank.tokenize(ln)]
    return len(tokens), tokens.count("[UNK]"), detokenizer.detokenize(tokens)


unk_id = wordpiece_vocab.index("[UNK]")


def wordpiece_roundtrip(ln):
    ids = np.asarray(wordpiece(ln))
    return len(ids), int((ids == unk_id).sum()), wordpiece.detokenize(ids)


def bpe_roundtrip(ln):
    ids = bpe.encode(ln)
    return len(ids), 0, bpe.decode(ids)


table = [
    measure("characters (CharTokenizer)", char_tokenizer.vocab_size, char_roundtrip),
    measure("words (NLTK Treebank)", len(word_vocab), word_roundtrip),
    measure("WordPiece (keras-hub)", len(wordpiece_vocab), wordpiece_roundtrip),
    measure("byte-level BPE (course_lib)", bpe.vocab_size, bpe_roundtrip),
]
rows = ["| tokenizer | vocabulary | tokens per line | characters per token | unknown tokens "
        "| exact round trip |", "|---|---:|---:|---:|---:|---:|"]
rows += [f"| {r['tokenizer']} | {r['vocabulary']:,} | {r['tokens/line']:.1f} | "
         f"{r['chars/token']:.2f} | {r['unknown']:.2%} | {r['round trip']:.1%} |" for r in table]
display(Markdown("\n".join(rows)))

# %% [markdown]
# What the table shows:
#
# - **Characters** give the longest sequences (one token per character) and lose nothing.
# - **Words** give the shortest sequences but need the largest vocabulary, and still meet
#   unknown words in new text: every rare name or spelling becomes `[UNK]`, and whatever
#   `[UNK]` stood for is lost for good. Joining words back does not restore the original
#   spacing either.
# - **WordPiece** has no unknown pieces on this text (every character is in its vocabulary)
#   and sequences a few times shorter than characters, but it is not reversible: it splits on
#   punctuation and whitespace, and decoding puts a space between every word and punctuation
#   mark ("Good morrow , neighbour").
# - **Byte-level BPE** is the only subword tokenizer here that is exactly reversible: it
#   works on bytes, so nothing is ever unknown, and spaces are part of the tokens. This is
#   why GPT-style models use it.
#
# The bigger the BPE or WordPiece vocabulary, the shorter the sequences, and the larger the
# model's embedding and output layers: another trade-off the model designer makes.
#
# ## 4. Annotation
#
# Pre-training needs no labels: the next token is the label. Fine-tuning for a task does.
# **Sentiment annotation** gives each text a class; the rt-polarity reviews came labelled by
# the star rating of the review they were taken from (1 = positive, 0 = negative). We clean
# them with the same pipeline (the indices carry the labels along), then split them.

# %%
# NBVAL_IGNORE_OUTPUT
review_steps = [Map(cleaning.normalize_unicode), Map(cleaning.strip_markup),
                Map(cleaning.normalize_whitespace), Filter(cleaning.length_mask, min_words=2),
                Filter(cleaning.exact_duplicate_mask)]
reviews_clean = clean(reviews, review_steps)
labels = review_labels[reviews_clean.indices]
display(Markdown(reviews_clean.table()))
for i in (0, -1):
    print(f"label {labels[i]}: {reviews_clean.texts[i][:100]}")

# %% [markdown]
# A **stratified split** shuffles each class on its own and cuts it at the same fractions
# (here 80% train, 10% validation, 10% test), so each split keeps the label balance of the
# whole. It is seeded: the same seed gives the same split on every machine, which is what
# makes a reported test score reproducible. `course_lib.chapters.ch03_data_preparation.stratified_split` does it;
# scikit-learn's `train_test_split(..., stratify=labels)` is the reference.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.chapters.ch03_data_preparation import balance_table, random_split, stratified_split

train_idx, val_idx, test_idx = stratified_split(labels, (0.8, 0.1, 0.1), seed=seed)
display(Markdown(balance_table(labels, [train_idx, val_idx, test_idx],
                               class_names=["negative (0)", "positive (1)"])))

# %% [markdown]
# The split is a partition (every review in exactly one split), each split has the same
# share of positives as the whole up to rounding, and scikit-learn's stratified split puts
# the same number of positives in its test set, give or take one:

# %%
# NBVAL_CHECK_OUTPUT
from sklearn.model_selection import train_test_split

together = np.sort(np.concatenate([train_idx, val_idx, test_idx]))
print("partition:", np.array_equal(together, np.arange(len(labels))))
share = labels.mean()
print("each split within one review of the overall share:",
      all(abs(labels[s].sum() - share * len(s)) <= 1 for s in (train_idx, val_idx, test_idx)))
_, sk_test = train_test_split(np.arange(len(labels)), test_size=len(test_idx),
                              stratify=labels, random_state=seed)
print("positives in the test set, course_lib vs sklearn, differ by at most 1:",
      abs(int(labels[test_idx].sum()) - int(labels[sk_test].sum())) <= 1)

# %% [markdown]
# Stratification matters most for rare classes. If 1% of examples were positive, an
# unstratified 10% test split could hold a fraction of the positives it should, or twice as
# many; a stratified one always holds 10% of them (rounded):

# %%
# NBVAL_IGNORE_OUTPUT
rare = (np.arange(len(labels)) % 100 == 0).astype(int)  # 1% "positive"
wanted = rare.sum() * 0.1
random_counts = [int(rare[random_split(len(rare), (0.8, 0.1, 0.1), seed=s)[2]].sum())
                 for s in range(200)]
stratified_counts = {int(rare[stratified_split(rare, (0.8, 0.1, 0.1), seed=s)[2]].sum())
                     for s in range(20)}
print(f"{rare.sum()} positives; a 10% test split should hold {wanted:.1f}. Random splits over "
      f"200 seeds hold {min(random_counts)} to {max(random_counts)}; stratified splits over 20 "
      f"seeds hold {sorted(stratified_counts)}")

# %% [markdown]
# **Named-entity annotation** labels spans of tokens instead of whole texts. The usual format
# is **BIO**: `B-TYPE` begins an entity, `I-TYPE` continues it, `O` is outside any entity.
# Here is the first sentence of the Lee news corpus, annotated by hand with locations (LOC):

# %%
# NBVAL_CHECK_OUTPUT
sentence = "Hundreds of people have been forced to vacate their homes in the Southern " \
           "Highlands of New South Wales as strong winds today pushed a huge bushfire " \
           "towards the town of Hill Top ."
tags = ("O O O O O O O O O O O O B-LOC I-LOC O B-LOC I-LOC I-LOC O O O O O O O O O O O O "
        "B-LOC I-LOC O").split()
tokens = sentence.split()
assert len(tokens) == len(tags)


def bio_spans(tokens, tags):
    spans, current = [], None
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-") or (tag.startswith("I-") and current is None):
            current = [tag[2:], [token]]
            spans.append(current)
        elif tag.startswith("I-"):
            current[1].append(token)
        else:
            current = None
    return [(kind, " ".join(words)) for kind, words in spans]


print(" ".join(f"{tok}/{tag}" for tok, tag in zip(tokens[11:20], tags[11:20], strict=True)))
print(bio_spans(tokens, tags))

# %% [markdown]
# Annotation is expensive, slow and sometimes ambiguous (is "Southern Highlands" a location or
# a region name inside one?), so real projects write guidelines, have several people label the
# same examples, and measure how often they agree before trusting the labels.
#
# ## 5. Pipelines: streaming data into a model
#
# A model trains on batches, and it should never wait for them. `tf.data` builds an input
# pipeline from stages:
#
# - `map`: a function per example, here Keras's `TextVectorization` layer (lower-case, strip
#   punctuation, split into words, look each up in a vocabulary, cut or pad to 48 ids), run in
#   parallel with `num_parallel_calls`;
# - `cache`: keep the mapped examples in memory after the first epoch;
# - `shuffle`: mix examples within a buffer, differently each epoch;
# - `batch`: group examples into a tensor;
# - `prefetch`: prepare the next batches while the model works on the current one.
#
# The vocabulary is learned (`adapt`) from the training reviews only, so nothing about the
# validation and test reviews leaks into preprocessing. We then time two epochs over the
# reviews with a stand-in "training step" that takes 3 ms per batch, with the full pipeline
# and with one stage changed at a time.

# %%
# NBVAL_IGNORE_OUTPUT
import keras

texts = reviews_clean.texts if PIPELINE_EXAMPLES is None else reviews_clean.texts[:PIPELINE_EXAMPLES]
text_labels = labels[: len(texts)]
vectorizer = keras.layers.TextVectorization(max_tokens=20_000,
                                            output_sequence_length=SEQUENCE_LENGTH)
vectorizer.adapt(tf.data.Dataset.from_tensor_slices(
    [reviews_clean.texts[i] for i in train_idx]).batch(512))
lengths = np.array([len(t.split()) for t in texts])
print(f"vocabulary {vectorizer.vocabulary_size():,} words (0 = padding, 1 = [UNK]); words per "
      f"review: median {np.median(lengths):.0f}, max {lengths.max()}; "
      f"{(lengths <= SEQUENCE_LENGTH).mean():.1%} fit in {SEQUENCE_LENGTH}")
STEP_SECONDS = 0.003  # the "model": 3 ms per batch


def make_dataset(parallel=True, cache=True, shuffle=True, prefetch=True, batch_first=False):
    ds = tf.data.Dataset.from_tensor_slices((texts, text_labels))
    calls = tf.data.AUTOTUNE if parallel else None
    if batch_first:  # vectorize 32 reviews per call
        ds = ds.batch(32)
    ds = ds.map(lambda t, y: (vectorizer(t), y), num_parallel_calls=calls)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(2_000, seed=seed)
    if not batch_first:
        ds = ds.batch(32)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def examples_per_second(ds, epochs=2):
    start = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for _, y in ds:
            n += int(y.shape[0])
            time.sleep(STEP_SECONDS)  # the model's work on this batch
    return n / (time.perf_counter() - start)


variants = {
    "full pipeline": {},
    "map not parallel": {"parallel": False},
    "no cache": {"cache": False},
    "no prefetch": {"prefetch": False},
    "batch, then map (vectorized)": {"batch_first": True},
}
examples_per_second(make_dataset())  # warm-up: builds the tokenizer's graph
speeds = {name: examples_per_second(make_dataset(**kw)) for name, kw in variants.items()}
for name, speed in speeds.items():
    print(f"{name:>30}: {speed:8,.0f} examples/s")
x, y = next(iter(make_dataset()))
print("one batch:", tuple(x.shape), x.dtype.name, tuple(y.shape))

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.barh(list(speeds)[::-1], list(speeds.values())[::-1], color="C0")
ax.set(xlabel="examples per second (2 epochs, 3 ms model step per batch)",
       title="tf.data: the effect of each stage")
plt.tight_layout()
plt.show()

# %% [markdown]
# How to read it (your numbers will differ with your machine and its load): with a 3 ms
# step, the model alone would allow about 10,000 examples per second (32 per batch), so the
# gap to that is the pipeline's cost. Removing the **cache** or the **prefetch** costs the
# most here: without the cache the map runs again in the second epoch, and without prefetch
# the model waits for each batch to be prepared. A serial map costs less, and mapping whole
# batches (32 reviews per call) does not pay for itself: `TextVectorization` is a fast,
# compiled operation, so there is little per-call overhead to save. All these differences
# grow with the cost of the map (a subword tokenizer written in Python, decoding images,
# reading files) and with the number of cores to run it on.
#
# ## Summary
#
# - Collection: know your sources, their licenses and their languages (data cards).
# - Cleaning: composable steps, each measured; normalise before deduplicating; MinHash with
#   LSH finds near duplicates without comparing every pair.
# - Tokenization: characters (long, lossless), words (short, unknown words), WordPiece and
#   byte-level BPE (subwords); only byte-level BPE is both compact and exactly reversible.
# - Annotation: labels travel with the cleaned examples; stratified, seeded splits.
# - Pipelines: `map → cache → shuffle → batch → prefetch`, each stage measured.

# %%
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("03", {
    "documents in": len(raw),
    "documents kept": len(result.texts),
    "near-duplicate pairs": len(near),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell to fill in and a check that tells you whether your answer is
# right (and if not, a hint). Worked solutions: `notebooks/solutions/03_data_preparation.ipynb`.
#
# **Exercise 1.** Write `clean_review(text)` that removes HTML tags, decodes entities
# (`&amp;` → `&`), lower-cases and collapses whitespace, using only the Python standard
# library (`re`, `html`).

# %%
# NBVAL_CHECK_OUTPUT
import html
import re

from course_lib.exercises.ch03 import check_clean_review


def clean_review(text):
    return None  # your code here


check_clean_review(clean_review)

# %% [markdown]
# **Exercise 2.** What is the Jaccard similarity of the sets of character 3-gram shingles of
# "Do you like football?" and "do you like the NFL?" (lower-cased, punctuation removed)?
# Compute it by hand or with `cleaning.shingles(text, n=3)`.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.exercises.ch03 import JACCARD_PAIR, check_jaccard

my_jaccard = None  # your answer
check_jaccard(my_jaccard)

# %% [markdown]
# **Exercise 3.** Which pair does byte-pair encoding merge first on the corpus
# `"low lower lowest newer newest wider widest"`? Count the adjacent symbol pairs by hand
# (remember the "Ġ" that marks a space before every word but the first), or use `toy_bpe`.
# Write it as `"left right"`.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.exercises.ch03 import BPE_CORPUS, check_first_bpe_merge

my_merge = None  # your answer, e.g. "l o"
check_first_bpe_merge(my_merge)

# %% [markdown]
# ## Next
#
# `04_attention.ipynb`: the formula at the heart of the Transformer,
# softmax(QKᵀ/√d_k)V, one matrix at a time.
