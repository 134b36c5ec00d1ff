"""Content data versions: equal frames agree, any change of a cell, order, dtype or context not."""

import pandas as pd

from scar_dagster.dagster.versions import frame_data_version


def test_frame_data_version_follows_content_only():
    frame = pd.DataFrame({"id": ["a", "b"], "score": [0.5, None], "line": [1, 2]})
    version = frame_data_version(frame)
    assert frame_data_version(frame.copy()) == version
    assert frame_data_version(frame.set_axis([7, 8])) == version  # the index is not content
    changed = frame.assign(score=[0.5, 0.25])
    assert frame_data_version(changed) != version
    assert frame_data_version(frame.iloc[::-1]) != version
    assert frame_data_version(frame.astype({"line": "float64"})) != version
    assert frame_data_version(frame, "ranker-2") != frame_data_version(frame, "ranker-1")
    assert len(version.value) == 24
