"""StyleRanker: the SCAR ranking model (arXiv 2406.10882, section 3) around an injected encoder.

One shared transformer encoder reads the instruction x and the response y separately:

- e_x, e_y: pooled embeddings. ``pooling="pooler"`` follows the reference code: the encoder's
  ``pooler_output`` when it has one (BERT: tanh(dense(CLS))), else the CLS state; ``"cls"`` and
  ``"mean"`` (masked mean) are the alternatives.
- v_c = MLP(2H -> L -> H)([e_x; e_y])  (instructional surprisal).
- v_p = masked max-pool over the response's token states  (linguistic form).
- score = MLP(2H -> L -> 1)([v_c; v_p]).

This module imports torch; import it only where a model is needed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

Pooling = Literal["pooler", "cls", "mean"]
POOLINGS: tuple[str, ...] = ("pooler", "cls", "mean")


@dataclass(frozen=True)
class RankerConfig:
    """Architecture of a StyleRanker; defaults from the paper (L = 512, 512 tokens).

    ``encoder`` is a model id understood by ``base_models.encoder_path`` or a local folder.
    """

    encoder: str = "all-MiniLM-L6-v2"
    hidden_dim: int = 512
    max_length: int = 512
    pooling: Pooling = "pooler"

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.hidden_dim <= 0 or self.max_length <= 1:
            raise ValueError("hidden_dim must be > 0 and max_length > 1")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), also the input of version hashes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RankerConfig:
        """Inverse of ``to_dict``; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown RankerConfig keys: {unknown}")
        return cls(**dict(data))


def masked_max_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over the sequence of ``states`` [B, T, H]; positions with ``mask == 0`` never win."""
    fill = torch.finfo(states.dtype).min
    return states.masked_fill(~mask.bool().unsqueeze(-1), fill).amax(dim=1)


def masked_mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the unmasked positions of ``states`` [B, T, H]."""
    weights = mask.to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


class StyleRanker(nn.Module):
    """Scores how well a response's style fits an instruction; higher is preferred.

    Example::

        model = StyleRanker(encoder, hidden_dim=512)
        score, (v_c, v_p) = model(x_ids, x_mask, y_ids, y_mask)
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        hidden_dim: int = 512,
        pooling: Pooling = "pooler",
        max_length: int = 512,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.max_length = max_length
        self.hidden_size = int(encoder.config.hidden_size)
        self.hidden_dim = hidden_dim
        h = self.hidden_size
        self.relation_mlp = _mlp(2 * h, hidden_dim, h)
        self.score_mlp = _mlp(2 * h, hidden_dim, 1)

    def encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch of texts; returns (pooled embedding e, max-pooled token states v_p)."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        states = out.last_hidden_state
        if self.pooling == "mean":
            pooled = masked_mean_pool(states, attention_mask)
        elif self.pooling == "pooler" and getattr(out, "pooler_output", None) is not None:
            pooled = out.pooler_output
        else:
            pooled = states[:, 0]
        return pooled, masked_max_pool(states, attention_mask)

    def head(
        self, e_x: torch.Tensor, e_y: torch.Tensor, v_p: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score from pooled embeddings and response form vector; returns (score [B], v_c)."""
        v_c = self.relation_mlp(torch.cat((e_x, e_y), dim=-1))
        score = self.score_mlp(torch.cat((v_c, v_p), dim=-1)).squeeze(-1)
        return score, v_c

    def forward(
        self,
        instruction_input_ids: torch.Tensor,
        instruction_attention_mask: torch.Tensor,
        response_input_ids: torch.Tensor,
        response_attention_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Return ``(score [B], (v_c [B, H], v_p [B, H]))``; two encoder calls, as the reference."""
        e_x, _ = self.encode(instruction_input_ids, instruction_attention_mask)
        e_y, v_p = self.encode(response_input_ids, response_attention_mask)
        score, v_c = self.head(e_x, e_y, v_p)
        return score, (v_c, v_p)


def load_tokenizer(path: str, *, trust_remote_code: bool = False) -> Any:
    """The tokenizer in a local folder (nothing is downloaded)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        path, local_files_only=True, trust_remote_code=trust_remote_code
    )


def needs_remote_code(folder: str) -> bool:
    """True when the model folder's config.json maps its classes to its own code (auto_map)."""
    config = Path(folder) / "config.json"
    if not config.is_file():
        return False
    try:
        document = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # unreadable: transformers' own error says more when it loads
    return isinstance(document, dict) and "auto_map" in document


def remote_code_record(model: StyleRanker) -> dict[str, str] | None:
    """``{"source": folder}`` when the ranker's encoder runs its own code, for
    ``save_checkpoint(remote_code_encoder=...)``: loading it then needs that folder and
    trust_remote_code."""
    config = model.encoder.config
    if not getattr(config, "auto_map", None):
        return None
    return {"source": str(config._name_or_path)}


def encoder_from_config(encoder_config: Mapping[str, Any]) -> nn.Module:
    """Randomly initialised encoder from a config dict (needs ``model_type``)."""
    from transformers import AutoConfig, AutoModel

    data = dict(encoder_config)
    model_type = data.pop("model_type")
    config = AutoConfig.for_model(model_type, **data)
    return AutoModel.from_config(config)


def build_ranker(
    config: RankerConfig, *, encoder_path: str | None = None, trust_remote_code: bool = False
) -> tuple[StyleRanker, Any]:
    """Build ``(model, tokenizer)`` with pretrained encoder weights and a fresh random head.

    ``encoder_path`` overrides ``config.encoder`` as the folder to read; nothing is downloaded.
    An encoder that ships its own modelling code (``auto_map`` in its config.json, e.g.
    gte-*-en-v1.5) builds only with ``trust_remote_code=True``: that code runs here, so set it
    only for code you trust. Seed torch before calling for a reproducible head.
    """
    from transformers import AutoModel

    from scar_dagster.base_models import encoder_path as resolve

    path = resolve(encoder_path or config.encoder)
    if needs_remote_code(path) and not trust_remote_code:
        raise ValueError(
            f"encoder {path} ships its own Python code (auto_map in its config.json); it "
            "builds only with trust_remote_code, which runs that code on this machine: set it "
            "only for an encoder whose code you trust"
        )
    encoder = AutoModel.from_pretrained(
        path, local_files_only=True, trust_remote_code=trust_remote_code
    )
    model = StyleRanker(
        encoder, hidden_dim=config.hidden_dim, pooling=config.pooling, max_length=config.max_length
    )
    return model, load_tokenizer(path, trust_remote_code=trust_remote_code)


def build_tiny_ranker(
    config: RankerConfig,
    *,
    hidden_size: int = 32,
    num_hidden_layers: int = 1,
    num_attention_heads: int = 2,
    intermediate_size: int = 64,
    tokenizer_path: str | None = None,
) -> tuple[StyleRanker, Any]:
    """Build a small randomly initialised BERT ranker (tests, smoke runs) with a real tokenizer."""
    from scar_dagster.base_models import encoder_path as resolve

    tokenizer = load_tokenizer(resolve(tokenizer_path or config.encoder))
    encoder_config = {
        "model_type": "bert",
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "num_hidden_layers": num_hidden_layers,
        "num_attention_heads": num_attention_heads,
        "intermediate_size": intermediate_size,
        "max_position_embeddings": max(config.max_length, 8),
    }
    model = StyleRanker(
        encoder_from_config(encoder_config),
        hidden_dim=config.hidden_dim,
        pooling=config.pooling,
        max_length=config.max_length,
    )
    return model, tokenizer
