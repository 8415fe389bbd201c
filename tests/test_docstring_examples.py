"""Every ``>>>`` example in ``course_lib``'s docstrings runs and prints what it shows.

The docstrings are the library's first documentation; an example that no longer matches the
code teaches the wrong thing. Examples in fenced code blocks (training runs, file downloads)
are illustrations and are not executed here; the ``>>>`` ones are.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import course_lib

# Every module of every subpackage (the data package, the chapter modules, the exercises, the
# tooling), and each package's own docstring too.
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(course_lib.__path__, prefix="course_lib.")
    if not m.name.endswith(".__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_modules_are_found_in_every_subpackage():
    for name in ("course_lib.metrics", "course_lib.data.loader", "course_lib.exercises.ch01",
                 "course_lib.tooling.results", "course_lib.exercises"):
        assert name in MODULES, name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    # Some examples set environment variables (course_lib.tooling.results points COURSE_RESULTS_DIR
    # at a temporary folder); none of that may reach the tests and notebooks that follow.
    saved_env = dict(os.environ)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in finder.find(module, name, globs={}):
        # Like pytest's doctest_namespace: the usual imports are there without a line each.
        test.globs = {"np": np, "keras": keras, "tf": tf, **module.__dict__}
        runner.run(test)
    os.environ.clear()
    os.environ.update(saved_env)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
