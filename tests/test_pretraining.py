"""course_lib.pretraining: the corpus split, exact resume, bits per byte, the loader, the CLI.

The split tests compare the pretraining corpus with the chapters' own split functions (and,
where a chapter splits inline, with its notebook's constants and lines), so a chapter that
changes its split fails here until the corpus follows. Training runs at the smoke size on a
capped corpus: the numbers mean nothing, the bookkeeping is what is checked.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib import data
from course_lib import pretraining as pt
from course_lib.gpt import GPT
from course_lib.tooling import runner

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "notebooks" / "src"


def _notebook(prefix: str) -> str:
    (path,) = SRC.glob(f"{prefix}_*.py")
    return path.read_text(encoding="utf-8")


def _constant(source: str, pattern: str):
    match = re.search(pattern, source, re.MULTILINE)
    assert match, f"the notebook no longer has {pattern!r}: update course_lib.pretraining"
    return match.group(1)


def _lines(documents) -> set[str]:
    return {line for doc in documents for line in doc.split("\n")}


@pytest.fixture(scope="module")
def corpus():
    return {s.name: s for s in pt.load_corpus()}


# --------------------------------------------------------------------------------------------
# The split: no chapter's held-out document in the training text
# --------------------------------------------------------------------------------------------


def test_shakespeare_holds_out_what_split_tokens_validates_on(corpus):
    from course_lib.lm_data import split_tokens
    from course_lib.tokenizers import CharTokenizer

    # Every chapter that validates on Tiny Shakespeare splits its character ids 90/10.
    fractions = {m for p in SRC.glob("*.py")
                 for m in re.findall(r"split_tokens\([^,()]*(?:\([^()]*\))?, ([0-9.]+)\)",
                                     p.read_text(encoding="utf-8"))}
    assert fractions == {str(pt.SHAKESPEARE_TRAIN_FRACTION)}
    text = data.load_tiny_shakespeare()
    tokenizer = CharTokenizer.from_text(text)
    train_ids, val_ids = split_tokens(tokenizer.encode(text), pt.SHAKESPEARE_TRAIN_FRACTION)
    source = corpus["tinyshakespeare"]
    assert source.heldout == (tokenizer.decode(val_ids),)
    assert source.train == (tokenizer.decode(train_ids),)


def test_squad_holds_out_chapter_11s_test_articles(corpus):
    from course_lib.chapters.ch11_question_answering import split_by_article

    nb = _notebook("11")
    fraction = float(_constant(nb, r"^TEST_ARTICLES = ([0-9.]+)"))
    seed = int(_constant(nb, r"^SEED = seed_everything\((\d+)\)"))
    assert "split_by_article(questions, TEST_ARTICLES, seed=SEED)" in nb
    assert (fraction, seed) == (pt.SQUAD_TEST_ARTICLES, pt.SQUAD_SEED)
    train_qs, test_qs, titles = split_by_article(data.load_squad_dev(), fraction, seed)
    assert set(titles) == pt.squad_test_titles([q["title"] for q in test_qs + train_qs])
    source = corpus["squad-v1.1"]
    # A paragraph block is its context followed by its questions, one per line; a few
    # contexts have line breaks of their own, so paragraphs are compared by their first line.
    def first_lines(documents):
        return {b.split("\n")[0] for d in documents for b in d.split("\n\n")}

    train, heldout = first_lines(source.train), first_lines(source.heldout)
    test_contexts = {q["context"].split("\n")[0] for q in test_qs}
    assert not test_contexts & train
    assert test_contexts <= heldout
    assert {q["context"].split("\n")[0] for q in train_qs} <= train


def test_spa_eng_holds_out_chapter_10s_test_sentences(corpus):
    from course_lib.chapters.ch10_translation_and_summarization import split_pairs_by_source

    nb = _notebook("10")
    fraction = float(_constant(nb, r"^TEST_FRACTION = ([0-9.]+)"))
    seed = int(_constant(nb, r"^SEED = seed_everything\((\d+)\)"))
    assert "split_pairs_by_source(pairs, TEST_FRACTION, seed=SEED)" in nb
    # At cpu and gpu the chapter splits all pairs (smoke subsamples; its numbers mean nothing).
    assert _constant(nb, r"^MAX_PAIRS = profile\.pick\((.*)\)") .endswith("cpu=None, gpu=None")
    assert (fraction, seed) == (pt.SPA_ENG_TEST_FRACTION, pt.SPA_ENG_SEED)
    pairs = data.load_spa_eng()
    train_pairs, test_sources, _ = split_pairs_by_source(pairs, fraction, seed=seed)
    source = corpus["spa-eng"]
    train, heldout = _lines(source.train), _lines(source.heldout)
    assert not set(test_sources) & train
    assert set(test_sources) == heldout
    assert {en for en, _ in train_pairs} == train


def test_topical_chat_holds_out_chapter_09s_validation_and_the_test_file(corpus):
    nb = _notebook("09")
    seed = int(_constant(nb, r"^SEED = seed_everything\((\d+)\)"))
    share = float(_constant(nb, r"^CHAT_HELD_OUT = ([0-9.]+)"))
    read = _constant(nb, r"^CHAT_CONVERSATIONS = profile\.pick\((.*)\)")
    assert (seed, share) == (pt.CHAT_SEED, pt.CHAT_HELD_OUT)
    # The chapter splits inline, over all of valid at every profile; these are its lines.
    assert 'all_conversations = load_topical_chat("valid")' in nb
    assert "order = np.random.default_rng(SEED).permutation(len(all_conversations))" in nb
    assert "n_held = max(1, int(round(CHAT_HELD_OUT * len(all_conversations))))" in nb
    assert "held_out = [all_conversations[i] for i in order[:n_held]]" in nb
    valid = data.load_topical_chat("valid")
    assert read.endswith(f"cpu={len(valid)}, gpu={len(valid)}")
    order = np.random.default_rng(seed).permutation(len(valid))
    n_held = max(1, int(round(share * len(valid))))
    chapter_held = [valid[i] for i in order[:n_held]]
    source = corpus["topical-chat"]
    train, heldout = set(source.train), set(source.heldout)
    for conversation in chapter_held + data.load_topical_chat("test"):
        text = pt._conversation(conversation)
        assert text in heldout and text not in train


def test_file_based_sources_and_no_heldout_document_in_training(corpus):
    assert corpus["rt-polarity"].train == ()
    assert _lines(corpus["rt-polarity"].heldout) >= set(data.load_rt_polarity()[0])
    assert _lines(corpus["multi30k"].train) == {en for en, _ in data.load_multi30k("train")}
    assert corpus["lee-corpus"].heldout == tuple(data.load_lee_corpus("test"))
    dialogsum_train = "\n".join(corpus["dialogsum"].train)
    assert not [d for d in data.load_dialogsum("test") if d["dialogue"] in dialogsum_train]
    for source in corpus.values():
        assert not set(source.heldout) & set(source.train), source.name
        assert source.license == data.info(source.name).license
    rows = pt.corpus_table(list(corpus.values()))
    assert [r[0] for r in rows] == list(corpus)
    assert all(r[2] + r[3] > 0 for r in rows)


# --------------------------------------------------------------------------------------------
# Bits per byte
# --------------------------------------------------------------------------------------------


def test_bits_per_byte_by_hand():
    assert pt.bits_per_byte(2.0, 10, 25) == pytest.approx(2.0 * 10 / 25 / math.log(2))
    with pytest.raises(ValueError, match="num_bytes must be positive"):
        pt.bits_per_byte(1.0, 3, 0)
    # A model whose logits are all 0 gives every token probability 1/V: ln V nats each. On a
    # held-out text with a two-byte character, bits per byte = (tokens - 1) log2 V / bytes.
    text = "Olé, olé!"
    toy = [pt.CorpusSource("toy", "CC0", "-", ("low lower lowest olé " * 4,), (text,))]
    tokenizer = pt.train_tokenizer(toy, 270)
    tokens = pt.encode_corpus(toy, tokenizer)
    ids = tokens.heldout  # <|endoftext|> (0 bytes), then the text
    assert int(tokens.byte_lengths[ids].sum()) == len(text.encode("utf-8")) == 11
    model = GPT(pt.PretrainConfig.for_profile("smoke").gpt_config(tokenizer.vocab_size))
    for w in model.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    result = pt.evaluate_bits_per_byte(model, tokens, tokens_per_source=100)
    expected = (len(ids) - 1) * math.log2(tokenizer.vocab_size) / 11
    assert result["all"] == pytest.approx(expected, rel=1e-6)
    assert result["by_source"]["toy"] == pytest.approx(expected, rel=1e-6)
    assert (result["tokens_scored"], result["bytes_scored"]) == (len(ids) - 1, 11)


# --------------------------------------------------------------------------------------------
# Pretraining: exact resume, the artifact, the verified loader
# --------------------------------------------------------------------------------------------

# Samples at every evaluation, so the resumed run must reproduce them too.
SMOKE = dataclasses.replace(pt.PretrainConfig.for_profile("smoke"), sample_interval=2,
                            ngram_orders=(1,))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted smoke run: its folder and record."""
    out = tmp_path_factory.mktemp("foundation")
    record = pt.pretrain(SMOKE, out, progress=False)
    return out, record


