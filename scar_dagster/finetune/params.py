"""Hyperparameters of a local fine-tune (TRL ``SFTTrainer``), LoRA included, validated early."""

from __future__ import annotations

from dataclasses import dataclass

from scar_dagster.precision import Precision, resolve_precision

# Attention and MLP projections of Llama-style models (SmolLM2, Llama, Mistral, Qwen, OLMo).
DEFAULT_LORA_TARGETS: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)


@dataclass(frozen=True)
class LoraParams:
    """A LoRA adapter (PEFT): rank, alpha, dropout, the modules it wraps, how it is saved.

    ``merge=True`` saves the base model with the adapter merged in (a plain transformers
    folder); ``merge=False`` saves the adapter alone (``adapter_model.safetensors`` +
    ``adapter_config.json`` naming the base model folder, which must stay where it is).
    """

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = DEFAULT_LORA_TARGETS
    merge: bool = True

    def __post_init__(self) -> None:
        if self.rank < 1 or self.alpha < 1:
            raise ValueError("LoRA rank and alpha must be >= 1")
        if not 0 <= self.dropout < 1:
            raise ValueError("LoRA dropout must be in [0, 1)")
        if not self.target_modules:
            raise ValueError("LoRA needs at least one target module")

    def to_peft(self):
        """The ``peft.LoraConfig`` of a causal LM."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=list(self.target_modules),
            task_type="CAUSAL_LM",
        )


@dataclass(frozen=True)
class SFTParams:
    """One local SFT run (small defaults for a CPU demo; see docs/evaluation.md for a GPU).

    ``max_steps`` optimizer steps (``None``: ``epochs`` passes over the data) of
    ``batch_size`` rows times ``gradient_accumulation_steps``; AdamW at ``lr`` with
    ``lr_scheduler`` (TRL's default ``linear`` decay) after ``warmup_ratio``; gradients clipped
    to norm 1.0. ``eval_fraction`` of the rows (at least one, with two or more rows) is held out
    for the eval loss before and after training; ``0`` disables it. ``lora`` trains a LoRA
    adapter instead of every weight. ``device`` (auto, cpu, cuda) and ``dtype`` (auto, float32,
    bfloat16: bf16 autocast with float32 master weights) as everywhere
    (``scar_dagster.precision``). ``activation_checkpointing`` recomputes activations in the
    backward pass (less GPU memory, slower). ``num_threads`` sets torch's CPU threads.
    """

    max_steps: int | None = 20
    epochs: float = 1.0
    lr: float = 5e-5
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_length: int = 256
    eval_fraction: float = 0.1
    seed: int = 0
    num_threads: int | None = None
    device: str = "cpu"
    dtype: str = "float32"
    lora: LoraParams | None = None
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.0
    activation_checkpointing: bool = False

    def __post_init__(self) -> None:
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be >= 1 (or None to train for epochs)")
        if self.max_steps is None and not self.epochs > 0:
            raise ValueError("epochs must be > 0")
        if self.batch_size < 1 or self.gradient_accumulation_steps < 1 or self.lr <= 0:
            raise ValueError("batch_size and gradient_accumulation_steps must be >= 1, lr > 0")
        if self.max_length < 8:
            raise ValueError("max_length must be >= 8 tokens")
        if not 0 <= self.eval_fraction < 1:
            raise ValueError("eval_fraction must be in [0, 1)")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("warmup_ratio must be in [0, 1)")

    @property
    def precision(self) -> Precision:
        """Where and in which float type the run trains (``auto`` resolved)."""
        return resolve_precision(self.device, self.dtype)
