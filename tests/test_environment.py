"""The pinned stack (requirements*.txt, environment.yml, what is installed) and the report."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from course_lib.tooling import environment
from course_lib.tooling.environment import (
    PACKAGES,
    environment_report,
    format_report,
    recommended_policy,
)

REPO = Path(__file__).resolve().parents[1]
KEY_PACKAGES = ("tensorflow", "tensorflow-text", "keras", "keras-hub", "numpy", "jupyterlab",
                "nbval", "pytest")


def parse_pins(lines: list[str]) -> dict[str, str]:
    """Maps canonical package name -> pinned version for ``name==version`` lines.

    Comments, blank lines, ``-r``/``-e`` options are skipped; any other line must be an exact pin.
    """
    pins = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not an exact pin: {raw!r}"
        name = canonicalize_name(req.name)
        assert name not in pins, f"{name} pinned twice"
        pins[name] = specs[0].version
    return pins


def requirements_pins() -> dict[str, str]:
    return parse_pins((REPO / "requirements.txt").read_text().splitlines())


def environment_yml() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def test_parse_pins_rejects_loose_pins():
    assert parse_pins(["keras==3.15.1  # ok", "", "-r base.txt"]) == {"keras": "3.15.1"}
    with pytest.raises(AssertionError, match="not an exact pin"):
        parse_pins(["keras>=3"])
    with pytest.raises(AssertionError, match="pinned twice"):
        parse_pins(["keras==1", "Keras==2"])


def test_environment_yml_mirrors_requirements():
    env = environment_yml()
    assert env["name"] == "llm-course"
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "expected exactly one pip: list"
    pip_list = pip_lists[0]
    assert "-e ." in pip_list
    assert parse_pins(pip_list) == requirements_pins()


def test_gpu_requirements_include_the_cpu_pins_and_the_same_tensorflow():
    lines = (REPO / "requirements-gpu.txt").read_text().splitlines()
    stripped = [ln.split("#", 1)[0].strip() for ln in lines]
    assert "-r requirements.txt" in stripped
    gpu = [Requirement(ln) for ln in stripped if ln and not ln.startswith("-")]
    assert [str(r.name) for r in gpu] == ["tensorflow"]
    assert gpu[0].extras == {"and-cuda"}
    assert str(gpu[0].specifier) == f"=={requirements_pins()['tensorflow']}"


def test_installed_versions_equal_the_pins():
    pins = requirements_pins()
    for name in KEY_PACKAGES:
        assert canonicalize_name(name) in pins, f"{name} is not pinned in requirements.txt"
    wrong = {}
    for name, pinned in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"installed != pinned (pinned, installed): {wrong}; run `make setup`"


def test_keras_has_the_archive_path_traversal_fix():
    # Keras before 3.14.0 could write outside the target folder when extracting archives.
    assert Version(metadata.version("keras")) >= Version("3.14.0")
    assert Version(requirements_pins()["keras"]) >= Version("3.14.0")


@pytest.mark.parametrize(
    "ccs, tpu, expected",
    [
        ([], False, (True, "mixed_bfloat16")),
        ([], True, (True, "mixed_bfloat16")),
        ([(7, 0)], False, (True, "mixed_float16")),
        ([(7, 5)], False, (True, "mixed_float16")),
        ([(8, 0)], False, (True, "mixed_bfloat16")),
        ([(9, 0)], False, (True, "mixed_bfloat16")),
        ([(9, 0), (7, 5)], False, (True, "mixed_float16")),  # the weakest GPU decides
        ([(6, 1)], False, (False, "float32")),
        ([None], False, (False, "float32")),
    ],
)
def test_recommended_policy(ccs, tpu, expected):
    available, policy, reason = recommended_policy(ccs, tpu=tpu)
    assert (available, policy) == expected
    assert reason


@pytest.fixture(scope="module")
def report():
    return environment_report()


def test_report_has_every_fact(report):
    assert set(report) == {
        "python", "platform", "cpu_count", "ram_gib", "packages", "keras_backend", "gpus",
        "tpu", "mixed_precision", "xla", "profile", "course_data_dir",
    }
    assert report["python"].split(".")[:2] in (["3", "11"], ["3", "12"], ["3", "13"])
    assert report["cpu_count"] >= 1
    assert report["ram_gib"] > 0
    assert list(report["packages"]) == list(PACKAGES)
    for name, version in report["packages"].items():
        assert version == metadata.version(name)
    assert report["keras_backend"] == "tensorflow"
    assert isinstance(report["xla"], bool)
    assert report["mixed_precision"]["policy"] in {"mixed_float16", "mixed_bfloat16", "float32"}


def test_report_gpus_match_tensorflow(report):
    import tensorflow as tf

    assert [g["device"] for g in report["gpus"]] == [
        d.name for d in tf.config.list_physical_devices("GPU")
    ]


def test_report_profile_and_data_dir(monkeypatch):
    from course_lib import profiles

    profiles._active_from_env.cache_clear()
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_DATA_DIR", "/somewhere/datasets")
    try:
        r = environment_report()
        assert r["profile"] == {"name": "smoke", "source": "COURSE_PROFILE"}
        assert r["course_data_dir"] == "/somewhere/datasets"
        monkeypatch.setenv("COURSE_PROFILE", "nonsense")
        monkeypatch.delenv("COURSE_DATA_DIR")
        r = environment._profile()
        assert r["name"] == "invalid" and "nonsense" in r["source"]
    finally:
        profiles._active_from_env.cache_clear()


def test_format_report_is_an_aligned_table(report):
    text = format_report(report)
    lines = text.splitlines()
    assert len(lines) >= 5 + len(PACKAGES)
    # Every value starts in the same column, after at least two spaces.
    starts = {re.match(r"^(.+?\S)\s{2,}\S", ln).end() - 1 for ln in lines}
    assert len(starts) == 1, text
    assert re.search(r"^keras\s+" + re.escape(report["packages"]["keras"]) + "$", text, re.M)
    assert re.search(r"^Keras backend\s+tensorflow$", text, re.M)
    assert "COURSE_DATA_DIR" in text and "Mixed precision" in text and "XLA" in text


def test_format_report_shows_gpus_and_missing_values():
    text = format_report({
        "packages": {"keras": None},
        "gpus": [{"device": "/physical_device:GPU:0", "name": "NVIDIA H100",
                  "compute_capability": (9, 0)}],
        "mixed_precision": {"available": True, "policy": "mixed_bfloat16", "reason": "r"},
        "profile": {"name": "gpu", "source": "detected"},
    })
    assert re.search(r"^keras\s+not installed$", text, re.M)
    assert re.search(r"^GPU 0\s+NVIDIA H100 \(compute capability 9\.0\)$", text, re.M)
    assert re.search(r"^Profile\s+gpu \(from detected\)$", text, re.M)
    assert re.search(r"^COURSE_DATA_DIR\s+\(unset\)$", text, re.M)
