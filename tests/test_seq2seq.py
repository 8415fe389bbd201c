"""course_lib.chapters.ch10_translation_and_summarization: the pair pipeline, the written-out
forward pass, greedy and beam decoding, summarization baselines."""

import itertools

import keras
import numpy as np
import pytest

from course_lib.chapters import ch10_translation_and_summarization as s2s
from course_lib.encoder import Seq2SeqConfig, Seq2SeqTransformer
from course_lib.tokenizers import BPETokenizer

PAD, START, END = 0, 1, 2
V, L = 5, 4  # ids 3 and 4 are "words"; a buffer of 4 = [START] + 3 generated tokens


@pytest.fixture(scope="module")
def toy():
    """A tiny random model whose next-token distributions are far from uniform."""
    keras.utils.set_random_seed(0)
    model = Seq2SeqTransformer(
        Seq2SeqConfig(7, V, 5, L, num_encoder_layers=1, num_decoder_layers=1, num_heads=2,
                      width=8, pad_id=PAD)
    )
    rng = np.random.default_rng(0)
    for v in model.weights:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0, 0.9, v.shape).astype("float32"))
    return model


SOURCES = np.array([[3, 4, 5, 0, 0], [6, 5, 0, 0, 0], [4, 4, 3, 6, 0], [5, 0, 0, 0, 0],
                    [6, 6, 6, 4, 3]], dtype=np.int32)


def exhaustive_best(model, source, alpha):
    """Scores every output of the toy model by brute force: one ending with END, or filling
    the buffer. One batch holds all V^3 full sequences; the decoder is causal, so a prefix's
    log-probability is the running sum of its tokens' log-probabilities."""
    full = np.array(list(itertools.product(range(V), repeat=L - 1)), np.int32)  # (125, 3)
    decoder_in = np.concatenate([np.full((len(full), 1), START, np.int32), full[:, :-1]], 1)
    logits = np.asarray(model({"encoder_token_ids": np.repeat(source[None], len(full), 0),
                               "decoder_token_ids": decoder_in}), np.float64)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    running = np.cumsum(np.take_along_axis(logp, full[..., None], -1)[..., 0], axis=1)
    scores = {}
    for seq, lp in zip(full.tolist(), running, strict=True):
        for n in range(1, L):
            if seq[n - 1] == END or n == L - 1:
                scores[tuple(seq[:n])] = lp[n - 1] / n**alpha
                break
    best = max(scores, key=scores.get)
    return list(best), scores[best]


def test_pair_dataset_shift_and_padding():
    sources = [[5, 6, 7], [8]]
    targets = [[START, 9, 10, END], [START, 11, END]]
    ds = s2s.pair_dataset(sources, targets, 4, 5, batch_size=2, pad_id=PAD, shuffle=False)
    inputs, labels = next(iter(ds))
    enc, dec, labels = (np.asarray(x) for x in (inputs["encoder_token_ids"],
                                                inputs["decoder_token_ids"], labels))
    assert enc.tolist() == [[5, 6, 7, 0], [8, 0, 0, 0]]
    assert dec.tolist() == [[START, 9, 10, END, 0], [START, 11, END, 0, 0]]
    assert labels.tolist() == [[9, 10, END, 0, 0], [11, END, 0, 0, 0]]
    assert (dec[:, 1:] == labels[:, :-1]).all()  # shift by one
    # Padding masks: the loss sees exactly the real label tokens.
    assert (labels != PAD).sum(axis=1).tolist() == [3, 2]
    with pytest.raises(ValueError, match="target_max_length"):
        s2s.pair_dataset(sources, [[1] * 7, [1]], 4, 5, batch_size=2, pad_id=PAD)


def test_padded_loss_ignores_padding(toy):
    """The compiled loss equals the mean cross-entropy over real label tokens only."""
    s2s.compile_seq2seq(toy, s2s.TrainConfig(max_steps=2, warmup_steps=1, jit_compile=False))
    src = SOURCES[:2]
    dec = np.array([[START, 3, 4, END], [START, 4, END, PAD]], np.int32)
    lab = np.array([[3, 4, END, PAD], [4, END, PAD, PAD]], np.int32)
    loss = toy.evaluate({"encoder_token_ids": src, "decoder_token_ids": dec}, lab, verbose=0)
    logits = np.asarray(toy({"encoder_token_ids": src, "decoder_token_ids": dec}), np.float64)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, lab[..., None], -1)[..., 0]
    assert loss == pytest.approx(nll[lab != PAD].mean(), rel=1e-5)
    assert abs(loss - nll.mean()) > 1e-3  # control: averaging over padding too differs


