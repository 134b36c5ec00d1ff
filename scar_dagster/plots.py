"""PNG plots for the UI: feature histograms and training curves, embedded as markdown images."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd


def figure_png(draw: Callable[[Any], None], ncols: int, width: float = 4.0) -> bytes:
    """Draw on a row of ``ncols`` matplotlib axes (Agg backend) and return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, 3), dpi=80)
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    draw(axes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def histograms_png(frame: pd.DataFrame, columns: Sequence[str], *, bins: int = 30) -> bytes:
    """One histogram per column side by side, as PNG bytes (NaN values ignored)."""

    def draw(axes: Any) -> None:
        for ax, column in zip(axes, columns, strict=True):
            values = pd.to_numeric(frame[column], errors="coerce").dropna()
            if len(values):
                ax.hist(values, bins=bins, color="#4f6bed")
            ax.set_title(f"{column} (n={len(values)})")

    return figure_png(draw, len(columns))


def training_curves_png(history: list[dict]) -> bytes:
    """Training loss and validation accuracy per epoch, as PNG bytes."""
    epochs = [h["epoch"] for h in history]

    def draw(axes: Any) -> None:
        axes[0].plot(epochs, [h.get("total", 0.0) for h in history], marker="o")
        axes[0].set_title("train loss")
        axes[1].plot(epochs, [h.get("val_accuracy") or 0.0 for h in history], marker="o")
        axes[1].set_title("validation pairwise accuracy")
        for ax in axes:
            ax.set_xlabel("epoch")

    return figure_png(draw, 2)


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image with the PNG inlined as a data URI (rendered by the Dagster UI)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
