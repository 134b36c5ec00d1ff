"""Published SCAR rankers: their layout loads strictly and scores as SCAR's own forward pass."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from scar_dagster.ranker.inference.scoring import score_pairs
from scar_dagster.ranker.inference.toolkit import rank_and_filter
from scar_dagster.ranker.model.checkpoint import CheckpointError, load_checkpoint
from scar_dagster.ranker.model.published import (
    import_scar_checkpoint,
    is_scar_checkpoint,
    load_ranker,
    load_scar_checkpoint,
)
from tests.scar_layout import scar_state_dict, write_scar_checkpoint, write_tiny_encoder

INSTRUCTIONS = ["How do I sort a list?", "Why is the sky blue?", "Name a prime.", "Hi"]
ANSWERS = [
    "## Sorting\n\n- Use `sorted(xs)` for a new list.\n- Use `xs.sort()` in place.",
    "idk lol",
    "Seven is a prime number, since its only divisors are one and seven.",
    "Hello! How can I help you today?",
]


class ReferenceStyleRanker(nn.Module):
    """SCAR's StyleRanker forward (style_ranker/ranker/model.py), re-written from its layout."""

    def __init__(self, encoder: nn.Module, hidden_dim: int, linear_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.relation_network = nn.Sequential(
            nn.Linear(hidden_dim * 2, linear_dim), nn.ReLU(), nn.Linear(linear_dim, hidden_dim)
        )
        self.output_layer = nn.Sequential(
            nn.Linear(hidden_dim * 2, linear_dim), nn.ReLU(), nn.Linear(linear_dim, 1)
        )

    @staticmethod
    def _embedding(output):
        if getattr(output, "pooler_output", None) is not None:
            return output.pooler_output
        return output.last_hidden_state[:, 0]

    def forward(self, x_ids, x_mask, y_ids, y_mask):
        x_out = self.encoder(input_ids=x_ids, attention_mask=x_mask)
        y_out = self.encoder(input_ids=y_ids, attention_mask=y_mask)
        creativity = self.relation_network(
            torch.cat((self._embedding(x_out), self._embedding(y_out)), dim=1)
        )
        mask = y_mask.unsqueeze(-1).expand(y_out.last_hidden_state.size()).float()
        presentation = y_out.last_hidden_state.masked_fill(mask == 0, -1e9).max(dim=1).values
        return self.output_layer(torch.cat((creativity, presentation), dim=1))


def reference_scores(folder, instructions, answers, batch_size=2) -> list[float]:
    """Scores as SCAR's ``rank.score_pairs``: their tokenizer, padding per batch, max 512."""
    from transformers import AutoModel, AutoTokenizer

    config = json.loads((folder / "config.json").read_text())
    encoder = AutoModel.from_pretrained(config["encoder_name"])
    model = ReferenceStyleRanker(encoder, config["hidden_dim"], config["linear_dim"])
    model.load_state_dict(torch.load(folder / "pytorch_model.bin", weights_only=True))
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    scores: list[float] = []
    for i in range(0, len(instructions), batch_size):
        x, y = (
            tokenizer(
                texts[i : i + batch_size],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=512,
            )
            for texts in (instructions, answers)
        )
        with torch.no_grad():
            out = model(x.input_ids, x.attention_mask, y.input_ids, y.attention_mask)
        scores.extend(out.squeeze(-1).tolist())
    return scores


@pytest.fixture(scope="module")
def encoders(tmp_path_factory, one_torch_thread):
    root = tmp_path_factory.mktemp("encoders")
    return {kind: write_tiny_encoder(root / kind, kind) for kind in ("bert", "distilbert")}


@pytest.mark.parametrize("kind", ["bert", "distilbert"])  # with a pooler, and without
@pytest.mark.parametrize(
    "weights",
    [("pytorch_model.bin",), ("model.safetensors",), ("pytorch_model.bin", "model.safetensors")],
)
def test_published_layout_scores_equal_scars_forward(tmp_path, encoders, kind, weights):
    folder = write_scar_checkpoint(tmp_path / "ranker", encoders[kind], weights=weights)
    if "pytorch_model.bin" not in weights:  # the reference reads only the .bin
        state = scar_state_dict(encoders[kind])
        torch.save(state, tmp_path / "ref.bin")
        ref_folder = write_scar_checkpoint(tmp_path / "ref", encoders[kind], state=state)
    else:
        ref_folder = folder
    expected = reference_scores(ref_folder, INSTRUCTIONS, ANSWERS)
    assert is_scar_checkpoint(folder)
    model, tokenizer, _ = load_scar_checkpoint(folder)
    ours = score_pairs(model, tokenizer, INSTRUCTIONS, ANSWERS, batch_size=3)
    assert ours.tolist() == pytest.approx(expected, abs=1e-5)
    ranked = rank_and_filter(folder, INSTRUCTIONS, ANSWERS, topk=4)
    assert [s for _, _, s in ranked] == pytest.approx(sorted(expected, reverse=True), abs=1e-5)


def test_import_round_trips_through_our_checkpoint_with_a_stable_version(tmp_path, encoders):
    folder = write_scar_checkpoint(tmp_path / "ranker", encoders["bert"])
    version, model, tokenizer = import_scar_checkpoint(folder, tmp_path / "ours")
    again, _, _ = import_scar_checkpoint(folder, tmp_path / "ours2")
    assert version == again
    loaded, tok, document = load_checkpoint(tmp_path / "ours")
    assert document["version"] == version
    direct = score_pairs(model, tokenizer, INSTRUCTIONS, ANSWERS)
    assert (score_pairs(loaded, tok, INSTRUCTIONS, ANSWERS) == direct).all()
    assert load_ranker(tmp_path / "ours")[2]["format"] == "scar-dagster"
    assert load_ranker(folder)[2]["format"] == "scar"
    changed = scar_state_dict(encoders["bert"], seed=9)
    other = write_scar_checkpoint(tmp_path / "other", encoders["bert"], state=changed)
    assert import_scar_checkpoint(other, tmp_path / "ours3")[0] != version


def test_encoder_override_points_an_offline_user_at_a_local_folder(tmp_path, encoders):
    folder = write_scar_checkpoint(
        tmp_path / "r", encoders["bert"], encoder_name="Alibaba-NLP/not-on-this-machine"
    )
    with pytest.raises(CheckpointError, match="encoder"):
        load_scar_checkpoint(folder)
    model, tokenizer, checkpoint = load_scar_checkpoint(folder, encoder=str(encoders["bert"]))
    assert checkpoint.encoder_source == str(encoders["bert"])


def _damaged(tmp_path, encoders, change):
    state = scar_state_dict(encoders["bert"])
    change(state)
    return write_scar_checkpoint(tmp_path / "bad", encoders["bert"], state=state)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("relation_network.2.bias"), "missing key.*relation_network.2.bias"),
        (lambda s: s.pop("encoder.pooler.dense.weight"), "missing key.*encoder.pooler.dense"),
        (lambda s: s.update({"output_layer.4.weight": torch.zeros(1)}), "output_layer.4.weight"),
        (lambda s: s.update({"classifier.weight": torch.zeros(1)}), "unexpected key 'classifier"),
        (
            lambda s: s.update({"output_layer.0.weight": torch.zeros(16, 10)}),
            r"'output_layer.0.weight' has shape \(16, 10\).*\(16, 64\)",
        ),
        (
            lambda s: s.update({"encoder.embeddings.position_ids": torch.zeros(1, 512).long()}),
            "unexpected key 'encoder.embeddings.position_ids'",
        ),
    ],
)
def test_every_strictness_error_names_the_key(tmp_path, encoders, change, message):
    folder = _damaged(tmp_path, encoders, change)
    with pytest.raises(CheckpointError, match=message):
        load_scar_checkpoint(folder)


