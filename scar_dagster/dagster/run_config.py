"""Run configuration of the assets: each ``Config`` mirrors one core params class."""

from typing import TYPE_CHECKING, Any

from dagster import Config, get_dagster_logger
from pydantic import Field, model_validator

from scar_dagster.ingest.normalize import NormalizeParams

if TYPE_CHECKING:
    from scar_dagster.evaluation.subset_run import SubsetEvaluationParams
    from scar_dagster.ranker.model.architecture import RankerConfig
    from scar_dagster.ranker.model.train import TrainParams
    from scar_dagster.selection import SelectionParams, SelectionRun
    from scar_dagster.selection.perplexity import PerplexityReads
    from scar_dagster.style.features import StyleFeatureParams
    from scar_dagster.style.surprisal_cache import PerplexityLM


class IngestConfig(Config):
    """How ``raw_pairs`` reads a source (mirrors ``NormalizeParams``). How each source's files
    are laid out (format, fields, encoding, turns) is in its own ``scar_source.toml``."""

    max_text_chars: int = Field(
        default=100_000,
        description="Instructions or responses longer than this are quarantined (ingest_too_long).",
    )

    def to_params(self) -> NormalizeParams:
        return NormalizeParams(max_text_chars=self.max_text_chars)


_READ_MODES_HELP = "all (every row), read (only what something reads) or off"


