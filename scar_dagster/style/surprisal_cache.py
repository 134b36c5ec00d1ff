"""Perplexities computed once: ``perplexity_for`` reads the stored values of an LM version and
computes only the missing ones, a bounded window of pairs at a time, storing each window as soon
as it is computed (an interrupted run keeps what it paid for).

The store is the SQL table ``surprisal_scores`` (``scar_dagster.storage.tables``), keyed by pair
id, model version and kind (``conditional``: the response given the instruction;
``response_only``: the response alone, IFD's denominator). The model version hashes what changes
a value: the LM's identity (a digest of its folder), the perplexity code version, where it runs
(device type and dtype) and the token cap. A pair id is a content hash of the instruction and
the response, so a stored value belongs to those texts. Example::

    lm = PerplexityLM.from_folder(folder, device="auto", dtype="auto")
    given = perplexity_for(ids, (instructions, responses), lm, engine)
    alone = perplexity_for(ids, (instructions, responses), lm, engine, kind="response_only")
    ifd = given.perplexity / alone.perplexity  # instruction-following difficulty
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.batching import DEFAULT_BATCH_TOKENS
from scar_dagster.style.surprisal import (
    CONDITIONAL,
    PERPLEXITY_KINDS,
    PerplexityKind,
    response_perplexity,
)

PERPLEXITY_CODE_VERSION = "1"  # bump when the computation changes a value
DEFAULT_WINDOW = 1024  # pairs tokenized, length-sorted and stored together
_UNHASHED_FILES = ("scar_conversion.json",)  # conversion time stamps: not the model

Texts = tuple[Sequence[str], Sequence[str]] | Callable[[np.ndarray], tuple[list[str], list[str]]]
"""``(instructions, responses)`` aligned with the ids, or a function of id positions returning
the texts of those positions (so texts of stored values are never read)."""


@dataclass
class PerplexityLM:
    """The instruct LM as perplexity uses it: loaded on first use, ``version`` keys its values.

    ``batch_size`` pairs and ``batch_tokens`` padded tokens at most per forward pass (length-
    sorted within ``window`` pairs); ``batches`` counts the forward passes run.
    """

    identity: str
    load: Callable[[], tuple[Any, Any]]
    precision: str  # "<device type>/<dtype>", e.g. "cpu/bfloat16"
    max_tokens: int = 512
    batch_size: int = 8
    batch_tokens: int = DEFAULT_BATCH_TOKENS
    window: int = DEFAULT_WINDOW
    num_threads: int | None = None
    batches: int = 0
    _model: tuple[Any, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_tokens", "batch_size", "batch_tokens", "window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_folder(
        cls, folder: str | Path, *, device: str = "auto", dtype: str = "auto", **options: Any
    ) -> PerplexityLM:
        """The LM in a local folder, on ``device`` in ``dtype`` (see ``scar_dagster.precision``)."""
        from scar_dagster.base_models import load_causal_lm
        from scar_dagster.precision import resolve_precision

        precision = resolve_precision(device, dtype)
        path = str(folder)
        return cls(
            identity=lm_identity(path),
            load=lambda: load_causal_lm(path, device=precision.device, dtype=precision.dtype),
            precision=precision.label,
            **options,
        )

    @classmethod
    def of_loaded(
        cls, tokenizer: Any, model: Any, *, identity: str, **options: Any
    ) -> PerplexityLM:
        """An LM already in memory (e.g. a test model) under a given ``identity``."""
        from scar_dagster.precision import precision_of

        loaded = (tokenizer, model)
        return cls(
            identity=identity,
            load=lambda: loaded,
            precision=precision_of(model).label,
            **options,
        )

    @property
    def version(self) -> str:
        """16 hex of sha256 over identity, code version, precision and token cap."""
        parts = [self.identity, PERPLEXITY_CODE_VERSION, self.precision, str(self.max_tokens)]
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """What the version is made of, for metadata."""
        return {
            "model_version": self.version,
            "lm_identity": self.identity,
            "code_version": PERPLEXITY_CODE_VERSION,
            "precision": self.precision,
            "max_tokens": self.max_tokens,
        }

    def model(self) -> tuple[Any, Any]:
        """``(tokenizer, model)``, loaded on the first call."""
        if self._model is None:
            self._model = self.load()
        return self._model

    def compute(
        self,
        instructions: Sequence[str],
        responses: Sequence[str],
        kind: PerplexityKind = CONDITIONAL,
        on_batch: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``response_perplexity`` of these pairs with this LM's settings (nothing stored)."""

        def counted(n: int) -> None:
            self.batches += 1
            if on_batch is not None:
                on_batch(n)

        return response_perplexity(
            *self.model(),
            instructions,
            responses,
            kind=kind,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            batch_tokens=self.batch_tokens,
            num_threads=self.num_threads,
            on_batch=counted,
        )


