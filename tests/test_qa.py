"""course_lib.chapters.ch11_question_answering: the official SQuAD metric on hand-worked cases, WordPiece with offsets against
keras-hub, stride windows, span decoding against brute force, the span model and a tiny
overfit, the lexical baseline."""

import itertools

import keras
import keras_hub
import numpy as np
import pytest

from course_lib.chapters import ch11_question_answering as qa
from course_lib.encoder import EncoderConfig

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


@pytest.fixture(scope="module")
def tokenizer():
    return qa.QATokenizer.train(TEXTS * 3, vocab_size=120)


def test_wordpiece_matches_keras_hub(tokenizer):
    reference = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=tokenizer.vocabulary, lowercase=True, strip_accents=True
    )
    for text in TEXTS + ["Zebras grazed in Normandië's unseen fields!"]:
        mine = tokenizer.encode(text).tolist()
        assert mine == np.asarray(reference.tokenize(text)).tolist()
    # Control: a different vocabulary splits differently, so the comparison can fail.
    other = qa.QATokenizer(tokenizer.vocabulary[:4] + sorted(tokenizer.vocabulary[4:])[::2])
    assert any(other.encode(t).tolist() != tokenizer.encode(t).tolist() for t in TEXTS)


def test_offsets_round_trip(tokenizer):
    text = "Normandy's pirates, in the 10th century."
    ids, offsets = tokenizer.encode_with_offsets(text)
    pieces = [text[a:b].lower() for a, b in offsets]
    assert pieces == [tokenizer.vocabulary[i].removeprefix("##") for i in ids]
    assert "".join(pieces) == "".join(text.lower().split())  # every character, in order
    # A precomposed "é" becomes "e": same length, the offsets still line up.
    assert tokenizer.encode_with_offsets("Café")[1].tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    # Hangul syllables decompose into letters (2 characters → 6): the piece boundaries no
    # longer line up, so each piece covers the whole raw word.
    ids, offsets = tokenizer.encode_with_offsets("x 한국")
    assert offsets.tolist()[0] == [0, 1] and {tuple(o) for o in offsets.tolist()[1:]} == {(2, 4)}


def test_answer_token_span():
    offsets = np.array([[0, 3], [4, 9], [10, 12], [12, 13]])
    assert qa.answer_token_span(offsets, 4, 12) == (1, 2)
    assert qa.answer_token_span(offsets, 5, 6) == (1, 1)  # inside one token
    assert qa.answer_token_span(offsets, 20, 25) is None


def _examples():
    context = " ".join(TEXTS[:2] + TEXTS[3:])
    answers = [("Normandy", "Who gave their name to Normandy?"), ("Denmark, Iceland and Norway",
               "Where did the raiders come from?"), ("10th century", "When did it emerge?")]
    out = []
    for k, (answer, question) in enumerate(answers):
        start = context.rindex(answer) if k != 0 else context.index(answer)
        out.append({"id": f"q{k}", "context": context, "question": question,
                    "answers": [answer], "answer_starts": [start]})
    return out


