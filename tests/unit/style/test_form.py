"""Linguistic-form features: known answers on hand-made texts, and parity with the libraries."""

from __future__ import annotations

import math
import random

import pytest

from scar_dagster.style.form import (
    FORM_FEATURE_COLUMNS,
    compute_form_features,
    count_textstat_words,
    form_features_frame,
    syllable_dictionary,
    textstat_words,
)

MARKDOWN = """# Setup guide

Install the **package** first. Then run it: it is __fast__ and *simple*.

## Steps

- open a shell
* type the command
+ press enter

1. check the output
2) read the log

```python
# not a header
- not a bullet
x = f(y); z = (1, 2)
```

~~~
another block
~~~

Done! Questions? Ask."""

PARITY_TEXTS = [
    "The cat sat on the mat. It was happy!",
    "Hello",
    "I don't know what you're talking about, but I'll try. Isn't it 'weird'? Yes, it is.",
    "Here is a list:\n\n- apples\n- oranges\n- pears\n\n1. First step\n2. Second step",
    MARKDOWN,
    "Mr. Smith went to Washington. He arrived at 3.30 p.m. on Tuesday -- a well-known fact.",
    "DON'T SHOUT. THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG'S BACK, OK?",
    "naïve café résumé coöperate façade. Übermensch straße, señor.",
    "a a a a a a a a a a a a b b b b c d e f g h i j k l m n o p a b c d e",
    "Photosynthesis converts light energy into chemical energy; chlorophyll absorbs photons "
    "(mostly red and blue), and the Calvin cycle fixes carbon dioxide into sugars.",
    " ".join(
        random.Random(7).choice(
            ["alpha", "beta", "gamma", "the", "of", "and", "quixotic", "antidisestablishment"]
        )
        for _ in range(400)
    )
    + ". The end.",
]


def test_columns_are_the_contract():
    assert list(compute_form_features("One word.")) == list(FORM_FEATURE_COLUMNS)
    assert all(c.startswith("punct_") for c in FORM_FEATURE_COLUMNS if c.endswith("_per100w"))


def test_layout_counts_on_markdown():
    f = compute_form_features(MARKDOWN)
    assert f["n_headers"] == 2  # "# not a header" sits inside a code fence
    assert f["n_bullet_lines"] == 3  # "-", "*" and "+" markers; the fenced "- ..." does not count
    assert f["n_numbered_lines"] == 2
    assert f["n_code_fences"] == 2  # fenced blocks, ``` and ~~~
    assert f["n_bold"] == 2
    assert f["n_italic"] == 1
    assert f["n_paragraphs"] == 8


def test_sentences_and_punctuation():
    text = "One two three. Four five! Six seven eight nine? Ten, eleven; twelve: end"
    f = compute_form_features(text)
    assert f["n_words"] == 13
    assert f["n_sentences"] == 4
    assert f["mean_sentence_len"] == pytest.approx(13 / 4)
    lengths = [3, 2, 4, 4]
    mean = sum(lengths) / 4
    assert f["std_sentence_len"] == pytest.approx(
        math.sqrt(sum((n - mean) ** 2 for n in lengths) / 4)
    )
    per100 = 100 / 13
    assert f["punct_period_per100w"] == pytest.approx(per100)
    assert f["punct_exclamation_per100w"] == pytest.approx(per100)
    assert f["punct_question_per100w"] == pytest.approx(per100)
    assert f["punct_comma_per100w"] == pytest.approx(per100)
    assert f["punct_semicolon_per100w"] == pytest.approx(per100)
    assert f["punct_colon_per100w"] == pytest.approx(per100)
    assert f["n_chars"] == len(text)


def test_quotes_dashes_and_brackets():
    text = 'He said "yes" (twice) - then left -- it\'s true; a well-known fact\n- a bullet'
    f = compute_form_features(text)
    per100 = 100 / f["n_words"]
    assert f["punct_quote_per100w"] == pytest.approx(2 * per100)  # the apostrophe is not a quote
    assert f["punct_paren_per100w"] == pytest.approx(2 * per100)
    assert f["punct_dash_per100w"] == pytest.approx(2 * per100)  # not the hyphen, not the bullet


def test_abbreviation_followed_by_lowercase_does_not_end_a_sentence():
    f = compute_form_features("He arrived at 3 p.m. on Tuesday. It rained.")
    assert f["n_sentences"] == 2


@pytest.fixture()
def textstat_with_our_dictionary(monkeypatch):
    """textstat fetches NLTK's CMU dictionary from the network; give it the same offline copy."""
    import textstat
    from textstat.backend.counts import _count_syllables

    monkeypatch.setattr(_count_syllables, "get_cmudict", lambda lang: syllable_dictionary())
    return textstat


@pytest.mark.parametrize("text", PARITY_TEXTS)
def test_matches_textstat_and_lexicalrichness(text, textstat_with_our_dictionary):
    from lexicalrichness import LexicalRichness

    textstat = textstat_with_our_dictionary
    f = compute_form_features(text)
    assert f["n_words"] == textstat.lexicon_count(text)
    assert f["flesch_reading_ease"] == pytest.approx(textstat.flesch_reading_ease(text), abs=1e-9)
    lex = LexicalRichness(text)
    assert f["ttr"] == pytest.approx(lex.ttr, abs=1e-12)
    assert f["mtld"] == pytest.approx(lex.mtld(threshold=0.72), abs=1e-9)


def test_fast_word_count_equals_the_word_list_on_random_strings():
    alphabet = list("aZé9_'’-.,!? \t\n\u00a0\u2003\x1f") + ["'s", "'ll", "n't", "😀", "**"]
    rng = random.Random(11)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert count_textstat_words(text) == len(textstat_words(text)), repr(text)


@pytest.mark.parametrize("text", ["", "   \n\t ", "?!... ---", "😀🎉👍", None])
def test_wordless_text_gives_nan(text):
    f = compute_form_features(text)
    assert all(math.isnan(v) for v in f.values())


def test_digits_only_keeps_words_but_no_lexical_tokens():
    f = compute_form_features("42")
    assert f["n_words"] == 1
    assert math.isnan(f["ttr"]) and math.isnan(f["mtld"])


def test_frame_has_one_row_per_text():
    frame = form_features_frame(["A b c.", "", MARKDOWN])
    assert list(frame.columns) == list(FORM_FEATURE_COLUMNS)
    assert len(frame) == 3 and frame.loc[1].isna().all() and frame.loc[2, "n_headers"] == 2
    assert list(form_features_frame([]).columns) == list(FORM_FEATURE_COLUMNS)
