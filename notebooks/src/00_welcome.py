# %% [markdown]
# # 00 · Welcome and setup
#
# *Mirrors §1.3 of the source document (本文目标, "Goal").*
#
# The source document sets out to cover how large language models are trained from end to end:
# preparing data, training, evaluating, and along the way the concepts, algorithms, maths, code,
# applications and where the field is heading. This course follows it section by section, and
# turns every claim it makes into code you run: each chapter is a Keras 3 notebook that builds,
# trains or measures something for real, on data that is checked byte for byte.
#
# This first chapter builds nothing big. It makes sure your setup works, and it gives you the
# map you will use for the rest of the course:
#
# 1. the course map: which chapter teaches which section of the document;
# 2. how to run the course (two commands);
# 3. a report of your machine and installation;
# 4. the datasets, their sizes and licenses, and whether you already have them;
# 5. run profiles, which let one notebook run in seconds or at full size;
# 6. a glossary of the key terms, with the document's Chinese term beside each.
#
# Every chapter starts with the same three lines: import the course library, seed every random
# number generator, and read the active profile.
#
# **Before you run it:** time: smoke ~10 s · cpu ~0.5 min (2 cores) · gpu ~0.5 min (estimated); memory: peak ~0.8 GB at cpu; data: none (it lists the course's datasets, about 35 MB in all, and which you already have).

# %%
# NBVAL_IGNORE_OUTPUT
import course_lib
from course_lib.profiles import Profile, active_profile
from course_lib.reproducibility import seed_everything

seed = seed_everything()
profile = active_profile()
print(f"course_lib {course_lib.__version__}, seed {seed}, profile {profile} ({profile.source})")

# %% [markdown]
# ## 1. The course map
#
# The source document has nine sections; the course has seventeen chapters: fifteen that
# follow the document, and two that follow a model past pretraining, to an assistant (the
# stages every current course on LLMs teaches, and the document's §8 points to). The table
# says which document sections (§) each chapter mirrors and what you build there.

# %%
# NBVAL_CHECK_OUTPUT
from IPython.display import Markdown, display

COURSE_MAP = [
    ("00_welcome", "1.3",
     "Check your setup; meet the data, the run profiles and the vocabulary."),
    ("01_foundations", "1.1, 1.2, 2.1",
     "Probe why language is hard (ambiguity, variety, long-range dependencies), then build a "
     "small neural network: forward pass, loss and gradients by hand, then with autodiff."),
    ("02_representations", "2.2",
     "Turn text into vectors four ways (bag-of-words, TF-IDF, Word2Vec, GloVe) and score "
     "each one on the same benchmarks."),
    ("03_data_preparation", "3.1",
     "Collect, clean, tokenize and annotate a corpus, and stream it through a tf.data pipeline."),
    ("04_attention", "4.1",
     "Compute softmax(QKᵀ/√d_k)V one step at a time, add masks and heads, and check the "
     "result against Keras's own layer."),
    ("05_transformer", "2.3, 3.2",
     "Assemble a Transformer block, then compare a Transformer, an RNN (LSTM/GRU) and a CNN "
     "on one task."),
    ("06_training_loop", "3.2, 4.2",
     "Write the five training steps yourself, compare cross-entropy with mean squared error, "
     "and train the course GPT with checkpoints and resume."),
    ("07_evaluation", "3.3",
     "Compute perplexity, accuracy, F1, BLEU (and ROUGE) from scratch and check them "
     "against reference implementations."),
    ("08_text_classification", "5.1",
     "Redo the document's BERT example the Keras way: train a classifier for real, then "
     "predict the label of \"This is a great movie!\"."),
    ("09_generation_and_dialogue", "6",
     "Decode with greedy, temperature, top-k and top-p sampling; generate verse and code; "
     "hold a dialogue."),
    ("10_translation_and_summarization", "6",
     "Train an encoder-decoder translator, then summarize dialogues."),
    ("11_question_answering", "6",
     "Train an extractive question-answering model and score it with exact match and F1."),
    ("12_tools", "7",
     "Meet the tools the document recommends and see where the course uses or replaces each."),
    ("13_challenges", "8",
     "Turn the document's challenges (compute, model size, bias, interpretability) into "
     "small experiments."),
    ("14_faq", "9",
     "Answer the document's FAQ with evidence from the earlier chapters."),
    ("15_instruction_tuning", "3.2, 6, 8",
     "Turn the course foundation model into an assistant: a chat template, training on "
     "answers only, LoRA against full fine-tuning, and the same recipe on Gemma with keras-hub."),
    ("16_preference_tuning", "8",
     "Teach the assistant a preference with DPO, measure the gain and its price, and chat "
     "with it in a window that streams its replies."),
]

