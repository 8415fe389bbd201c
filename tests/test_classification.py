"""course_lib.chapters.ch08_text_classification: WordPiece vocabulary, preprocessing, padding masks, the MLM head
and loss against hand computations, fine-tuning (a tiny overfit), save/load, GloVe rows,
evaluation against scikit-learn, and the offline preset guard."""

import json
import shutil
import time

import keras
import keras_hub
import numpy as np
import pytest
import sklearn.metrics
import tensorflow as tf

from course_lib.chapters import ch08_text_classification as cl
from course_lib.encoder import EncoderConfig, TransformerClassifier
from course_lib.model_io import load_model

CORPUS = [
    "a great movie , truly great .",
    "a dull and boring movie .",
    "the acting is wonderful and the story is great",
    "the story is boring , the acting dull",
    "an unwatchable , unbearable mess",
    "a wonderful , moving film",
    "the film is a mess",
    "great acting , great story , great film",
]
T = 12


@pytest.fixture(scope="module")
def vocab():
    return cl.train_wordpiece_vocabulary(CORPUS * 20, 200)


@pytest.fixture(scope="module")
def pre(vocab):
    return cl.SentencePreprocessor(vocab, sequence_length=T)


def small_config(vocab_size, **kw):
    base = dict(vocab_size=vocab_size, max_length=16, num_layers=1, num_heads=2, width=16)
    base.update(kw)
    return EncoderConfig(**base)


def test_vocabulary_matches_keras_hub_trainer(vocab):
    # Every piece occurs >= 20 times, so any threshold in either search keeps all of them:
    # the bounded search must give exactly keras-hub's vocabulary.
    reference = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(CORPUS * 20), 200, reserved_tokens=list(cl.SPECIAL_TOKENS)
    )
    assert vocab == reference
    assert vocab[:5] == list(cl.SPECIAL_TOKENS)
    assert "great" in vocab and any(t.startswith("##") for t in vocab)
    with pytest.raises(ValueError, match="reserved"):
        cl.train_wordpiece_vocabulary(CORPUS, 3)


def test_preprocessor_adds_cls_sep_pad(pre):
    ids = np.asarray(pre(["a great movie", "great " * 30]))
    assert ids.shape == (2, T) and ids.dtype == np.int32
    pieces = pre.tokenize(["a great movie"])[0]
    assert ids[0, 0] == pre.cls_id and ids[0, len(pieces) + 1] == pre.sep_id
    assert (ids[0, len(pieces) + 2:] == pre.pad_id).all()
    assert pre.decode(ids[0]) == "[CLS] a great movie [SEP]"
    assert ids[1, -1] == pre.sep_id and pre.pad_id not in ids[1]  # truncation keeps [SEP]
    assert pre.tokenize(["UNWATCHABLE"])[0] == pre.tokenize(["unwatchable"])[0]  # uncased
    with pytest.raises(ValueError, match="lacks"):
        cl.SentencePreprocessor(["a", "b"], 8)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_padding_does_not_change_the_prediction(vocab, pooling):
    keras.utils.set_random_seed(0)
    model = TransformerClassifier(small_config(len(vocab)), num_classes=2, pooling=pooling)
    short = cl.SentencePreprocessor(vocab, 8)(["a great movie"])
    long = cl.SentencePreprocessor(vocab, 16)(["a great movie"])
    a, b = np.asarray(model(short)), np.asarray(model(long))
    assert a.shape == (1, 2) and np.abs(a - b).max() < 1e-5
    # Control: with the padding visible (an all-True mask) the output does change.
    seen = model({"token_ids": long, "padding_mask": np.ones(long.shape, bool)})
    assert np.abs(np.asarray(seen) - b).max() > 1e-4