def _weights(path: Path):
    from course_lib.model_io import load_model

    return [np.asarray(w) for w in load_model(path, compile=False).get_weights()]


def test_an_interrupted_run_resumes_to_the_same_losses_and_weights(reference, tmp_path):
    ref_dir, ref = reference
    assert ref["status"] == "complete" and ref["steps"] == SMOKE.max_steps
    assert len(ref["losses"]) == SMOKE.max_steps and ref["losses"][-1] < ref["losses"][0]

    def crash_at_4(row):
        if row["step"] == 4:  # before step 4's checkpoint: the last one is step 2's
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pt.pretrain(SMOKE, tmp_path, progress=False, on_evaluation=crash_at_4)
    assert json.loads((tmp_path / "checkpoints" / "state.json").read_text())["step"] == 2
    # A time limit stops at the first checkpoint after it: here step 4, resumed from 2.
    stopped = pt.pretrain(SMOKE, tmp_path, progress=False, max_minutes=1e-9)
    assert (stopped["status"], stopped["step"]) == ("stopped", 4)
    assert not (tmp_path / "run.json").exists()
    record = pt.pretrain(SMOKE, tmp_path, progress=False)

    assert [s["from_step"] for s in record["sessions"]] == [0, 2, 4]
    np.testing.assert_allclose(record["losses"], ref["losses"], rtol=1e-6)
    for key in ("val_loss", "val_bpb", "train_loss"):
        np.testing.assert_allclose([r[key] for r in record["history"]],
                                   [r[key] for r in ref["history"]], rtol=1e-6)
    assert record["samples"] == ref["samples"]
    assert [s["step"] for s in record["samples"]] == [2, 4, 6]
    assert record["heldout_bpb"]["all"] == pytest.approx(ref["heldout_bpb"]["all"], rel=1e-6)
    for a, b in zip(_weights(tmp_path / "model.keras"), _weights(ref_dir / "model.keras"),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_run_record_and_model_card(reference):
    out, record = reference
    assert json.loads((out / "run.json").read_text()) == record
    assert record["tokens_seen"] == SMOKE.max_steps * SMOKE.batch_size * SMOKE.context_length
    # The curve in bits per byte is the held-out loss times held-out tokens per byte / ln 2.
    heldout_tokens = sum(r["heldout_tokens"] for r in record["corpus"])
    heldout_bytes = sum(r["heldout_bytes"] for r in record["corpus"])
    row = record["history"][-1]
    assert row["val_bpb"] == pytest.approx(
        row["val_loss"] * heldout_tokens / heldout_bytes / math.log(2), rel=1e-9)
    assert {r["source"] for r in record["corpus"]} == set(record["heldout_bpb"]["by_source"])
    card = (out / "MODEL_CARD.md").read_text()
    for r in record["corpus"]:
        assert r["license"] in card and f"{r['train_tokens']:,}" in card
    assert "Intended use" in card and "Known limits" in card
    # Run again on a finished folder: the record comes back, nothing is trained or rewritten.
    stamp = (out / "model.keras").stat().st_mtime_ns
    assert pt.pretrain(SMOKE, out, progress=False) == record
    assert (out / "model.keras").stat().st_mtime_ns == stamp


def test_load_foundation_verifies_the_files(reference, tmp_path):
    src, record = reference
    folder = tmp_path / "foundation"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("checkpoints", "cache"))
    model, tokenizer, loaded = pt.load_foundation(folder)
    assert loaded == record and model.config.vocab_size == tokenizer.vocab_size

    blob = bytearray((folder / "model.keras").read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # flip one byte
    (folder / "model.keras").write_bytes(bytes(blob))
    with pytest.raises(pt.FoundationModelError, match=r"model\.keras does not match the "
                       r"SHA-256.*python -m course_lib pretrain --profile cpu"):
        pt.load_foundation(folder)
    (folder / "model.keras").unlink()
    with pytest.raises(pt.FoundationModelError, match=r"model\.keras is missing"):
        pt.load_foundation(folder)
    (folder / "run.json").unlink()
    with pytest.raises(pt.FoundationModelError, match=r"run\.json is missing.*pretrain"):
        pt.load_foundation(folder)
    with pytest.raises(pt.FoundationModelError, match="pretrain --profile cpu --out .*nowhere"):
        pt.verify_foundation(tmp_path / "nowhere")
    # For the committed artifact's folder the remedy is the plain command.
    assert pt._remedy(pt.DEFAULT_ARTIFACT_DIR) == (
        "run `python -m course_lib pretrain --profile cpu`")


def test_ngram_baseline_on_the_same_heldout_text(reference):
    out, record = reference
    bpb = pt.ngram_bits_per_byte(1, path=out, by_source=True)
    assert bpb["all"] == pytest.approx(record["ngram_bpb"]["1"]["all"], rel=1e-9)
    assert bpb["tokens_scored"] == record["heldout_bpb"]["tokens_scored"]
    assert bpb["k"] in pt.NGRAM_K_GRID  # chosen on training text
    assert pt.ngram_bits_per_byte(1, path=out, k=1.0, by_source=True)["k"] == 1.0


def test_resume_refuses_another_configuration_or_a_live_run(reference, tmp_path):
    src, _ = reference
    other = dataclasses.replace(SMOKE, max_steps=8)
    shutil.copytree(src / "checkpoints", tmp_path / "a" / "checkpoints")
    with pytest.raises(pt.ResumeMismatchError, match="max_steps: 6 there, 8 here.*--no-resume"):
        pt.pretrain(other, tmp_path / "a", progress=False)
    shutil.copy(src / "run.json", tmp_path / "a" / "run.json")
    with pytest.raises(pt.ResumeMismatchError, match="finished model of another run"):
        pt.pretrain(other, tmp_path / "a", progress=False)
    # A live process's pid in the folder: a second run would interleave its checkpoints.
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / ".pretrain.pid").write_text(str(os.getppid()))
    with pytest.raises(pt.RunInProgressError, match=f"pid {os.getppid()}.*kill"):
        pt.pretrain(SMOKE, tmp_path / "b", progress=False)
    # A dead process's pid (a killed run) is taken over, and the lock goes with the run.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "b" / ".pretrain.pid").write_text(str(dead.pid))
    with pt._FolderLock(tmp_path / "b"):
        assert (tmp_path / "b" / ".pretrain.pid").read_text() == str(os.getpid())
    assert not (tmp_path / "b" / ".pretrain.pid").exists()


