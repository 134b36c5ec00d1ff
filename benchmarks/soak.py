"""Soak run: successive landing-zone sensor ticks, each landing a new file in 3 sources.

Every tick writes one new JSONL file per source into a local landing zone, evaluates the real
``landing_zone_sensor``, runs each requested source through ingest -> features -> scoring with
``materialize()`` and then re-selects the subset. Every ``--repeat-every``-th tick lands files
whose rows were all seen before (only duplicates), so the kept data does not change then.

Models (stated, for speed): features without perplexity and relatedness (no LM load), and a
tiny seeded random StyleRanker published as the champion instead of a trained one. Scoring,
SQL (SQLite), selection, exports and every IO manager are the real ones.

After all ticks it asserts, and exits 1 on any violation:
- every input row is accounted for exactly once: input = kept + duplicates + quarantined per
  source, one ``selection_decisions`` row per input row, one SQL score per kept pair;
- the subset version changed exactly on the ticks where the set of kept pairs changed;
- each file version was requested once (unique run keys; a last tick requests nothing).

    .venv/bin/python -m benchmarks.soak --ticks 20
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import publish_champion

SOURCES = ("alpha", "beta", "gamma")
_VOCABULARY = (
    "data model style answer question list sort file read write clean test check build run "
    "value table column row score rank split merge join filter group count parse format load "
    "save print open close start stop plan step guide note tip rule case"
)
WORDS = tuple(_VOCABULARY.split())


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _rows(source: str, tick: int, n: int) -> list[dict[str, str]]:
    rng = random.Random(f"{source}:{tick}")
    return [
        {"prompt": f"[{source} {tick}.{i}] {_text(rng, 8)}", "response": _text(rng, 30)}
        for i in range(n)
    ]


def soak(ticks: int, work: Path, rows_per_file: int = 6, repeat_every: int = 4) -> dict[str, Any]:
    """Run the soak in ``work``; return the per-tick table and the list of violations."""
    from dagster import AssetSelection, DagsterInstance, build_sensor_context, materialize

    import definitions
    from scar_dagster.dagster.resources import CheckThresholdsResource, InstructLMResource
    from scar_dagster.storage import tables

    landing, home = work / "landing", work / "home"
    landing.mkdir(parents=True)
    home.mkdir(parents=True)
    ranker = publish_champion(
        home, work, tiny=True, fingerprint="soak", hidden_dim=16, max_length=64
    )
    res = definitions.build_resources(str(home), str(landing))
    res["instruct_lm"] = InstructLMResource(cache_dir=str(work / "cache"))
    # No perplexity is computed here, so its consistency bound must be given explicitly.
    res["check_thresholds"] = CheckThresholdsResource(absolute_max_std={"perplexity": 1e9})
    engine = res["database"].get_engine()
    config = {
        "ops": {
            "style_features": {
                "config": {"compute_perplexity": False, "compute_relatedness": False}
            },
            "selected_subset": {"config": {"ratio": 0.5}},
        }
    }
    every = list(definitions.defs.assets) + list(definitions.defs.asset_checks)
    landing_zone_sensor = definitions.defs.resolve_sensor_def("landing_zone_sensor")

    def run(groups: list[str], partition: str | None) -> Any:
        ops = {"style_features"} if partition else {"selected_subset"}
        return materialize(
            assets=every,
            selection=AssetSelection.groups(*groups),
            partition_key=partition,
            instance=instance,
            resources=res,
            run_config={"ops": {k: v for k, v in config["ops"].items() if k in ops}},
            raise_on_error=False,
        )

    table: list[dict[str, Any]] = []
    violations: list[str] = []
    run_keys: list[str] = []
    inputs = dict.fromkeys(SOURCES, 0)
    ingest_meta: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    previous_version: str | None = None
    previous_ids: frozenset[str] = frozenset()
    with DagsterInstance.ephemeral() as instance:
        for tick in range(1, ticks + 1):
            started = time.perf_counter()
            repeat = tick > 1 and tick % repeat_every == 0
            for source in SOURCES:
                rows = _rows(source, tick - 1 if repeat else tick, rows_per_file)
                lines = [json.dumps(row) for row in rows]
                if tick % 3 == 0 and not repeat:
                    lines.insert(1, '{"prompt": "broken')  # one malformed line
                path = landing / source / f"t{tick:03d}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(lines) + "\n")
                inputs[source] += len(lines)
            with build_sensor_context(instance=instance, cursor=cursor, resources=res) as ctx:
                result = landing_zone_sensor(ctx)
            cursor = result.cursor
            for request in result.dynamic_partitions_requests:
                instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys)
                )
            requested = sorted(r.partition_key for r in result.run_requests)
            if requested != sorted(SOURCES):
                violations.append(f"tick {tick}: sensor requested {requested}")
            run_keys += [r.run_key for r in result.run_requests]
            for source in requested:
                done = run(["ingest", "features", "scoring"], source)
                if not done.success:
                    violations.append(f"tick {tick}: {source} run failed")
                    continue
                event = next(
                    e
                    for e in done.asset_materializations_for_node("ingest_source")
                    if e.asset_key.path[-1] == "raw_pairs"
                )
                ingest_meta[source] = {k: v.value for k, v in event.metadata.items()}
            selection = run(["selection"], None)
            events = selection.asset_materializations_for_node("selected_subset")
            if not events:
                violations.append(f"tick {tick}: selection did not materialize")
                break
            version = str(events[0].metadata["subset_version"].value)
            kept_ids = frozenset(pid for source in SOURCES for pid in _kept_ids(home, source))
            data_changed = kept_ids != previous_ids
            version_changed = version != previous_version
            if data_changed != version_changed:
                violations.append(
                    f"tick {tick}: data changed={data_changed} but version changed="
                    f"{version_changed}"
                )
            decisions = tables.read_decisions(engine, version)
            total_inputs = sum(inputs.values())
            accounted = sum(
                m["dagster/row_count"] + m["duplicates"] + m["quarantined"]
                for m in ingest_meta.values()
            )
            for source in SOURCES:
                m = ingest_meta.get(source, {})
                if m.get("input_records") != inputs[source]:
                    violations.append(
                        f"tick {tick}: {source} ingested {m.get('input_records')} records, "
                        f"landed {inputs[source]}"
                    )
            if not (accounted == total_inputs == len(decisions) == decisions["id"].nunique()):
                violations.append(
                    f"tick {tick}: inputs {total_inputs}, accounted {accounted}, "
                    f"decisions {len(decisions)} ({decisions['id'].nunique()} unique)"
                )
            scores = tables.read_scores(engine, ranker)
            if not (len(scores) == scores["id"].nunique() and set(scores["id"]) == kept_ids):
                violations.append(
                    f"tick {tick}: {len(scores)} SQL scores for {len(kept_ids)} pairs"
                )
            table.append(
                {
                    "tick": tick,
                    "landed": "repeat" if repeat else "new",
                    "inputs": total_inputs,
                    "kept": len(kept_ids),
                    "duplicates": sum(m["duplicates"] for m in ingest_meta.values()),
                    "quarantined": sum(m["quarantined"] for m in ingest_meta.values()),
                    "decisions": len(decisions),
                    "selected": int(decisions["selected"].sum()),
                    "version": version,
                    "changed": "yes" if version_changed else "no",
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            previous_version, previous_ids = version, kept_ids
        with build_sensor_context(instance=instance, cursor=cursor, resources=res) as ctx:
            last = landing_zone_sensor(ctx)
        if last.run_requests:
            violations.append(f"a quiet tick requested {len(last.run_requests)} runs")
    if len(run_keys) != len(set(run_keys)):
        violations.append("a run key was requested twice")
    return {"table": table, "violations": violations}


def _kept_ids(home: Path, source: str) -> list[str]:
    import pandas as pd

    path = home / "assets" / "raw_pairs" / f"{source}.parquet"
    return pd.read_parquet(path, columns=["id"])["id"].tolist() if path.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--rows-per-file", type=int, default=6)
    parser.add_argument("--repeat-every", type=int, default=4)
    args = parser.parse_args(argv)
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="scar-soak-") as tmp:
        out = soak(args.ticks, Path(tmp), args.rows_per_file, args.repeat_every)
    print(pd.DataFrame(out["table"]).to_markdown(index=False))
    if out["violations"]:
        print("\nVIOLATIONS:\n" + "\n".join(out["violations"]))
        return 1
    print(f"\nok: {args.ticks} ticks, every input row accounted for exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
