"""selector: auto keeps the StyleRanker of a real champion and says why otherwise."""

import pytest

from scar_dagster.selectors import auto, resolve_auto
from scar_dagster.selectors.registry import check_selector_name


@pytest.mark.parametrize("kind", sorted(auto.REAL_RANKER_KINDS))
def test_a_real_ranker_is_used_as_it_is(kind):
    choice = resolve_auto(kind)
    assert choice.selector == "scar" and kind in choice.reason and choice.ranker_kind == kind


@pytest.mark.parametrize("kind", [auto.BUNDLED_DEMO, auto.LOCAL_GENERATED, auto.UNKNOWN])
def test_a_demo_ranker_gets_the_measured_route_with_its_reason(kind):
    choice = resolve_auto(kind)
    assert choice.selector == auto.FALLBACK_SELECTOR
    assert "demo ranker" in choice.reason and auto.FALLBACK_REASON in choice.reason
    # the reason cites what was measured, and what was not
    assert "1,000 real ShareGPT pairs" in choice.reason and "not measured" in choice.reason


def test_unknown_kinds_and_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown ranker kind"):
        resolve_auto("mystery")
    with pytest.raises(ValueError, match="choose one of scar, ifd"):
        check_selector_name("best")
    with pytest.raises(ValueError, match="unknown selector 'auto'"):
        check_selector_name("auto", allow_auto=False)


def test_the_training_data_says_what_kind_of_ranker_it_makes():
    from scar_dagster.dagster.ranker_metadata import training_data_kind
    from scar_dagster.ranker.data.sourcing import (
        PREFERENCE_PAIRS,
        QUADRUPLES,
        SCAR_FOLDER,
        TrainingData,
    )

    def kind(fmt, **options):
        return training_data_kind(TrainingData(fmt, []), **options)

    assert kind(QUADRUPLES, bundled=True, generated_by=None) == auto.BUNDLED_DEMO
    assert kind(QUADRUPLES, bundled=False, generated_by="local") == auto.LOCAL_GENERATED
    assert kind(QUADRUPLES, bundled=False, generated_by="endpoint") == auto.ENDPOINT_GENERATED
    assert kind(SCAR_FOLDER, bundled=False, generated_by=None) == auto.SCAR_DATA
    assert kind(PREFERENCE_PAIRS, bundled=False, generated_by=None) == auto.PREFERENCE_PAIRS
    assert kind(QUADRUPLES, bundled=False, generated_by=None) == auto.QUADRUPLE_FILE
