"""Task loaders against the real mirror, with the counts stated in shared/datasets/MANIFEST.md."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from course_lib import data

REPO = Path(__file__).resolve().parents[1]


def find_mirror() -> Path | None:
    env = os.environ.get("COURSE_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates += [REPO / "shared" / "datasets", REPO.parent / "shared" / "datasets"]
    for c in candidates:
        if (c / "tinyshakespeare").is_dir():
            return c
    return None


@pytest.fixture(scope="module", autouse=True)
def mirror(tmp_path_factory):
    found = find_mirror()
    if found is None:
        pytest.skip(
            "no dataset mirror: set COURSE_DATA_DIR to a shared/datasets folder "
            "(or place one at ../shared/datasets relative to the repository)"
        )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_DATA_DIR", str(found))
        # A private cache: if a mirror file were missing, nothing lands in the real home cache.
        mp.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("COURSE_DOWNLOAD_TIMEOUT", "2")
        yield found


def test_tiny_shakespeare():
    text = data.load_tiny_shakespeare()
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:") and text.count("\n") == 40_000


def test_rt_polarity():
    texts, labels = data.load_rt_polarity()
    assert len(texts) == 10_662 and labels.shape == (10_662,)
    assert labels.dtype.kind == "i" and set(np.unique(labels)) == {0, 1}
    assert int(labels[:5331].sum()) == 5331 and int(labels[5331:].sum()) == 0
    assert texts[0].startswith("the rock is destined to be the 21st century's new")
    # Latin-1: e.g. "é" decodes as one character, not UTF-8 mojibake.
    assert any("\xe9" in t for t in texts) and not any("\ufffd" in t for t in texts)
    assert all(t and t == t.strip() for t in texts)


def test_read_lines_does_not_split_on_nel():
    # U+0085 (NEL) occurs inside rt-polarity lines; str.splitlines() would break them apart.
    lines = data.read_lines("rt-polarity", "rt-polarity.pos")
    assert len(lines) == 5331 and any("\x85" in line for line in lines)


def test_spa_eng():
    pairs = data.load_spa_eng()
    assert len(pairs) == 118_964 and pairs[0] == ("Go.", "Ve.")
    assert all(len(p) == 2 and p[0] and p[1] for p in pairs[:1000])


@pytest.mark.parametrize(("split", "n"), [("train", 29_000), ("val", 1_014), ("test", 1_000)])
def test_multi30k(split, n):
    pairs = data.load_multi30k(split)
    assert len(pairs) == n and all(en and de for en, de in pairs)
    assert not pairs[0][0].endswith("\n")


def test_multi30k_bad_split():
    with pytest.raises(ValueError, match="'train', 'val', 'test'"):
        data.load_multi30k("dev")


def test_squad_dev():
    qs = data.load_squad_dev()
    assert len(qs) == 10_570
    assert len({q["title"] for q in qs}) == 48 and len({q["context"] for q in qs}) == 2_067
    q = qs[0]
    assert set(q) == {"id", "title", "context", "question", "answers", "answer_starts"}
    assert len(q["answers"]) == len(q["answer_starts"]) >= 1
    for text, start in zip(q["answers"], q["answer_starts"], strict=True):
        assert q["context"][start : start + len(text)] == text


def test_glove():
    words, vectors = data.load_glove()
    assert len(words) == 20_000 and vectors.shape == (20_000, 50)
    assert vectors.dtype == np.float32
    assert words[:2] == ["the", ","] and len(set(words)) == 20_000
    assert vectors[0, 0] == np.float32(0.418) and vectors[1, 0] == np.float32(0.013441)


@pytest.mark.parametrize(("split", "n"), [("background", 300), ("test", 50)])
def test_lee_corpus(split, n):
    docs = data.load_lee_corpus(split)
    assert len(docs) == n and all(len(d) > 100 for d in docs)
    if split == "test":
        assert any("\xa3" in d for d in docs)  # the Latin-1 pound sign


@pytest.mark.parametrize(("which", "n"), [("wordsim353", 353), ("simlex999", 999)])
def test_word_similarity(which, n):
    pairs = data.load_word_similarity(which)
    assert len(pairs) == n
    assert all(isinstance(s, float) and 0 <= s <= 10 for _, _, s in pairs)
    assert pairs[0] == (("love", "sex", 6.77) if which == "wordsim353" else ("old", "new", 1.58))


def test_analogies():
    sections = data.load_analogies()
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544
    assert sections["capital-common-countries"][0] == ("Athens", "Greece", "Baghdad", "Iraq")


@pytest.mark.parametrize("split", ["dev", "test"])
def test_dialogsum(split):
    dialogues = data.load_dialogsum(split)
    assert len(dialogues) == 500
    keys = {"fname", "dialogue", "summary", "topic"} if split == "dev" else {"summary3", "topic3"}
    assert keys <= set(dialogues[0])
    assert dialogues[0]["dialogue"].startswith("#Person1#:")


@pytest.mark.parametrize(("split", "turns"), [("valid", 11_681), ("test", 11_760)])
def test_topical_chat(split, turns):
    convs = data.load_topical_chat(split)
    assert len(convs) == 539 and sum(map(len, convs)) == turns
    agent, message = convs[0][0]
    assert agent in ("agent_1", "agent_2") and isinstance(message, str)
    if split == "valid":
        assert convs[0][0] == ("agent_1", "Are you a football fan?")


def test_readers_on_mirror():
    assert data.read_json("squad-v1.1")["version"] == "1.1"
    assert data.read_jsonl("dialogsum", "dialogsum.dev.jsonl")[0]["fname"] == "dev_0"
    rows = data.read_tsv("embedding-eval", "wordsim353.tsv")
    assert rows[2] == ["love", "sex", "6.77"]
    readme = data.read_text("rt-polarity", "rt-polaritydata.README.1.0.txt")
    assert "\r\n" in readme  # stored bytes are kept as they are
    assert all(
        not line.endswith("\r")
        for line in data.read_lines("rt-polarity", "rt-polaritydata.README.1.0.txt")
    )
