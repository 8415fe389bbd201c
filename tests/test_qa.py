"""course_lib.chapters.ch11_question_answering: the official SQuAD metric on hand-worked cases,
byte-level BPE tokens mapped to character offsets (non-ASCII text included), stride windows
with the question first, span decoding against brute force, the GPT span head against a
hand-computed reference and a tiny overfit, the lexical baseline."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from course_lib.chapters import ch11_question_answering as qa
from course_lib.gpt import GPT, GPTConfig
from course_lib.pretraining import END_OF_TEXT, token_byte_lengths
from course_lib.tokenizers import BPETokenizer

# --------------------------------------------------------------------------------- the metric


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Cat, the hat.", "cat hat"),
        ("  Denver   Broncos ", "denver broncos"),
        ("U.S.", "us"),  # punctuation is deleted, not replaced by a space
        ("theater", "theater"),  # articles only as whole words
        ("the,", ""),  # the comma goes first, then the article
        ("1990–91", "1990–91"),  # the en dash is not ASCII punctuation: kept, as officially
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert qa.normalize_answer(text) == expected


def test_exact_match_and_f1_hand_worked():
    assert qa.exact_match_score("an apple", "Apple!") == 1.0
    assert qa.exact_match_score("U.S.", "US") == 1.0  # punctuation-only difference
    assert qa.exact_match_score("apples", "apple") == 0.0
    # pred {denver, broncos, team} vs gold {denver, broncos}: P = 2/3, R = 1, F1 = 0.8.
    assert qa.f1_score("the Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)
    # Common tokens are a bag: "new york" is matched once: P = 2/4, R = 2/2, F1 = 2/3.
    assert qa.f1_score("New York New York", "new york") == pytest.approx(2 / 3)
    assert qa.f1_score("Paris", "London") == 0.0
    # Empty strings: an empty prediction scores 0; two answers that normalise to nothing are
    # an exact match but F1 0, the official script's quirk, kept on purpose.
    assert qa.f1_score("", "Paris") == 0.0 and qa.exact_match_score("", "Paris") == 0.0
    assert qa.exact_match_score("The", "a") == 1.0 and qa.f1_score("The", "a") == 0.0


def test_max_over_several_gold_answers():
    golds = ["Denver Broncos", "the Broncos", "Broncos team"]
    assert qa.metric_max_over_ground_truths(qa.exact_match_score, "broncos", golds) == 1.0
    # F1 against each: 2/3, 1, 2/3 for "Broncos"; for "Denver team": 0.5, 0, 0.5.
    assert qa.metric_max_over_ground_truths(qa.f1_score, "Denver team", golds) == pytest.approx(
        0.5
    )
    with pytest.raises(ValueError, match="at least one answer"):
        qa.metric_max_over_ground_truths(qa.f1_score, "x", [])


def test_squad_evaluate_averages_in_percent_and_missing_counts_zero():
    examples = [
        {"id": "a", "answers": ["Denver Broncos", "Broncos"]},
        {"id": "b", "answers": ["1994"]},
        {"id": "c", "answers": ["blue"]},
    ]
    scores = qa.squad_evaluate(examples, {"a": "the Broncos", "b": "in 1994"})  # "c" missing
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * (1.0 + 2 / 3) / 3)
    per_question = qa.question_scores(examples, {"a": "the Broncos", "b": "in 1994"})
    assert per_question["exact_match"].tolist() == [100.0, 0.0, 0.0]
    assert per_question["f1"] == pytest.approx([100.0, 200 / 3, 0.0])


def test_split_by_article_is_disjoint_and_seeded():
    examples = [{"title": t, "id": str(i)} for i, t in enumerate("aabbbccddeeff")]
    train, test, titles = qa.split_by_article(examples, 0.3, seed=3)
    assert {e["title"] for e in train}.isdisjoint({e["title"] for e in test})
    assert len(train) + len(test) == len(examples) and len(titles) == 2
    assert qa.split_by_article(examples, 0.3, seed=3)[2] == titles
    assert any(qa.split_by_article(examples, 0.3, seed=s)[2] != titles for s in range(4, 10))


# ----------------------------------------------------------------------- tokens and offsets

TEXTS = [
    "The Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France.",
    "They were descended from Norse raiders and pirates from Denmark, Iceland and Norway.",
    "Who gave their name to Normandy?",
    "The Normans' identity emerged initially in the first half of the 10th century.",
]
# Accents, a dash, CJK and an emoji: 2, 3 and 4 UTF-8 bytes per character.
NON_ASCII = "Frédéric Chopin — born in Żelazowa Wola (東京 ≠ Kyoto) 😀, café au lait."


@pytest.fixture(scope="module")
def tokenizer():
    return BPETokenizer.from_text(TEXTS * 3 + [NON_ASCII] * 2, vocab_size=330,
                                  special_tokens=[END_OF_TEXT])


@pytest.fixture(scope="module")
def byte_lengths(tokenizer):
    return token_byte_lengths(tokenizer)


def token_bytes(tokenizer, token_id):
    return tokenizer.decode([token_id], errors="surrogateescape").encode("utf-8", "surrogateescape")


def test_offsets_read_back_the_tokens_in_non_ascii_text(tokenizer, byte_lengths):
    partial = 0
    for text in TEXTS + [NON_ASCII, "é", "😀😀", "a  b\n\nc", " — —"]:
        ids, offsets = qa.encode_with_offsets(text, tokenizer, byte_lengths)
        assert ids.tolist() == tokenizer.encode(text).tolist()
        assert offsets.shape == (len(ids), 2) and offsets.dtype == np.int32
        assert offsets[0, 0] == 0 and offsets[-1, 1] == len(text)  # characters, not bytes
        assert (offsets[:, 0] < offsets[:, 1]).all()
        # Consecutive tokens meet, or share the one character the BPE split between them.
        assert np.isin(offsets[:-1, 1] - offsets[1:, 0], [0, 1]).all()
        # Reference, independent of the function: each character's first byte, from encoding
        # the characters one by one, and each token's bytes, from decoding it alone.
        char_start = np.cumsum([0] + [len(ch.encode("utf-8")) for ch in text])  # (chars + 1,)
        pieces = [token_bytes(tokenizer, t) for t in ids.tolist()]
        byte_end = np.cumsum([len(b) for b in pieces])
        assert b"".join(pieces) == text.encode("utf-8")
        for (a, b), piece, e in zip(offsets.tolist(), pieces, byte_end.tolist(), strict=True):
            first, last = e - len(piece), e - 1  # the token's first and last byte
            assert char_start[a] <= first < char_start[a + 1]  # a: the first byte's character
            assert char_start[b - 1] <= last < char_start[b]  # b - 1: the last byte's character
            try:
                assert text[a:b] == piece.decode("utf-8")  # whole characters read back exactly
            except UnicodeDecodeError:
                partial += 1
    assert partial > 0  # the test really meets tokens that split a character


def test_offsets_are_characters_not_bytes(tokenizer, byte_lengths):
    text = "é1 😀x"
    ids, offsets = qa.encode_with_offsets(text, tokenizer, byte_lengths)
    byte_end = np.cumsum(byte_lengths[ids])
    assert byte_end[-1] == len(text.encode("utf-8")) == 9 and offsets[-1, 1] == len(text) == 5
    # Control: the byte spans, read as character spans, would cut the wrong text.
    assert text[byte_end[-2] : byte_end[-1]] != text[offsets[-1, 0] : offsets[-1, 1]]
    assert text[offsets[-1, 0] : offsets[-1, 1]] == "x"
    # Pure ASCII: one byte per character, so both spans agree.
    ids, offsets = qa.encode_with_offsets(TEXTS[0], tokenizer, byte_lengths)
    assert offsets[:, 1].tolist() == np.cumsum(byte_lengths[ids]).tolist()


def test_offsets_refuse_special_tokens_and_handle_empty_text(tokenizer, byte_lengths):
    with pytest.raises(ValueError, match="special token"):
        qa.encode_with_offsets("a" + END_OF_TEXT + "b", tokenizer, byte_lengths)
    ids, offsets = qa.encode_with_offsets("", tokenizer, byte_lengths)
    assert ids.shape == (0,) and offsets.shape == (0, 2)


def test_answer_token_span():
    offsets = np.array([[0, 3], [3, 9], [9, 12], [12, 13]])  # BPE tokens carry their space
    assert qa.answer_token_span(offsets, 4, 12) == (1, 2)
    assert qa.answer_token_span(offsets, 5, 6) == (1, 1)  # inside one token
    assert qa.answer_token_span(offsets, 20, 25) is None


def _examples():
    context = " ".join(TEXTS[:2] + TEXTS[3:]) + " " + NON_ASCII
    answers = [("Normandy", "Who gave their name to Normandy?"), ("Denmark, Iceland and Norway",
               "Where did the raiders come from?"), ("10th century", "When did it emerge?"),
               ("Żelazowa Wola", "Where was Chopin born?")]
    out = []
    for k, (answer, question) in enumerate(answers):
        start = context.rindex(answer) if k != 0 else context.index(answer)
        out.append({"id": f"q{k}", "context": context, "question": question,
                    "answers": [answer], "answer_starts": [start]})
    return out


def test_stride_windows_cover_every_context_token_and_keep_labels(tokenizer, byte_lengths):
    examples = _examples()
    n_context = len(tokenizer.encode(examples[0]["context"]))
    f = qa.build_features(examples, tokenizer, byte_lengths, max_length=48,
                          max_question_tokens=12, stride=9)
    assert f["token_ids"].shape[1] == 48 and f["offsets"].shape[1:] == (48, 2)
    eot, newline = tokenizer.token_to_id(END_OF_TEXT), tokenizer.encode("\n")[0]
    for index, ex in enumerate(examples):
        rows = np.nonzero(f["example_index"] == index)[0]
        assert len(rows) > 2  # a long context: several windows
        # Each window holds a contiguous run of the context's tokens; together they hold all.
        _, c_offsets = qa.encode_with_offsets(ex["context"], tokenizer, byte_lengths)
        covered = set()
        for r in rows:
            ctx = f["offsets"][r][f["offsets"][r, :, 0] >= 0]  # (n_ctx, 2)
            at = [k for k in range(n_context - len(ctx) + 1)
                  if (c_offsets[k : k + len(ctx)] == ctx).all()]
            assert at
            covered.update(range(at[0], at[0] + len(ctx)))
        assert covered == set(range(n_context))
        q_ids = tokenizer.encode(ex["question"])[:12]
        for r in rows:
            row, null = f["token_ids"][r], int(f["null_position"][r])
            # <|endoftext|> question \n context <|endoftext|>, padded with <|endoftext|>
            assert row[0] == eot and row[1 : 1 + len(q_ids)].tolist() == q_ids.tolist()
            assert row[1 + len(q_ids)] == newline and (row[null:] == eot).all()
            context_positions = np.nonzero(f["offsets"][r, :, 0] >= 0)[0]
            assert context_positions[0] == len(q_ids) + 2 and context_positions[-1] == null - 1
            allowed = np.nonzero(f["span_mask"][r])[0].tolist()
            assert allowed == context_positions.tolist() + [null]
        # Labels: windows holding the whole answer point at it; the others at the null position.
        labelled = [r for r in rows if f["start_positions"][r] != f["null_position"][r]]
        assert labelled
        for r in labelled:
            a = f["offsets"][r, f["start_positions"][r], 0]
            b = f["offsets"][r, f["end_positions"][r], 1]
            assert ex["context"][a:b].strip() == ex["answers"][0]
        for r in set(rows) - set(labelled):
            assert f["end_positions"][r] == f["null_position"][r]
    with pytest.raises(ValueError, match="stride"):
        qa.build_features(examples, tokenizer, byte_lengths, 48, 12, stride=40)
    with pytest.raises(ValueError, match="max_length"):
        qa.build_features(examples, tokenizer, byte_lengths, 20, 12, stride=2)


# ---------------------------------------------------------------------------- span decoding


def brute_force(start, end, allowed, cap):
    best = None
    for i, j in itertools.product(range(len(start)), repeat=2):
        if allowed[i] and allowed[j] and i <= j < i + cap:
            s = start[i] + end[j]
            if best is None or s > best[2]:
                best = (i, j, s)
    return best


def test_best_span_matches_brute_force_and_respects_order_and_cap():
    rng = np.random.default_rng(0)
    for _ in range(30):
        t = 12
        start, end = rng.normal(size=t), rng.normal(size=t)
        allowed = rng.random(t) < 0.7
        cap = int(rng.integers(1, 6))
        got, want = qa.best_span(start, end, allowed, cap), brute_force(start, end, allowed, cap)
        assert got[:2] == want[:2] and got[2] == pytest.approx(want[2])
    # The best unconstrained pair has end < start: it must not be taken.
    start = np.array([0.0, 0.0, 0.0, 9.0])
    end = np.array([0.0, 9.0, 0.0, 1.0])
    assert qa.best_span(start, end, np.ones(4, bool), 4)[:2] == (3, 3)
    # The best pair (0, 9) is 10 tokens long: with a cap of 5 a shorter span wins.
    start, end = np.zeros(10), np.zeros(10)
    start[0], end[9], end[2] = 5.0, 5.0, 1.0
    assert qa.best_span(start, end, np.ones(10, bool), 10)[:2] == (0, 9)
    assert qa.best_span(start, end, np.ones(10, bool), 5)[:2] == (0, 2)
    assert qa.best_span(start, end, np.zeros(10, bool), 5) is None


def test_decode_predictions_takes_the_best_window():
    context = "alpha beta gamma delta"
    examples = [{"id": "q", "context": context}]
    offsets = np.full((2, 4, 2), -1)
    offsets[0, 1:3] = [[0, 5], [5, 10]]  # window 1: "alpha", " beta"
    offsets[1, 1:3] = [[10, 16], [16, 22]]  # window 2: " gamma", " delta"
    features = {"offsets": offsets, "example_index": np.array([0, 0]),
                "null_position": np.array([3, 3])}
    start = np.array([[9.0, 1.0, 0.0, 9.0], [0.0, 0.0, 2.0, 0.0]])  # 9s are outside the context
    end = np.array([[9.0, 0.0, 1.0, 9.0], [0.0, 0.0, 2.0, 0.0]])
    raw = dict(subtract_null=False)
    assert qa.decode_predictions(examples, features, start, end, **raw) == {"q": "delta"}  # 4 > 2
    start[0, 1] = 5.0  # now "alpha beta" scores 6 > 4
    assert qa.decode_predictions(examples, features, start, end, **raw) == {"q": "alpha beta"}
    # One token at most: "alpha" alone scores 5 + 0 and beats "delta" (2 + 2).
    assert qa.decode_predictions(examples, features, start, end, 1, **raw) == {"q": "alpha"}
    # Null score: window 1's closing position scores 9 + 9, so its best span nets 6 - 18 < 4 - 0.
    assert qa.decode_predictions(examples, features, start, end) == {"q": "delta"}


# --------------------------------------------------------------------------------- the model


def tiny_gpt(vocab_size, context_length=48):
    keras.utils.set_random_seed(1)
    return GPT(GPTConfig(vocab_size, context_length, num_layers=1, num_heads=2, width=32))


def _inputs(f):
    return {k: f[k] for k in ("token_ids", "span_mask")}


def test_model_matches_a_hand_computed_head_and_is_causal(tokenizer, byte_lengths):
    f = qa.build_features(_examples(), tokenizer, byte_lengths, 48, 12, 9)
    backbone = tiny_gpt(tokenizer.vocab_size)
    model = qa.SpanQAModel(backbone)
    out = model(_inputs(f))
    n = len(f["token_ids"])
    assert out["start_logits"].shape == (n, 48) and out["end_logits"].shape == (n, 48)
    masked = np.asarray(out["start_logits"])[~f["span_mask"]]
    assert masked.max() < -1e8
    assert np.asarray(out["end_logits"])[f["span_mask"]].min() > -1e3
    # Reference: the Dense head applied by hand to the GPT's hidden states.
    h = ops.convert_to_numpy(backbone.hidden_states(f["token_ids"]))  # (N, T, C)
    kernel, bias = model.span_head.get_weights()
    raw = model({"token_ids": f["token_ids"]})  # no mask: raw scores
    np.testing.assert_allclose(np.asarray(raw["start_logits"]), h @ kernel[:, 0] + bias[0],
                               atol=1e-5)
    np.testing.assert_allclose(np.asarray(raw["end_logits"]), h @ kernel[:, 1] + bias[1],
                               atol=1e-5)
    # Causal: rewriting the second half of a window leaves the first half's scores alone, and
    # does change the second half's (the control).
    changed = f["token_ids"].copy()
    changed[:, 24:] = (changed[:, 24:] + 1) % tokenizer.vocab_size
    moved = np.asarray(model({"token_ids": changed})["start_logits"])
    np.testing.assert_allclose(moved[:, :24], np.asarray(raw["start_logits"])[:, :24], atol=1e-5)
    assert np.abs(moved[:, 24:] - np.asarray(raw["start_logits"])[:, 24:]).max() > 1e-4
    with pytest.raises(TypeError, match="hidden_states"):
        qa.SpanQAModel(keras.layers.Dense(2))


def test_tiny_overfit_learns_the_spans(tokenizer, byte_lengths):
    examples = _examples()
    f = qa.build_features(examples, tokenizer, byte_lengths, 48, 12, 9)
    # Every window: those holding an answer point at it, the others at their null position,
    # which the decoder needs to rank the windows of a question.
    x = _inputs(f)
    y = {"start_logits": f["start_positions"], "end_logits": f["end_positions"]}
    model = qa.SpanQAModel(tiny_gpt(tokenizer.vocab_size))

    def exact_match():
        out = model.predict(_inputs(f), verbose=0)
        preds = qa.decode_predictions(examples, f, out["start_logits"], out["end_logits"], 12)
        return qa.squad_evaluate(examples, preds)["exact_match"]

    before = exact_match()
    model.compile(keras.optimizers.Adam(3e-3),
                  loss={"start_logits": qa.span_loss(), "end_logits": qa.span_loss()})
    history = model.fit(x, y, batch_size=16, epochs=60, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert before < 100.0  # control: the untrained model does not already answer
    assert exact_match() == 100.0


# ------------------------------------------------------------------------------ the baseline


def test_sliding_window_baseline_hand_worked():
    idf = qa.SlidingWindowBaseline.fit_idf(TEXTS)
    base = qa.SlidingWindowBaseline(idf, window=4, max_answer_words=3)
    context = "Rollo was born in Norway. In 911 the treaty was signed by the duke."
    # "treaty" and "signed" are both within 4 words of "911"; "duke" has only "signed".
    assert base.predict("When was the treaty signed?", context) == "911"
    # "Rollo" and "born" point at the first sentence; "Norway" is the candidate next to them.
    assert base.predict("Where was Rollo born?", context) == "Norway"
    with pytest.raises(ValueError, match="window"):
        qa.SlidingWindowBaseline(idf, window=0)