class StyleFeaturesConfig(Config):
    """How ``style_features`` is computed (mirrors ``StyleFeatureParams``; the LM's token cap
    is the ``instruct_lm`` resource's ``perplexity_max_tokens``)."""

    perplexity: str = Field(
        default="read",
        description="Perplexity of the response under the instruct LM (the costly feature): "
        f"{_READ_MODES_HELP}. read: the partition's drift sample (sample_rows rows), which the "
        "drift check and the feature stats read; selected_subset fetches the perplexity of "
        "what its report and style gate read itself, through the same cache.",
    )
    relatedness: str = Field(
        default="read",
        description=f"Cosine of instruction and response embeddings: {_READ_MODES_HELP} "
        "(read: the drift sample; nothing else reads it by default).",
    )
    sample_rows: int = Field(
        default=2000, description="Rows of the drift sample per partition (seeded)."
    )
    sample_seed: int = Field(
        default=0,
        description="Seed of the drift sample; keep it equal to selected_subset's "
        "perplexity_sample_seed so their samples share rows (and cached values).",
    )
    perplexity_batch_size: int = Field(default=8, description="Pairs per LM forward pass.")
    perplexity_batch_tokens: int = Field(
        default=2048, description="Padded tokens per LM forward pass (length-sorted batches)."
    )
    relatedness_batch_size: int = Field(default=32, description="Texts per encoder pass.")
    relatedness_max_tokens: int = Field(default=256, description="Tokens per text, encoder.")
    relatedness_batch_tokens: int = Field(
        default=2048, description="Padded tokens per encoder pass (length-sorted batches)."
    )
    num_threads: int | None = Field(default=None, description="torch threads; None: default.")
    compute_perplexity: bool | None = Field(
        default=None,
        description="Deprecated: true is perplexity=all, false perplexity=off (with a warning).",
    )
    compute_relatedness: bool | None = Field(
        default=None,
        description="Deprecated: true is relatedness=all, false relatedness=off (with a warning).",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_deprecated_switches(cls, data: Any) -> Any:
        """``compute_perplexity`` / ``compute_relatedness`` (deprecated) become modes."""
        if not isinstance(data, dict):
            return data
        if "perplexity_max_tokens" in data:
            raise ValueError(
                "style_features config: perplexity_max_tokens moved to the instruct_lm "
                "resource (perplexity_max_tokens), as it changes every perplexity value"
            )
        out = dict(data)
        for old, new in (
            ("compute_perplexity", "perplexity"),
            ("compute_relatedness", "relatedness"),
        ):
            if out.get(old) is None:
                continue
            mode = "all" if out[old] else "off"
            if new in out and out[new] != mode:
                raise ValueError(
                    f"style_features config: {old}={out[old]} and {new}={out[new]!r} disagree; "
                    f"set {new} only"
                )
            get_dagster_logger().warning(
                f"style_features config: `{old}` is deprecated; read as {new}={mode!r}."
            )
            out.update({new: mode, old: None})
        return out

    def to_params(self) -> "StyleFeatureParams":
        from scar_dagster.style.features import StyleFeatureParams

        fields = self.model_dump(
            exclude={
                "compute_perplexity",
                "compute_relatedness",
                "perplexity_batch_size",
                "perplexity_batch_tokens",
            }
        )
        return StyleFeatureParams(**fields)

    def perplexity_lm(self, instruct_lm: Any) -> "PerplexityLM | None":
        """The ``instruct_lm`` resource as this config runs it (None: perplexity off)."""
        if self.perplexity == "off":
            return None
        return instruct_lm.perplexity_lm(
            batch_size=self.perplexity_batch_size,
            batch_tokens=self.perplexity_batch_tokens,
            num_threads=self.num_threads,
        )


_SELECTION_RUN_FIELDS = ("mode", "streaming_min_rows", "chunk_rows")  # how, not what: unhashed
_PERPLEXITY_FIELDS = (  # what the report and the gate read, never what is selected: unhashed
    "perplexity",
    "perplexity_sample_rows",
    "perplexity_sample_seed",
    "perplexity_batch_size",
    "perplexity_batch_tokens",
)
# Which scores rank the pool: hashed into the subset version through the scorer's version.
_SELECTOR_FIELDS = ("selector", "proxy_lm", "candidate_factor", "distill_sample_size")


class SelectionConfig(Config):
    """How ``selected_subset`` picks pairs (mirrors ``SelectionParams``).

    Set at most one of ``top_k``, ``ratio`` or ``threshold``; with none set, ``ratio=0.25``
    (SCAR's subsets are often 1-25% of the data).
    """

    top_k: int | None = Field(default=None, description="Keep the k best-scored pairs.")
    ratio: float | None = Field(default=None, description="Keep this share of eligible pairs.")
    threshold: float | None = Field(default=None, description="Keep pairs scoring >= this.")
    min_per_source: dict[str, int] = Field(
        default_factory=dict, description="Reserve at least this many rows for a source."
    )
    max_per_source: dict[str, int] = Field(
        default_factory=dict, description="Cap the rows taken from a source."
    )
    english_threshold: float | None = Field(
        default=0.7, description="English filter: the ASCII share must exceed this (None: off)."
    )
    english_rule: str = Field(
        default="letters",
        description="'letters': ASCII letters among letters (a text without letters carries no "
        "evidence); 'reference': SCAR's rule, ASCII letters among all characters (a text "
        "without letters fails).",
    )
    dedup_on: str = Field(default="pair", description="Exact dedup key: 'pair' or 'response'.")
    dedup_keep: str = Field(
        default="score",
        description="Which copy of a duplicate group stays: 'score' (the best-scored) or "
        "'first' (the earliest in input order: source, file, line; SCAR's reference).",
    )
    near_dedup: bool = Field(default=True, description="MinHash near-duplicate removal.")
    minhash_threshold: float = Field(
        default=0.5,
        description="Near duplicates: exact word n-gram Jaccard >= this (MinHash LSH proposes "
        "the candidates).",
    )
    near_method: str = Field(
        default="lsh",
        description="Near duplicates: 'lsh' confirms the pairs MinHash LSH proposes (it can miss "
        "some near the threshold); 'exact' finds every pair (an exact set-similarity join).",
    )
    lsh_bands: int | None = Field(
        default=None, description="LSH bands (None: MinHashLSH's optimum for the threshold)."
    )
    compat: str = Field(
        default="none",
        description="'reference': the SCAR toolkit's rules step by step (its English rule, "
        "exact dedup on stripped texts keeping the first, near dedup with its tokens, every "
        "pair and its greedy grouping); docs/stages.md lists each difference.",
    )
    num_perm: int = Field(default=128, description="MinHash permutations.")
    ngram_size: int = Field(default=2, description="Word n-gram size of MinHash shingles.")
    seed: int = Field(default=1, description="Seed of MinHash and of the random baseline.")
    selector: str = Field(
        default="auto",
        description="What ranks the pool: 'auto' (the StyleRanker when the champion is a real "
        "ranker, else the route docs/selectors.md measured; the choice and why are in the "
        "metadata), 'scar', 'ifd', 'superfiltering', 'perplexity', 'length', 'random' "
        "(seeded by seed), 'diversity', 'scar+diversity' or 'distilled'.",
    )
    proxy_lm: str | None = Field(
        default=None,
        description="superfiltering: the small LM's folder (default: the instruct LM, the "
        "bundled SmolLM2-135M).",
    )
    candidate_factor: float = Field(
        default=2.0, description="scar+diversity: k-center thins this many x the cut's rows."
    )
    distill_sample_size: int = Field(
        default=2000, description="distilled: pool rows the instruct LM scores to teach it."
    )
    mode: str = Field(
        default="auto",
        description="Where the pairs' texts are read from: 'memory': all at once; 'streaming': "
        "spooled once to a temporary SQLite file and read one chunk at a time; 'auto': "
        "streaming from streaming_min_rows kept pairs. Both give the same subset.",
    )
    streaming_min_rows: int = Field(
        default=200_000, description="auto: pools with at least this many pairs stream."
    )
    chunk_rows: int = Field(default=2000, description="Pairs per text fetch.")
    perplexity: str = Field(
        default="read",
        description="The perplexity the report and the style gate compare (it never ranks): "
        f"{_READ_MODES_HELP}. read: a seeded sample of at most perplexity_sample_rows rows of "
        "the pool, of the subset and of the random reference subset, computed by the "
        "instruct LM where the cache lacks it; all: every row of them; off: left out of the "
        "gate. Not part of the subset version.",
    )
    perplexity_sample_rows: int = Field(
        default=2000, description="read: rows per figure (pool, subset, random subset)."
    )
    perplexity_sample_seed: int = Field(
        default=0, description="read: seed of the samples (style_features' sample_seed)."
    )
    perplexity_batch_size: int = Field(default=8, description="Pairs per LM forward pass.")
    perplexity_batch_tokens: int = Field(
        default=2048, description="Padded tokens per LM forward pass."
    )

    def to_params(self) -> "SelectionParams":
        from scar_dagster.selection import SelectionParams

        values = self.model_dump(
            exclude={*_SELECTION_RUN_FIELDS, *_PERPLEXITY_FIELDS, *_SELECTOR_FIELDS}
        )
        if values["top_k"] is None and values["ratio"] is None and values["threshold"] is None:
            values["ratio"] = 0.25
        return SelectionParams(**values)

    def to_run(self) -> "SelectionRun":
        """How the selection executes (not part of the subset version)."""
        from scar_dagster.selection import SelectionRun

        return SelectionRun(**self.model_dump(include=set(_SELECTION_RUN_FIELDS)))

    def perplexity_reads(self, instruct_lm: Any, store: Any) -> "PerplexityReads":
        """Which perplexities the report and the gate read, computed with the ``instruct_lm``
        resource and cached in ``store`` (a SQLAlchemy engine); not part of the version."""
        from scar_dagster.selection.perplexity import PerplexityReads

        lm = None
        if self.perplexity != "off":
            lm = instruct_lm.perplexity_lm(
                batch_size=self.perplexity_batch_size, batch_tokens=self.perplexity_batch_tokens
            )
        return PerplexityReads(
            mode=self.perplexity,
            sample_rows=self.perplexity_sample_rows,
            sample_seed=self.perplexity_sample_seed,
            lm=lm,
            store=store,
        )


class SelectorComparisonConfig(Config):
    """What ``selector_comparison`` puts side by side (the other selection options: defaults)."""

    selectors: list[str] = Field(
        default=["scar", "ifd", "perplexity", "length", "random", "diversity", "scar+diversity"],
        description="Selectors to compare (any of selected_subset's, not 'auto').",
    )
    ratio: float = Field(default=0.25, description="Each selector keeps this share.")
    pairs_path: str | None = Field(
        default=None,
        description="Held-out preference pairs (instruction, preferred|chosen, other|rejected) "
        "each selector scores on both sides: its accuracy with a Wilson 95% interval.",
    )
    seed: int = Field(default=1, description="Seed of MinHash, random and distilled.")
    proxy_lm: str | None = Field(default=None, description="superfiltering's small LM folder.")


class ScoringConfig(Config):
    """How ``scored_pairs`` runs the ranker."""

    batch_size: int = Field(default=32, description="Pairs per encoder batch (length-bucketed).")
    num_threads: int | None = Field(default=None, description="torch threads; None: default.")
    device: str = Field(default="auto", description="auto (CUDA if present), cpu, cuda, cuda:N.")
    dtype: str = Field(
        default="auto",
        description="auto (bfloat16 where the CPU/GPU has fast bf16, else float32), float32 or "
        "bfloat16; scores are stored per ranker version with this precision.",
    )


class TrainingDataConfig(Config):
    """Where ``ranker_training_data`` comes from: a file or folder in one of three formats, or
    quadruples generated with the local LM."""

    path: str | None = Field(
        default=None,
        description="Training data, local or s3://: (1) a JSONL of quadruples (instruction, "
        "human, referenced, direct, quality_*); (2) a folder of SCAR's released data "
        "(instruction_response/ and quality_measure/); (3) preference pairs "
        "(instruction|prompt, chosen, rejected; optional chosen_score/rejected_score 0-9), JSONL "
        "or a JSON array. The format is detected. Default: the bundled "
        "data/ranker/quadruples.jsonl (120 quadruples written by a 135M model: a demo, not a "
        "real ranker).",
    )
    quadruples_path: str | None = Field(
        default=None, description="Older name of `path` (quadruple JSONL); set one of the two."
    )
    quality: str = Field(
        default="help_correct",
        description="SCAR data folder: quality = mean of the help and correct scores "
        "('help_correct', as the reference), or 'help' or 'correct' alone.",
    )
    generate: bool = Field(
        default=False,
        description="Generate quadruples from a sample of raw_pairs with the instruct LM "
        "instead of reading a file.",
    )
    sample_size: int = Field(default=48, description="generate: pairs sampled from raw_pairs.")
    max_new_tokens: int = Field(
        default=512,
        description="generate, local backend: token cap per answer; an answer stopped by it "
        "is excluded (quadruple_generation_truncated). The endpoint's cap is llm_endpoint's "
        "max_tokens.",
    )
    seed: int = Field(default=0, description="generate: sampling seed.")
    generation_backend: str = Field(
        default="local",
        description="generate: 'local' (the instruct LM, offline) or 'endpoint' (the "
        "llm_endpoint resource, any OpenAI-compatible API).",
    )
    judge_backend: str = Field(
        default="heuristic",
        description="Who rates absent qualities: 'heuristic' (HeuristicJudge, the offline "
        "fallback), 'local' (the instruct LM) or 'endpoint' (llm_endpoint); the LLM judges rate "
        "helpfulness and correctness separately, 0-9, and average them.",
    )
    judge_max_tokens: int = Field(
        default=256,
        description="LLM judges: token cap of one rating (reasoning + score); the SCAR "
        "toolkit's scorer asks for up to 1024.",
    )
    prompts_path: str | None = Field(
        default=None,
        description="generate and LLM judges: a TOML file or a folder (local path) with the "
        "four templates direct, referenced, helpfulness, correctness, used instead of ours "
        "(our prompts after the paper's design): e.g. the SCAR toolkit's own prompts; see "
        "data/ranker/prompts/ and docs/stages.md. Validated when the run starts.",
    )
    judge_parse: str = Field(
        default="last_score",
        description="LLM judges: how a rating is read from a reply: 'last_score' (the last "
        "`Score: N`, else the last number 0-9) or 'most_common_number' (the SCAR toolkit's "
        "rule: the most frequent 0-9 number near 'score' or the aspect's name).",
    )
    judge_unparseable: str = Field(
        default="exclude",
        description="LLM judges: a reply without a usable rating drops its quadruple "
        "('exclude', reason quadruple_judge_unparseable) or scores 0 ('zero', as the SCAR "
        "toolkit). A failed request is never scored 0.",
    )
    export_scar_path: str | None = Field(
        default=None,
        description="Also write the rows (quadruples) in the SCAR toolkit's layout under this "
        "root, local or s3://: <root>/ranker_data/<domain>/<generator>/instruction_response/"
        "{human,referenced,direct}.json and quality_measure/<kind>_{help,correct}_score.json.",
    )
    export_scar_domain: str = Field(
        default="open", description="export_scar_path: the <domain> folder (e.g. open, code)."
    )
    export_scar_generator: str | None = Field(
        default=None,
        description="export_scar_path: the <generator> folder; default the rows' generator "
        "(a safe folder name; 'mixed' or 'unknown' when the rows name several or none).",
    )
    max_failure_share: float = Field(
        default=0.1,
        description="The asset fails when more than this share of pairs is lost to requests "
        "that failed after every retry (the replies received are cached for the rerun).",
    )

    def location(self, default: str) -> str:
        """The configured training-data location, else ``default``."""
        if self.path and self.quadruples_path:
            raise ValueError("set path or quadruples_path, not both")
        return self.path or self.quadruples_path or default


class RankerTrainingConfig(Config):
    """How ``style_ranker`` is trained (mirrors ``TrainParams`` and ``RankerConfig``), or which
    published SCAR ranker it imports instead (``published_ranker``; ``pretrained`` is its
    deprecated old name, still read, with a warning)."""

    published_ranker: str | None = Field(
        default=None,
        description="Import this published SCAR ranker instead of training: a folder in their "
        "layout (config.json with model_type style_ranker, pytorch_model.bin or "
        "model.safetensors, tokenizer files) or a hub id such as lizhuang144/scar-gte-base (needs "
        "hub access). It is published and gated like a trained ranker.",
    )
    pretrained: str | None = Field(
        default=None,
        description="Deprecated: the old name of published_ranker (it never meant a base "
        "model). Still read, with a warning in the run's log; set published_ranker instead.",
    )
    encoder: str | None = Field(
        default=None,
        description="published_ranker: local folder (or id) of the encoder, overriding the "
        "checkpoint's encoder_name (offline use). Only the architecture is read from it.",
    )
    trust_remote_code: bool = Field(
        default=False,
        description="Allow an encoder that ships its own Python code (gte-*-en-v1.5, the "
        "SCAR toolkit's default encoder), to train on or to import a published ranker with. "
        "That code runs on this machine: enable only for code you trust.",
    )
    epochs: int = Field(default=20, description="Maximum epochs (paper: up to 20).")
    batch_size: int = Field(default=2, description="Quadruples (or pairs) per step (paper: 2).")
    lr: float = Field(default=2e-5, description="AdamW learning rate (paper: 2e-5).")
    seed: int = Field(default=42, description="Seed of the split, init and shuffling.")
    early_stopping_patience: int | None = Field(
        default=None,
        description="Stop after this many epochs without validation gain; default off, as the "
        "reference (it trains every epoch and keeps the best).",
    )
    hidden_dim: int = Field(default=512, description="MLP hidden size L (paper: 512).")
    max_length: int = Field(default=512, description="Tokens per text (paper: 512).")
    num_threads: int | None = Field(default=None, description="torch threads; None: default.")
    quality_threshold: float = Field(
        default=5.0,
        description="The minimum of the quality constraint (the toolkit's constraint_min; "
        "paper: a pair trains only if both qualities exceed 5).",
    )
    constraint_mode: str = Field(
        default="abs",
        description="Which pairs train, as the SCAR toolkit's modes, with a/b the better/worse "
        "quality: 'abs' min(a,b) > quality_threshold and max(a,b) < constraint_max; "
        "'abs_pos' quality_threshold < a < constraint_max; 'diff' |a-b| < constraint_max; "
        "'abs_diff' |a-b| < constraint_max and min(a,b) > quality_threshold; 'none' all.",
    )
    constraint_max: float = Field(
        default=10.0,
        description="The toolkit's constraint_max: the upper bound of the qualities (abs, "
        "abs_pos) or of their difference (diff, abs_diff); 10 (the toolkit's default) bounds "
        "nothing on 0-9 scores.",
    )
    device: str = Field(default="auto", description="auto (CUDA if present), cpu, cuda, cuda:N.")
    dtype: str = Field(
        default="auto",
        description="auto, float32 or bfloat16 (bf16 autocast with fp32 master weights).",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_deprecated_pretrained(cls, data: Any) -> Any:
        """``pretrained`` (deprecated) becomes ``published_ranker``, with a warning."""
        if not isinstance(data, dict) or data.get("pretrained") is None:
            return data
        old, new = data["pretrained"], data.get("published_ranker")
        if new is not None and new != old:
            raise ValueError(
                f"style_ranker config: published_ranker={new!r} and its deprecated alias "
                f"pretrained={old!r} disagree; set published_ranker only"
            )
        get_dagster_logger().warning(
            "style_ranker config: `pretrained` is deprecated (it names a published SCAR "
            f"ranker, not a base model); read as published_ranker={old!r}. Rename the key."
        )
        return {**data, "published_ranker": old, "pretrained": None}

    def to_params(self) -> "TrainParams":
        from scar_dagster.ranker.model.train import TrainParams

        return TrainParams(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            early_stopping_patience=self.early_stopping_patience,
            num_threads=self.num_threads,
            quality_threshold=self.quality_threshold,
            constraint_mode=self.constraint_mode,
            constraint_max=self.constraint_max,
            device=self.device,
            dtype=self.dtype,
        )

    def to_ranker_config(self, encoder: str) -> "RankerConfig":
        from scar_dagster.ranker.model.architecture import RankerConfig

        return RankerConfig(encoder=encoder, hidden_dim=self.hidden_dim, max_length=self.max_length)


class EvaluationConfig(Config):
    """What ``ranker_evaluation`` measures (see ``scar_dagster.evaluation``)."""

    pairs_path: str | None = Field(
        default=None,
        description="A held-out preference file you trust (JSONL or JSON array of "
        "instruction|prompt + chosen/rejected, or preferred/other): the figure to trust. "
        "Default: the test split of ranker_training_data, which is in-distribution (same "
        "source and generator as the training data) and says little about real data.",
    )
    seeds: list[int] = Field(
        default=[0, 1, 2, 3, 4], description="Seeds of the random subsets compared with the subset."
    )
    batch_size: int = Field(default=32, description="Pairs per encoder batch.")


class SubsetEvaluationConfig(Config):
    """What ``subset_evaluation`` compares (mirrors ``SubsetEvaluationParams``)."""

    heldout_size: int = Field(
        default=16,
        description="Held-out instructions drawn (seeded) from the eligible pool; every pair "
        "with one of them leaves every training set.",
    )
    heldout_path: str | None = Field(
        default=None,
        description="Your own held-out set instead (Alpaca JSONL: instruction, input, output; "
        "or instruction/response): the pool's pairs with these instructions leave every "
        "training set.",
    )
    seed: int = Field(default=0, description="Seed of the held-out draw and the random subset.")
    include_full: bool = Field(
        default=True, description="Also fine-tune on the whole eligible pool (SCAR vs full)."
    )
    max_new_tokens: int = Field(default=64, description="Token cap of each model's answer.")
    generation_batch_size: int = Field(default=8, description="Answers generated per batch.")
    judge_max_tokens: int = Field(
        default=8, description="Token cap of the judge's verdict (one letter is asked for)."
    )
    max_failure_share: float = Field(
        default=0.1,
        description="Fail when more than this share of comparisons is lost to judge requests "
        "that failed after every retry (received replies are cached for the rerun).",
    )

    def to_params(self) -> "SubsetEvaluationParams":
        from scar_dagster.evaluation.subset_run import SubsetEvaluationParams

        return SubsetEvaluationParams(**self.model_dump(exclude={"heldout_path"}))