@dataclass(frozen=True)
class PerplexityValues:
    """Perplexity and truncation flag per input id (in input order), and what it cost."""

    perplexity: np.ndarray  # float64; NaN: a response of no tokens
    truncated: np.ndarray  # bool
    computed: int  # distinct ids run through the LM
    reused: int  # distinct ids read from the store


def perplexity_for(
    ids: Sequence[str] | pd.Series,
    texts: Texts,
    lm: PerplexityLM,
    store: Any | None,
    *,
    kind: PerplexityKind = CONDITIONAL,
    on_batch: Callable[[int], None] | None = None,
) -> PerplexityValues:
    """Perplexity of the pairs ``ids`` under ``lm``: stored values of ``lm.version`` and
    ``kind`` are read from ``store`` (a SQLAlchemy engine with ``surprisal_scores``; None: no
    store, every value is computed), the others computed ``lm.window`` pairs at a time and
    stored. A repeated id is computed once. ``on_batch(n)`` gets each LM batch's pair count."""
    from scar_dagster.storage import tables

    if kind not in PERPLEXITY_KINDS:
        raise ValueError(f"kind must be one of {PERPLEXITY_KINDS}, got {kind!r}")
    keys = pd.Series(np.asarray(ids, dtype=object), dtype="str").reset_index(drop=True)
    first = ~keys.duplicated().to_numpy()
    values = np.full(len(keys), np.nan)
    flags = np.zeros(len(keys), dtype=bool)
    known = np.zeros(len(keys), dtype=bool)
    if store is not None and len(keys):
        stored = tables.read_surprisal(store, lm.version, kind, keys[first])
        at = pd.Index(stored["id"]).get_indexer(keys)
        known = at >= 0
        values[known] = stored["perplexity"].to_numpy()[at[known]]
        flags[known] = stored["truncated"].to_numpy()[at[known]]
    missing = np.flatnonzero(first & ~known)
    for start in range(0, len(missing), lm.window):
        window = missing[start : start + lm.window]
        instructions, responses = _texts_at(texts, window)
        ppl, cut = lm.compute(instructions, responses, kind, on_batch)
        values[window], flags[window] = ppl, cut
        if store is not None:
            tables.upsert_surprisal(
                store,
                pd.DataFrame(
                    {
                        "id": keys.iloc[window].to_numpy(),
                        "model_version": lm.version,
                        "kind": kind,
                        "perplexity": ppl,
                        "truncated": cut,
                    }
                ),
            )
    if not first.all():  # repeats take the value of their first occurrence
        at_first = pd.Index(keys[first]).get_indexer(keys)
        values, flags = values[first][at_first], flags[first][at_first]
    reused = int((first & known).sum())
    return PerplexityValues(values, flags, computed=len(missing), reused=reused)


def _texts_at(texts: Texts, positions: np.ndarray) -> tuple[list[str], list[str]]:
    if callable(texts):
        instructions, responses = texts(positions)
        return list(instructions), list(responses)
    instructions, responses = texts
    return [instructions[i] for i in positions], [responses[i] for i in positions]


def lm_identity(folder: str | Path) -> str:
    """A digest of a model folder's files (names and contents; not the conversion marker)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no model folder at {root}")
    files = tuple(
        (str(path.relative_to(root)), path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in _UNHASHED_FILES and not path.name.startswith(".")
    )
    return _digest(str(root.resolve()), files)


@lru_cache(maxsize=8)
def _digest(root: str, files: tuple[tuple[str, int, int], ...]) -> str:
    """sha256 over the files' names and bytes (cached per process by name, size, mtime)."""
    digest = hashlib.sha256()
    for name, size, _ in files:
        digest.update(json.dumps([name, size]).encode())
        with open(Path(root) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
