"""How many rows a ratio cutoff keeps: the one definition every selection path uses."""

from __future__ import annotations

import math

# A product this close to an integer is that integer: float noise (~1e-16 relative), not intent.
_REL_TOLERANCE, _ABS_TOLERANCE = 1e-12, 1e-9


def rows_for_ratio(n_rows: int, ratio: float) -> int:
    """The number of rows ``ratio`` of ``n_rows`` keeps: ``floor(n_rows * ratio)``.

    Rounded down, the meaning ``rank_and_filter`` (SCAR's toolkit API) documents, so a subset
    never exceeds the share asked for: ratio 0.01 of 50 rows keeps none, ratio 1 keeps all. A
    product within 1e-9 (or 1e-12 relative) of an integer counts as that integer, so float
    representation error (``0.29 * 100 == 28.999...``, ``(1 / 3) * 3``) never drops a row.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 0:
        raise ValueError(f"n_rows must be an int >= 0, got {n_rows!r}")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be a number in [0, 1], got {ratio!r}")
    product = n_rows * float(ratio)
    nearest = round(product)
    if math.isclose(product, nearest, rel_tol=_REL_TOLERANCE, abs_tol=_ABS_TOLERANCE):
        return min(n_rows, int(nearest))
    return min(n_rows, math.floor(product))
