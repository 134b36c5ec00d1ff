"""Fine-tune a model on a selected subset: a local TRL SFT run or an external command.

Both launchers return a :class:`FineTuneRecord` naming the subset version they used, also
written as ``run.json`` in the run's output folder. Importing this package is light: torch,
transformers, trl and peft load only inside :func:`run_local_sft`.
"""

from __future__ import annotations

from scar_dagster.finetune.command import FineTuneError as FineTuneError
from scar_dagster.finetune.command import raise_for_status as raise_for_status
from scar_dagster.finetune.command import run_command as run_command
from scar_dagster.finetune.launch import launch_finetune as launch_finetune
from scar_dagster.finetune.params import LoraParams as LoraParams
from scar_dagster.finetune.params import SFTParams as SFTParams
from scar_dagster.finetune.record import FineTuneRecord as FineTuneRecord
from scar_dagster.finetune.record import read_record as read_record
from scar_dagster.finetune.trl_sft import run_local_sft as run_local_sft
