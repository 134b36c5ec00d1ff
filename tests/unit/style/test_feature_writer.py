"""write_style_features: batches of pairs featurized into one Parquet file, one row group each,
with the summaries the asset's metadata needs and the digest of the whole; no Dagster."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from scar_dagster.storage.frame_digest import frames_digest
from scar_dagster.style.feature_writer import STAT_COLUMNS, write_style_features
from scar_dagster.style.features import (
    FEATURES_EMPTY_RESPONSE,
    FEATURES_NO_WORDS,
    INPUT_COLUMNS,
    STYLE_FEATURE_COLUMNS,
    StyleFeatureParams,
    compute_style_features,
)
from tests.log_sink import Lines

FORM_ONLY = StyleFeatureParams(perplexity="off", relatedness="off")
TEXTS = [
    ("Name a colour.", "Blue is a colour."),
    ("List two fruits.", "- apple\n- pear"),
    ("Say something.", ""),
    ("Greet me.", "Hello there, friend. How are you today?"),
    ("Emoji only?", "😀🎉👍"),
    ("Count to three.", "One, two, three."),
    ("Code?", "```python\nprint('hi')\n```"),
]


def _pairs() -> pd.DataFrame:
    rows = [
        {"id": f"p{i}", "source": "demo", "instruction": instruction, "response": response}
        for i, (instruction, response) in enumerate(TEXTS)
    ]
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


def _write(batches, path, log=None):
    empty = _pairs().iloc[:0]
    return write_style_features(
        batches, empty, path, lm=None, encoder=None, params=FORM_ONLY, total=len(TEXTS), log=log
    )


def test_batches_are_written_as_the_features_of_all_pairs_one_row_group_each(tmp_path):
    pairs = _pairs()
    batches = [pairs.iloc[:3], pairs.iloc[3:6], pairs.iloc[6:]]
    lines = Lines()
    written = _write(iter(batches), tmp_path / "f.parquet", log=lines)

    whole = compute_style_features(pairs, lm=None, encoder=None, params=FORM_ONLY)
    stored = pd.read_parquet(tmp_path / "f.parquet")
    assert list(stored.columns) == list(STYLE_FEATURE_COLUMNS)
    pd.testing.assert_frame_equal(stored, whole, check_dtype=False)
    assert pq.ParquetFile(tmp_path / "f.parquet").num_row_groups == 3
    assert written.rows == len(TEXTS)
    assert written.digest == frames_digest(whole.dtypes, [whole])  # the stream's is the whole's
    pd.testing.assert_frame_equal(written.head, whole.head(3))  # the first batch's rows
    pd.testing.assert_frame_equal(written.stats, whole[list(STAT_COLUMNS)])
    assert written.degenerate == {FEATURES_EMPTY_RESPONSE: 1, FEATURES_NO_WORDS: 1}
    assert written.truncated == 0  # no model: nothing cut
    assert lines.messages[-1].startswith("style features: 7/7 rows (100.0%)")


def test_the_digest_follows_the_pairs_not_the_batching(tmp_path):
    pairs = _pairs()
    one = _write([pairs], tmp_path / "one.parquet")
    many = _write([pairs.iloc[:2], pairs.iloc[2:]], tmp_path / "many.parquet")
    other = _write([pairs.iloc[1:]], tmp_path / "other.parquet")
    assert one.digest == many.digest
    assert other.digest != one.digest


def test_no_batch_writes_an_empty_file_with_the_columns(tmp_path):
    written = _write(iter([]), tmp_path / "empty.parquet")
    stored = pd.read_parquet(tmp_path / "empty.parquet")
    assert list(stored.columns) == list(STYLE_FEATURE_COLUMNS) and stored.empty
    assert written.rows == 0 and written.truncated == 0 and not written.degenerate
    assert list(written.stats.columns) == list(STAT_COLUMNS) and written.stats.empty


def test_a_batch_without_the_input_columns_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pairs lacks column"):
        _write([_pairs().drop(columns=["response"])], tmp_path / "bad.parquet")