def test_mlm_dataset_masks_only_real_tokens(pre):
    x, y, w = next(iter(cl.mlm_dataset(CORPUS * 4, pre, batch_size=32, mask_rate=0.3, seed=1)))
    ids, pos = x["token_ids"].numpy(), x["mask_positions"].numpy()
    w, y = w.numpy(), y.numpy()
    assert ids.shape == (32, T) and pos.shape == y.shape == w.shape == (32, 2)  # ceil(.15·12)
    clean = pre(tf.constant(CORPUS))
    rows = {tuple(r) for r in np.asarray(clean)}
    n_masked = 0
    for b in range(32):
        for target, weight in zip(y[b], w[b], strict=True):
            if weight:
                n_masked += 1
                assert target not in (pre.pad_id, pre.cls_id, pre.sep_id)
        # Put the targets back: the row is one of the clean rows.
        restored = ids[b].copy()
        restored[pos[b][w[b] > 0]] = y[b][w[b] > 0]
        assert tuple(restored) in rows
    assert n_masked > 20 and (ids == pre.mask_id).sum() > 0


def _synthetic_batch(rows=400, length=40, vocab_size=100, seed=0):
    # [CLS] w ... w [SEP] [PAD] ...: ids 0, 1, 2 are PAD, CLS, SEP; words are 5..V-1.
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, size=(rows, length)).astype(np.int32)
    ends = rng.integers(8, length, size=rows)
    for r, end in enumerate(ends):
        ids[r, 0], ids[r, end] = 1, 2
        ids[r, end + 1:] = 0
    return ids, ends - 1  # real words per row


def test_bert_mask_reproduces_and_follows_bert():
    ids, words = _synthetic_batch()
    kw = dict(vocabulary_size=100, mask_id=4, unselectable_ids=(0, 1, 2))
    a = cl.bert_mask(ids, seed=(3, 0), **kw)
    b = cl.bert_mask(ids, seed=(3, 0), **kw)
    c = cl.bert_mask(ids, seed=(3, 1), **kw)
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["token_ids"].numpy(), c["token_ids"].numpy())
    out, pos = a["token_ids"].numpy(), a["mask_positions"].numpy()
    target, weight = a["mask_ids"].numpy(), a["mask_weights"].numpy()
    assert pos.shape == (400, 6)  # ceil(0.15 * 40)
    # Per row: round(15% of the real words), at most P, never [PAD]/[CLS]/[SEP].
    np.testing.assert_array_equal(weight.sum(1), np.minimum(np.round(0.15 * words), 6))
    picked = weight > 0
    rows = np.nonzero(picked)[0]
    assert np.all(np.isin(ids[rows, pos[picked]], (0, 1, 2), invert=True))
    np.testing.assert_array_equal(target[picked], ids[rows, pos[picked]])
    # Positions that were not picked are unchanged.
    changed = out != ids
    assert changed.sum() <= picked.sum()
    assert np.all(np.isin(np.argwhere(changed)[:, 0], rows))
    # 80% [MASK], 10% a random token, 10% unchanged (2,000+ picks: ±2.5 points is > 3 sigma).
    now = out[rows, pos[picked]]
    masked = np.mean(now == 4)
    kept = np.mean(now == target[picked])
    assert 0.775 < masked < 0.825 and 0.075 < kept < 0.125
    assert 0.075 < 1 - masked - kept < 0.125


def test_bert_mask_picks_as_many_as_keras_hub():
    ids, _ = _synthetic_batch(seed=1)
    ours = cl.bert_mask(ids, seed=(0, 0), vocabulary_size=100, mask_id=4,
                        unselectable_ids=(0, 1, 2))["mask_weights"].numpy().sum()
    keras.utils.set_random_seed(0)
    theirs = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=100, mask_selection_rate=0.15, mask_token_id=4, mask_selection_length=6,
        unselectable_token_ids=[0, 1, 2])(ids)["mask_weights"].numpy().sum()
    assert abs(ours - theirs) / theirs < 0.1


def test_mlm_dataset_gives_the_same_masks_for_the_same_seed(pre):
    def batches(seed):
        ds = cl.mlm_dataset(CORPUS * 4, pre, batch_size=8, seed=seed, repeat=True)
        return [np.concatenate([x["token_ids"].numpy(), x["mask_positions"].numpy()], axis=1)
                for x, _, _ in ds.take(6)]

    first, again, other = batches(5), batches(5), batches(6)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    # Each batch has its own seed: the 4 batches of the first pass are not masked alike.
    assert len({a.tobytes() for a in first}) == 6


