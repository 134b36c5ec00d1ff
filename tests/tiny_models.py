"""Tiny random causal LMs for fast tests, with the offline MiniLM WordPiece tokenizer."""

SIMPLE_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def tiny_llama(
    chat_template: str = SIMPLE_TEMPLATE,
    *,
    hidden_size: int = 32,
    eos_is_sep: bool = False,
    **config,
):
    """``(tokenizer, model)``: a seeded 2-layer Llama in eval mode; ``config`` overrides."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from scar_dagster.base_models import encoder_path

    tokenizer = AutoTokenizer.from_pretrained(encoder_path(), local_files_only=True)
    tokenizer.chat_template = chat_template
    torch.manual_seed(0)
    settings = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": 2 * hidden_size,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "pad_token_id": tokenizer.pad_token_id,
        **({"eos_token_id": tokenizer.sep_token_id} if eos_is_sep else {}),
        **config,
    }
    return tokenizer, LlamaForCausalLM(LlamaConfig(**settings)).eval()


def publish_tiny_ranker(home, tmp) -> str:
    """Publish a seeded tiny ranker into the store at ``home`` as champion; return its version."""
    import torch

    from scar_dagster.ranker.model import registry
    from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
    from scar_dagster.ranker.model.checkpoint import save_checkpoint
    from scar_dagster.storage.stores import LocalStore

    torch.manual_seed(0)
    config = RankerConfig(hidden_dim=16, max_length=64)
    model, tokenizer = build_tiny_ranker(config)
    folder = tmp / "ckpt"
    version = save_checkpoint(
        model.eval(), config, folder, training_fingerprint="t", tokenizer=tokenizer
    )
    store = LocalStore(home)
    registry.publish_checkpoint(store, folder, version)
    registry.write_champion(store, {"version": version, "val_accuracy": 1.0})
    return version


def stored_ranker_scores(store, version, instructions, responses, *, cache_dir):
    """Scores of the pairs under the stored ranker ``version``, as scoring loads it."""
    from scar_dagster.ranker.inference.scoring import score_pairs
    from scar_dagster.ranker.inference.store_scoring import load_scorer

    model, tokenizer = load_scorer(store, version, cache_dir)
    return score_pairs(model, tokenizer, instructions, responses)
