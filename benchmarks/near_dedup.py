"""Near dedup at scale: the exact set-similarity join vs MinHash LSH candidates, 100k and 1M rows.

Real-like texts: words drawn from a Zipf distribution (exponent 1.05) over a 50,000-word
vocabulary, log-normal lengths (median 140 words), and 3% planted near duplicates: a copy of
an earlier text with a random 0-35% of its words replaced or deleted, so their word-bigram
Jaccard spreads over the 0.5 threshold from both sides. (``benchmarks/synthetic.py`` builds
its responses from a bank of 5,000 sentences, so every bigram there is common: fine for the
other stages, not a real-like token distribution.)

Each method runs the production filter (``NearDedupFilter``, ``method="exact"`` or ``"lsh"``,
128 permutations, MinHashLSH's optimal bands) over the texts spooled to SQLite and read chunk
by chunk, as streaming selection reads them, each in its own interpreter
(``benchmarks.harness.run_stage``: wall time and peak RSS). Recall: the rows LSH drops among
those the exact join drops (both keep the first of a group in input order), and on a sample
of the first ``--sample`` texts the pairs found by the exact join and by LSH against every
pair compared by brute force (a sparse product of all pairs).

    .venv/bin/python -m benchmarks.near_dedup --sizes 100000,1000000 [--sample 5000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import machine_line, run_stage

THRESHOLD = 0.5
METHODS = ("exact", "lsh")


def real_like_texts(n: int, seed: int = 0, vocab: int = 50_000, planted: float = 0.03):
    """``n`` seeded texts with Zipf words and ``planted`` near duplicates (module docstring)."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(vocab)], dtype=object)
    cdf = np.cumsum(1.0 / np.arange(1, vocab + 1) ** 1.05)
    cdf /= cdf[-1]
    lengths = np.clip(rng.lognormal(np.log(140), 0.7, n), 5, 2000).astype(int)
    texts: list[str] = []
    for i in range(n):
        if texts and rng.random() < planted:
            base = texts[int(rng.integers(0, len(texts)))].split()
            edits = rng.integers(0, len(base), max(1, int(len(base) * rng.uniform(0, 0.35))))
            for at in edits:
                draw = words[min(int(np.searchsorted(cdf, rng.random())), vocab - 1)]
                base[at] = draw if rng.random() < 0.7 else ""
            texts.append(" ".join(w for w in base if w))
        else:
            at = np.minimum(np.searchsorted(cdf, rng.random(lengths[i])), vocab - 1)
            texts.append(" ".join(words[at]))
    return texts


# ---------------------------------------------------------------- stages (run in subprocesses)


def stage_generate(work: str, rows: int, seed: int) -> dict[str, Any]:
    """Write ``rows`` real-like texts to ``work/texts.parquet`` (``id, text``)."""
    import pandas as pd

    texts = real_like_texts(rows, seed)
    ids = [f"{i:09d}" for i in range(rows)]
    pd.DataFrame({"id": ids, "text": texts}).to_parquet(
        Path(work) / "texts.parquet", row_group_size=10_000
    )
    return {"rows": rows, "words": int(sum(len(t.split()) for t in texts))}


def stage_near(work: str, method: str) -> dict[str, Any]:
    """The production near-dedup filter over the spooled texts; the dropped rows to a file."""
    import pandas as pd
    import pyarrow.parquet as pq

    from scar_dagster.selection.filters.near_dedup import NearDedupFilter
    from scar_dagster.selection.texts import ChunkedTexts, SpooledTexts

    parquet = pq.ParquetFile(Path(work) / "texts.parquet")
    batches = (
        pd.DataFrame(
            {
                "id": b.column("id").to_pylist(),
                "instruction": "",
                "response": b.column("text").to_pylist(),
            }
        )
        for b in parquet.iter_batches(batch_size=10_000)
    )
    spool = SpooledTexts(batches)
    ids = [f"{i:09d}" for i in range(parquet.metadata.num_rows)]
    started = time.perf_counter()
    dropped = NearDedupFilter(threshold=THRESHOLD, method=method).drop(ChunkedTexts(ids, spool))
    seconds = time.perf_counter() - started
    spool.close()
    np.save(Path(work) / f"dropped_{method}.npy", np.sort(dropped.rows))
    return {"method": method, "dropped": len(dropped.rows), "seconds": seconds}


