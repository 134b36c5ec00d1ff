"""English filter: ASCII-letter share among letters."""

from __future__ import annotations

import random

import pytest

from scar_dagster.selection.filters.language import ascii_letter_share, is_english


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("Hello world", 1.0),
        ("def f(x): return x ** 2  # 100%", 1.0),
        ("Привет", 0.0),
        ("aé", 0.5),
        ("", None),
        ("1234 + 5 = ?!", None),
    ],
)
def test_ascii_letter_share(text: str, share: float | None) -> None:
    assert ascii_letter_share(text) == share


def test_pair_is_english_only_when_every_text_with_letters_passes() -> None:
    assert is_english(["What is 2+2?", "4"])  # the digits-only answer carries no evidence
    assert not is_english(["What is this?", "Это кошка."])
    assert not is_english(["", "   "])  # no letter anywhere
    assert not is_english(["12", "34"])


def test_threshold_is_strict() -> None:
    text = "abcdefgéèà"  # 7 of 10 letters are ASCII
    assert not is_english([text], threshold=0.7)
    assert is_english([text], threshold=0.69)


def test_fast_path_matches_the_definition() -> None:
    def reference(text: str) -> float | None:
        letters = [char for char in text if char.isalpha()]
        return sum(char.isascii() for char in letters) / len(letters) if letters else None

    rng = random.Random(0)
    alphabet = "abcXYZ 123_!é漢字Ωß\u0301²½\t"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        assert ascii_letter_share(text) == reference(text), text


@pytest.mark.parametrize(
    ("texts", "letters", "reference"),
    [
        (["Hello world"], True, True),  # 10 letters of 11 characters: 0.909
        (["abcdefg..."], True, False),  # 7 of 10 characters: exactly 0.7 is not above it
        (["abcdefgh.."], True, True),  # 8 of 10 characters: 0.8
        (["What is 2+2?", "4"], True, False),  # the digit-only answer fails the reference rule
        (["", ""], False, False),  # empty: no letters under either rule
        (["!!! ???"], False, False),
        (["def f(x): return x ** 2  # 100%"], True, False),  # code: 12 letters of 31
        (["Привет мир"], False, False),
        (["hello wörld"], True, True),  # letters: 9/10 ASCII; reference: 9/11 characters
    ],
)
def test_reference_rule_counts_ascii_letters_over_all_characters(texts, letters, reference):
    assert is_english(texts, 0.7, "letters") is letters
    assert is_english(texts, 0.7, "reference") is reference


def test_reference_share_and_unknown_rule() -> None:
    from scar_dagster.selection.filters.language import ascii_character_share

    assert ascii_character_share("ab12") == 0.5
    assert ascii_character_share("") == 0.0
    with pytest.raises(ValueError, match="english rule"):
        is_english(["hello"], 0.7, "ascii")  # type: ignore[arg-type]
