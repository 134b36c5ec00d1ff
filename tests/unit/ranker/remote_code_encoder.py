"""A tiny encoder folder that ships its own modelling code (``auto_map``), as gte-*-en-v1.5
does: a config, ``modeling_tiny_remote.py``, seeded random safetensors weights and the MiniLM
tokenizer. Only ``trust_remote_code=True`` loads it."""

from __future__ import annotations

import json
from pathlib import Path

MODULE = "modeling_tiny_remote"
MODELING = '''"""A one-layer embedding encoder with its own config class (test fixture)."""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling


class TinyRemoteConfig(PretrainedConfig):
    model_type = "tiny_remote"

    def __init__(self, vocab_size=30522, hidden_size=16, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class TinyRemoteModel(PreTrainedModel):
    config_class = TinyRemoteConfig

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mix = nn.Linear(config.hidden_size, config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        states = torch.tanh(self.mix(self.embeddings(input_ids)))
        return BaseModelOutputWithPooling(last_hidden_state=states, pooler_output=None)
'''


def write_remote_code_encoder(folder: Path, hidden: int = 16, seed: int = 5) -> Path:
    """Write the folder and return it."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    from scar_dagster.base_models import encoder_path

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(encoder_path(), local_files_only=True)
    tokenizer.save_pretrained(folder)
    (folder / f"{MODULE}.py").write_text(MODELING)
    config = {
        "model_type": "tiny_remote",
        "architectures": ["TinyRemoteModel"],
        "auto_map": {
            "AutoConfig": f"{MODULE}.TinyRemoteConfig",
            "AutoModel": f"{MODULE}.TinyRemoteModel",
        },
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    generator = torch.Generator().manual_seed(seed)
    state = {
        "embeddings.weight": torch.randn(len(tokenizer), hidden, generator=generator),
        "mix.weight": torch.randn(hidden, hidden, generator=generator) / 4,
        "mix.bias": torch.zeros(hidden),
    }
    save_file(state, str(folder / "model.safetensors"))
    return folder
