"""Progress of a long step: items done / total, rate and ETA, logged at most every ``interval`` s.

Plain Python: the caller passes any ``logging.Logger``-like object (a Dagster ``context.log``
works, so does ``logging.getLogger(...)``). Example::

    progress = Progress("scoring", total=len(pairs), log=context.log)
    for batch in batches:
        ...
        progress.advance(len(batch))
    progress.done()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

DEFAULT_INTERVAL_S = 10.0
T = TypeVar("T")


class _Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``'1m15s'``; ``3725`` -> ``'1h02m'``; ``'?'`` when unknown."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):  # NaN, negative, inf
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


class Progress:
    """Counts items of one step and logs ``done/total, rate, ETA`` at most every ``interval`` s.

    ``total`` may be ``None`` (a stream of unknown length): then no ETA is given. ``clock`` is
    injectable for tests.
    """

    def __init__(
        self,
        step: str,
        total: int | None,
        log: _Log | None,
        *,
        unit: str = "rows",
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.step, self.total, self.log, self.unit = step, total, log, unit
        self.interval, self.clock = interval, clock
        self.done_count = 0
        self.started = clock()
        self._last_logged = self.started

    def rate(self) -> float:
        """Items per second since the start (0 before anything is done)."""
        elapsed = self.clock() - self.started
        return self.done_count / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float:
        """Seconds left at the current rate; NaN when the total or the rate is unknown."""
        rate = self.rate()
        if self.total is None or rate <= 0:
            return float("nan")
        return max(0, self.total - self.done_count) / rate

    def message(self) -> str:
        """``'scoring: 1,200/5,000 rows (24.0%), 31.5 rows/s, ETA 2m01s'``."""
        done = f"{self.done_count:,}"
        if self.total:
            share = 100.0 * self.done_count / self.total
            done += f"/{self.total:,} {self.unit} ({share:.1f}%)"
        else:
            done += f" {self.unit}"
        text = f"{self.step}: {done}, {self.rate():.1f} {self.unit}/s"
        if self.total is not None:
            text += f", ETA {format_duration(self.eta_seconds())}"
        return text

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items; log when ``interval`` seconds passed since the last line."""
        self.done_count += n
        now = self.clock()
        if self.log is not None and now - self._last_logged >= self.interval:
            self._last_logged = now
            self.log.info(self.message())

    def done(self) -> None:
        """Log the final line (always, whatever the interval)."""
        if self.log is not None:
            elapsed = format_duration(self.clock() - self.started)
            self.log.info(f"{self.message().split(', ETA')[0]}, done in {elapsed}")

    def track(self, items: Iterable[T], size: Callable[[T], int] = lambda _: 1) -> Iterator[T]:
        """Yield ``items``, advancing by ``size(item)`` after each; ``done()`` at the end."""
        for item in items:
            yield item
            self.advance(size(item))
        self.done()
