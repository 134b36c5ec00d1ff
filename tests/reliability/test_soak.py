"""A short soak (benchmarks/soak.py): 3 sensor ticks, the middle one landing only repeats."""

from benchmarks.soak import soak


def test_short_soak_accounts_for_every_row_and_versions_follow_the_data(tmp_path):
    out = soak(ticks=3, work=tmp_path, rows_per_file=4, repeat_every=2)
    assert out["violations"] == []
    table = out["table"]
    assert [row["landed"] for row in table] == ["new", "repeat", "new"]
    assert [row["changed"] for row in table] == ["yes", "no", "yes"]
    assert table[1]["version"] == table[0]["version"] != table[2]["version"]
    assert table[-1]["inputs"] == table[-1]["decisions"] == 3 * (4 + 4 + 5)
