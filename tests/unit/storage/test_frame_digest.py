"""frames_digest: the digest of frames hashed one at a time is that of their concatenation."""

import pandas as pd
import pytest

from scar_dagster.storage.frame_digest import DIGEST_CHARS, frames_digest


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"p{i}" for i in range(6)], "ttr": [i / 6 for i in range(6)]})


def test_a_stream_of_frames_has_the_digest_of_their_concatenation():
    frame = _frame()
    whole = frames_digest(frame.dtypes, [frame])
    assert frames_digest(frame.dtypes, [frame.iloc[:2], frame.iloc[2:2], frame.iloc[2:]]) == whole
    assert frames_digest(frame.dtypes, iter([frame.set_axis(range(10, 16))])) == whole
    assert len(whole) == DIGEST_CHARS


def test_rows_order_dtypes_and_context_change_the_digest():
    frame = _frame()
    whole = frames_digest(frame.dtypes, [frame])
    assert frames_digest(frame.dtypes, [frame.iloc[::-1]]) != whole
    assert frames_digest(frame.dtypes, [frame.assign(ttr=0.0)]) != whole
    assert frames_digest(frame.dtypes, [frame], "ranker-1") != whole
    as_text = frame.astype({"ttr": "str"})
    assert frames_digest(as_text.dtypes, [as_text]) != whole


def test_a_frame_whose_columns_differ_is_refused():
    frame = _frame()
    with pytest.raises(ValueError, match="columns differ"):
        frames_digest(frame.dtypes, [frame, frame.rename(columns={"ttr": "mtld"})])