def test_mlm_head_shapes_and_weight_tying(vocab):
    keras.utils.set_random_seed(0)
    config = small_config(len(vocab))
    model = cl.MaskedLMPretrainer(config)
    x = {"token_ids": np.array([[2, 7, 4, 9, 3, 0]]), "mask_positions": np.array([[2, 1]])}
    logits = np.asarray(model(x))
    assert logits.shape == (1, 2, len(vocab))
    c, v = config.width, config.vocab_size
    head = c * c + c + 2 * c + v  # transform, LayerNorm, output bias; the table is shared
    assert model.count_params() == config.num_parameters() + head
    # The output layer IS the input embedding: changing one changes the other's logits.
    table = model.encoder.token_embedding.embeddings
    table.assign(table * 2.0)
    assert np.abs(np.asarray(model(x)) - logits).max() > 1e-3


def test_masked_lm_loss_by_hand():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype("float32")
    ids = np.array([[1, 4, 0], [6, 0, 0]])
    w = np.array([[1, 1, 0], [1, 0, 0]], "float32")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, ids[..., None], -1)[..., 0]
    hand = -(picked * w).sum() / w.sum()
    loss = float(cl.masked_lm_loss(ids, logits, w))
    assert abs(loss - hand) < 1e-5
    # Control: Keras's sample-weighted mean divides by B·P = 6, not by the 3 masked tokens.
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(ids, logits, w)
    assert abs(float(keras_loss) - hand * 3 / 6) < 1e-5 and abs(float(keras_loss) - hand) > 0.1
    # Logits at weight-0 slots do not matter.
    logits[0, 2] += 5.0
    assert abs(float(cl.masked_lm_loss(ids, logits, w)) - hand) < 1e-5


def test_mlm_train_step_uses_the_masked_loss(vocab):
    keras.utils.set_random_seed(1)
    model = cl.MaskedLMPretrainer(small_config(len(vocab)))
    model.compile(keras.optimizers.SGD(0.0))  # lr 0: the reported loss is the hand loss
    x = {"token_ids": np.array([[2, 7, 4, 9, 3, 0], [2, 4, 8, 3, 0, 0]]),
         "mask_positions": np.array([[2, 0], [1, 0]])}
    y, w = np.array([[11, 0], [12, 0]]), np.array([[1.0, 0.0], [1.0, 0.0]], "float32")
    logits = np.asarray(model(x)).astype("float64")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    hand = -(log_p[0, 0, 11] + log_p[1, 0, 12]) / 2
    loss = model.train_on_batch(x, y, sample_weight=w)
    assert abs(float(loss) - hand) < 1e-4


def _mlm_run(pre, vocab, seed):
    # Chapter 08's pretraining path at a tiny size: seeded weights, seeded masks, dropout on.
    keras.utils.set_random_seed(seed)
    model = cl.MaskedLMPretrainer(small_config(len(vocab), dropout=0.1))
    model.compile(keras.optimizers.AdamW(1e-3, weight_decay=0.01))
    history = model.fit(cl.mlm_dataset(CORPUS * 4, pre, batch_size=8, seed=seed, repeat=True),
                        steps_per_epoch=3, epochs=2, verbose=0).history
    return history["loss"], [np.asarray(w) for w in model.weights]


def test_mlm_pretraining_reproduces_with_the_same_seed(pre, vocab):
    loss_a, weights_a = _mlm_run(pre, vocab, seed=4)
    loss_b, weights_b = _mlm_run(pre, vocab, seed=4)
    assert loss_a == loss_b  # bit for bit: masks, dropout and shuffles are all seeded
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)
    loss_c, _ = _mlm_run(pre, vocab, seed=5)
    assert loss_c != loss_a  # control: the seed matters


