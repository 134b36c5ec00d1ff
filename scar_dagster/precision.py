"""Where and in which float type the models run: ``device`` and ``dtype`` settings, resolved.

``device`` is ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``;
``dtype`` is ``auto``, ``float32`` or ``bfloat16``. ``auto`` means bfloat16 where it is fast:
a CPU with AMX-BF16 or AVX512-BF16 (``amx_bf16`` / ``avx512_bf16`` in ``/proc/cpuinfo``), or a
GPU that supports bf16; float32 otherwise. Example::

    precision = resolve_precision("auto", "auto")   # Precision(device="cpu", dtype="bfloat16")
    model.to(precision.device, precision.torch_dtype)
    with precision.autocast():  # training: bf16 compute, fp32 master weights
        ...

``describe_cpu()`` names the CPU model and its relevant flags for benchmarks and metadata.
Importing this module does not import torch.
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEVICES_HELP = "auto | cpu | cuda | cuda:N"
DTYPES: tuple[str, ...] = ("auto", "float32", "bfloat16")
BF16_CPU_FLAGS: tuple[str, ...] = ("amx_bf16", "avx512_bf16")
# Flags worth printing beside a benchmark figure (vector width, bf16/int8 matrix units).
RELEVANT_CPU_FLAGS: tuple[str, ...] = (
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
_CUDA = re.compile(r"^cuda(:\d+)?$")
_ALIASES = {"fp32": "float32", "float": "float32", "bf16": "bfloat16"}


def read_cpuinfo(path: str | Path = "/proc/cpuinfo") -> str:
    """Text of ``/proc/cpuinfo`` ('' where there is none, e.g. macOS)."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _first_field(cpuinfo: str, names: tuple[str, ...]) -> str | None:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in names:
            return value.strip()
    return None


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """Feature flags of the first CPU (x86 ``flags``, ARM ``Features``)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    return frozenset((_first_field(text, ("flags", "Features")) or "").split())


def cpu_model(cpuinfo: str | None = None) -> str:
    """Model name of the first CPU ('unknown' when the kernel does not say)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    return _first_field(text, ("model name", "Model", "cpu model")) or "unknown"


def cpu_has_fast_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU has AMX-BF16 or AVX512-BF16 matrix instructions."""
    return any(flag in cpu_flags(cpuinfo) for flag in BF16_CPU_FLAGS)


def describe_cpu(cpuinfo: str | None = None) -> dict[str, Any]:
    """CPU model, logical cores, the relevant flags present, and whether bf16 is fast."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    flags = cpu_flags(text)
    return {
        "cpu_model": cpu_model(text),
        "logical_cores": os.cpu_count(),
        "cpu_flags": [flag for flag in RELEVANT_CPU_FLAGS if flag in flags],
        "bf16_fast": cpu_has_fast_bf16(text),
    }


def cpu_summary(cpuinfo: str | None = None) -> str:
    """One line for benchmark output: model, cores, relevant flags."""
    info = describe_cpu(cpuinfo)
    flags = " ".join(info["cpu_flags"]) or "none of " + " ".join(RELEVANT_CPU_FLAGS)
    return f"{info['cpu_model']}, {info['logical_cores']} logical cores, flags: {flags}"


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` if a GPU is visible else ``cpu``; ``cuda[:N]`` must be visible."""
    name = (device or "auto").strip().lower()
    if name == "auto":
        return "cuda" if _cuda_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if not _CUDA.match(name):
        raise ValueError(f"device must be {DEVICES_HELP}, got {device!r}")
    if not _cuda_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU")
    index = int(name.split(":")[1]) if ":" in name else 0
    count = _cuda_device_count()
    if index >= count:
        raise ValueError(f"device {device!r} asked for, but torch sees {count} CUDA GPU(s)")
    return name


def resolve_dtype(dtype: str = "auto", device: str = "cpu", cpuinfo: str | None = None) -> str:
    """``float32`` or ``bfloat16`` for a resolved ``device``; ``auto`` picks bf16 where fast."""
    name = _ALIASES.get((dtype or "auto").strip().lower(), (dtype or "auto").strip().lower())
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if name != "auto":
        return name
    if device.startswith("cuda"):
        return "bfloat16" if _cuda_bf16_supported() else "float32"
    return "bfloat16" if cpu_has_fast_bf16(cpuinfo) else "float32"


@dataclass(frozen=True)
class Precision:
    """A resolved device (``cpu``, ``cuda``, ``cuda:N``) and dtype (``float32``/``bfloat16``)."""

    device: str = "cpu"
    dtype: str = "float32"

    @property
    def label(self) -> str:
        """``<device type>/<dtype>``, e.g. ``cpu/bfloat16``: scores with equal labels agree."""
        return f"{self.device_type}/{self.dtype}"

    @property
    def device_type(self) -> str:
        return self.device.split(":")[0]

    @property
    def is_bf16(self) -> bool:
        return self.dtype == "bfloat16"

    @property
    def torch_dtype(self) -> Any:
        import torch

        return torch.bfloat16 if self.is_bf16 else torch.float32

    def autocast(self) -> AbstractContextManager[Any]:
        """bf16 autocast on this device (fp32 weights stay fp32); a no-op for float32."""
        if not self.is_bf16:
            return nullcontext()
        import torch

        return torch.autocast(device_type=self.device_type, dtype=torch.bfloat16)

    def to_metadata(self, prefix: str = "") -> dict[str, str]:
        """Device, dtype and the CPU model and flags (or the GPU name), for asset metadata."""
        out = {"device": self.device, "dtype": self.dtype}
        if self.device_type == "cpu":
            info = describe_cpu()
            out.update(cpu_model=info["cpu_model"], cpu_flags=" ".join(info["cpu_flags"]))
        else:
            out["gpu"] = _cuda_name(self.device)
        return {f"{prefix}{key}": value for key, value in out.items()}


def precision_of(module: Any) -> Precision:
    """Device and dtype of a torch module's first parameter (where the module runs)."""
    weight = next(module.parameters())
    return Precision(device=str(weight.device), dtype=str(weight.dtype).removeprefix("torch."))


def resolve_precision(device: str = "auto", dtype: str = "auto") -> Precision:
    """Resolve both settings (see the module docstring)."""
    resolved = resolve_device(device)
    return Precision(device=resolved, dtype=resolve_dtype(dtype, resolved))


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _cuda_device_count() -> int:
    import torch

    return int(torch.cuda.device_count())


def _cuda_bf16_supported() -> bool:
    import torch

    return bool(torch.cuda.is_bf16_supported())


def _cuda_name(device: str) -> str:
    import torch

    return str(torch.cuda.get_device_name(torch.device(device)))
