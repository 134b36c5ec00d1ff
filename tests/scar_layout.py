"""Write files in the layouts of SCAR's toolkit (arXiv 2406.10882, github zhuang-li/SCAR) for tests:
a tiny encoder folder, a published-ranker folder, and a released training-data folder."""

from __future__ import annotations

import json
from pathlib import Path


def write_tiny_encoder(folder: Path, kind: str = "bert", hidden: int = 32) -> Path:
    """A seeded 1-layer BERT (with a pooler) or DistilBERT (without) + the MiniLM tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from scar_dagster.base_models import encoder_path

    tokenizer = AutoTokenizer.from_pretrained(encoder_path(), local_files_only=True)
    if kind == "bert":
        settings = {"hidden_size": hidden, "num_hidden_layers": 1, "intermediate_size": 64}
    else:
        settings = {"dim": hidden, "n_layers": 1, "hidden_dim": 64}
    config = AutoConfig.for_model(
        kind, vocab_size=len(tokenizer), num_attention_heads=2, n_heads=2, **settings
    )
    torch.manual_seed(1)
    AutoModel.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def scar_state_dict(encoder_folder: Path, linear_dim: int = 16, seed: int = 2) -> dict:
    """A state dict in SCAR's key layout: the encoder's weights and a random head."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(encoder_folder)
    hidden = encoder.config.hidden_size
    generator = torch.Generator().manual_seed(seed)
    state = {f"encoder.{k}": v.clone() for k, v in encoder.state_dict().items()}
    for name, out_dim in (("relation_network", hidden), ("output_layer", 1)):
        for index, (d_in, d_out) in enumerate(((2 * hidden, linear_dim), (linear_dim, out_dim))):
            state[f"{name}.{2 * index}.weight"] = torch.randn(d_out, d_in, generator=generator) / 4
            state[f"{name}.{2 * index}.bias"] = torch.randn(d_out, generator=generator) / 4
    return state


def write_scar_checkpoint(
    folder: Path,
    encoder_folder: Path,
    *,
    weights: tuple[str, ...] = ("pytorch_model.bin",),
    state: dict | None = None,
    linear_dim: int = 16,
    encoder_name: str | None = None,
) -> Path:
    """A published-ranker folder as SCAR's ``save_pretrained`` writes it (tokenizer included)."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    state = scar_state_dict(encoder_folder, linear_dim) if state is None else state
    hidden = AutoConfig.from_pretrained(encoder_folder).hidden_size
    config = {
        "model_type": "style_ranker",
        "encoder_name": encoder_name or str(encoder_folder),
        "hidden_dim": hidden,
        "linear_dim": linear_dim,
        "architectures": ["StyleRanker"],
        "transformers_version": "4.41.2",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    if "pytorch_model.bin" in weights:
        torch.save(state, folder / "pytorch_model.bin")
    if "model.safetensors" in weights:
        save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    AutoTokenizer.from_pretrained(encoder_folder).save_pretrained(folder)
    return folder


def scar_key(instruction: str, output: str) -> str:
    """SCAR's quality-score key (``style_ranker.utils.create_key``): no separator."""
    return f"Instruction: {instruction}Answer: {output}"


def write_scar_data(
    folder: Path, rows: list[dict], scores: dict[str, dict[str, dict[str, object]]] | None = None
) -> Path:
    """Write ``instruction_response/<kind>.json`` and ``quality_measure/*_score.json``.

    ``rows`` are quadruple dicts (instruction, human, referenced, direct, quality_*); their
    qualities become both help and correct scores unless ``scores`` gives the score files.
    """
    (folder / "instruction_response").mkdir(parents=True, exist_ok=True)
    (folder / "quality_measure").mkdir(parents=True, exist_ok=True)
    for kind in ("human", "referenced", "direct"):
        records = [{"instruction": r["instruction"], "output": r[kind]} for r in rows]
        (folder / "instruction_response" / f"{kind}.json").write_text(json.dumps(records))
        for measure in ("help", "correct"):
            table = (scores or {}).get(kind, {}).get(measure)
            if table is None:
                table = {scar_key(r["instruction"], r[kind]): r[f"quality_{kind}"] for r in rows}
            name = f"{kind}_{measure}_score.json"
            (folder / "quality_measure" / name).write_text(json.dumps(table))
    return folder