def test_pretrained_encoder_is_copied(vocab):
    keras.utils.set_random_seed(2)
    config = small_config(len(vocab))
    pretrainer = cl.MaskedLMPretrainer(config)
    classifier = TransformerClassifier(config, num_classes=2, pooling="cls")
    ids = np.array([[2, 7, 9, 3, 0]])
    assert np.abs(np.asarray(classifier.encoder(ids) - pretrainer.encoder(ids))).max() > 1e-3
    assert cl.copy_encoder_weights(pretrainer.encoder, classifier) > 0
    assert np.abs(np.asarray(classifier.encoder(ids) - pretrainer.encoder(ids))).max() == 0.0
    with pytest.raises(ValueError, match="configs differ"):
        cl.copy_encoder_weights(pretrainer.encoder,
                                TransformerClassifier(small_config(len(vocab), width=32), 2))


def test_tiny_overfit_and_save_load_round_trip(vocab, pre, tmp_path):
    keras.utils.set_random_seed(3)
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 1])
    model = TransformerClassifier(small_config(len(vocab)), num_classes=2, pooling="cls")
    model.compile(keras.optimizers.Adam(3e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = np.asarray(pre(CORPUS))
    for _ in range(60):
        model.train_on_batch(ids, labels)
    probs = cl.predict_proba(model, pre, CORPUS)
    assert probs.shape == (8, 2) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert (probs.argmax(1) == labels).mean() == 1.0
    # Round trip: model and preprocessor as .keras files, predictions identical.
    model.save(tmp_path / "m.keras")
    keras.saving.save_model(pre, tmp_path / "pre.keras")
    model2 = load_model(tmp_path / "m.keras")
    pre2 = load_model(tmp_path / "pre.keras")
    assert pre2.vocabulary == pre.vocabulary
    assert np.array_equal(cl.predict_proba(model2, pre2, CORPUS), probs)
    label, p = cl.describe_predictions(probs[:1])[0]
    assert label == cl.LABELS[labels[0]] and p == probs[0].max()


def test_glove_embedding_matrix():
    words = ["the", "movie", "great"]
    vectors = np.arange(12, dtype="float32").reshape(3, 4)
    matrix, found = cl.glove_embedding_matrix(["", "[UNK]", "great", "zzz", "the"], words,
                                              vectors, seed=0)
    assert matrix.shape == (5, 4) and found == 2
    assert np.array_equal(matrix[2], vectors[2]) and np.array_equal(matrix[4], vectors[0])
    assert not matrix[0].any() and not np.array_equal(matrix[3], vectors[1])


def test_evaluate_predictions_matches_sklearn():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 300)
    p = np.where(rng.random(300) < 0.8, t, 1 - t)
    r = cl.evaluate_predictions(t, p, n_resamples=200)
    assert abs(r["accuracy"] - sklearn.metrics.accuracy_score(t, p)) < 1e-12
    assert abs(r["f1"] - sklearn.metrics.f1_score(t, p)) < 1e-12
    assert r["accuracy_low"] < r["accuracy"] < r["accuracy_high"]
    assert r["accuracy_high"] - r["accuracy_low"] < 0.15


def test_preset_loader_fails_fast_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setattr(cl, "PRESET_HOST", "127.0.0.1")  # nothing listens on 443 here
    start = time.perf_counter()
    model, message = cl.load_preset_classifier("bert_tiny_en_uncased_sst2", timeout=1.0)
    assert model is None and "offline" in message
    assert time.perf_counter() - start < 5.0


def test_an_unpinned_preset_name_needs_an_explicit_opt_in():
    with pytest.raises(ValueError, match="not pinned by the course.*allow_unpinned=True"):
        cl.load_preset_classifier("bert_base_en")


@pytest.fixture(scope="module")
def tiny_bert_preset(tmp_path_factory):
    """A BERT text classifier of the keras-hub architecture, tiny, saved as a local preset:
    what `from_preset` reads from Kaggle, built here so the test needs no network."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "this", "is", "a", "great",
             "terrible", "movie", "!"]
    keras.utils.set_random_seed(0)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocab, lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=8)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(vocab), num_layers=1,
                                             num_heads=2, hidden_dim=8, intermediate_dim=16,
                                             max_sequence_length=8)
    classifier = keras_hub.models.BertTextClassifier(backbone, num_classes=2,
                                                     preprocessor=preprocessor)
    folder = tmp_path_factory.mktemp("presets") / "tiny_bert"
    classifier.save_to_preset(str(folder))
    return folder, classifier


def test_a_local_preset_loads_tokenizes_predicts_and_fine_tunes(tiny_bert_preset):
    folder, original = tiny_bert_preset
    model, message = cl.load_preset_classifier(str(folder))
    assert model is not None and "local preset tiny_bert" in message
    sentences = ["This is a great movie!", "This is a terrible movie!"]
    ids = model.preprocessor(sentences)["token_ids"]  # the saved vocabulary, lower-cased
    assert np.asarray(ids)[0, :7].tolist() == [2, 5, 6, 7, 8, 10, 11]
    probs = np.asarray(keras.ops.softmax(model.predict(sentences, verbose=0)))
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert np.allclose(probs, keras.ops.softmax(original.predict(sentences, verbose=0)),
                       atol=1e-6)
    before = [np.array(w) for w in model.backbone.weights]
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(sentences, np.array([1, 0]), batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(b, np.array(w)) for b, w in zip(before, model.backbone.weights,
                                                                   strict=True))
    fresh, _ = cl.load_preset_classifier(str(folder), num_classes=3)
    assert fresh.predict(sentences, verbose=0).shape == (2, 3)  # a new head


def test_a_changed_cached_preset_is_refused(tiny_bert_preset, monkeypatch, tmp_path):
    folder, _ = tiny_bert_preset
    record = cl.preset_digests(folder)
    assert "config.json" in record and cl.check_preset_files(folder, record) == []
    # The layout kagglehub leaves, with the digests of a first download already recorded.
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "course"))
    cached = cl._kagglehub_folder("bert_tiny_en_uncased_sst2", 5)
    shutil.copytree(folder, cached)
    recorded = cl._record_path("bert_tiny_en_uncased_sst2", 5)
    recorded.parent.mkdir(parents=True)
    recorded.write_text(json.dumps(record))
    (cached / "config.json").write_text((cached / "config.json").read_text() + " ")
    model, message = cl.load_preset_classifier("bert_tiny_en_uncased_sst2")
    assert model is None and "config.json changed" in message and "delete that folder" in message


def _tiny_gpt_and_tokenizer():
    from course_lib.gpt import GPT, GPTConfig
    from course_lib.tokenizers import BPETokenizer

    tokenizer = BPETokenizer.from_text(" ".join(CORPUS) * 3, vocab_size=300,
                                       special_tokens=["<|endoftext|>"])
    keras.utils.set_random_seed(0)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=32, num_layers=1,
                       num_heads=2, width=16)
    return GPT(config), tokenizer


def test_sentence_features_pad_nothing_into_a_sentence():
    model, tokenizer = _tiny_gpt_and_tokenizer()
    texts = ["a great movie", "the story is boring , the acting dull", "", "film"]
    batched = cl.sentence_features(model, tokenizer, texts, batch_size=3)  # (4, C)
    assert batched.shape == (4, 16)
    start = tokenizer.token_to_id("<|endoftext|>")
    for k, text in enumerate(texts):
        ids = np.concatenate([[start], tokenizer.encode(text)]).astype("int32")[None]
        h = keras.ops.convert_to_numpy(model.hidden_states(ids))[0]  # (T, C)
        alone = h[1:].mean(0) if len(h) > 1 else h[0]  # the text's tokens; empty: <|eot|>'s
        np.testing.assert_allclose(batched[k], alone, atol=1e-5, err_msg=text)
    with pytest.raises(ValueError, match="max_tokens must be in"):
        cl.sentence_features(model, tokenizer, texts, max_tokens=64)


def test_linear_probe_learns_separable_features_and_refuses_too_few():
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 20)
    x = rng.normal(size=(40, 5)) + 3.0 * y[:, None]  # the classes 3 standard deviations apart
    clf = cl.linear_probe(x[:30], y[:30])
    assert (clf.predict(x[30:]) == y[30:]).all()
    with pytest.raises(ValueError, match="at least 2 training examples"):
        cl.linear_probe(x[:3], np.array([0, 0, 1]))