def test_a_buffer_saved_by_an_older_transformers_is_checked_not_required(tmp_path, encoders):
    ids = torch.arange(512).unsqueeze(0)
    folder = _damaged(
        tmp_path, encoders, lambda s: s.update({"encoder.embeddings.position_ids": ids})
    )
    load_scar_checkpoint(folder)  # equal to the model's own buffer: accepted


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(model_type="bert"), "not a SCAR ranker"),
        (lambda c: c.update(linear_dim="16"), "linear_dim must be an int"),
        (lambda c: c.update(hidden_dim=48), "hidden_dim 48 but the encoder"),
        (lambda c: c.pop("encoder_name"), "encoder_name is missing"),
    ],
)
def test_config_errors_are_clear(tmp_path, encoders, edit, message):
    folder = write_scar_checkpoint(tmp_path / "r", encoders["bert"])
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=message):
        load_scar_checkpoint(folder)


def test_unreadable_or_pickled_code_weights_are_refused(tmp_path, encoders):
    folder = write_scar_checkpoint(tmp_path / "r", encoders["bert"])
    (folder / "pytorch_model.bin").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="pytorch_model.bin: cannot read weights"):
        load_scar_checkpoint(folder)
    import pickle

    class Payload:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    with open(folder / "pytorch_model.bin", "wb") as handle:
        pickle.dump({"w": Payload()}, handle)
    with pytest.raises(CheckpointError, match="cannot read weights"):
        load_scar_checkpoint(folder)
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(CheckpointError, match="no model.safetensors or pytorch_model.bin"):
        load_scar_checkpoint(folder)


