"""compute_style_features reports each phase's progress to the log it is given."""

from scar_dagster.style.features import StyleFeatureParams, compute_style_features
from tests.unit.style.test_features import CASES, raw_pairs
from tests.unit.test_progress_steps import Lines


def test_each_phase_logs_rows_done_over_total(tiny_lm, encoder):
    lines = Lines()
    params = StyleFeatureParams(max_response_chars=20_000, perplexity_max_tokens=128)
    compute_style_features(raw_pairs(), lm=tiny_lm, encoder=encoder, params=params, log=lines)
    valid = sum(reason is None for _, _, reason in CASES.values())
    finals = [m for m in lines.messages if "done in" in m]
    assert [m.split(",")[0] for m in finals] == [
        f"style features: form: {len(CASES)}/{len(CASES)} rows (100.0%)",
        f"style features: perplexity: {valid}/{valid} rows (100.0%)",
        f"style features: relatedness: {2 * valid}/{2 * valid} texts (100.0%)",
    ]
