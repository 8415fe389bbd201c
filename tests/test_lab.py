"""`make lab` really starts JupyterLab on notebooks/ with a working Python kernel.

Starts the README's first command as a subprocess in its own process group, waits until the
server answers, checks what it serves, then stops the whole group (make, jupyter and kernels).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 90  # seconds for the server to answer once setup is done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read().decode())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    pgid = os.getpgid(proc.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_notebooks(tmp_path):
    # `make lab` depends on `make setup`; run it first so a stale venv stamp (pip checking the
    # pins) does not eat into the server's start-up time.
    subprocess.run(["make", "setup"], cwd=REPO, check=True, timeout=900,
                   stdout=subprocess.DEVNULL)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env["LAB_ARGS"] = (
        f"--no-browser --port={port} --IdentityProvider.token={token} "
        "--ServerApp.open_browser=False"
    )
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")  # no connection files in $HOME
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["make", "lab"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        contents, deadline = None, time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"make lab exited early:\n{log.read_text()[-3000:]}"
            try:
                contents = _get_json(f"{base}/api/contents/?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(1)
        assert contents is not None, (
            f"JupyterLab did not answer within {STARTUP_TIMEOUT}s:\n{log.read_text()[-3000:]}"
        )
        names = {item["name"] for item in contents["content"]}
        assert "00_welcome.ipynb" in names, f"the server is not serving notebooks/: {names}"
        assert "src" in names  # the notebook sources live beside the chapters

        specs = _get_json(f"{base}/api/kernelspecs?token={token}")
        assert "python3" in specs["kernelspecs"], specs

        # Without the token the API refuses: the server is not open to anyone on the machine.
        with pytest.raises(urllib.error.HTTPError) as err:
            _get_json(f"{base}/api/contents/")
        assert err.value.code == 403
    finally:
        _stop(proc)
    assert proc.returncode is not None