rows = ["| Chapter | § | What you build |", "|---|---|---|"]
rows += [f"| `{name}.ipynb` | {sections} | {what} |" for name, sections, what in COURSE_MAP]
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## 2. How to run the course
#
# Two commands, run from the repository root, do everything. Each creates the virtual
# environment `.venv` with the pinned packages the first time (about 3 GB, a couple of minutes).
#
# ```bash
# make lab    # set up, then open JupyterLab on notebooks/
# make test   # set up, then run every test and every notebook (at the smoke profile)
# ```
#
# In JupyterLab, open the chapters in order and run them top to bottom
# (*Run → Run All Cells*). Chapters build on each other's ideas but not on each other's files:
# each one runs on its own.

# %% [markdown]
# ## 3. Your environment
#
# The report below shows what the course found on this machine. If something is wrong (a
# version that differs from `requirements.txt`, no GPU where you expected one), this is the
# table to paste into a question. Your numbers will differ from the stored ones.
#
# Two lines deserve a word. **Mixed precision** computes in 16-bit floats while keeping the
# weights in 32 bits, which is up to a few times faster on recent accelerators; the report
# names the Keras policy that suits yours (`mixed_float16` on GPUs with compute capability 7.x,
# `mixed_bfloat16` on Ampere and newer, TPUs and CPUs). **XLA** compiles a whole TensorFlow
# function into fused kernels; `model.compile(jit_compile=True)` turns it on.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.tooling.environment import environment_report, format_report

report = environment_report()
print(format_report(report))

# %% [markdown]
# How fast is this machine? A matrix multiplication is the operation a language model spends
# most of its time in, so its speed is a fair first guess at how long training will take.

# %%
# NBVAL_IGNORE_OUTPUT
import time

import keras

n = profile.pick(smoke=256, cpu=1024, gpu=4096)
a = keras.random.normal((n, n), seed=0)
b = keras.random.normal((n, n), seed=1)
keras.ops.matmul(a, b)  # warm-up: the first call also builds the kernel
repeats = 5
start = time.perf_counter()
for _ in range(repeats):
    c = keras.ops.matmul(a, b)
float(keras.ops.sum(c))  # wait for the result
seconds = (time.perf_counter() - start) / repeats
print(f"{n}×{n} matmul: {seconds * 1e3:.1f} ms, {2 * n**3 / seconds / 1e9:.1f} GFLOP/s")

# %% [markdown]
# ## 4. The data
#
# Every file the course reads is listed in `datasets/registry.json` with its size, SHA-256,
# license and download URL. `course_lib.data.fetch(name, file)` returns a verified local path,
# looking first in a mirror folder (`$COURSE_DATA_DIR/<dataset>/<file>`), then in the cache
# (`~/.cache/course_lib`), and only then downloading; a file whose hash does not match is
# never used. To download everything ahead of time (about 35 MB), run
# `python -m course_lib.data download`.
#
# The table shows where each dataset is on this machine right now: `mirror`, `cache`, or
# `missing` (downloaded the first time a chapter needs it). An *optional* dataset (the full
# 400,000-word GloVe, 171 MB) is left out of the download-everything command and fetched only
# when a chapter asks for it.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib import data


