"""PNG plots for the UI: histograms of feature columns, embedded as markdown images."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import pandas as pd


def histograms_png(frame: pd.DataFrame, columns: Sequence[str], *, bins: int = 30) -> bytes:
    """One histogram per column side by side, as PNG bytes (NaN values ignored)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3), squeeze=False)
    try:
        for ax, column in zip(axes[0], columns, strict=True):
            values = pd.to_numeric(frame[column], errors="coerce").dropna()
            if len(values):
                ax.hist(values, bins=bins, color="#4f6bed")
            ax.set_title(f"{column} (n={len(values)})")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image with the PNG inlined as a data URI (rendered by the Dagster UI)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def training_curves_png(history: list[dict]) -> bytes:
    """Training loss and validation accuracy per epoch, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    try:
        left.plot(epochs, [h.get("total", 0.0) for h in history], marker="o")
        left.set_title("train loss")
        right.plot(epochs, [h.get("val_accuracy") or 0.0 for h in history], marker="o")
        right.set_title("validation pairwise accuracy")
        for ax in (left, right):
            ax.set_xlabel("epoch")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)
