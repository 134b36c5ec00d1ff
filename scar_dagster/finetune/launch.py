"""One fine-tune of a subset, by mode: a local TRL SFT run or the user's own command."""

from __future__ import annotations

from pathlib import Path

from scar_dagster.finetune.command import run_command
from scar_dagster.finetune.params import SFTParams
from scar_dagster.finetune.record import FineTuneRecord
from scar_dagster.finetune.trl_sft import run_local_sft

FINETUNE_MODES = ("local", "command")


def launch_finetune(
    mode: str,
    *,
    subset_path: str | Path,
    subset_version: str,
    output_dir: str | Path,
    base_model_path: str | Path,
    command: str | None = None,
    timeout_s: float | None = None,
    params: SFTParams | None = None,
) -> FineTuneRecord:
    """Fine-tune on ``subset_path`` into ``output_dir``; return the record.

    ``mode="local"`` runs :func:`run_local_sft` on ``base_model_path`` with ``params``
    (overwriting an earlier run in ``output_dir``); ``mode="command"`` runs ``command`` (split
    with shlex) with ``SCAR_SUBSET_PATH``, ``SCAR_SUBSET_VERSION``, ``SCAR_OUTPUT_DIR`` and
    ``SCAR_BASE_MODEL`` set, within ``timeout_s``.
    """
    if mode == "command":
        if not command:
            raise ValueError("fine-tune mode 'command' needs a command")
        return run_command(
            command,
            subset_path=subset_path,
            subset_version=subset_version,
            output_dir=output_dir,
            env={"SCAR_BASE_MODEL": str(base_model_path)},
            timeout_s=timeout_s,
        )
    if mode != "local":
        raise ValueError(f"unknown fine-tune mode {mode!r}: use one of {FINETUNE_MODES}")
    return run_local_sft(
        subset_path,
        base_model_path=base_model_path,
        output_dir=output_dir,
        params=params,
        subset_version=subset_version,
        overwrite=True,
    )
