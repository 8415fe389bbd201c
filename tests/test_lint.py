"""The code base is ruff-clean (the `make lint` command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"
PATHS = ["course_lib", "tests", "benchmarks", "tools", "notebooks"]


def _ruff(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), "check", "--no-cache", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed in this environment")
def test_ruff_is_clean():
    result = _ruff(*PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed in this environment")
def test_ruff_reports_a_problem(tmp_path):
    """The check above can fail: the repository's settings do flag an unused import."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = _ruff("--config", str(REPO / "pyproject.toml"), str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert "F401" in result.stdout
