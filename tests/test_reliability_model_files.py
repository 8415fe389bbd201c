"""Model files (issue #12, item 3): safe mode always on, clear errors for damaged files."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib.gpt import GPT, GPTConfig
from course_lib.model_io import ModelFileError, UnsafeModelError, load_model, save_model

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16)


@pytest.fixture(scope="module")
def saved_gpt(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(**TINY))
    path = save_model(model, tmp_path_factory.mktemp("model") / "tiny.keras")
    return model, path


def test_save_and_load_round_trip(saved_gpt):
    model, path = saved_gpt
    assert not list(path.parent.glob(".tmp-*"))  # the temporary file was renamed away
    loaded = load_model(path)
    assert loaded.config == model.config
    ids = np.arange(8, dtype="int32")[None] % 11
    np.testing.assert_array_equal(np.asarray(loaded(ids)), np.asarray(model(ids)))


def test_a_training_checkpoint_loads_in_safe_mode_with_its_optimizer(tmp_path):
    from course_lib.training import LMBatches, TrainConfig, Trainer

    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(**TINY))
    config = TrainConfig(
        max_steps=2, eval_interval=2, eval_batches=1, warmup_steps=0, jit_compile=False, verbose=0
    )
    Trainer(model, config, checkpoint_dir=tmp_path).fit(LMBatches(np.arange(300) % 11, 8, 2))
    loaded = load_model(tmp_path / "ckpt-000002.keras")
    assert int(loaded.optimizer.iterations) == 2
    assert type(loaded.optimizer._learning_rate).__name__ == "WarmupCosineSchedule"
    ids = np.zeros((1, 8), "int32")
    np.testing.assert_array_equal(np.asarray(loaded(ids)), np.asarray(model(ids)))


@pytest.fixture
def lambda_model_file(tmp_path):
    """A .keras file whose Lambda layer carries Python bytecode that writes a marker file."""
    marker = tmp_path / "code-ran"
    # Globals are not stored with the bytecode, so the payload names the path as a constant.
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(payload)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink(missing_ok=True)  # building the model ran the payload once, here
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    (layer,) = [lay for lay in config["config"]["layers"] if lay["class_name"] == "Lambda"]
    function = layer["config"]["function"]
    assert function["class_name"] == "__lambda__"  # the file really holds bytecode
    return path, marker


def test_lambda_bytecode_is_refused_with_a_clear_message(lambda_model_file):
    path, marker = lambda_model_file
    with pytest.raises(UnsafeModelError) as info:
        load_model(path)
    message = str(info.value)
    assert str(path) in message
    assert "holds Python code" in message and "was not loaded" in message
    assert "load only its weights with model.load_weights(path)" in message
    assert "safe_mode=False" not in message  # never advise turning the protection off
    assert not marker.exists()


def test_the_payload_is_live_so_the_refusal_matters(lambda_model_file):
    # Control: with safe mode off, loading this file runs its code. The course never does this
    # outside this test (see test_no_source_turns_safe_mode_off).
    path, marker = lambda_model_file
    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


def test_safe_mode_stays_on_after_a_global_opt_out(lambda_model_file):
    # Keras lets keras.config.enable_unsafe_deserialization() override an explicit
    # load_model(..., safe_mode=True); course_lib's load_model must not.
    from keras.src.backend.common import global_state
    from keras.src.saving import serialization_lib

    path, marker = lambda_model_file
    before = serialization_lib.in_safe_mode()
    keras.config.enable_unsafe_deserialization()
    try:
        with pytest.raises(UnsafeModelError):
            load_model(path)
    finally:
        global_state.set_global_attribute("safe_mode_saving", before)
    assert not marker.exists()


def _truncated(data):
    return data[: len(data) // 2]


def _bit_flipped(data):
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


def _not_a_model(_data):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage, expected",
    [
        (_truncated, "is not a readable .keras archive: it is truncated"),
        (lambda data: b"<html>404 Not Found</html>" * 20, "is not a readable .keras archive"),
        (lambda data: b"", "is empty (0 bytes)"),
        (_bit_flipped, "fails its checksum"),
        (_not_a_model, "lacks config.json, model.weights.h5"),
    ],
    ids=["truncated", "garbage", "empty", "bit-flipped", "zip-but-no-model"],
)
def test_damaged_files_give_a_clear_error(saved_gpt, tmp_path, damage, expected):
    _, good = saved_gpt
    bad = tmp_path / "damaged.keras"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(ModelFileError) as info:
        load_model(bad)
    message = str(info.value)
    assert str(bad) in message and expected in message
    if "lacks" not in expected:
        assert "Download it again" in message and "save the model again" in message


def test_keras_alone_gives_a_misleading_error_for_a_truncated_file(saved_gpt, tmp_path):
    # Why load_model checks the archive first: Keras calls a truncated file "not found".
    _, good = saved_gpt
    bad = tmp_path / "truncated.keras"
    bad.write_bytes(_truncated(good.read_bytes()))
    with pytest.raises(ValueError, match="File not found"):
        keras.saving.load_model(bad)


def test_missing_folder_and_other_formats_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file at .*train and save the model"):
        load_model(tmp_path / "nothing.keras")
    with pytest.raises(ModelFileError, match="is a folder, not a .keras file"):
        load_model(tmp_path)
    legacy = tmp_path / "model.h5"
    legacy.write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ModelFileError, match="loads only Keras 3 .keras files"):
        load_model(legacy)
    with pytest.raises(ValueError, match="must end in .keras"):
        save_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), legacy)


def test_unknown_custom_layer_says_how_to_fix(tmp_path):
    @keras.saving.register_keras_serializable(package="reliability_test_only")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    path = tmp_path / "custom.keras"
    keras.Sequential([keras.Input((2,)), Twice()]).save(path)
    # Forget the registration, as in a fresh process that did not import the layer's module.
    registry = keras.saving.get_custom_objects()
    registry.pop("reliability_test_only>Twice")
    with pytest.raises(ModelFileError, match="import the module that defines them"):
        load_model(path)


# --- no source turns safe mode off ---------------------------------------------------------

SCANNED = ("course_lib", "notebooks/src", "notebooks/solutions/src", "benchmarks", "tools",
           "tests")
UNSAFE_TEXT = re.compile(r"safe_mode\s*=\s*False|[\"']safe_mode[\"']\s*:\s*False")
# This file turns safe mode off on purpose, to show that course_lib's loader keeps it on.
DELIBERATE = Path(__file__).resolve()


def _sources():
    files = [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py"))]
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    notebooks += sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    return [p for p in files if p.resolve() != DELIBERATE] + notebooks


# Keras's loaders, called anywhere but in course_lib.model_io, would skip its archive checks
# and its forced safe mode.
DIRECT_LOAD = re.compile(r"\bkeras\.(?:saving|models)\.load_model\(|\bsaving\.load_model\(")


def _direct_loads(path: Path) -> list[str]:
    if path.name == "model_io.py":
        return []
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [f"{where}: {m.group(0)}" for m in DIRECT_LOAD.finditer(text)]


def test_every_model_load_goes_through_the_safe_loader():
    found = [hit for path in _sources() for hit in _direct_loads(path)]
    assert not found, f"load models with course_lib.model_io.load_model: {found}"


def test_the_direct_load_scan_catches_each_form(tmp_path):
    for code in ("m = keras.saving.load_model(p)\n", "m = keras.models.load_model(p)\n",
                 "from keras import saving\nm = saving.load_model(p)\n"):
        probe = tmp_path / "probe.py"
        probe.write_text(code)
        assert _direct_loads(probe), code
    (tmp_path / "fine.py").write_text("from course_lib.model_io import load_model\n")
    assert _direct_loads(tmp_path / "fine.py") == []


def test_a_model_file_loads_in_a_fresh_process_that_imports_only_the_loader(tmp_path):
    path = save_model(GPT(GPTConfig(11, 8, 1, 2, 16)), tmp_path / "tiny.keras")
    code = (
        "import sys\n"
        "from course_lib.model_io import load_model\n"
        f"model = load_model({str(path)!r})\n"
        "assert 'course_lib.training' not in sys.modules, 'the loader imported the trainer'\n"
        "print(type(model).__name__, model.config.vocab_size)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["GPT", "11"]


def _unsafe_calls(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = [f"{path.name}: {m.group(0)}" for m in UNSAFE_TEXT.finditer(text)]
    if path.suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name == "enable_unsafe_deserialization":
                    found.append(f"{path.name}:{node.lineno}: enable_unsafe_deserialization()")
    elif "enable_unsafe_deserialization(" in text:
        found.append(f"{path.name}: enable_unsafe_deserialization()")
    return found


def test_no_source_turns_safe_mode_off():
    files = _sources()
    assert any(p.name == "model_io.py" for p in files) and len(files) > 10
    found = [hit for path in files for hit in _unsafe_calls(path)]
    assert not found, f"safe mode turned off (load untrusted files with safe mode on): {found}"


def test_the_scan_catches_each_form(tmp_path):
    for code in (
        "keras.saving.load_model(p, safe_mode=False)\n",
        "load(p, safe_mode = False)\n",
        "kwargs = {'safe_mode': False}\n",
        "import keras\nkeras.config.enable_unsafe_deserialization()\n",
    ):
        probe = tmp_path / "probe.py"
        probe.write_text(code)
        assert _unsafe_calls(probe), code
