"""Session-wide test settings, kept minimal on purpose (every test module shares them).

At import, before any test imports Keras or Matplotlib, this module sets three environment
variables, each only when it is unset, so an explicit choice always wins:

- ``COURSE_DATA_DIR``: ``<repo>/../shared/datasets`` when that folder exists (the layout CI uses,
  see ``.ci/run``), so data-reading tests use the local mirror instead of the network.
- ``KERAS_HOME`` and ``MPLCONFIGDIR``: one temporary folder for the session, so a developer's
  ``~/.keras/keras.json`` (another backend, another float type) or Matplotlib settings cannot
  change results, and nothing is written to ``$HOME``. The folder is removed at the end.

The variables are inherited by subprocesses and by the notebook kernels nbval starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_shared_data = REPO.parent / "shared" / "datasets"
if not os.environ.get("COURSE_DATA_DIR") and _shared_data.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(_shared_data)

_tmp_home = Path(tempfile.mkdtemp(prefix="course-tests-"))
for _var, _sub in (("KERAS_HOME", "keras"), ("MPLCONFIGDIR", "matplotlib")):
    if not os.environ.get(_var):
        (_tmp_home / _sub).mkdir()
        os.environ[_var] = str(_tmp_home / _sub)


def pytest_unconfigure(config):
    shutil.rmtree(_tmp_home, ignore_errors=True)
