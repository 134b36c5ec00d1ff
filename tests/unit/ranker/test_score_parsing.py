"""Reading a 0-9 rating from a judge's reply: our ``last_score`` rule and the SCAR toolkit's
``most_common_number`` rule, on planted replies whose expected scores follow from each rule."""

from __future__ import annotations

import pytest

from scar_dagster.ranker.data.score_parsing import (
    PARSE_RULES,
    last_score,
    most_common_number,
    parse_score,
)


@pytest.mark.parametrize(
    ("reply", "score", "how"),
    [
        ("Clear and complete.\nScore: 7", 7.0, "score_line"),
        ("Reasoning: the answer is right.\n**Score:** 8", 8.0, "score_line"),
        ("It covers 2 of 3 points.\nScore: 5\n\nScore: 6", 6.0, "score_line"),
        ("Helpful overall, I'd give it 7/9.", 7.0, "last_number"),
        ("Out of 10 I'd say 6.", 6.0, "last_number"),
        ("The answer to the instruction is: 9", 9.0, "last_number"),
        ("Score: 12", None, "Score 12 outside 0-9"),
        ("A fine answer, well written.", None, "no Score line and no number in 0-9"),
        ("In 2024 it was 15 degrees.", None, "no Score line and no number in 0-9"),
        ("", None, "empty reply"),
    ],
)
def test_last_score_reads_the_final_score_or_the_last_in_range_number(reply, score, how):
    assert last_score(reply) == parse_score(reply) == (score, how)


# Each expected value is worked out by the toolkit's rule (score_parsing's docstring): the
# candidates in order, then the vote.
TOOLKIT_CASES = [
    # "final helpfulness score 09: 8" (the "(0-9)" loses its brackets and dash: "09:" is not
    # all digits) gives 8; "helpfulness: 6" gives 6; the pattern N/9 adds 6: 6 wins 2 to 1.
    ("Helpfulness: 6\nI'd say 6/9.\nFinal Helpfulness Score (0-9): 8", "helpfulness", 6.0),
    # One distinct value: that one. The list number "5." of a line is stripped first.
    ("5. Missing elements: none.\nFinal Correctness Score (0-9): 7", "correctness", 7.0),
    # Sentences split at ". ": "the score is 7" gives 7 (and "score is 7" again), "3 points"
    # only through the points pattern: 7 wins.
    ("The score is 7. It has 3 points.", "correctness", 7.0),
    # A tie goes to the value found first: the sentence "correctness: 4" before "score is 6".
    ("Correctness: 4\nMy rating is 6.", "correctness", 4.0),
    # "/4" is removed from a score sentence (3/4 -> 3); the N/9 pattern does not match "3/4".
    ("Score 3/4", "helpfulness", 3.0),
    # Numbers outside 0-9 do not vote; 12 is dropped, 8 remains.
    ("Score: 12\nfinal score: 8", "helpfulness", 8.0),
    # A sentence that names neither score nor the aspect gives nothing: only "8 points" counts.
    ("It deserves 8 points overall", "correctness", 8.0),
    # "out of 9" becomes "/9": the N/9 pattern reads 5.
    ("I rate it 5 out of 9", "helpfulness", 5.0),
    # The bare "7" on its own line is lost (its leading digits are stripped as a list number).
    ("Final answer:\n7", "helpfulness", None),
    # No candidate but "n/a": scored 0, as the toolkit does.
    ("N/A: the response is empty", "helpfulness", 0.0),
    ("I cannot rate this.", "correctness", None),
    # A numeric word that is not a number (the toolkit would crash) is skipped.
    ("Score: ½\nscore is 6", "helpfulness", 6.0),
]


@pytest.mark.parametrize(("reply", "aspect", "score"), TOOLKIT_CASES)
def test_most_common_number_follows_the_toolkits_rule(reply, aspect, score):
    value, how = most_common_number(reply, aspect)
    assert value == score
    assert parse_score(reply, "most_common_number", aspect) == (value, how)
    expected_how = {None: "no number in 0-9 near a score or the aspect", 0.0: "n/a"}
    assert how == expected_how.get(score, "most_common_number")


def test_the_two_rules_disagree_where_the_toolkit_votes():
    reply = "Helpfulness: 6\nI'd say 6/9.\nFinal Helpfulness Score (0-9): 8"
    assert last_score(reply) == (8.0, "last_number")
    assert most_common_number(reply, "helpfulness") == (6.0, "most_common_number")
    assert most_common_number("", "helpfulness") == (None, "empty reply")


def test_an_unknown_rule_is_an_error():
    assert PARSE_RULES == ("last_score", "most_common_number")
    with pytest.raises(ValueError, match="unknown parse rule 'regex'"):
        parse_score("Score: 5", "regex")