def test_config_validation_says_what_to_change():
    with pytest.raises(ValueError, match="multiple of eval_interval"):
        dataclasses.replace(SMOKE, sample_interval=3)
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        dataclasses.replace(SMOKE, num_heads=3)
    with pytest.raises(ValueError, match="at least 300"):
        dataclasses.replace(SMOKE, vocab_size=200)
    cpu = pt.PretrainConfig.for_profile("cpu")
    assert 4_000_000 <= cpu.gpt_config().num_parameters() <= 8_000_000
    assert cpu.dropout == 0.0  # a resumed run repeats the losses only without dropout
    with pytest.raises(ValueError, match="--out DIR"):
        pt.pretrain("smoke")  # never into artifacts/foundation


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_cli_parses_and_refuses_smoke_in_place(capsys):
    args = runner.build_parser().parse_args(
        ["pretrain", "--profile", "cpu", "--out", "/tmp/x", "--no-resume", "--max-minutes", "90"])
    assert (args.cmd, args.profile, args.out, args.no_resume, args.max_minutes) == (
        "pretrain", "cpu", Path("/tmp/x"), True, 90.0)
    args = runner.build_parser().parse_args(["pretrain"])
    assert (args.profile, args.out, args.no_resume, args.max_minutes) == (None, None, False, None)
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["pretrain", "--profile", "smoke"])
    assert exit_info.value.code == 2 and "--out DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        runner.build_parser().parse_args(["pretrain", "--profile", "tpu"])
    # `python -m course_lib pretrain` reaches this parser.
    help_text = subprocess.run([sys.executable, "-m", "course_lib", "pretrain", "--help"],
                               cwd=REPO, capture_output=True, text=True, timeout=120).stdout
    assert "--max-minutes" in help_text and "--no-resume" in help_text


def test_the_committed_foundation_model_verifies_and_matches_its_card():
    model, tokenizer, record = pt.load_foundation()  # raises if a file differs from run.json
    assert record["profile"] == "cpu" and record["status"] == "complete"
    assert record["steps"] == pt.PretrainConfig.for_profile("cpu").max_steps
    assert model.count_params() == record["parameters"]
    assert tokenizer.vocab_size == record["tokenizer"]["vocab_size"] == model.config.vocab_size
    card = (pt.DEFAULT_ARTIFACT_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert card == pt.model_card(record), "MODEL_CARD.md is stale: regenerate it from run.json"
    # The record's held-out evaluation beats its n-gram baselines on the same text.
    assert record["heldout_bpb"]["all"] < min(r["all"] for r in record["ngram_bpb"].values())