def test_encode_pairs_and_split():
    tok = BPETokenizer.from_text(["hola amigo", "hello friend"] * 5, 270,
                                 special_tokens=list(s2s.SPECIAL_TOKENS))
    ids = s2s.special_ids(tok)
    src, tgt, kept = s2s.encode_pairs(tok, [("hello", "hola"), ("hello friend " * 9, "x")], 6, 6)
    assert kept == [0] and tgt[0][0] == ids.start and tgt[0][-1] == ids.end
    assert tok.decode(tgt[0][1:-1]) == "hola"
    _, tgt2, kept2 = s2s.encode_pairs(tok, [("a", "hola amigo " * 9)], 6, 6, drop_long=False)
    assert kept2 == [0] and len(tgt2[0]) == 7 and tgt2[0][-1] != ids.end
    pairs = [("Hi.", "Hola."), ("Go.", "Ve."), ("Hi.", "¡Hola!"), ("Run.", "Corre."), ("Go.", "Vete.")]
    train, sources, refs = s2s.split_pairs_by_source(pairs, 0.34, seed=1)
    assert not {s for s, _ in train} & set(sources)
    assert sum(len(r) for r in refs) + len(train) == len(pairs)
    for s, r in zip(sources, refs, strict=True):
        assert r == [t for x, t in pairs if x == s]


@pytest.mark.parametrize("tie_embeddings", [True, False])
def test_written_out_forward_equals_model_call(tie_embeddings):
    keras.utils.set_random_seed(1)
    model = Seq2SeqTransformer(Seq2SeqConfig(11, 13, 6, 5, num_encoder_layers=2,
                                             num_decoder_layers=2, num_heads=2, width=16,
                                             dropout=0.1, tie_embeddings=tie_embeddings))
    rng = np.random.default_rng(0)
    src = rng.integers(3, 11, size=(3, 6)).astype(np.int32)
    src[:, 4:] = PAD
    tgt = rng.integers(3, 13, size=(3, 5)).astype(np.int32)
    tgt[0, 3:] = PAD
    ours = np.asarray(s2s.encoder_decoder_forward(model, src, tgt))
    theirs = np.asarray(model({"encoder_token_ids": src, "decoder_token_ids": tgt}, training=False))
    assert ours.shape == (3, 5, 13)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # Control: without the causal mask, earlier positions would see later target tokens.
    changed = tgt.copy()
    changed[:, -1] = 4
    again = np.asarray(s2s.encoder_decoder_forward(model, src, changed))
    np.testing.assert_allclose(again[:, :-1], ours[:, :-1], atol=1e-5)
    assert not np.allclose(again[:, -1], ours[:, -1])


def test_greedy_batched_matches_a_greedy_loop_by_hand(toy):
    # Reference: argmax of the full model call on the growing prefix, no cache, no batching.
    ref = []
    for source in SOURCES:
        prefix = [START]
        while len(prefix) < L and prefix[-1] != END:
            logits = np.asarray(toy({"encoder_token_ids": source[None],
                                     "decoder_token_ids": np.array([prefix], np.int32)}))
            prefix.append(int(logits[0, -1].argmax()))
        ref.append(prefix[1:] + [PAD] * (L - len(prefix)))
    out = s2s.greedy_decode_batched(toy, SOURCES, START, END, batch_size=2)  # 3 chunks, padded
    assert out.shape == (len(SOURCES), L - 1)
    assert out.tolist() == ref
    assert any(END in row for row in ref) and any(END not in row for row in ref)  # both cases


def test_beam_width_one_is_greedy(toy):
    greedy = s2s.greedy_decode_batched(toy, SOURCES, START, END)
    for alpha in (0.0, 1.0):
        beam = s2s.beam_search_batched(toy, SOURCES, START, END, beam_width=1, length_penalty=alpha,
                               batch_size=2)
        assert beam.tolist() == greedy.tolist()


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_equals_exhaustive_search(toy, alpha):
    wide = V ** (L - 1)  # every sequence fits in the beam: beam search becomes exhaustive
    _, hyps = s2s.beam_search_batched(toy, SOURCES, START, END, beam_width=wide, length_penalty=alpha,
                              return_all=True)
    greedy = s2s.greedy_decode_batched(toy, SOURCES, START, END)
    differs = 0
    for i, source in enumerate(SOURCES):
        seq, score = exhaustive_best(toy, source, alpha)
        assert hyps[i][0][0] == seq and hyps[i][0][2] == pytest.approx(score, abs=1e-6)
        g = [t for t in greedy[i].tolist() if t != PAD]
        differs += g != seq
    assert differs > 0  # control: greedy misses the best sequence for some source


