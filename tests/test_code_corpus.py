"""course_lib.chapters.ch09_generation_and_dialogue: the standard library as a code corpus."""

import sysconfig
from pathlib import Path

import pytest

from course_lib.chapters.ch09_generation_and_dialogue import (
    LICENSE,
    license_text,
    load_stdlib_code,
    stdlib_dir,
    stdlib_files,
)


@pytest.fixture()
def fake_lib(tmp_path):
    files = {
        "b.py": "b = 2\n",
        "a.py": "a = 1\r\n",
        "_private.py": "hidden = True\n",
        "big.py": "x = 0\n" * 100,
        "pkg/__init__.py": "",
        "pkg/mod.py": "def f():\n    return 1\n",
        "pkg/_impl.py": "impl = 1\n",
        "test/test_a.py": "assert True\n",
        "site-packages/thirdparty.py": "import this\n",
        "notes.txt": "not code\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return tmp_path


def test_files_are_sorted_and_filtered(fake_lib):
    names = [p.as_posix() for p in stdlib_files(root=fake_lib)]
    assert names == ["a.py", "b.py", "big.py", "pkg/__init__.py", "pkg/mod.py"]
    top = [p.as_posix() for p in stdlib_files(root=fake_lib, top_level_only=True)]
    assert top == ["a.py", "b.py", "big.py"]
    everything = [p.as_posix() for p in stdlib_files(root=fake_lib, skip_private=False)]
    assert "_private.py" in everything and "pkg/_impl.py" in everything
    assert "test/test_a.py" not in everything and "site-packages/thirdparty.py" not in everything


def test_size_limit_skips_files_that_do_not_fit(fake_lib):
    # a.py (6 chars once \r\n -> \n) + separator (13) + b.py (6) = 25; big.py (600) does
    # not fit, the empty __init__ is left out, pkg/mod.py (13 + 22) fills the rest exactly.
    corpus = load_stdlib_code(60, root=fake_lib)
    assert corpus.files == ["a.py", "b.py", "pkg/mod.py"]
    assert corpus.documents() == ["a = 1\n", "b = 2\n", "def f():\n    return 1\n"]
    assert len(corpus.text) == 60
    assert load_stdlib_code(59, root=fake_lib).files == ["a.py", "b.py"]
    assert corpus.license == LICENSE == "PSF-2.0"
    with pytest.raises(ValueError, match="no standard-library file fits"):
        load_stdlib_code(3, root=fake_lib)
    with pytest.raises(ValueError, match="max_chars"):
        load_stdlib_code(0, root=fake_lib)
    with pytest.raises(FileNotFoundError):
        stdlib_files(root=fake_lib / "missing")


def test_real_stdlib_slice_is_deterministic():
    assert stdlib_dir() == Path(sysconfig.get_paths()["stdlib"])
    first = load_stdlib_code(60_000)
    second = load_stdlib_code(60_000)
    assert first.files == second.files and first.text == second.text
    assert first.files == sorted(first.files)
    assert 50_000 < len(first.text) <= 60_000
    assert all(not name.startswith("_") and "test/" not in name for name in first.files)
    compile(first.documents()[0], first.files[0], "exec")  # real Python source
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in license_text()
