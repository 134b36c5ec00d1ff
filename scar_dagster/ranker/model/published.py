"""Import the rankers the SCAR authors publish, in the layout their toolkit's ``save_pretrained``
writes, and load any ranker folder (theirs or ours) by one call.

Their layout: ``config.json`` with ``model_type: "style_ranker"``, ``encoder_name`` (hub id or
path of the encoder), ``hidden_dim`` (the encoder's H) and ``linear_dim`` (L); weights in
``model.safetensors`` and/or ``pytorch_model.bin`` (both: they must agree) with keys ``encoder.*``,
``relation_network.{0,2}.*`` (v_c: 2H -> L -> H) and ``output_layer.{0,2}.*`` (2H -> L -> 1); the
tokenizer files beside them. Unlike their loader (``strict=False``, a pickle load), the import is
strict: every key is used, none is missing or left over, every shape is checked, and the error
names the key; ``pytorch_model.bin`` is read with ``torch.load(weights_only=True)``. The
encoder's architecture comes from ``encoder_name`` (or the ``encoder`` override, a local folder
for offline use); every weight comes from the checkpoint. Encoders that need custom code
(``auto_map`` in their config, e.g. gte-*-en-v1.5) load only with ``trust_remote_code=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar_dagster.base_models import encoder_path
from scar_dagster.ranker.model.architecture import RankerConfig, StyleRanker
from scar_dagster.ranker.model.checkpoint import (
    CONFIG,
    CheckpointError,
    encoder_skeleton,
    load_checkpoint,
    read_json_object,
    save_checkpoint,
)

SCAR_MODEL_TYPE = "style_ranker"
SAFETENSORS = "model.safetensors"
PYTORCH_BIN = "pytorch_model.bin"
SCAR_CODE_VERSION = "scar-import-1"
# Their module names -> ours (StyleRanker.relation_mlp / score_mlp).
KEY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("relation_network.", "relation_mlp."),
    ("output_layer.", "score_mlp."),
    ("encoder.", "encoder."),
)


@dataclass(frozen=True)
class ScarCheckpoint:
    """A published SCAR ranker resolved to a local folder, with what its import needs."""

    folder: Path
    config: dict[str, Any]
    weights_files: tuple[Path, ...]  # the ones present: model.safetensors first
    encoder_source: str  # encoder override, else config["encoder_name"]
    trust_remote_code: bool

    @property
    def fingerprint(self) -> str:
        """sha256 of the weights file and config.json: the identity of the published ranker."""
        h = hashlib.sha256()
        for path in (*self.weights_files, self.folder / "config.json"):
            h.update(path.name.encode())
            with path.open("rb") as handle:  # streamed: published weights reach gigabytes
                h.update(hashlib.file_digest(handle, "sha256").hexdigest().encode())
        return h.hexdigest()


def _folder(path_or_id: str | os.PathLike[str]) -> Path:
    """A local folder for a path, or a hub snapshot for an id (needs hub access)."""
    path = Path(path_or_id)
    if path.is_dir():
        return path
    if path.exists() or str(path_or_id).startswith((".", "/")):
        raise CheckpointError(f"{path}: not a ranker folder")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(path_or_id)))
    except Exception as error:  # offline, unknown id, no access: all mean "cannot get it"
        raise CheckpointError(
            f"{path_or_id}: no such folder, and the model hub cannot provide it ({error}); "
            "download the ranker folder and pass its path"
        ) from error


def is_scar_checkpoint(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder whose config.json says ``model_type: style_ranker``."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return False
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type") == SCAR_MODEL_TYPE
    except (OSError, ValueError, AttributeError):
        return False


def resolve_scar_checkpoint(
    path_or_id: str | os.PathLike[str],
    *,
    encoder: str | None = None,
    trust_remote_code: bool = False,
) -> ScarCheckpoint:
    """Check the published layout (config fields, a weights file) without loading weights."""
    folder = _folder(path_or_id)
    config = read_json_object(folder / "config.json")
    if config.get("model_type") != SCAR_MODEL_TYPE:
        raise CheckpointError(
            f"{folder / 'config.json'}: model_type is {config.get('model_type')!r}, "
            f"not {SCAR_MODEL_TYPE!r}: not a SCAR ranker"
        )
    for key in ("hidden_dim", "linear_dim"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise CheckpointError(f"{folder / 'config.json'}: {key} must be an int > 0: {value!r}")
    source = encoder or config.get("encoder_name")
    if not isinstance(source, str) or not source:
        raise CheckpointError(f"{folder / 'config.json'}: encoder_name is missing")
    weights = tuple(folder / n for n in (SAFETENSORS, PYTORCH_BIN) if (folder / n).is_file())
    if not weights:
        raise CheckpointError(f"{folder}: no {SAFETENSORS} or {PYTORCH_BIN}")
    return ScarCheckpoint(folder, config, weights, source, trust_remote_code)


def read_weights(path: Path) -> dict[str, Any]:
    """The state dict of a safetensors file, or of a ``torch.save`` file with no pickle code."""
    import torch
    from safetensors.torch import load_file

    try:
        if path.name.endswith(".safetensors"):
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    # Broad on purpose: torch raises pickle's UnpicklingError for a file with code in it (or
    # RuntimeError/EOFError for a damaged one), safetensors its own SafetensorError.
    except Exception as error:
        raise CheckpointError(f"{path}: cannot read weights ({error})") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return state


def read_checkpoint_weights(checkpoint: ScarCheckpoint) -> dict[str, Any]:
    """The checkpoint's state dict; with both files, ``pytorch_model.bin`` (what SCAR's loader
    reads) after checking that ``model.safetensors`` holds the same tensors, key by key."""
    from safetensors import SafetensorError, safe_open

    *_, last = checkpoint.weights_files
    state = read_weights(last)
    if len(checkpoint.weights_files) == 1:
        return state
    first = checkpoint.weights_files[0]
    try:
        with safe_open(str(first), framework="pt") as handle:  # one tensor in memory at a time
            keys = set(handle.keys())
            if keys != set(state):
                odd = sorted(keys ^ set(state))[:5]
                raise CheckpointError(f"{first} and {last} hold different keys, e.g. {odd}")
            for key in sorted(keys):
                if not handle.get_tensor(key).equal(state[key]):
                    raise CheckpointError(f"{first} and {last} differ at key {key!r}")
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{first}: cannot read weights ({error})") from error
    return state


def map_state(state: dict[str, Any], model: Any, where: Path) -> dict[str, Any]:
    """Rename SCAR's keys to ours and check them strictly against ``model``.

    A key matching a non-persistent buffer of the encoder (e.g. ``position_ids`` saved by an
    older transformers) must equal the model's own value and is then dropped.
    """
    renamed: dict[str, Any] = {}
    for key, value in state.items():
        ours = next(
            (new + key[len(old) :] for old, new in KEY_PREFIXES if key.startswith(old)), None
        )
        if not ours:
            raise CheckpointError(
                f"{where}: unexpected key {key!r} (not encoder.*, "
                "relation_network.* or output_layer.*)"
            )
        renamed[ours] = (key, value)
    expected = model.state_dict()
    buffers = dict(model.named_buffers())
    out: dict[str, Any] = {}
    for ours, (key, value) in renamed.items():
        if ours not in expected:
            if (
                ours in buffers
                and buffers[ours].shape == value.shape
                and bool((buffers[ours] == value).all())
            ):
                continue
            raise CheckpointError(f"{where}: unexpected key {key!r}: the model has no such weight")
        if tuple(value.shape) != tuple(expected[ours].shape):
            raise CheckpointError(
                f"{where}: key {key!r} has shape {tuple(value.shape)}, the model expects "
                f"{tuple(expected[ours].shape)}"
            )
        out[ours] = value
    missing = [k for k in expected if k not in out]
    if missing:
        theirs = {new: old for old, new in KEY_PREFIXES}
        names = [next(theirs[p] + k[len(p) :] for p in theirs if k.startswith(p)) for k in missing]
        raise CheckpointError(
            f"{where}: missing key(s) {names[:5]}{' ...' if len(names) > 5 else ''}"
        )
    return out


def load_scar_checkpoint(
    path_or_id: str | os.PathLike[str],
    *,
    encoder: str | None = None,
    trust_remote_code: bool = False,
    max_length: int = 512,
) -> tuple[Any, Any, ScarCheckpoint]:
    """``(model, tokenizer, checkpoint)`` of a published SCAR ranker, strict, in eval mode."""
    from transformers import AutoTokenizer

    checkpoint = resolve_scar_checkpoint(
        path_or_id, encoder=encoder, trust_remote_code=trust_remote_code
    )
    skeleton = encoder_skeleton(checkpoint.encoder_source, trust_remote_code)
    hidden = int(skeleton.config.hidden_size)
    if hidden != checkpoint.config["hidden_dim"]:
        raise CheckpointError(
            f"{checkpoint.folder / 'config.json'}: hidden_dim {checkpoint.config['hidden_dim']} "
            f"but the encoder {checkpoint.encoder_source} has hidden size {hidden}"
        )
    model = StyleRanker(
        skeleton,
        hidden_dim=checkpoint.config["linear_dim"],
        pooling="pooler",
        max_length=max_length,
    )
    where = checkpoint.weights_files[-1]
    state = map_state(read_checkpoint_weights(checkpoint), model, where)
    model.load_state_dict(state, strict=True)
    model.eval()
    has_tokenizer = any(
        (checkpoint.folder / n).is_file() for n in ("tokenizer.json", "tokenizer_config.json")
    )
    tokenizer_source = (
        str(checkpoint.folder) if has_tokenizer else encoder_path(checkpoint.encoder_source)
    )
    tokenizer = AutoTokenizer.from_pretrained(  # the encoder config: theirs names no tokenizer
        tokenizer_source, config=skeleton.config, trust_remote_code=trust_remote_code
    )
    return model, tokenizer, checkpoint


def import_scar_checkpoint(
    path_or_id: str | os.PathLike[str],
    directory: str | Path,
    *,
    encoder: str | None = None,
    trust_remote_code: bool = False,
    max_length: int = 512,
    metrics: dict[str, Any] | None = None,
) -> tuple[str, Any, Any]:
    """Write a published SCAR ranker as our checkpoint folder; return ``(version, model, tok)``.

    The version hashes the published weights file and config.json (with our ranker config and
    import code version), so the same published ranker always gets the same version.
    """
    model, tokenizer, checkpoint = load_scar_checkpoint(
        path_or_id, encoder=encoder, trust_remote_code=trust_remote_code, max_length=max_length
    )
    config = RankerConfig(
        encoder=str(checkpoint.config["encoder_name"]),
        hidden_dim=checkpoint.config["linear_dim"],
        max_length=max_length,
        pooling="pooler",
    )
    code = {"source": checkpoint.encoder_source} if trust_remote_code else None
    version = save_checkpoint(
        model,
        config,
        directory,
        training_fingerprint=f"scar-checkpoint:{checkpoint.fingerprint}",
        metrics=metrics,
        code_version=SCAR_CODE_VERSION,
        tokenizer=tokenizer,
        remote_code_encoder=code,
    )
    return version, model, tokenizer


def load_ranker(
    path_or_id: str | os.PathLike[str],
    *,
    encoder: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, info)`` of a SCAR-published ranker folder (or hub id) or of a
    checkpoint this package wrote; ``info`` has ``format`` and ``version``."""
    path = Path(path_or_id)
    if path.is_dir() and (path / CONFIG).is_file() and not is_scar_checkpoint(path):
        model, tokenizer, document = load_checkpoint(path, trust_remote_code=trust_remote_code)
        return model, tokenizer, {"format": "scar-dagster", "version": document["version"]}
    model, tokenizer, checkpoint = load_scar_checkpoint(
        path_or_id, encoder=encoder, trust_remote_code=trust_remote_code
    )
    return model, tokenizer, {"format": "scar", "version": checkpoint.fingerprint[:16]}
