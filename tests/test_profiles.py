"""course_lib.profiles: pick, validation, the COURSE_PROFILE variable and GPU detection."""

from __future__ import annotations

import pytest

from course_lib import profiles
from course_lib.profiles import ENV_VAR, PROFILE_NAMES, Profile, active_profile


@pytest.fixture(autouse=True)
def fresh_profile_cache():
    """``_active_from_env`` is lru-cached per value; clear it so each test reads afresh."""
    profiles._active_from_env.cache_clear()
    yield
    profiles._active_from_env.cache_clear()


@pytest.mark.parametrize("name, expected", [("smoke", 1), ("cpu", 2), ("gpu", 3)])
def test_pick_returns_the_value_for_the_profile(name, expected):
    assert Profile(name).pick(smoke=1, cpu=2, gpu=3) == expected


def test_pick_requires_all_three_values_by_keyword():
    with pytest.raises(TypeError):
        Profile("cpu").pick(smoke=1, cpu=2)  # gpu missing
    with pytest.raises(TypeError):
        Profile("cpu").pick(1, 2, 3)


def test_unknown_profile_names_the_choices_and_the_fix():
    with pytest.raises(ValueError) as err:
        Profile("laptop")
    message = str(err.value)
    assert "'laptop'" in message
    for name in PROFILE_NAMES:
        assert name in message
    assert f"export {ENV_VAR}=" in message


def test_is_smoke_and_str():
    assert Profile("smoke").is_smoke and not Profile("cpu").is_smoke
    assert str(Profile("gpu")) == "gpu"
    assert Profile("gpu").source == "explicit"


@pytest.mark.parametrize("value", ["smoke", "cpu", "gpu", "  CPU "])
def test_env_var_sets_the_profile(monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    p = active_profile()
    assert p.name == value.strip().lower()
    assert p.source == ENV_VAR


def test_env_var_change_is_seen_after_cache_clear(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "smoke")
    assert active_profile().name == "smoke"
    monkeypatch.setenv(ENV_VAR, "gpu")
    assert active_profile().name == "gpu"  # the cache is keyed on the value


def test_bad_env_var_raises(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "fast")
    with pytest.raises(ValueError, match="Unknown profile 'fast'"):
        active_profile()


@pytest.mark.parametrize("value", [None, ""])
def test_detection_falls_back_to_cpu_without_gpu(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, value)
    monkeypatch.setattr(profiles, "gpu_available", lambda: False)
    p = active_profile()
    assert (p.name, p.source) == ("cpu", "detected")


def test_detection_picks_gpu_when_one_is_visible(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: True)
    p = active_profile()
    assert (p.name, p.source) == ("gpu", "detected")


def test_gpu_available_agrees_with_tensorflow():
    import tensorflow as tf

    assert profiles.gpu_available() == bool(tf.config.list_physical_devices("GPU"))
