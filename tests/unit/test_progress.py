"""Progress lines: rate, ETA, throttling to one line per interval, the final line."""

from scar_dagster.progress import Progress, format_duration


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args, **kwargs) -> None:
        self.lines.append(msg)


def test_format_duration_edges():
    assert format_duration(0) == "0s"
    assert format_duration(75.2) == "1m15s"
    assert format_duration(3725) == "1h02m"
    assert format_duration(float("nan")) == "?"
    assert format_duration(float("inf")) == "?"


def test_logs_at_most_once_per_interval_with_rate_and_eta():
    clock, log = _Clock(), _Log()
    progress = Progress("scoring", total=100, log=log, interval=10, clock=clock)
    clock.now = 5
    progress.advance(10)  # 5 s after start: under the interval, no line
    assert log.lines == []
    clock.now = 10
    progress.advance(10)  # 20 done in 10 s: 2/s, 80 left -> 40 s
    assert log.lines == ["scoring: 20/100 rows (20.0%), 2.0 rows/s, ETA 40s"]
    clock.now = 15
    progress.advance(10)
    assert len(log.lines) == 1
    clock.now = 20
    progress.done()
    assert log.lines[-1] == "scoring: 30/100 rows (30.0%), 1.5 rows/s, done in 20s"


def test_unknown_total_has_no_eta_and_track_counts_sizes():
    clock, log = _Clock(), _Log()
    progress = Progress("ingest", total=None, log=log, interval=0, clock=clock, unit="records")
    clock.now = 1
    assert list(progress.track([[1, 2], [3]], size=len)) == [[1, 2], [3]]
    assert progress.done_count == 3
    assert "ETA" not in log.lines[0]
    assert log.lines[-1] == "ingest: 3 records, 3.0 records/s, done in 1s"
