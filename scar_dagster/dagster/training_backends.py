"""The chat backends, prompts and judge of ``ranker_training_data``, built from its resources,
and its optional export in the SCAR toolkit's layout."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue

from scar_dagster.dagster.resources import InstructLMResource, LLMEndpointResource, StorageResource
from scar_dagster.dagster.run_config import TrainingDataConfig

BACKENDS = ("local", "endpoint")


class TrainingBackends:
    """One chat client per backend (``local`` instruct LM, OpenAI-compatible ``endpoint``),
    shared by generation and judging, and the configured judge (``heuristic`` by default)."""

    def __init__(
        self,
        config: TrainingDataConfig,
        instruct_lm: InstructLMResource,
        llm_endpoint: LLMEndpointResource,
        storage: StorageResource,
    ) -> None:
        from scar_dagster.llm.prompt_files import load_prompts
        from scar_dagster.ranker.data.judge import ChatJudge, HeuristicJudge

        self.config, self.instruct_lm = config, instruct_lm
        self.llm_endpoint, self.storage = llm_endpoint, storage
        self._chats: dict[str, Any] = {}
        self.prompts = load_prompts(config.prompts_path) if config.prompts_path else None
        self.judge_is_fallback = config.judge_backend == "heuristic"
        self.judge = (
            HeuristicJudge()
            if self.judge_is_fallback
            else ChatJudge(
                self.chat(config.judge_backend),
                max_tokens=config.judge_max_tokens,
                prompts=self.prompts,
                parse=config.judge_parse,
                unparseable=config.judge_unparseable,
            )
        )

    def chat(self, backend: str) -> Any:
        """The chat client of ``backend``, made once."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: use one of {BACKENDS}")
        if backend not in self._chats:
            if backend == "endpoint":
                self._chats[backend] = self.llm_endpoint.get_client(self.storage.asset_store())
            else:
                from scar_dagster.llm.local import LocalChat

                tokenizer, model = self.instruct_lm.load()
                self._chats[backend] = LocalChat(
                    tokenizer,
                    model,
                    max_new_tokens=self.config.max_new_tokens,
                    seed=self.config.seed,
                    name=self.instruct_lm.model,
                )
        return self._chats[backend]

    def judge_label(self) -> str:
        """The judge's name, marked when it is the heuristic fallback."""
        suffix = " (fallback: no LLM judge configured)" if self.judge_is_fallback else ""
        return self.judge.name + suffix

    def prompts_label(self) -> str:
        """Which prompt set generation and LLM judging use (``default``: ours)."""
        from scar_dagster.llm.prompts import DEFAULT_PROMPTS

        return (self.prompts or DEFAULT_PROMPTS).label

    def judge_metadata(self) -> dict[str, Any]:
        """The prompt set, and how many unparseable ratings scored 0 (``unparseable: zero``)."""
        meta: dict[str, Any] = {"prompts": self.prompts_label()}
        if getattr(self.judge, "unparseable", None) == "zero":
            meta["judge_unparseable_scored_zero"] = self.judge.zeroed
        return meta

    def usage_metadata(self) -> dict[str, Any]:
        """Request, token, cache and failure counts of the endpoint client (never its key)."""
        client = self._chats.get("endpoint")
        if client is None:
            return {}
        usage = client.usage.as_dict()
        return {
            "llm_endpoint": f"{client.base_url} model={client.settings.model}",
            "llm_usage": MetadataValue.json(usage),
            **{f"llm_{k}": v for k, v in usage.items()},
        }


def export_training_data(
    config: TrainingDataConfig, data: Any, storage: StorageResource
) -> dict[str, Any]:
    """Write ``data`` in SCAR's layout under ``config.export_scar_path``; the export summary."""
    from scar_dagster.ranker.data.sourcing import export_scar_layout

    root = str(config.export_scar_path)
    export = export_scar_layout(
        data,
        root,
        domain=config.export_scar_domain,
        generator=config.export_scar_generator,
        s3_client=storage.s3.get_client() if root.startswith("s3://") else None,
    )
    return export.summary()
