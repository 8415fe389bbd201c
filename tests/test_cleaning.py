"""course_lib.chapters.ch03_data_preparation: each step on hand-made cases, MinHash against exact Jaccard, pipelines."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import jaccard_score

from course_lib.chapters.ch03_data_preparation import (
    STOPWORDS,
    Filter,
    Map,
    clean,
    detect_language,
    exact_duplicate_mask,
    jaccard,
    language_mask,
    language_scores,
    length_mask,
    lowercase,
    minhash_signatures,
    near_duplicate_mask,
    near_duplicate_pairs,
    normalize_unicode,
    normalize_whitespace,
    remove_urls,
    report_table,
    shingles,
    strip_markup,
)


def test_normalize_unicode():
    assert normalize_unicode("I don’t know…") == "I don't know..."
    assert normalize_unicode("ﬁne Ａ\u200bB") == "fine AB"
    assert normalize_unicode("“hi” – ok", ascii_punctuation=False) == "“hi” – ok"
    assert normalize_unicode("e\u0301", form="NFC") == "é"  # composed
    with pytest.raises(ValueError, match="form must be one of"):
        normalize_unicode("x", form="NFX")


def test_lowercase_strip_markup_urls_whitespace():
    assert lowercase("Straße NFL") == "straße nfl"
    assert lowercase("Straße", method="casefold") == "strasse"
    assert strip_markup("a <b>bold</b> move &amp; <a href='x'>link</a></>") == "a bold move & link"
    assert strip_markup("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"  # not tags
    assert remove_urls("go to www.x.org/a now") == "go to  now"
    assert normalize_whitespace("\t a  b \n c ") == "a b c"
    assert normalize_whitespace("a  b \n\n  c", keep_newlines=True) == "a b\nc"


def test_length_and_exact_duplicates():
    texts = ["ok", "yes I do", "a b c d e", ""]
    assert length_mask(texts, min_words=2, max_words=4).tolist() == [False, True, False, False]
    assert length_mask(texts, min_words=0, min_chars=3).tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="min_words <= max_words"):
        length_mask(texts, min_words=3, max_words=2)
    dups = ["Hi, how are you?", "hi,  how are YOU?", "Hi how are you", "Hi, how are you?"]
    assert exact_duplicate_mask(dups).tolist() == [True, False, True, False]
    assert exact_duplicate_mask(dups, key=None).tolist() == [True, True, True, False]
    with pytest.raises(TypeError, match="list of documents"):
        exact_duplicate_mask("a str")


def test_shingles_and_jaccard_match_sklearn():
    a, b = shingles("Do you like football?", 3), shingles("do you like the NFL?", 3)
    assert "do " in a and "?" not in "".join(a)
    vocab = sorted(a | b)
    va = np.array([s in a for s in vocab])
    vb = np.array([s in b for s in vocab])
    assert jaccard(a, b) == pytest.approx(jaccard_score(va, vb))
    assert jaccard(a, b) == pytest.approx(0.4)
    assert shingles("hi", 5) == {"hi"}
    assert shingles("one two three four", 2, unit="word") == {"one two", "two three",
                                                              "three four"}
    assert jaccard(set(), set()) == 1.0


def test_minhash_estimates_jaccard():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    docs = [" ".join(rng.choice(words, 60)) for _ in range(12)]
    docs += [d[: len(d) // 2] + " extra words here" for d in docs[:4]]
    sig = minhash_signatures(docs, num_perm=256, seed=1)
    assert sig.shape == (16, 256) and sig.dtype == np.int64
    errors = []
    for i, j in itertools.combinations(range(len(docs)), 2):
        exact = jaccard(shingles(docs[i]), shingles(docs[j]))
        errors.append(abs(float((sig[i] == sig[j]).mean()) - exact))
    assert max(errors) < 0.12  # ~4 standard errors at 256 permutations
    assert np.array_equal(sig, minhash_signatures(docs, num_perm=256, seed=1))  # stable


def test_near_duplicates_agree_with_brute_force():
    texts = ["Do you like football?", "do you like football", "Do you like the NFL?",
             "Hi, how are you?", "hi how are you today?", "The Packers won again.",
             "Are you a fan of the NFL?", "Are you a fan of the NFL at all?"]
    brute = [(i, j) for i, j in itertools.combinations(range(len(texts)), 2)
             if jaccard(shingles(texts[i]), shingles(texts[j])) >= 0.6]
    found = near_duplicate_pairs(texts, threshold=0.6, num_perm=128, bands=32)
    assert [(i, j) for i, j, _ in found] == brute
    assert all(s >= 0.6 for *_, s in found)
    keep = near_duplicate_mask(texts, threshold=0.6, num_perm=128, bands=32)
    assert keep.tolist() == [True, False, True, True, False, True, True, False]
    with pytest.raises(ValueError, match="multiple of bands"):
        near_duplicate_pairs(texts, num_perm=64, bands=10)


def test_language_detection():
    assert detect_language("Where is the station?") == "en"
    assert detect_language("¿Dónde está la estación? Yo no sé.") == "es"
    assert detect_language("Ich weiß nicht, wo der Bahnhof ist.") == "de"
    assert detect_language("Je ne sais pas où est la gare.") == "fr"
    assert detect_language("Go.") == "unknown"
    assert detect_language("¿Quién vive en esa casa?") == "es"  # "en" is also French
    # A word shared by k lists counts 1/k for each: "in" is English and German.
    assert "in" in STOPWORDS["en"] and "in" in STOPWORDS["de"]
    assert language_scores("in the house") == {"en": 1.5, "es": 0.0, "de": 0.5, "fr": 0.0}
    assert detect_language("in in") == "unknown"  # a tie decides nothing
    texts = ["I like it", "Me gusta mucho", "Ok"]
    assert language_mask(texts).tolist() == [True, False, True]
    assert language_mask(texts, keep_unknown=False).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="known languages"):
        language_mask(texts, keep="zh")


def test_clean_pipeline_reports_counts_and_indices():
    raw = ["<b>Great</b>   movie!", "great movie!", "Una película estupenda para ver",
           "ok", "A   quiet, moving film about the sea."]
    result = clean(raw, [Map(strip_markup), Map(normalize_whitespace), Map(lowercase),
                         Filter(exact_duplicate_mask), Filter(length_mask, min_words=2),
                         Filter(language_mask, keep="en")])
    assert result.texts == ["great movie!", "a quiet, moving film about the sea."]
    assert result.indices.tolist() == [0, 4]
    assert [r.docs_changed for r in result.report] == [1, 2, 3, 0, 0, 0]
    assert [r.docs_removed for r in result.report] == [0, 0, 0, 1, 1, 1]
    assert result.report[0].chars_in - result.report[0].chars_out == len("<b></b>")
    assert result.report[-1].step == "language_mask(keep='en')"
    table = report_table(result.report)
    assert table.count("\n") == 7 and "| `strip_markup` | 5 | 5 | 0 | 1 |" in table
    with pytest.raises(TypeError, match="Map\\(fn, ...\\) or Filter"):
        clean(raw, [strip_markup])
    with pytest.raises(ValueError, match="boolean mask"):
        clean(raw, [Filter(lambda texts: [1] * len(texts))])
