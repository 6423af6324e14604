"""GCBM's classifier matching rules (gcbm-spec §5.3), checked on small tables worked by hand."""

from __future__ import annotations

from flintcloud.gcbm.science.matching import (
    best_growth_curve,
    best_transitions,
    match_score,
    set_after_transition,
)


def test_match_score_counts_equal_values_wildcards_and_mismatches():
    stand = {"species": "Fir", "site": "good"}
    assert match_score({"species": "fir", "site": "good"}, stand) == 8  # case-insensitive
    assert match_score({"species": "?", "site": "good"}, stand) == 5
    assert match_score({"species": "Pine", "site": "good"}, stand) == -996
    assert match_score({"missing": "x"}, stand) == -1000


def test_best_growth_curve_prefers_the_most_specific_then_the_lowest_id():
    curves = {3: {"species": "?", "site": "?"}, 2: {"species": "Fir", "site": "?"},
              1: {"species": "Fir", "site": "?"}, 4: {"species": "Pine", "site": "?"}}
    assert best_growth_curve(curves, {"species": "Fir", "site": "good"}) == 1
    assert best_growth_curve(curves, {"species": "Oak", "site": "good"}) == 3
    assert best_growth_curve({4: {"species": "Pine"}}, {"species": "Oak"}) == -1


def test_best_transitions_picks_per_disturbance_type_and_keeps_the_first_of_equals():
    rules = [(10, 0, {"species": "?"}), (11, 0, {"species": "Fir"}), (12, 0, {"species": "Fir"}),
             (20, 1, {"species": "Pine"})]
    assert best_transitions(rules, {"species": "Fir"}) == {0: 11}
    assert best_transitions(rules, {"species": "Pine"}) == {0: 10, 1: 20}


def test_a_transition_changes_only_the_values_it_names():
    names = ["species", "site"]
    assert set_after_transition({"species": "Pine", "site": "?"}, names, ("Fir", "good")) == \
        ("Pine", "good")
    assert set_after_transition({}, names, ("Fir", "good")) == ("Fir", "good")