def test_stride_windows_cover_every_context_token_and_keep_labels(tokenizer):
    examples = _examples()
    n_context = len(tokenizer.encode(examples[0]["context"]))
    f = qa.build_features(examples, tokenizer, max_length=40, max_question_tokens=12, stride=9)
    assert f["token_ids"].shape[1] == 40 and f["offsets"].shape[1:] == (40, 2)
    for index, ex in enumerate(examples):
        rows = np.nonzero(f["example_index"] == index)[0]
        assert len(rows) > 2  # a long context: several windows
        covered = {tuple(o) for r in rows for o in f["offsets"][r] if o[0] >= 0}
        assert len(covered) == n_context
        # Labels: windows holding the whole answer point at it; the others at [CLS].
        labelled = [r for r in rows if f["start_positions"][r] > 0]
        assert labelled
        for r in labelled:
            a = f["offsets"][r, f["start_positions"][r], 0]
            b = f["offsets"][r, f["end_positions"][r], 1]
            assert ex["context"][a:b] == ex["answers"][0]
        for r in set(rows) - set(labelled):
            assert f["end_positions"][r] == 0
    assert f["span_mask"][:, 0].all()  # [CLS] is always a position, answer or not
    row = f["token_ids"][0]
    assert row[0] == tokenizer.cls_id and (row == tokenizer.sep_id).sum() == 2
    # The match segment marks context words that are in the question ("normandy", "name").
    segs, offs = f["segment_ids"][0], f["offsets"][0]
    marked = {examples[0]["context"][a:b].lower() for (a, b), s in zip(offs, segs, strict=True)
              if s == 2}
    assert marked and marked <= {"name", "normandy", "gave"}
    plain = qa.build_features(examples, tokenizer, 40, 12, 9, match_segment=False)
    assert set(np.unique(plain["segment_ids"])) == {0, 1}
    with pytest.raises(ValueError, match="stride"):
        qa.build_features(examples, tokenizer, 40, 12, stride=30)


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
    offsets[0, 1:3] = [[0, 5], [6, 10]]  # window 1: alpha beta
    offsets[1, 1:3] = [[11, 16], [17, 22]]  # window 2: gamma delta
    features = {"offsets": offsets, "example_index": np.array([0, 0])}
    start = np.array([[9.0, 1.0, 0.0, 9.0], [0.0, 0.0, 2.0, 0.0]])  # 9s are outside the context
    end = np.array([[9.0, 0.0, 1.0, 9.0], [0.0, 0.0, 2.0, 0.0]])
    raw = dict(subtract_null=False)
    assert qa.decode_predictions(examples, features, start, end, **raw) == {"q": "delta"}  # 4 > 2
    start[0, 1] = 5.0  # now "alpha beta" scores 6 > 4
    assert qa.decode_predictions(examples, features, start, end, **raw) == {"q": "alpha beta"}
    # One token at most: "alpha" alone scores 5 + 0 and beats "delta" (2 + 2).
    assert qa.decode_predictions(examples, features, start, end, 1, **raw) == {"q": "alpha"}
    # Null score: window 1's [CLS] scores 9 + 9, so its best span nets 6 - 18 < 4 - 0.
    assert qa.decode_predictions(examples, features, start, end) == {"q": "delta"}


# --------------------------------------------------------------------------------- the model


def tiny_model(vocab_size, max_length):
    keras.utils.set_random_seed(1)
    config = EncoderConfig(vocab_size, max_length, num_layers=1, num_heads=2, width=32,
                           num_segments=3)
    return qa.SpanQAModel(config)


def test_model_shapes_and_mask(tokenizer):
    f = qa.build_features(_examples(), tokenizer, 40, 12, 9)
    model = tiny_model(tokenizer.vocab_size, 40)
    out = model({k: f[k] for k in ("token_ids", "segment_ids", "span_mask")})
    n = len(f["token_ids"])
    assert out["start_logits"].shape == (n, 40) and out["end_logits"].shape == (n, 40)
    masked = np.asarray(out["start_logits"])[~f["span_mask"]]
    assert masked.max() < -1e8
    assert np.asarray(out["end_logits"])[f["span_mask"]].min() > -1e3
    with pytest.raises(ValueError, match="num_segments"):
        qa.SpanQAModel(EncoderConfig(10, 8, width=16, num_segments=0))


def test_tiny_overfit_learns_the_spans(tokenizer):
    examples = _examples()
    f = qa.build_features(examples, tokenizer, 40, 12, 9)
    keep = f["start_positions"] > 0  # train on the windows holding the answers
    x = {k: f[k][keep] for k in ("token_ids", "segment_ids", "span_mask")}
    y = {"start_logits": f["start_positions"][keep], "end_logits": f["end_positions"][keep]}
    model = tiny_model(tokenizer.vocab_size, 40)
    inputs = {k: f[k] for k in ("token_ids", "segment_ids", "span_mask")}

    def exact_match():
        out = model.predict(inputs, verbose=0)
        preds = qa.decode_predictions(examples, f, out["start_logits"], out["end_logits"], 8)
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
