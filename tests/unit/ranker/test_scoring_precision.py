"""score_pairs with dtype/device: a bf16 copy scores, the caller's model is untouched, results
are repeatable and agree with fp32; the real MiniLM ranker agrees by rank (slow)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scar_dagster.ranker.inference.scoring import for_inference, model_precision, score_pairs

XS = [f"Question {i}: how does item {i} work?" for i in range(12)]
YS = [("word " * (2 + 5 * i)).strip() + ("\n- bullet" if i % 2 else ".") for i in range(12)]


def test_bf16_scores_a_copy_and_leaves_the_model_in_fp32(tiny_ranker):
    model, tokenizer = tiny_ranker
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fp32 = score_pairs(model, tokenizer, XS, YS)
    bf16 = score_pairs(model, tokenizer, XS, YS, dtype="bfloat16")
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model_precision(model).dtype == "float32"
    assert (score_pairs(model, tokenizer, XS, YS, dtype="bf16") == bf16).all()  # repeatable
    assert not np.array_equal(bf16, fp32)  # it really ran in bf16
    np.testing.assert_allclose(bf16, fp32, atol=0.05 * float(np.ptp(fp32)) + 1e-3)


def test_for_inference_keeps_a_matching_model_and_casts_only_the_encoder(tiny_ranker):
    model, _ = tiny_ranker
    assert for_inference(model) is model
    assert for_inference(model, "cpu", "float32") is model
    twin = for_inference(model, "cpu", "bfloat16")
    assert twin is not model and model_precision(twin).label == "cpu/bfloat16"
    assert next(twin.score_mlp.parameters()).dtype == torch.float32  # scores not rounded to bf16
    assert for_inference(twin, dtype="bfloat16") is twin
    with pytest.raises(ValueError, match="dtype must be one of"):
        for_inference(model, dtype="int8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_scores_match_cpu(tiny_ranker):
    model, tokenizer = tiny_ranker
    cpu = score_pairs(model, tokenizer, XS, YS)
    gpu = score_pairs(model, tokenizer, XS, YS, device="cuda", dtype="float32")
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


@pytest.mark.slow
def test_real_minilm_ranker_bf16_ranks_like_fp32(one_torch_thread):
    import pandas as pd

    from benchmarks.scoring import synthetic_pairs
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker

    torch.manual_seed(0)
    model, tokenizer = build_ranker(RankerConfig())
    xs, ys = synthetic_pairs(48, seed=1)
    fp32 = score_pairs(model.eval(), tokenizer, xs, ys)
    bf16 = score_pairs(model, tokenizer, xs, ys, dtype="bfloat16")
    assert pd.Series(fp32).corr(pd.Series(bf16), method="spearman") >= 0.99
    assert np.abs(bf16 - fp32).max() <= 0.25 * float(np.std(fp32))
