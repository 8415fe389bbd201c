"""fetch(): mirror, cache and download paths, and every way a download can fail.

Downloads are served by a local http.server on 127.0.0.1; registries are built from dicts, so
nothing here touches the network or the real home cache.
"""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
