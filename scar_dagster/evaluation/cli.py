"""``python -m scar_dagster.evaluation pairs|consistency``: now ``scar-dagster evaluate ...``.

python -m scar_dagster.evaluation pairs FILE.jsonl --ranker CHECKPOINT_DIR [--dtype bfloat16]
python -m scar_dagster.evaluation consistency POOL.parquet --ratio 0.25 [--score-column score]
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """``scar-dagster evaluate ARGV``; 0 on success, 1 on a data, file or checkpoint error."""
    import sys

    from scar_dagster.cli import main as cli_main

    return cli_main(["evaluate", *(sys.argv[1:] if argv is None else argv)])
