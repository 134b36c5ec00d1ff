"""Device and dtype selection from mocked /proc/cpuinfo text and mocked CUDA availability."""

from __future__ import annotations

import pytest

from scar_dagster import precision
from scar_dagster.precision import (
    Precision,
    cpu_flags,
    describe_cpu,
    resolve_device,
    resolve_dtype,
    resolve_precision,
)
from scar_dagster.torch_env import seed_everything, torch_threads

SAPPHIRE = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8
"""
ZEN4 = "model name\t: AMD EPYC 9654 96-Core Processor\nflags\t\t: avx2 avx512f avx512_bf16\n"
ZEN2 = "model name\t: AMD EPYC 7B12\nflags\t\t: sse2 avx avx2 fma\n"
GRAVITON = "processor\t: 0\nFeatures\t: fp asimd bf16 sve\n"


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(precision, "_cuda_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(precision, "_cuda_available", lambda: True)
    monkeypatch.setattr(precision, "_cuda_device_count", lambda: 2)


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (SAPPHIRE, "bfloat16"),
        (ZEN4, "bfloat16"),
        (ZEN2, "float32"),
        (GRAVITON, "float32"),
        ("", "float32"),
    ],
)
def test_auto_dtype_on_cpu_follows_the_bf16_flags(cpuinfo, expected):
    assert resolve_dtype("auto", "cpu", cpuinfo=cpuinfo) == expected


def test_explicit_dtypes_and_aliases_win_over_the_flags():
    assert resolve_dtype("float32", "cpu", cpuinfo=SAPPHIRE) == "float32"
    assert resolve_dtype("bf16", "cpu", cpuinfo=ZEN2) == "bfloat16"
    assert resolve_dtype("FP32", "cpu") == "float32"
    with pytest.raises(ValueError, match="dtype must be one of"):
        resolve_dtype("float16", "cpu")


def test_auto_dtype_on_a_gpu_asks_torch_whether_bf16_is_supported(monkeypatch):
    monkeypatch.setattr(precision, "_cuda_bf16_supported", lambda: True)
    assert resolve_dtype("auto", "cuda:1", cpuinfo=ZEN2) == "bfloat16"
    monkeypatch.setattr(precision, "_cuda_bf16_supported", lambda: False)
    assert resolve_dtype("auto", "cuda", cpuinfo=SAPPHIRE) == "float32"


def test_device_auto_is_cpu_without_a_gpu(no_gpu):
    assert resolve_device("auto") == "cpu" and resolve_device("CPU") == "cpu"
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_device_auto_is_cuda_with_a_gpu_and_indices_are_checked(two_gpus):
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(ValueError, match="sees 2 CUDA GPU"):
        resolve_device("cuda:2")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")


def test_resolve_precision_and_its_label(no_gpu, monkeypatch):
    monkeypatch.setattr(precision, "read_cpuinfo", lambda path="/proc/cpuinfo": SAPPHIRE)
    resolved = resolve_precision("auto", "auto")
    assert resolved == Precision("cpu", "bfloat16") and resolved.label == "cpu/bfloat16"
    assert Precision("cuda:1", "float32").label == "cuda/float32"
    metadata = resolved.to_metadata("lm_")
    assert metadata["lm_dtype"] == "bfloat16" and "amx_bf16" in metadata["lm_cpu_flags"]


def test_describe_cpu_names_the_model_and_the_relevant_flags():
    info = describe_cpu(SAPPHIRE)
    assert info["cpu_model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert info["cpu_flags"] == [
        "avx2",
        "avx512f",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
    ]
    assert info["bf16_fast"] and not describe_cpu(ZEN2)["bf16_fast"]
    assert "bf16" in cpu_flags(GRAVITON) and describe_cpu("")["cpu_model"] == "unknown"


def test_autocast_is_bf16_only_for_bfloat16():
    import torch

    with Precision("cpu", "bfloat16").autocast():
        out = torch.nn.functional.linear(torch.ones(2, 4), torch.ones(3, 4))
    assert out.dtype == torch.bfloat16
    with Precision("cpu", "float32").autocast():
        assert torch.nn.functional.linear(torch.ones(2, 4), torch.ones(3, 4)).dtype == torch.float32


def test_torch_threads_restores_and_seed_everything_repeats():
    import torch

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    seed_everything(7)
    first = torch.rand(3)
    seed_everything(7)
    assert torch.equal(first, torch.rand(3))
