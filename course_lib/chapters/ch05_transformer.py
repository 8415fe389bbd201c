# Generated from notebooks/src/05_transformer.py (notebooks/05_transformer.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""The GPT that chapter 05 writes in the open (notebooks/05_transformer.ipynb).

nanoGPT's ``model.py`` in Keras 3: token and position embeddings, ``num_layers`` pre-norm
blocks of causal self-attention and an MLP, a final LayerNorm and a head tied to the token
embedding. ``course_lib.gpt.GPT`` is the same model with what the rest of the course needs on
top; chapter 05 checks that the two give the same logits from the same weights
(:func:`copy_weights_from`). :class:`RecallTask` is the long-range recall task on which the
chapter compares the Transformer with an LSTM, a GRU and a CNN.

Example:

>>> model = MiniGPT(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16)
>>> tuple(model(np.zeros((2, 5), "int32")).shape)
(2, 5, 11)
"""

import math

import keras
import numpy as np
from keras import ops


class CausalSelfAttention(keras.layers.Layer):
    """Multi-head self-attention in which each position reads only itself and earlier ones.

    Args:
        width: model width C.
        num_heads: heads H; must divide C.
    """

    def __init__(self, width, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.head_dim = num_heads, width // num_heads
        self.qkv = keras.layers.Dense(3 * width, name="qkv")  # Q, K and V of every head at once
        self.proj = keras.layers.Dense(width, name="proj")

    def call(self, x):
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        h, d = self.num_heads, self.head_dim
        q, k, v = ops.split(self.qkv(x), 3, axis=-1)  # 3 × (B, T, C)
        q = ops.transpose(ops.reshape(q, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        k = ops.transpose(ops.reshape(k, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        v = ops.transpose(ops.reshape(v, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(d)  # (B, H, T, T)
        future = ops.triu(ops.ones((t, t)), k=1) > 0  # (T, T): True where the key comes later
        scores = ops.where(future, -1e9, scores)  # (B, H, T, T): the future gets no weight
        weights = ops.softmax(scores, axis=-1)  # (B, H, T, T): each row sums to 1
        y = ops.matmul(weights, v)  # (B, H, T, D)
        y = ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (b, t, h * d))  # (B, T, C): heads side by side
        return self.proj(y)  # (B, T, C)


class Block(keras.layers.Layer):
    """A pre-norm Transformer block: attention, then an MLP, each added to the residual stream.

    Args:
        width: model width C.
        num_heads: attention heads H.
    """

    def __init__(self, width, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.ln_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_1")
        self.attn = CausalSelfAttention(width, num_heads, name="attn")
        self.ln_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_2")
        self.mlp_in = keras.layers.Dense(4 * width, activation="gelu", name="mlp_in")
        self.mlp_out = keras.layers.Dense(width, name="mlp_out")

    def call(self, x):
        x = x + self.attn(self.ln_1(x))  # (B, T, C)
        x = x + self.mlp_out(self.mlp_in(self.ln_2(x)))  # (B, T, 4C) -> (B, T, C)
        return x  # (B, T, C)


class MiniGPT(keras.Model):
    """A decoder-only Transformer language model: token ids (B, T) → next-token logits (B, T, V).

    Args:
        vocab_size: V.
        context_length: the longest input T (the size of the position table).
        num_layers: blocks N.
        num_heads: heads H per block; must divide `width`.
        width: model width C.

    Example:
    ```python
    model = MiniGPT(vocab_size=65, context_length=64, num_layers=4, num_heads=4, width=128)
    logits = model(token_ids)  # (B, T, 65)
    ```
    """

    def __init__(self, vocab_size, context_length, num_layers, num_heads, width, **kwargs):
        super().__init__(**kwargs)
        if width % num_heads:
            raise ValueError(f"width {width} is not divisible by num_heads {num_heads}; "
                             f"choose a multiple of {num_heads}")
        self.token_embedding = keras.layers.Embedding(vocab_size, width, name="wte")
        self.position_embedding = keras.layers.Embedding(context_length, width, name="wpe")
        self.blocks = [Block(width, num_heads, name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_f")

    def call(self, token_ids):
        t = ops.shape(token_ids)[1]
        x = self.token_embedding(token_ids)  # (B, T, C)
        x = x + self.position_embedding(ops.arange(t))  # (B, T, C) + (T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        x = self.final_norm(x)  # (B, T, C)
        table = self.token_embedding.embeddings  # (V, C): the head reuses the embedding
        return ops.matmul(x, ops.transpose(table))  # (B, T, V)


def copy_weights_from(mini, gpt):
    """Copies a built ``course_lib.gpt.GPT``'s weights into a built ``MiniGPT`` of the same size.

    Args:
        mini: the ``MiniGPT`` (call it once first, so its weights exist).
        gpt: the library ``GPT`` (tied embeddings, biases on).

    Example:
    ```python
    mini(token_ids)  # builds the weights
    copy_weights_from(mini, gpt)
    ```
    """
    def value(variable):
        return ops.convert_to_numpy(variable)

    mini.token_embedding.embeddings.assign(value(gpt.embedding.token_embedding.embeddings))
    mini.position_embedding.embeddings.assign(value(gpt.embedding.position_embedding.embeddings))
    for ours, theirs in zip(mini.blocks, gpt.blocks, strict=True):
        attention = theirs.attention
        c = value(attention.query_dense.kernel).shape[0]
        projections = (attention.query_dense, attention.key_dense, attention.value_dense)
        kernel = np.concatenate([value(p.kernel).reshape(c, c) for p in projections], axis=1)
        bias = np.concatenate([value(p.bias).reshape(c) for p in projections])
        ours.attn.qkv.set_weights([kernel, bias])  # (C, 3C), (3C,)
        ours.attn.proj.set_weights([value(attention.output_dense.kernel).reshape(c, c),
                                    value(attention.output_dense.bias)])  # (C, C), (C,)
        ours.ln_1.set_weights(theirs.attention_norm.get_weights())
        ours.ln_2.set_weights(theirs.mlp_norm.get_weights())
        ours.mlp_in.set_weights(theirs.mlp_in.get_weights())
        ours.mlp_out.set_weights(theirs.mlp_out.get_weights())
    mini.final_norm.set_weights(gpt.final_norm.get_weights())


class RecallTask:
    """A long-range recall task: facts first, then filler, then a question about every fact.

    One sequence of ``length = 2 * num_facts - 1 + min_distance`` tokens reads, for example,

        C=5 K=2 A=7 ...   · · · · · · · · · ·   K? A? C? ...
        (num_facts facts)      (filler)        (the same keys asked, in a new order)

    A fact is one token that stands for a (key, value) pair: key ``C`` has value 5 in this
    sequence. The keys of a sequence are distinct and their values random. At each question
    ``K?`` the model must output the fact about K that it read earlier (``K=2``): a copy of a
    token at least ``min_distance`` positions back. A model that knows the key but not the
    facts of this sequence is right with probability ``1 / num_values`` (:attr:`chance`).

    Token ids: fact (k, v) is ``k * num_values + v``, the question about key k is
    ``num_keys * num_values + k``, and the filler is the last id. Labels are the fact ids at
    the question positions and :attr:`IGNORE` (-1) everywhere else, so a loss with
    ``ignore_class=-1`` counts the answers only.

    Args:
        num_facts: facts, and questions, per sequence; at most ``num_keys``.
        num_keys: distinct keys, written A, B, C, ... (at most 26).
        num_values: values per key, written 0, 1, 2, ... (at most 10).
        min_distance: the fewest positions between a fact and the question about it.

    Example:

    >>> task = RecallTask(num_facts=2, num_keys=3, num_values=4, min_distance=5)
    >>> task.length, task.vocab_size, task.chance
    (8, 16, 0.25)
    >>> x, y = task.sample(1, np.random.default_rng(4))
    >>> task.render(x[0])
    'B=3 A=0 ·×4 A? B?'
    >>> task.render(y[0][y[0] != task.IGNORE])
    'A=0 B=3'
    """

    IGNORE = -1

    def __init__(self, num_facts=8, num_keys=16, num_values=8, min_distance=40):
        for name, value, most in (("num_keys", num_keys, 26), ("num_values", num_values, 10),
                                  ("num_facts", num_facts, num_keys),
                                  ("min_distance", min_distance, None)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
            if most is not None and value > most:
                raise ValueError(f"{name} is {value}, more than {most}; lower it"
                                 + (" or raise num_keys" if name == "num_facts" else ""))
        if num_values < 2:
            raise ValueError("num_values must be at least 2, or every answer is known in advance")
        self.num_facts, self.num_keys = int(num_facts), int(num_keys)
        self.num_values, self.min_distance = int(num_values), int(min_distance)
        self.first_question_id = self.num_keys * self.num_values
        self.filler_id = self.first_question_id + self.num_keys

    @property
    def length(self):
        """Tokens per sequence: the facts, the filler and the questions."""
        return 2 * self.num_facts - 1 + self.min_distance

    @property
    def vocab_size(self):
        """Fact tokens, question tokens and the filler token."""
        return self.filler_id + 1

    @property
    def chance(self):
        """Accuracy of a guess that knows the key but not the value: 1 / num_values."""
        return 1 / self.num_values

    def sample(self, batch_size, rng):
        """A batch of sequences and their labels.

        Args:
            batch_size: sequences B.
            rng: a ``np.random.Generator``; the same seed gives the same batch.

        Returns:
            ``(x, y)``, int32 arrays ``(B, length)``: token ids, and the fact each question
            asks for (``IGNORE`` where there is no question).
        """
        b, n, t = int(batch_size), self.num_facts, self.length
        keys = np.argsort(rng.random((b, self.num_keys)), axis=1)[:, :n]  # (B, n) distinct
        facts = keys * self.num_values + rng.integers(0, self.num_values, (b, n))  # (B, n)
        order = np.argsort(rng.random((b, n)), axis=1)  # (B, n): a new order for the questions
        asked = np.take_along_axis(facts, order, axis=1)  # (B, n): the fact each question wants
        x = np.full((b, t), self.filler_id, "int32")  # (B, T)
        x[:, :n] = facts
        x[:, t - n:] = self.first_question_id + asked // self.num_values  # the keys, as questions
        y = np.full((b, t), self.IGNORE, "int32")  # (B, T)
        y[:, t - n:] = asked
        return x, y

    def render(self, ids):
        """Token ids as text: ``C=5`` a fact, ``C?`` a question, ``·×40`` a run of filler."""
        words, run = [], 0
        for i in [int(i) for i in ids] + [None]:
            if i == self.filler_id:
                run += 1
                continue
            if run:
                words.append(f"·×{run}")
                run = 0
            if i is None:
                break
            if i < self.first_question_id:
                words.append(f"{chr(65 + i // self.num_values)}={i % self.num_values}")
            else:
                words.append(f"{chr(65 + i - self.first_question_id)}?")
        return " ".join(words)