def where(name):
    found = set(data.status(name).values())
    here = found.pop() if len(found) == 1 else ", ".join(sorted(found))
    return f"{here} (optional)" if data.info(name).optional else here


rows = ["| Dataset | Files | Size | License | Here |", "|---|---:|---:|---|---|"]
for ds in data.datasets():
    rows.append(
        f"| `{ds.name}` ({ds.title}) | {len(ds.files)} | {ds.total_bytes / 1e6:.1f} MB "
        f"| {ds.license} | {where(ds.name)} |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# Some of these licenses restrict use (non-commercial, share-alike, or none stated); each
# chapter that uses a dataset cites it. Read a dataset's full entry with `data.info(name)`.
#
# ## 5. Run profiles
#
# Training a model takes seconds on a toy slice of data and hours on the real thing. Rather
# than keeping three copies of each notebook, every size that matters is written once with
# `profile.pick`, which returns the value for the active profile:
#
# | profile | meant for | typical chapter run |
# |---|---|---|
# | `smoke` | the test suite: proves the code runs; numbers mean nothing | seconds |
# | `cpu` | a laptop with 2 cores; results worth reading | minutes |
# | `gpu` | a real accelerator; the full sizes | minutes, at full scale |
#
# The profile comes from the `COURSE_PROFILE` environment variable; when it is unset the
# course picks `gpu` if TensorFlow sees a GPU and `cpu` otherwise. The stored outputs you see in
# these notebooks come from a `cpu` run. Here is `pick` with each profile spelled out:

# %%
# NBVAL_CHECK_OUTPUT
for name in ("smoke", "cpu", "gpu"):
    steps = Profile(name).pick(smoke=20, cpu=2_000, gpu=5_000)
    print(f"{name:>5}: train for {steps} steps")

# %% [markdown]
# And with the profile that is active here:

# %%
# NBVAL_IGNORE_OUTPUT
steps = profile.pick(smoke=20, cpu=2_000, gpu=5_000)
print(f"profile {profile} (from {profile.source}): train for {steps} steps")

# %% [markdown]
# To switch, set the variable before starting JupyterLab (or the tests), for example
# `COURSE_PROFILE=smoke make lab` for a quick look at every chapter, or
# `COURSE_PROFILE=cpu make lab` on a machine whose GPU you do not want to use. A misspelled
# name stops with a message listing the valid ones:

# %%
# NBVAL_CHECK_OUTPUT
try:
    Profile("laptop")
except ValueError as err:
    print(err)

# %% [markdown]
# ## 6. Glossary
#
# The key terms of the course, with the source document's Chinese term beside each (search the
# document for it), the section where it first matters and the chapter that teaches it.
# The entries and the function that renders them as a table are folded in the next cell (open
# it to read them); later chapters and the tests import them from
# `course_lib.chapters.ch00_welcome`.

# %% [export] fold
"""The course glossary: key terms in English with the source document's Chinese term beside each.

Written in notebooks/00_welcome.ipynb. Every Chinese term is copied from
``source-document.zh.md`` (the test suite checks that each one occurs there), so a reader can
search the document for it.

Example:

>>> next(t for t in GLOSSARY if t.en == "perplexity").zh
'困惑度'
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Args:
        en: the English term.
        zh: the term as the source document writes it.
        section: the document section where it first matters (e.g. ``"3.3"``).
        meaning: a one-sentence definition, in the course's own words.
        chapter: the notebook that teaches it (e.g. ``"07"``).

    Example:

    >>> Term("loss", "损失函数", "4.2", "How wrong the model is.", "06").zh
    '损失函数'
    """

    en: str
    zh: str
    section: str
    meaning: str
    chapter: str


GLOSSARY: tuple[Term, ...] = (
    Term("natural language processing (NLP)", "自然语言处理", "1.1",
         "Getting machines to understand and produce human language.", "01"),
    Term("large language model (LLM)", "大语言模型", "1.2",
         "A very large neural network trained on a very large amount of text to predict it.", "01"),
    Term("deep learning", "深度学习", "2.1",
         "Machine learning with many stacked layers that learn their own features.", "01"),
    Term("neural network", "神经网络", "2.1",
         "Layers of simple units (neurons) joined by weighted connections.", "01"),
    Term("weights (parameters)", "权重参数", "2.1",
         "The numbers training adjusts; they decide how signals flow between neurons.", "01"),
    Term("representation learning", "表示学习", "2.2",
         "Turning text into vectors a model can compute with.", "02"),
    Term("bag-of-words", "词袋模型", "2.2",
         "A text as word counts, ignoring order.", "02"),
    Term("tokenization", "分词", "3.1",
         "Cutting text into the units (words, subwords, characters) a model sees.", "03"),
    Term("data annotation", "数据标注", "3.1",
         "Attaching labels (sentiment, named entities, ...) to raw text.", "03"),
    Term("attention", "注意力机制", "4.1",
         "Each position takes a weighted mix of all positions: softmax(QKᵀ/√d_k)V.", "04"),
    Term("query / key / value vectors", "查询向量 / 键向量 / 值向量", "4.1",
         "Attention compares queries with keys to decide how much of each value to take.", "04"),
    Term("long-range dependency", "长距离依赖", "2.3",
         "A word whose meaning hinges on another far away in the text.", "05"),
    Term("recurrent neural network (RNN)", "循环神经网络", "3.2",
         "A network that reads a sequence one step at a time, carrying a state (LSTM, GRU).", "05"),
    Term("pretrained model", "预训练模型", "3.2",
         "A model whose weights were already trained, used as the starting point.", "06"),
    Term("forward pass", "前向传播", "3.2",
         "Running inputs through the model to get its outputs.", "06"),
    Term("loss function", "损失函数", "4.2",
         "One number saying how far the outputs are from the targets.", "06"),
    Term("cross-entropy", "交叉熵", "4.2",
         "L = −Σ yᵢ log ŷᵢ: the loss for predicting a class (or the next token).", "06"),
    Term("backpropagation", "反向传播", "3.2",
         "Computing the loss's gradient for every weight, from the output back to the input.", "06"),
    Term("gradient", "梯度", "3.2",
         "The direction in which a small change of the weights raises the loss most.", "06"),
    Term("convergence", "收敛", "3.2",
         "When further training no longer lowers the loss meaningfully.", "06"),
    Term("perplexity", "困惑度", "3.3",
         "exp(mean cross-entropy per token): how many choices the model is torn between.", "07"),
    Term("accuracy", "准确率", "3.3",
         "The share of predictions that are right.", "07"),
    Term("F1 score", "F1 值", "3.3",
         "Harmonic mean of precision and recall; the document's 准确率 there means precision.", "07"),
    Term("BLEU score", "BLEU 分数", "3.3",
         "N-gram overlap between a machine translation and reference translations.", "07"),
    Term("machine translation", "机器翻译", "6",
         "Turning text in one language into another.", "10"),
)


def glossary_markdown(terms: tuple[Term, ...] = GLOSSARY) -> str:
    """Renders glossary entries as a Markdown table, in the order given.

    Args:
        terms: the entries to render; the full :data:`GLOSSARY` by default.

    Returns:
        A Markdown table with the columns English, 中文, §, meaning and chapter.

    Example:

    >>> print(glossary_markdown(GLOSSARY[:1]))
    | English | 中文 | § | Meaning | Chapter |
    |---|---|---|---|---|
    | natural language processing (NLP) | 自然语言处理 | 1.1 | Getting machines to understand and produce human language. | 01 |
    """
    lines = ["| English | 中文 | § | Meaning | Chapter |", "|---|---|---|---|---|"]
    for t in terms:
        lines.append(f"| {t.en} | {t.zh} | {t.section} | {t.meaning} | {t.chapter} |")
    return "\n".join(lines)

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(glossary_markdown()))

# %% [markdown]
# ## Next
#
# Open `01_foundations.ipynb`: why human language is hard for machines, and a neural network
# built from the ground up.