def stage_sample(work: str, sample: int) -> dict[str, Any]:
    """Pairs on the first ``sample`` texts: brute force, the exact join, LSH's candidates."""
    import pandas as pd
    from scipy.sparse import csr_matrix

    from scar_dagster.selection.filters import minhash
    from scar_dagster.selection.filters.set_join import similar_pairs, token_sets

    texts = pd.read_parquet(Path(work) / "texts.parquet")["text"].tolist()[:sample]
    sets = token_sets(minhash.shingles(t) for t in texts)
    _, columns = np.unique(sets.tokens, return_inverse=True)
    matrix = csr_matrix((np.ones(len(columns)), columns.reshape(-1), sets.offsets))
    overlap = (matrix @ matrix.T).tocoo()
    i, j, both = overlap.row, overlap.col, overlap.data
    upper = i < j
    i, j, both = i[upper], j[upper], both[upper]
    union = sets.sizes[i] + sets.sizes[j] - both
    truth = {
        (int(a), int(b)) for a, b, c, u in zip(i, j, both, union, strict=True) if c / u >= THRESHOLD
    }
    exact = {tuple(p) for p in similar_pairs(sets, THRESHOLD).tolist()}
    bands = minhash._band_rows(THRESHOLD, minhash.DEFAULT_NUM_PERM)
    positions, keys = minhash._band_keys(texts, minhash.DEFAULT_NUM_PERM, 2, 1, bands)
    buckets = minhash._shared_buckets(keys)
    row_of = {p: r for r, p in enumerate(positions)}
    proposed = sum(1 for a, b in truth if set(buckets[row_of[a]]) & set(buckets[row_of[b]]))
    return {
        "sample": sample,
        "true_pairs": len(truth),
        "exact_equal": exact == truth,
        "lsh_pair_recall": proposed / len(truth) if truth else 1.0,
        "bands": f"{bands[0]}x{bands[1]}",
    }


# ---------------------------------------------------------------- driver


def run_size(rows: int, sample: int, seed: int, root: Path) -> dict[str, Any]:
    work = root / str(rows)
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "rows": rows,
        "generate": run_stage(stage_generate, {"work": str(work), "rows": rows, "seed": seed}),
    }
    for method in METHODS:
        out[method] = run_stage(stage_near, {"work": str(work), "method": method})
    exact = set(np.load(work / "dropped_exact.npy").tolist())
    lsh = set(np.load(work / "dropped_lsh.npy").tolist())
    out["row_recall"] = len(exact & lsh) / len(exact) if exact else 1.0
    out["lsh_extra"] = len(lsh - exact)
    out["sample"] = run_stage(stage_sample, {"work": str(work), "sample": min(sample, rows)})
    return out


def markdown(results: list[dict[str, Any]], argv: str) -> str:
    lines = [
        "## Near dedup: the exact set-similarity join vs MinHash LSH candidates",
        "",
        f"`benchmarks/near_dedup.py {argv}`",
        "",
        machine_line("at the end"),
        "",
        "| rows | words | method | seconds | peak RSS MB | rows dropped | row recall vs exact |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for method in METHODS:
            m = r[method]
            recall = "1 (reference)" if method == "exact" else f"{r['row_recall']:.4f}"
            lines.append(
                f"| {r['rows']:,} | {r['generate']['words']:,} | {method} | {m['seconds']:.1f} | "
                f"{m['peak_rss_mb']:,.0f} | {m['dropped']:,} | {recall} |"
            )
    lines += [
        "",
        "| rows | sample | true pairs (brute force) | exact join = brute force | LSH pair recall "
        "| LSH bands | rows LSH drops that exact keeps |",
        "| ---: | ---: | ---: | --- | ---: | --- | ---: |",
    ]
    for r in results:
        s = r["sample"]
        lines.append(
            f"| {r['rows']:,} | {s['sample']:,} | {s['true_pairs']:,} | {s['exact_equal']} | "
            f"{s['lsh_pair_recall']:.4f} | {s['bands']} | {r['lsh_extra']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="near-dedup-"))
    results = []
    try:
        for rows in [int(s) for s in args.sizes.split(",")]:
            results.append(run_size(rows, args.sample, args.seed, root))
            print(json.dumps(results[-1]), flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    print(markdown(results, " ".join(argv)))


if __name__ == "__main__":
    main()
