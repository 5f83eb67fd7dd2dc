"""The priority formula: worked examples and properties."""

import math

from hypothesis import given
from hypothesis import strategies as st

from suffrage.elections.scoring import StationFigures, rank_stations, station_score


def figures(code="29019_0001", registered=1000, voters=600, valid=580, family=290, dwellings=500):
    return StationFigures(code, registered, voters, valid, family, dwellings)


def test_a_worked_example():
    score = station_score(figures(), mobilisation_weight=1, persuasion_weight=1, per_dwelling=True)
    assert score.share == 0.5
    assert score.mobilisation == 400 * 0.5  # 400 abstainers, half of them leaning our way
    assert score.persuasion == 580  # E·4·½·½: the maximum, at half the vote
    assert math.isclose(score.score, (200 + 580) / 500)


def test_weights_choose_between_turnout_and_persuasion():
    turnout_heavy = figures("A", registered=1000, voters=400, valid=390, family=300)  # many abstainers, strong share
    swing = figures("B", registered=1000, voters=800, valid=780, family=390)  # high turnout, half the vote
    assert rank_stations([turnout_heavy, swing], mobilisation_weight=1, persuasion_weight=0)[0].station == "A"
    assert rank_stations([turnout_heavy, swing], mobilisation_weight=0, persuasion_weight=1)[0].station == "B"


def test_without_dwellings_registered_electors_stand_in():
    score = station_score(figures(dwellings=None), mobilisation_weight=1, persuasion_weight=1, per_dwelling=True)
    assert math.isclose(score.score, (200 + 580) / 1000)


def test_a_station_with_no_valid_vote_scores_zero():
    assert (
        station_score(figures(valid=0, family=0), mobilisation_weight=1, persuasion_weight=1, per_dwelling=False).score
        == 0
    )


@given(
    st.integers(0, 5000),
    st.integers(0, 5000),
    st.integers(0, 5000),
    st.integers(0, 5000),
    st.floats(0, 10),
    st.floats(0, 10),
)
def test_scores_are_never_negative_and_persuasion_peaks_at_half(registered, voters, valid, family, alpha, beta):
    family = min(family, valid)
    score = station_score(
        figures(registered=registered, voters=voters, valid=valid, family=family),
        mobilisation_weight=alpha,
        persuasion_weight=beta,
        per_dwelling=True,
    )
    assert score.score >= 0
    assert score.persuasion <= valid + 1e-9


def test_the_ranking_is_stable_on_ties():
    ranked = rank_stations([figures("B"), figures("A")])
    assert [s.station for s in ranked] == ["A", "B"]
