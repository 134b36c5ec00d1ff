"""Save and load StyleRanker checkpoints: safetensors weights + JSON config + metrics.

A checkpoint folder holds ``model.safetensors``, ``config.json`` (ranker config, the encoder's
own config, code version, training-data fingerprint, version and the weights' sha256) and
``metrics.json``. Loads are strict: a missing or unexpected key, a wrong shape, a corrupt or
tampered file, or a config whose version does not match its contents raise
``CheckpointError`` and nothing is returned. No pickle anywhere. ``encoder_skeleton`` builds
the empty encoder that both this loader and the import of published SCAR rankers fill.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from scar_dagster.base_models import encoder_path
from scar_dagster.ranker.model.architecture import (
    RankerConfig,
    StyleRanker,
    encoder_from_config,
    load_tokenizer,
    needs_remote_code,
)

CODE_VERSION = "scar-ranker-1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
TOKENIZER = "tokenizer"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message says which file and why."""


def ranker_version(config: RankerConfig, training_fingerprint: str, code_version: str) -> str:
    """Version of a trained ranker: sha256 of its config, training data and code, 16 hex."""
    payload = "\x1e".join((config.to_json(), training_fingerprint, code_version))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def save_checkpoint(
    model: Any,
    config: RankerConfig,
    directory: str | Path,
    *,
    training_fingerprint: str,
    metrics: dict[str, Any] | None = None,
    code_version: str = CODE_VERSION,
    tokenizer: Any = None,
    remote_code_encoder: dict[str, str] | None = None,
) -> str:
    """Write the checkpoint atomically into ``directory``; return its version.

    With ``tokenizer``, its files are saved too, so the checkpoint loads where the encoder
    folder it was trained from does not exist. ``remote_code_encoder`` (``{"source": ...}``)
    records an encoder whose architecture needs its own code (loads need trust_remote_code).
    """
    from safetensors.torch import save_file

    target = Path(directory)
    version = ranker_version(config, training_fingerprint, code_version)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(staging / WEIGHTS), metadata={"version": version})
        document = {
            "ranker": config.to_dict(),
            "encoder_config": model.encoder.config.to_dict(),
            "code_version": code_version,
            "training_fingerprint": training_fingerprint,
            "version": version,
            "weights_sha256": hashlib.sha256((staging / WEIGHTS).read_bytes()).hexdigest(),
        }
        if remote_code_encoder:
            document["remote_code_encoder"] = dict(remote_code_encoder)
        (staging / CONFIG).write_text(json.dumps(document, sort_keys=True, indent=2, default=str))
        (staging / METRICS).write_text(json.dumps(metrics or {}, sort_keys=True, indent=2))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(staging / TOKENIZER))
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            os.replace(target, old)  # readers see the old or the new folder, never a half one
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return version


def read_config(directory: str | Path) -> dict[str, Any]:
    """The checkpoint's config.json, verified against its own version hash."""
    path = Path(directory) / CONFIG
    try:
        document = json.loads(path.read_text())
        config = RankerConfig.from_dict(document["ranker"])
        expected = ranker_version(
            config, document["training_fingerprint"], document["code_version"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: unreadable ranker config ({error})") from error
    if expected != document.get("version"):
        raise CheckpointError(
            f"{path}: version {document.get('version')!r} does not match its contents "
            f"({expected}); the config was edited or belongs to another checkpoint"
        )
    return document


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ``CheckpointError`` when unreadable or not an object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable JSON ({error})") from error
    if not isinstance(document, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return document


def encoder_skeleton(source: str, trust_remote_code: bool) -> Any:
    """The encoder architecture of ``source`` with random weights (all are loaded afterwards)."""
    from transformers import AutoConfig, AutoModel

    location = encoder_path(source)
    config_file = Path(location) / "config.json"
    if config_file.is_file():
        read_json_object(config_file)  # an unreadable config.json is a CheckpointError
    if needs_remote_code(location) and not trust_remote_code:
        raise CheckpointError(
            f"encoder {source} needs its own Python code (auto_map in {config_file}); it runs "
            "only with trust_remote_code: true, which executes that code: set it only for an "
            "encoder whose code you trust"
        )
    try:
        config = AutoConfig.from_pretrained(location, trust_remote_code=trust_remote_code)
        return AutoModel.from_config(config, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError) as error:
        hint = "" if trust_remote_code else " (or it needs trust_remote_code: true)"
        raise CheckpointError(
            f"cannot build the encoder {source}: {error}; pass `encoder` pointing at a local "
            f"folder with its config.json{hint}"
        ) from error


def _encoder(document: dict, where: Path, trust_remote_code: bool) -> Any:
    """The encoder skeleton of a checkpoint document (its weights come from the checkpoint)."""
    code = document.get("remote_code_encoder")
    if not code:
        return encoder_from_config(document["encoder_config"])
    if not trust_remote_code:
        raise CheckpointError(
            f"{where}: its encoder {code['source']} runs its own Python code; load it only "
            "with trust_remote_code=True"
        )
    return encoder_skeleton(code["source"], True)


def load_checkpoint(
    directory: str | Path, *, tokenizer_path: str | None = None, trust_remote_code: bool = False
) -> tuple[Any, Any, dict]:
    """Return ``(model, tokenizer, config document)`` of a verified checkpoint, in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(directory)
    document = read_config(folder)
    weights = folder / WEIGHTS
    try:
        data = weights.read_bytes()
    except OSError as error:
        raise CheckpointError(f"{weights}: cannot read weights ({error})") from error
    if hashlib.sha256(data).hexdigest() != document.get("weights_sha256"):
        raise CheckpointError(f"{weights}: sha256 differs from config.json; file is tampered")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights}: not a valid safetensors file ({error})") from error
    config = RankerConfig.from_dict(document["ranker"])
    model = StyleRanker(
        _encoder(document, folder / CONFIG, trust_remote_code),
        hidden_dim=config.hidden_dim,
        pooling=config.pooling,
        max_length=config.max_length,
    )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{weights}: weights do not fit the model: {error}") from error
    model.eval()
    saved = folder / TOKENIZER
    code = trust_remote_code and bool(document.get("remote_code_encoder"))
    if tokenizer_path is None and saved.is_dir():
        tokenizer = load_tokenizer(str(saved), trust_remote_code=code)
    else:
        tokenizer = load_tokenizer(
            encoder_path(tokenizer_path or config.encoder), trust_remote_code=code
        )
    return model, tokenizer, document
