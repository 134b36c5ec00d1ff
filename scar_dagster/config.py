"""Run configuration of the assets: each ``Config`` mirrors one core params class."""


from dagster import Config
from pydantic import Field

from scar_dagster.ingest.normalize import ColumnMapping, NormalizeParams


class IngestConfig(Config):
    """How ``raw_pairs`` reads a source (mirrors ``NormalizeParams``)."""

    max_text_chars: int = Field(
        default=100_000,
        description="Instructions or responses longer than this are quarantined "
        "(ingest_too_long).",
    )
    instruction_field: str | None = Field(
        default=None,
        description="Custom layout: field holding the instruction (set with response_field).",
    )
    response_field: str | None = Field(
        default=None, description="Custom layout: field holding the response."
    )
    input_field: str | None = Field(
        default=None, description="Custom layout: optional field appended to the instruction."
    )

    def to_params(self) -> NormalizeParams:
        mapping = None
        if self.instruction_field or self.response_field:
            if not (self.instruction_field and self.response_field):
                raise ValueError("set both instruction_field and response_field, or neither")
            mapping = ColumnMapping(self.instruction_field, self.response_field, self.input_field)
        return NormalizeParams(max_text_chars=self.max_text_chars, mapping=mapping)
