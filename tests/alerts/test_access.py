"""Who reaches an alert: the treating therapist and their supervisors; 404 for everyone else."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django_scopes import scope

from rapport.alerts.access import get_alert_for
from rapport.audit.models import AuditEvent
from tests.alerts.conftest import make_alert
from tests.conftest import login


@pytest.mark.parametrize(("who", "expected"), [
    ("therapist", 200),  # treats the client
    ("supervisor", 200),  # supervises the therapist
    ("colleague", 404),  # another therapist of the practice
    ("admin", 404),  # administers, but neither treats nor supervises
])
def test_alert_detail_within_a_practice(client, practice, who, expected):
    alert = make_alert(practice)
    login(client, getattr(practice, who))
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("alerts-detail", args=[alert.code]),
                                           {"to_status": "acknowledged"} if method == "post" else {})
        assert response.status_code == (302 if method == "post" and expected == 200 else expected)


def test_a_supervisor_does_not_reach_an_unsupervised_colleagues_alert(client, practice):
    alert = make_alert(practice, episode=practice.colleague_episode)
    login(client, practice.supervisor)
    assert client.get(reverse("alerts-detail", args=[alert.code])).status_code == 404
    login(client, practice.colleague)
    assert client.get(reverse("alerts-detail", args=[alert.code])).status_code == 200


@pytest.mark.parametrize("who", ["admin", "supervisor", "therapist", "colleague"])
def test_nobody_reaches_another_practices_alert(client, practice, other_practice, who):
    alert = make_alert(other_practice)
    login(client, getattr(practice, who))
    assert client.get(reverse("alerts-detail", args=[alert.code])).status_code == 404
    response = client.post(reverse("alerts-detail", args=[alert.code]),
                           {"to_status": "resolved", "note": "x"})
    assert response.status_code == 404


def test_anonymous_is_sent_to_login(client, practice):
    alert = make_alert(practice)
    for url in (reverse("alerts-detail", args=[alert.code]), reverse("alerts-list")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts-login"))


def test_a_malformed_code_is_404(rf, practice):
    request = rf.get("/")
    request.user, request.organisation, request.roles = practice.therapist, practice.org, {"therapist"}
    from django.http import Http404

    with scope(organisation=practice.org), pytest.raises(Http404):
        get_alert_for(request, "not-a-uuid")


def test_reading_an_alert_is_audited(client, practice):
    alert = make_alert(practice)
    login(client, practice.therapist)
    client.get(reverse("alerts-detail", args=[alert.code]))
    event = AuditEvent.objects.get(action="alerts.alert.viewed")
    assert event.actor == practice.therapist
    assert event.object_code == str(alert.code)
    assert event.client_code == practice.client.code


def test_the_list_shows_only_the_users_reachable_unresolved_alerts(client, practice, other_practice):
    mine = make_alert(practice, kind="alliance_low", key="alliance_low:relationship-checkin:2")
    colleagues = make_alert(practice, kind="dropout_risk", key="dropout_risk:",
                            episode=practice.colleague_episode)
    elsewhere = make_alert(other_practice, kind="not_on_track", key="not_on_track:phq9:3")
    login(client, practice.therapist)
    page = client.get(reverse("alerts-list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert str(mine.code) in body
    assert str(colleagues.code) not in body
    assert str(elsewhere.code) not in body
    assert AuditEvent.objects.filter(action="alerts.list.viewed", actor=practice.therapist).exists()
    login(client, practice.admin)
    assert str(mine.code) not in client.get(reverse("alerts-list")).content.decode()


def test_the_detail_page_shows_evidence_suggestions_and_history(client, practice):
    alert = make_alert(practice, evidence={"score": 42, "usual": 81.5,
                                           "components": {"goals": 2, "trust": 8}})
    login(client, practice.therapist)
    client.post(reverse("alerts-detail", args=[alert.code]),
                {"to_status": "discussed", "note": "Named it together"})
    body = html.unescape(client.get(reverse("alerts-detail", args=[alert.code])).content.decode())
    assert "The relationship rating dropped well below this client's usual ratings" in body
    numbers = body[body.index("<details"):body.index("</details>")]
    assert "<th scope=\"row\">This client's usual level</th><td>81.5</td>" in numbers
    assert "<th scope=\"row\">Each part this session</th><td>mutual goals 2, trust 8</td>" in numbers
    assert "Revisit the goals together" in body
    assert "Named it together" in body
    assert "Discussed with the client" in body
    assert practice.therapist.name in body
