"""perplexity_for: stored values are read, only the missing ones computed (counted LM calls),
per model version and kind; the version follows what changes a value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scar_dagster.storage import tables
from scar_dagster.style.surprisal import RESPONSE_ONLY, response_perplexity
from scar_dagster.style.surprisal_cache import PerplexityLM, lm_identity, perplexity_for


def pairs(n: int = 12) -> tuple[list[str], list[str], list[str]]:
    """``n`` ids, instructions and responses of varied lengths."""
    words = [
        "the",
        "model",
        "reads",
        "a",
        "long",
        "answer",
        "because",
        "the",
        "data",
        "has",
        "style",
        "and",
        "code",
    ]
    xs = [" ".join(words[: 2 + i % 7]) + "?" for i in range(n)]
    ys = [" ".join(words[i % 5 :] * (1 + i % 4)) + "." for i in range(n)]
    return [f"id{i:03d}" for i in range(n)], xs, ys


def test_only_missing_values_are_computed_and_the_cache_is_reused(tiny_ppl, engine):
    ids, xs, ys = pairs()
    part = perplexity_for(ids[:5], (xs[:5], ys[:5]), tiny_ppl, engine)
    assert (part.computed, part.reused) == (5, 0)
    asked: list[list[int]] = []

    def texts(positions):
        asked.append(list(positions))
        return [xs[i] for i in positions], [ys[i] for i in positions]

    every = perplexity_for(ids, texts, tiny_ppl, engine)
    assert (every.computed, every.reused) == (7, 5)
    assert asked == [list(range(5, 12))]  # the texts of stored values are never read
    direct, cut = response_perplexity(*tiny_ppl.model(), xs, ys, max_tokens=128)
    np.testing.assert_allclose(every.perplexity, direct, rtol=1e-5)
    assert (every.truncated == cut).all()
    calls = tiny_ppl.batches
    again = perplexity_for(ids[::-1], texts, tiny_ppl, engine)
    assert tiny_ppl.batches == calls and (again.computed, again.reused) == (0, 12)
    np.testing.assert_array_equal(again.perplexity, every.perplexity[::-1])


def test_kinds_and_model_versions_are_kept_apart(tiny_ppl, engine):
    ids, xs, ys = pairs(4)
    given = perplexity_for(ids, (xs, ys), tiny_ppl, engine)
    alone = perplexity_for(ids, (xs, ys), tiny_ppl, engine, kind=RESPONSE_ONLY)
    assert alone.computed == 4 and not np.allclose(given.perplexity, alone.perplexity)
    other = dataclasses.replace(tiny_ppl, max_tokens=64, _model=None)
    assert other.version != tiny_ppl.version
    assert perplexity_for(ids, (xs, ys), other, engine).computed == 4
    batching = dataclasses.replace(tiny_ppl, batch_size=1, batch_tokens=64)
    assert batching.version == tiny_ppl.version  # batching does not change a value
    assert perplexity_for(ids, (xs, ys), batching, engine).reused == 4
    kinds = tables.read_surprisal(engine, tiny_ppl.version, RESPONSE_ONLY, ids)
    np.testing.assert_allclose(kinds["perplexity"], alone.perplexity)
    with pytest.raises(ValueError, match="kind must be one of"):
        perplexity_for(ids, (xs, ys), tiny_ppl, engine, kind="given")


def test_a_repeated_id_is_computed_once_and_without_a_store_nothing_is_kept(tiny_ppl):
    ids, xs, ys = pairs(3)
    out = perplexity_for(
        [ids[0], ids[1], ids[0], ids[2]],
        ([xs[0], xs[1], xs[0], xs[2]], [ys[0], ys[1], ys[0], ys[2]]),
        tiny_ppl,
        None,
    )
    assert out.computed == 3 and out.perplexity[0] == out.perplexity[2]
    assert perplexity_for(ids, (xs, ys), tiny_ppl, None).computed == 3  # no store: again
    empty = perplexity_for([], ([], []), tiny_ppl, None)
    assert empty.perplexity.shape == (0,) and empty.computed == 0


def test_an_empty_response_is_stored_as_null_and_read_back_as_nan(tiny_ppl, engine):
    out = perplexity_for(["e"], (["Hi"], [""]), tiny_ppl, engine)
    assert np.isnan(out.perplexity[0])
    again = perplexity_for(["e"], (["Hi"], [""]), tiny_ppl, engine)
    assert again.reused == 1 and np.isnan(again.perplexity[0])


def test_windows_store_as_they_go(tiny_ppl, engine):
    ids, xs, ys = pairs(10)
    small = dataclasses.replace(tiny_ppl, window=3)
    calls = []

    def failing_after_two(positions):
        calls.append(len(positions))
        if len(calls) > 2:
            raise RuntimeError("interrupted")
        return [xs[i] for i in positions], [ys[i] for i in positions]

    with pytest.raises(RuntimeError, match="interrupted"):
        perplexity_for(ids, failing_after_two, small, engine)
    assert len(tables.read_surprisal(engine, small.version, "conditional", ids)) == 6
    assert perplexity_for(ids, (xs, ys), small, engine).computed == 4


def test_the_identity_of_a_folder_follows_its_files(tmp_path):
    folder = tmp_path / "lm"
    folder.mkdir()
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "scar_conversion.json").write_text('{"converted_at": 1}')
    first = lm_identity(folder)
    (folder / "scar_conversion.json").write_text('{"converted_at": 2}')
    assert lm_identity(folder) == first  # the conversion's time stamp is not the model
    (folder / "config.json").write_text('{"a": 2}')
    assert lm_identity(folder) != first
    with pytest.raises(FileNotFoundError):
        lm_identity(tmp_path / "absent")


def test_settings_are_checked(tiny_ppl):
    with pytest.raises(ValueError, match="window"):
        dataclasses.replace(tiny_ppl, window=0)
    assert set(tiny_ppl.describe()) == {
        "model_version",
        "lm_identity",
        "code_version",
        "precision",
        "max_tokens",
    }
    assert tiny_ppl.precision == "cpu/float32"
    assert isinstance(PerplexityLM.of_loaded(*tiny_ppl.model(), identity="x").version, str)
