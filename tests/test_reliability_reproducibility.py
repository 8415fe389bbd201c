"""Reproducibility (issue #12, item 6): one seed, identical training losses; notebooks seed first.

tests/test_reproducibility.py checks seed_everything on random draws and a small Dense model;
here the course's own GPT and Trainer, at the smoke size of benchmarks/char_gpt.py, with
dropout on (so the dropout masks must repeat too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from course_lib.gpt import GPT, GPTConfig
from course_lib.reproducibility import seed_everything
from course_lib.training import LMBatches, TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/char_gpt.py's smoke profile (context 16, batch 4, 1 layer, 2 heads, width 16),
# with dropout 0.1 so that the dropout masks are part of what must repeat.
SMOKE = dict(vocab_size=65, context_length=16, num_layers=1, num_heads=2, width=16, dropout=0.1)


def _train(seed: int) -> list[float]:
    seed_everything(seed)
    tokens = np.random.randint(0, SMOKE["vocab_size"], 3000)  # drawn after seeding, on purpose
    model = GPT(GPTConfig(**SMOKE))
    config = TrainConfig(
        max_steps=6, warmup_steps=2, eval_interval=3, eval_batches=2, jit_compile=False, verbose=0
    )
    history = Trainer(model, config).fit(
        LMBatches(tokens, 16, 4, seed=seed), LMBatches(tokens, 16, 4, seed=seed + 1)
    )
    return [v for row in history for v in (row["train_loss"], row["val_loss"])]


def test_two_seeded_gpt_trainings_give_identical_losses():
    first = _train(3)
    assert len(first) == 4 and all(np.isfinite(first))
    assert _train(3) == first  # bit for bit, not approximately
    assert _train(4) != first  # and the seed matters


# --- notebooks seed in their first code cell ---------------------------------------------------

SEED_CALL = re.compile(r"^[^#\n]*\bseed_everything\(", re.M)


def _first_code_cell_of_source(text: str) -> str | None:
    cells = re.split(r"^# %%(.*)$", text, flags=re.M)
    # re.split with one group gives [before, header1, body1, header2, body2, ...]
    for header, body in zip(cells[1::2], cells[2::2], strict=True):
        if "[markdown]" not in header:
            return body
    return None


def _first_code_cell_of_notebook(path: Path) -> str | None:
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            return "".join(source) if isinstance(source, list) else source
    return None


def test_every_notebook_seeds_in_its_first_code_cell():
    sources = sorted((ROOT / "notebooks" / "src").glob("*.py"))
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert sources, "no notebooks/src/*.py found"
    missing = []
    for path in sources:
        cell = _first_code_cell_of_source(path.read_text(encoding="utf-8"))
        if cell is None or not SEED_CALL.search(cell):
            missing.append(str(path.relative_to(ROOT)))
    for path in notebooks:
        cell = _first_code_cell_of_notebook(path)
        if cell is None or not SEED_CALL.search(cell):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, (
        f"these notebooks do not call seed_everything(...) in their first code cell: {missing}; "
        "start it with `from course_lib.reproducibility import seed_everything` and "
        "`seed_everything()`"
    )


def test_the_first_cell_scan_can_fail():
    good = "# %% [markdown]\n# # Title\n\n# %%\nimport x\nseed = seed_everything(1)\n"
    late = "# %% [markdown]\n# # T\n\n# %%\nimport x\n\n# %%\nseed_everything()\n"
    commented = "# %%\n# seed_everything()\nimport x\n"
    assert SEED_CALL.search(_first_code_cell_of_source(good))
    assert not SEED_CALL.search(_first_code_cell_of_source(late))
    assert not SEED_CALL.search(_first_code_cell_of_source(commented))
    assert _first_code_cell_of_source("# %% [markdown]\n# only prose\n") is None