def test_beam_never_worse_than_greedy(toy):
    greedy = s2s.greedy_decode_batched(toy, SOURCES, START, END)
    beam = s2s.beam_search_batched(toy, SOURCES, START, END, beam_width=3, length_penalty=0.0)
    lp_g = s2s.sequence_log_prob(toy, SOURCES, greedy, START)
    lp_b = s2s.sequence_log_prob(toy, SOURCES, beam, START)
    assert (lp_b >= lp_g - 1e-9).all() and (lp_b > lp_g + 1e-6).any()


def test_sequence_log_prob_by_hand(toy):
    target = np.array([[3, END, PAD]], np.int32)
    logits = np.asarray(toy({"encoder_token_ids": SOURCES[:1],
                             "decoder_token_ids": np.array([[START, 3, END]])}), np.float64)[0]
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert s2s.sequence_log_prob(toy, SOURCES[:1], target, START)[0] == pytest.approx(
        logp[0, 3] + logp[1, END])


def test_beam_search_validates():
    model = Seq2SeqTransformer(Seq2SeqConfig(7, V, 5, L, 1, 1, num_heads=2, width=8))
    with pytest.raises(ValueError, match="beam_width"):
        s2s.beam_search_batched(model, SOURCES, START, END, beam_width=0)
    with pytest.raises(ValueError, match="max_length"):
        s2s.beam_search_batched(model, SOURCES, START, END, max_length=L + 1)


def test_split_sentences_and_turns():
    assert s2s.split_sentences("Hi there. How are you? Fine, e.g. ok.  #Person1# left!") == [
        "Hi there.", "How are you?", "Fine, e.g. ok.", "#Person1# left!"]
    assert s2s.dialogue_turns("#Person1#: Hi.\n\n#Person2#: Hello.\n") == [
        "#Person1#: Hi.", "#Person2#: Hello."]


UNITS = ["The cat sat on the mat.", "Stocks fell sharply today.", "A cat and a dog sat on a mat.",
         "The dog sat on the cat's mat."]


def test_lead_and_centrality_summaries():
    assert s2s.lead_summary(UNITS, 2) == "The cat sat on the mat. Stocks fell sharply today."
    assert s2s.lead_summary(UNITS[:1], 3) == UNITS[0]
    # The off-topic unit has no word in common with the others: least central by both methods.
    for method in ("degree", "pagerank"):
        scores = s2s.centrality_scores(UNITS, method=method)
        assert int(np.argmin(scores)) == 1
    # Two most central, in document order (not in score order).
    top_two = np.argsort(-s2s.centrality_scores(UNITS))[:2]
    assert sorted(top_two.tolist()) != top_two.tolist()  # control: score order is not text order
    assert s2s.centrality_summary(UNITS, k=2) == " ".join(UNITS[i] for i in sorted(top_two))
    with pytest.raises(ValueError, match="k must be"):
        s2s.lead_summary(UNITS, 0)


def test_centrality_matches_sklearn_and_closed_form_pagerank():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    sim = cosine_similarity(TfidfVectorizer().fit_transform(UNITS))
    np.fill_diagonal(sim, 0.0)
    assert np.allclose(s2s.centrality_scores(UNITS), sim.sum(1))
    # PageRank's fixed point solves r = (1 - d)/n + d Pᵀ r exactly.
    n, d = len(UNITS), 0.85
    rows = sim.sum(1, keepdims=True)  # the off-topic unit links to nothing: it jumps anywhere
    transition = np.where(rows > 0, sim / np.where(rows > 0, rows, 1), 1 / n)
    exact = np.linalg.solve(np.eye(n) - d * transition.T, np.full(n, (1 - d) / n))
    ours = s2s.centrality_scores(UNITS, method="pagerank", iterations=200)
    assert np.allclose(ours, exact, atol=1e-9)
    assert not np.allclose(ours / ours.sum(), sim.sum(1) / sim.sum(), atol=1e-3)  # control
    assert s2s.centrality_scores(["!!", "??"]).tolist() == [0.0, 0.0]
