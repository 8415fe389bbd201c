# Generated from notebooks/src/00_welcome.py (notebooks/00_welcome.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
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