def test_remote_code_encoder_is_refused_unless_asked(tmp_path, encoders):
    import shutil

    encoder = tmp_path / "custom"
    shutil.copytree(encoders["bert"], encoder)
    config = json.loads((encoder / "config.json").read_text())
    config["model_type"] = "tiny_custom_bert"
    config["auto_map"] = {
        "AutoConfig": "custom_bert.TinyCustomConfig",
        "AutoModel": "custom_bert.TinyCustomModel",
    }
    (encoder / "config.json").write_text(json.dumps(config))
    (encoder / "custom_bert.py").write_text(
        "from transformers import BertConfig, BertModel\n\n\n"
        "class TinyCustomConfig(BertConfig):\n    model_type = 'tiny_custom_bert'\n\n\n"
        "class TinyCustomModel(BertModel):\n    config_class = TinyCustomConfig\n"
    )
    folder = write_scar_checkpoint(tmp_path / "r", encoders["bert"], encoder_name=str(encoder))
    with pytest.raises(CheckpointError, match="trust_remote_code"):
        load_scar_checkpoint(folder)
    with pytest.raises(CheckpointError, match="trust_remote_code"):
        rank_and_filter(folder, INSTRUCTIONS, ANSWERS, topk=1)
    model, tokenizer, _ = load_scar_checkpoint(folder, trust_remote_code=True)
    assert type(model.encoder).__name__ == "TinyCustomModel"
    version, _, _ = import_scar_checkpoint(folder, tmp_path / "ours", trust_remote_code=True)
    with pytest.raises(CheckpointError, match="trust_remote_code"):
        load_checkpoint(tmp_path / "ours")
    loaded, tok, _ = load_checkpoint(tmp_path / "ours", trust_remote_code=True)
    expected = score_pairs(model, tokenizer, INSTRUCTIONS, ANSWERS)
    assert score_pairs(loaded, tok, INSTRUCTIONS, ANSWERS).tolist() == pytest.approx(
        expected.tolist(), abs=1e-6
    )


def test_both_weight_files_must_agree(tmp_path, encoders):
    from safetensors.torch import save_file

    weights = ("pytorch_model.bin", "model.safetensors")
    folder = write_scar_checkpoint(tmp_path / "r", encoders["bert"], weights=weights)
    other = scar_state_dict(encoders["bert"], seed=7)
    save_file({k: v.contiguous() for k, v in other.items()}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="differ at key 'output_layer.0.bias'"):
        load_scar_checkpoint(folder)
    other.pop("relation_network.0.bias")
    save_file({k: v.contiguous() for k, v in other.items()}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="different keys.*relation_network.0.bias"):
        load_scar_checkpoint(folder)
