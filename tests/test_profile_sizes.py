"""The three sizes every chapter declares with ``profile.pick`` are well formed.

Only the smoke profile runs in the tests, and the cpu profile when a chapter's stored outputs
are made. The gpu sizes run only on a GPU, so a width that its head count does not divide, or
a tuple with a missing entry, would surface there, after an hour of setup. This test reads
every ``profile.pick(...)`` in the chapter and solution sources (without running them) and
checks what can be checked on any machine: all three scales are given, they have the same
shape, and every model size among them passes its config class's own validation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from course_lib.encoder import EncoderConfig, Seq2SeqConfig
from course_lib.gpt import GPTConfig

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks" / "src").glob("*.py")) + sorted(
    (REPO / "notebooks" / "solutions" / "src").glob("*.py"))
SCALES = ("smoke", "cpu", "gpu")


def _picks(path: Path):
    """(line, {scale: literal value, or _NOT_LITERAL}) for each ``.pick(...)`` call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "pick"):
            continue
        values = {}
        for kw in node.keywords:
            try:
                values[kw.arg] = _literal(kw.value)
            except ValueError:
                values[kw.arg] = _NOT_LITERAL
        yield node.lineno, values


_NOT_LITERAL = object()


def _literal(node):
    """``ast.literal_eval``, plus ``dict(key=value, ...)``, the form the chapters write sizes in."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        if node.args or any(kw.arg is None for kw in node.keywords):
            raise ValueError("dict(...) with positional or ** arguments")
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    return ast.literal_eval(node)
PICKS = [(f"{p.parent.name}/{p.name}:{line}", values)
         for p in SOURCES for line, values in _picks(p)]


def _shape(value):
    """A value's structure: what must match across scales (numbers and None are alike)."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    if isinstance(value, (bool, str)):  # a switch such as jit_compile=False / "auto"
        return "option"
    if isinstance(value, tuple):
        return ("tuple", tuple(_shape(v) for v in value))
    if isinstance(value, list):  # lists may differ in length (e.g. sizes of a sweep)
        return ("list", {_shape(v) for v in value})
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def _model_configs(value):
    """The model-size dicts inside a value (a dict itself, or a list of them)."""
    if isinstance(value, dict):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _model_configs(v)


def _validate(size: dict):
    """Builds the config class a size dict is written for; its __post_init__ validates it."""
    if "num_encoder_layers" in size:
        return Seq2SeqConfig(100, 100, 16, 16, **size)
    if "context_length" in size:
        return GPTConfig(vocab_size=100, **size)
    if {"num_layers", "num_heads", "width"} <= set(size):
        return EncoderConfig(vocab_size=100, max_length=16, **size)
    return None


def test_picks_are_found():
    assert len(PICKS) > 100
    assert any("10_translation" in where for where, _ in PICKS)
    sizes = [size for _, values in PICKS for value in values.values()
             if value is not _NOT_LITERAL for size in _model_configs(value)
             if _validate(size) is not None]
    assert len(sizes) >= 21  # seven model sizes in chapters 04-13, at three scales each


@pytest.mark.parametrize(("where", "values"), PICKS, ids=[w for w, _ in PICKS])
def test_every_scale_is_given_with_the_same_shape(where, values):
    assert tuple(values) == SCALES, f"{where}: give smoke=, cpu= and gpu=, in that order"
    literal = {k: v for k, v in values.items() if v is not _NOT_LITERAL}
    shapes = {k: _shape(v) for k, v in literal.items()}
    assert len(set(map(repr, shapes.values()))) <= 1, f"{where}: the scales differ in shape: {shapes}"


@pytest.mark.parametrize(("where", "values"), PICKS, ids=[w for w, _ in PICKS])
def test_model_sizes_pass_their_config_validation(where, values):
    for scale, value in values.items():
        if value is _NOT_LITERAL:
            continue
        for size in _model_configs(value):
            try:
                _validate(size)
            except (TypeError, ValueError) as exc:
                pytest.fail(f"{where}, {scale}: {size} is not a valid model size: {exc}")


def test_a_bad_size_is_caught():
    with pytest.raises(ValueError, match="divisible"):
        _validate(dict(context_length=64, num_layers=2, num_heads=6, width=256))
    assert _shape((12, 14)) != _shape((12, 14, 16))
