"""Suggestions are chosen by the kind and, for the relationship, by its weakest component."""

from __future__ import annotations

import pytest

from rapport.alerts.models import Kind
from rapport.alerts.suggestions import (
    COMPONENT_LABELS,
    COMPONENT_SUGGESTIONS,
    COMPONENTS,
    KIND_SUGGESTIONS,
    suggestions_for,
    weakest_component,
)
from tests.alerts.conftest import make_alert


@pytest.mark.parametrize("weak", COMPONENTS)
def test_the_weakest_component_chooses_the_suggestions(weak):
    evidence = {"components": {name: (2 if name == weak else 8) for name in COMPONENTS}}
    texts = suggestions_for("alliance_low", evidence)
    assert texts[: len(KIND_SUGGESTIONS["alliance_low"])] == list(KIND_SUGGESTIONS["alliance_low"])
    for text in COMPONENT_SUGGESTIONS[weak]:
        assert any(t.endswith(str(text)) for t in texts)
    assert any(t.startswith(COMPONENT_LABELS[weak].capitalize()) for t in texts)
    for other in set(COMPONENTS) - {weak}:
        assert not any(t.endswith(str(COMPONENT_SUGGESTIONS[other][0])) for t in texts)


def test_weak_mutual_goals_means_revisiting_goals_together():
    texts = suggestions_for("rupture", {"weakest_component": "goals"})
    assert any("Revisit the goals together" in t for t in texts)


def test_a_rupture_asks_for_repair():
    text = " ".join(suggestions_for("rupture", {}))
    for step in ("Name it", "Invite the client's view", "Validate", "Adjust"):
        assert step in text


def test_a_named_component_wins_over_scores():
    assert weakest_component({"component": "safety", "components": {"trust": 0}}) == "safety"
    assert weakest_component({"weakest_component": "listening", "components": {"trust": 0}}) == "listening"
    assert weakest_component({"components": {"trust": 3, "empathy": 3}}) == "trust"  # tie: order
    assert weakest_component({"components": {"warmth": 1}}) is None
    assert weakest_component({}) is None


@pytest.mark.parametrize(("kind", "phrase"), [
    ("discrepancy", "therapists tend to rate the relationship higher"),
    ("not_on_track", "consultation or supervision"),
    ("dropout_risk", "Reach out"),
    ("risk", "risk protocol today"),
    ("goal_stagnation", "Revisit this goal together"),
])
def test_each_kind_has_its_own_suggestions(kind, phrase):
    assert any(phrase in t for t in suggestions_for(kind, {}))


def test_every_kind_has_suggestions():
    for kind in Kind:
        assert suggestions_for(kind.value, {}), kind


def test_outcome_kinds_do_not_add_component_advice():
    evidence = {"components": {"goals": 0}}
    assert suggestions_for("not_on_track", evidence) == list(KIND_SUGGESTIONS["not_on_track"])


def test_an_alert_keeps_the_suggestions_it_was_raised_with(practice):
    alert = make_alert(practice, kind="component_drop", key="component_drop:x:3",
                       evidence={"component": "safety", "drop": 4})
    assert alert.suggestions == suggestions_for("component_drop", {"component": "safety"})
    assert any("limits of confidentiality" in s for s in alert.suggestions)
