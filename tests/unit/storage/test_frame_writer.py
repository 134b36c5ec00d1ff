"""FrameParquetWriter: frames appended as row groups read back as their concatenation."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from scar_dagster.storage.frame_writer import FrameParquetWriter


def _frame(start: int, rows: int) -> pd.DataFrame:
    numbers = range(start, start + rows)
    return pd.DataFrame(
        {
            "id": pd.array([f"p{i}" for i in numbers], dtype="str"),
            "score": [i / 7 for i in numbers],
            "flag": pd.array([i % 2 == 0 for i in numbers], dtype="boolean"),
            "reason": pd.array([None if i % 3 else "bad" for i in numbers], dtype="str"),
        },
        index=numbers,  # a batch's index is not stored
    )


def test_frames_read_back_as_their_concatenation_one_row_group_each(tmp_path):
    frames = [_frame(0, 4), _frame(4, 0), _frame(4, 3)]
    with FrameParquetWriter(tmp_path / "out.parquet") as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.rows == 7
    assert pq.ParquetFile(tmp_path / "out.parquet").num_row_groups == 2  # the empty one adds none
    expected = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)


def test_passing_writes_each_frame_before_handing_it_on(tmp_path):
    frames = [_frame(0, 2), _frame(2, 3)]
    with FrameParquetWriter(tmp_path / "out.parquet") as writer:
        seen = []
        for frame in writer.passing(iter(frames)):
            seen.append((len(frame), writer.rows))  # already written when it is handed on
    assert seen == [(2, 2), (3, 5)]
    expected = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)


def test_an_empty_first_frame_still_writes_the_columns(tmp_path):
    with FrameParquetWriter(tmp_path / "empty.parquet") as writer:
        writer.write(_frame(0, 0))
    back = pd.read_parquet(tmp_path / "empty.parquet")
    assert len(back) == 0 and dict(back.dtypes) == dict(_frame(0, 0).dtypes)


def test_a_writer_that_got_no_frame_writes_no_file(tmp_path):
    with FrameParquetWriter(tmp_path / "none.parquet") as writer:
        pass
    assert writer.rows == 0 and not (tmp_path / "none.parquet").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(score=f["id"]), "does not fit the schema"),
        (lambda f: f.drop(columns="flag"), "does not fit the schema"),
        (lambda f: f[["score", "id", "flag", "reason"]], "differ from"),
    ],
)
def test_a_frame_with_other_columns_or_types_is_refused(tmp_path, change, message):
    with FrameParquetWriter(tmp_path / "out.parquet") as writer:
        writer.write(_frame(0, 2))
        with pytest.raises(ValueError, match=message):
            writer.write(change(_frame(2, 2)))
        assert writer.rows == 2
