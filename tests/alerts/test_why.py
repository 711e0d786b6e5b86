"""The alert page says why a finding fired, in the client's own numbers (monitoring.explain)."""

from __future__ import annotations

from django.urls import reverse

from tests.alerts.conftest import make_alert
from tests.conftest import login


def test_the_rupture_page_shows_this_session_usual_level_spread_and_the_line(client, practice):
    alert = make_alert(practice, evidence={
        "instrument": "relationship-checkin", "score": 88.6, "usual": 96.26, "sd": 1.32,
        "earlier_sessions": 5, "rupture_below": 90.55, "dip_below": 90.55, "min_drop": 5.71,
        "criterion": "2sd",
    })
    login(client, practice.therapist)
    response = client.get(reverse("alerts-detail", args=[alert.code]))
    assert response.status_code == 200
    assert response.context["why"] == (
        "This session 88.6; usual level 96.26, spread 1.32 over 5 earlier sessions; 90.55 or "
        "lower is a rupture."
    )
    body = response.content.decode()
    assert "90.55 or lower is a rupture" in body and "A rupture at or below" in body


def test_an_alert_without_those_numbers_has_no_sentence(client, practice):
    alert = make_alert(practice, kind="risk", severity="urgent", key="risk:phq9:3",
                       evidence={"instrument": "phq9", "flags": ["risk:phq9-9"]})
    login(client, practice.therapist)
    response = client.get(reverse("alerts-detail", args=[alert.code]))
    assert response.status_code == 200 and response.context["why"] is None
