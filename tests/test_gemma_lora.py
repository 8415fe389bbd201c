"""Chapter 15's keras-hub path, offline: a tiny Gemma 3 preset built here stands in for the
real one, so loading, LoRA, one training step and generation are tested without a model hub.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keras
import keras_hub
import numpy as np
import pytest

from course_lib.chapters.ch15_instruction_tuning import (
    build_tiny_gemma_preset,
    format_instruction,
    generate_reply,
    hub_reachable,
    instruction_examples,
    load_causal_lm,
    parameter_counts,
)

PAIRS = [("Name a colour.", "Blue."), ("Say hello.", "Hello!")]


@pytest.fixture(scope="module")
def preset_dir(tmp_path_factory):
    return build_tiny_gemma_preset(tmp_path_factory.mktemp("tiny_gemma") / "preset", seed=0)


@pytest.fixture()
def lora_lm(preset_dir):
    keras.utils.set_random_seed(0)  # the LoRA A matrices are drawn at random
    # No XLA: its compile time would dominate a one-step run of a model this small.
    return load_causal_lm(str(preset_dir), lora_rank=2, sequence_length=32, jit_compile=False)


def test_format_instruction_prompt_and_exchange():
    assert format_instruction("Name a colour.") == (
        "<start_of_turn>user\nName a colour.<end_of_turn>\n<start_of_turn>model\n"
    )
    assert format_instruction("Name a colour.", "Blue.") == (
        "<start_of_turn>user\nName a colour.<end_of_turn>\n<start_of_turn>model\n"
        "Blue.<end_of_turn>\n"
    )


def test_instruction_examples_split_prompt_from_response():
    examples = instruction_examples(PAIRS)
    assert examples["prompts"] == [format_instruction(i) for i, _ in PAIRS]
    assert examples["responses"] == ["Blue.<end_of_turn>\n", "Hello!<end_of_turn>\n"]


def test_tiny_preset_is_written_as_a_gemma3_preset(preset_dir):
    for name in ("config.json", "task.json", "preprocessor.json", "tokenizer.json",
                 "model.weights.h5", "assets/tokenizer/vocabulary.spm"):
        assert (preset_dir / name).is_file(), name
    config = json.loads((preset_dir / "config.json").read_text(encoding="utf-8"))
    assert config["class_name"] == "Gemma3Backbone"
    assert config["config"]["num_layers"] == 2
    assert config["config"]["hidden_dim"] == 32
    task = json.loads((preset_dir / "task.json").read_text(encoding="utf-8"))
    assert task["class_name"] == "Gemma3CausalLM"


def test_from_preset_folder_loads_model_and_tokenizer(preset_dir):
    model = keras_hub.models.Gemma3CausalLM.from_preset(str(preset_dir))
    tokenizer = model.preprocessor.tokenizer
    assert model.backbone.num_layers == 2
    assert model.backbone.vocabulary_size == tokenizer.vocabulary_size() >= 300
    assert (tokenizer.pad_token_id, tokenizer.end_token_id, tokenizer.start_token_id) == (0, 1, 2)
    # The turn markers are single tokens, so generate() can stop on <end_of_turn>.
    for marker in ("<start_of_turn>", "<end_of_turn>"):
        assert np.asarray(tokenizer(marker)).tolist() == [tokenizer.token_to_id(marker)]
    # Byte fallback and no normalisation: any text comes back exactly, unseen characters too.
    text = format_instruction("Ünïcode ∑ 中文?") + "  two  spaces"
    assert tokenizer.detokenize(tokenizer(text)) == text


def test_lora_leaves_few_trainable_parameters(lora_lm):
    trainable, total = parameter_counts(lora_lm)
    assert 0 < trainable * 20 < total
    # Only the adapters train: an A and a B factor on each block's query and value projection.
    expected = sorted(f"decoder_block_{i}/attention/{proj}/lora_kernel_{ab}"
                      for i in range(2) for proj in ("query", "value") for ab in "ab")
    assert sorted(w.path for w in lora_lm.trainable_weights) == expected


def test_one_lora_step_moves_adapters_and_freezes_base(lora_lm):
    before = {w.path: np.array(w.numpy()) for w in lora_lm.weights}
    history = lora_lm.fit(instruction_examples(PAIRS), batch_size=2, epochs=1, shuffle=False,
                          verbose=0)
    assert int(lora_lm.optimizer.iterations.numpy()) == 1
    assert np.isfinite(history.history["loss"][0])
    after = {w.path: w.numpy() for w in lora_lm.weights}
    base = [p for p in before if "lora_kernel" not in p]
    lora_b = [p for p in before if p.endswith("lora_kernel_b")]
    assert len(base) > 20 and len(lora_b) == 4
    for path in base:
        assert np.array_equal(before[path], after[path]), f"{path} moved"
    # B starts at zero (the adapter begins as a no-op); the first step's gradient reaches it.
    for path in lora_b:
        assert not before[path].any(), path
        assert after[path].any(), f"{path} did not move"


def test_generate_continues_the_prompt(lora_lm):
    prompt = format_instruction("Name a colour.")
    text = lora_lm.generate(prompt, max_length=24)
    assert isinstance(text, str)
    assert text.startswith(prompt)
    assert len(text) > len(prompt)
    # Greedy decoding: the reply alone is what follows the prompt in the full text.
    assert generate_reply(lora_lm, "Name a colour.", max_length=24) == text[len(prompt):]


class _Answer(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(405)  # an error status still proves the host answers
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_hub_reachable_true_for_a_host_that_answers(no_proxy):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert hub_reachable(f"http://127.0.0.1:{server.server_address[1]}/", timeout=5.0)
    finally:
        server.shutdown()
        server.server_close()


def test_hub_reachable_false_for_a_closed_port(no_proxy):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    assert hub_reachable(f"http://127.0.0.1:{port}/", timeout=5.0) is False


def test_hub_reachable_false_when_the_host_never_answers():
    # A socket that listens but never accepts: the TCP handshake completes, no HTTP answer ever
    # comes, so only the timeout can end the check.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        start = time.perf_counter()
        assert hub_reachable(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5) is False
        assert time.perf_counter() - start < 1.5


# 192.0.2.1 is TEST-NET-1 (RFC 5737), never routed: a connection there hangs (or is refused by a
# sandbox). Port 81, not 80: some sandboxes answer every port-80/443 request themselves.
@pytest.mark.parametrize("url", ["http://192.0.2.1:81/", "http://no-such-host.invalid/",
                                 "not a url"])
def test_hub_reachable_false_quickly_offline(url):
    start = time.perf_counter()
    assert hub_reachable(url, timeout=0.5) is False
    assert time.perf_counter() - start < 1.5
