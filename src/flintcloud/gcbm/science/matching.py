"""GCBM's classifier matching rules (gcbm-spec §5.3), as pure functions of the tables they
match against: which growth curve a classifier set grows on (GrowthCurveTransform), which
transition a disturbance triggers (TransitionRuleTransform), and the set a transition leaves.

A rule's value is either a classifier value (matched case-insensitively) or "?" (any value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

WILDCARD = "?"


def match_score(rule_values: Mapping[str, str], classifier_set: Mapping[str, str]) -> int:
    """GCBM's classifier match score: +4 per equal value (case-insensitive), +1 per '?', -1000
    per other value; a rule matches when its score is positive."""
    score = 0
    for name, value in rule_values.items():
        if value == WILDCARD:
            score += 1
        elif name in classifier_set and str(classifier_set[name]).lower() == str(value).lower():
            score += 4
        else:
            score -= 1000
    return score


def best_growth_curve(curves: Mapping[int, Mapping[str, str]],
                      classifier_set: Mapping[str, str]) -> int:
    """The id of the best-scoring curve (the lowest id among equals), or -1 if none matches."""
    best, best_score = -1, 0
    for curve_id in sorted(curves):
        score = match_score(curves[curve_id], classifier_set)
        if score > best_score:
            best, best_score = curve_id, score
    return best


def best_transitions(rules: Sequence[tuple[int, int, Mapping[str, str]]],
                     classifier_set: Mapping[str, str]) -> dict[int, int]:
    """{disturbance type index: transition id} of the best-scoring rule per disturbance type;
    rules are (transition id, disturbance type index, rule values), the first wins a tie."""
    best: dict[int, tuple[int, int]] = {}
    for transition_id, type_idx, rule_values in rules:
        score = match_score(rule_values, classifier_set)
        if score > 0 and (type_idx not in best or score > best[type_idx][0]):
            best[type_idx] = (score, transition_id)
    return {type_idx: transition_id for type_idx, (_, transition_id) in best.items()}


def set_after_transition(changes: Mapping[str, str], names: Sequence[str],
                         classifier_set: tuple[str, ...]) -> tuple[str, ...]:
    """The classifier set a transition leaves: its values, except where it says '?' or
    nothing, which keep the set's."""
    return tuple(changes.get(name, value) if changes.get(name, WILDCARD) != WILDCARD else value
                 for name, value in zip(names, classifier_set, strict=True))
