"""The public NegEx/ConText test set (../shared/data/context): negation at least as good as GenNegEx,
and nearly every condition found. Skips where the shared data is absent (a user's clone)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def evaluation(shared_data):
    path = shared_data / "context" / "negex_test_set.tsv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    from benchmarks.assertion import evaluate

    return evaluate(path)


def test_negation_beats_gennegex(evaluation):
    negation = evaluation.scores["negation"]
    assert negation.f1 >= 0.95  # GenNegEx v1.2: 0.946


def test_nearly_every_condition_is_found(evaluation):
    assert len(evaluation.missing) <= 5
    assert evaluation.scored >= 1180


def test_hypothetical_and_single_field(evaluation):
    assert evaluation.scores["hypothetical"].f1 >= 0.8
    assert evaluation.field_agree / evaluation.field_n >= 0.9


def test_locating_conditions_tolerates_spacing_and_case():
    from benchmarks.assertion import locate

    sentence = "Lungs clear, no wheezes or   RALES.  CHEST PAIN free."
    assert locate("rales", sentence) == ((29, 34), 1)
    assert locate("chest   pain", sentence) == ((37, 47), 1)
    assert locate("edema", sentence) == (None, 0)
