"""course_lib.tooling.results: per-profile records that chapters save and the runner collects."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_lib.tooling import results


@pytest.fixture(autouse=True)
def _tmp_results(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV_VAR, str(tmp_path))
    return tmp_path


def test_save_and_load_round_trip_with_numpy_values(tmp_path):
    path = results.save_json("demo", {"acc": np.float32(0.5), "n": np.int64(3),
                                      "curve": np.arange(3)}, profile="cpu")
    assert path == tmp_path / "cpu" / "demo.json"
    assert results.load_json("demo", profile="cpu") == {"acc": 0.5, "n": 3, "curve": [0, 1, 2]}


def test_smoke_never_touches_cpu_records_but_falls_back_to_them():
    results.save_json("baseline", {"acc": 0.78}, profile="cpu")
    results.save_json("baseline", {"acc": 0.1}, profile="smoke")
    assert results.load_json("baseline", profile="cpu") == {"acc": 0.78}
    assert results.load_json("other", profile="smoke") is None
    results.save_json("only_cpu", {"x": 1}, profile="cpu")
    assert results.load_json("only_cpu", profile="smoke") == {"x": 1}
    assert results.load_json("only_cpu", profile="smoke", fallback=()) is None


def test_key_figures_merge_and_collect():
    results.record_key_figures("08", {"accuracy": 0.77}, profile="cpu")
    results.record_key_figures("08", {"f1": 0.76}, profile="cpu")
    results.record_key_figures("10", {"BLEU": 21.0}, profile="cpu")
    assert results.key_figures("08", profile="cpu") == {"accuracy": 0.77, "f1": 0.76}
    assert list(results.all_key_figures(profile="cpu")) == ["08", "10"]
    assert results.key_figures("09", profile="cpu") == {}


def test_bad_input_is_rejected_clearly(tmp_path):
    with pytest.raises(ValueError, match="two digits"):
        results.record_key_figures("8", {"a": 1}, profile="cpu")
    with pytest.raises(ValueError, match="plain file name"):
        results.save_json("../escape", {}, profile="cpu")
    with pytest.raises(ValueError, match="Unknown profile"):
        results.save_json("x", {}, profile="laptop")
    with pytest.raises(TypeError, match="convert it"):
        results.save_json("x", {"obj": object()}, profile="cpu")
    assert not list((tmp_path / "cpu").glob("*.json"))  # nothing half-written


def test_non_finite_numbers_become_null(tmp_path):
    path = results.save_json("nan", {"loss": float("nan")}, profile="cpu")
    assert json.loads(path.read_text()) == {"loss": None}
