"""The SCAR toolkit's near-dedup shingles: word n-grams of nltk's word tokens of the lower-cased
text (``style_ranker.dedup.tokenize``).

The toolkit calls ``nltk.word_tokenize(text.lower())``, which first splits sentences with the
punkt model (downloaded data); ``preserve_line=True`` skips that split, so it runs offline. The
tokens differ only where punkt would end a sentence inside the text: there the toolkit splits
the final period off the word before it ("done." -> "done", "."), the line-preserving tokenizer
only does so at the end of the text. A text of fewer than ``ngram_size`` tokens has no shingle
(the toolkit's ``range(len(words) - n + 1)`` is empty) and matches nothing.
"""

from __future__ import annotations


def toolkit_shingles(text: str, ngram_size: int = 2) -> list[str]:
    """Sorted distinct word n-grams of ``nltk.word_tokenize(text.lower(), preserve_line=True)``."""
    from nltk.tokenize import word_tokenize

    words = word_tokenize(text.lower(), preserve_line=True)
    grams = {" ".join(words[i : i + ngram_size]) for i in range(len(words) - ngram_size + 1)}
    return sorted(grams)
