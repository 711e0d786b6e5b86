"""The client's C-NIP preferences where they matter: the first session, the agenda's "ask about",
the repair guide; and the client gives them again from the portal."""

from __future__ import annotations

from datetime import UTC, datetime

from django_scopes import scope, scopes_disabled

from rapport.alerts.services import raise_alert
from rapport.audit.models import AuditEvent
from rapport.care.models import Session
from rapport.checkins.models import CheckIn
from rapport.checkins.services.submission import submit
from tests.checkins.conftest import accept_consent
from tests.conftest import login
from tests.portal.test_portal import log_in

# Item 1 strongly towards goals, item 2 moderately towards structure, item 3 slightly towards
# skills; the rest no preference either way.
ANSWERS = {f"cnip-{n}": "none" for n in range(1, 19)} | {
    "cnip-1": "left-3", "cnip-2": "left-2", "cnip-3": "left-1"}
STRONG = "Strong preference: Focus on specific goals"
MODERATE = "Moderate preference: Give structure to the therapy"
SLIGHT = "Slight preference: Teach me skills to deal with my problems"


def give_preferences(practice):
    with scope(organisation=[practice.org]):
        submit(episode=practice.episode, instrument_id="cnip", answers=ANSWERS)


def test_the_first_session_page_shows_the_clients_preferences_strongest_first(client, practice):
    give_preferences(practice)
    login(client, practice.therapist)
    html = client.get(f"/sessions/{practice.session.code}/").content.decode()
    assert "Before the first session: how the client prefers to work (C-NIP)" in html
    assert html.index(STRONG) < html.index(MODERATE) < html.index(SLIGHT)
    event = AuditEvent.objects.filter(action="workspace.answers.viewed").latest("seq")
    assert event.detail["preferences"] is True and event.actor == practice.therapist


def test_a_later_session_page_does_not_repeat_them(client, practice):
    give_preferences(practice)
    with scope(organisation=[practice.org]):
        later = Session.objects.create(organisation=practice.org, episode=practice.episode,
                                       scheduled_at=datetime(2026, 9, 8, 10, tzinfo=UTC))
    login(client, practice.therapist)
    html = client.get(f"/sessions/{later.code}/").content.decode()
    assert "Before the first session" not in html and STRONG not in html


def test_the_first_session_page_says_when_no_preferences_were_given(client, practice):
    login(client, practice.therapist)
    html = client.get(f"/sessions/{practice.session.code}/").content.decode()
    assert "ask about them in this first session" in html


def test_an_administrator_without_clinical_access_does_not_see_them(client, practice):
    give_preferences(practice)
    login(client, practice.admin)
    html = client.get(f"/sessions/{practice.session.code}/").content.decode()
    assert STRONG not in html and "C-NIP" not in html


def test_the_agenda_asks_about_the_strong_and_moderate_preferences_only(client, practice):
    give_preferences(practice)
    login(client, practice.therapist)
    html = client.get(f"/sessions/{practice.session.code}/record/").content.decode()
    assert ">Ask about<" in html and STRONG in html and MODERATE in html and SLIGHT not in html
    event = AuditEvent.objects.filter(action="notes.record.viewed").latest("seq")
    assert event.detail["preferences"] == 2


def test_the_repair_guide_carries_the_clients_preferences(client, practice):
    give_preferences(practice)
    with scope(organisation=[practice.org]):
        rupture = raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                              key="rupture:1", evidence={})
        risk = raise_alert(episode=practice.episode, kind="risk", severity="urgent",
                           key="risk:phq9:1", evidence={"item": "phq9-9", "answer": 2})
    login(client, practice.therapist)
    html = client.get(f"/alerts/{rupture.code}/").content.decode()
    assert "What this client has told you they prefer (C-NIP)" in html and STRONG in html
    assert STRONG not in client.get(f"/alerts/{risk.code}/").content.decode()


def test_the_client_gives_their_preferences_again_from_the_portal(client, practice):
    log_in(client, practice)
    assert "Update my preferences" not in client.get("/portal/intake/").content.decode()
    with scope(organisation=[practice.org]):
        practice.client.intake_completed_at = datetime(2026, 9, 1, tzinfo=UTC)
        practice.client.save()
    assert "Update my preferences" in client.get("/portal/intake/").content.decode()
    first = client.post("/portal/intake/", {"action": "preferences"})
    again = client.post("/portal/intake/", {"action": "preferences"})
    assert first.status_code == again.status_code == 302
    assert first["Location"].startswith("/c/") and again["Location"].startswith("/c/")
    with scopes_disabled():
        asked = CheckIn.objects.filter(episode=practice.episode, instruments=["cnip"])
        assert asked.count() == 1  # the open one is reused
        assert AuditEvent.objects.filter(action="portal.preferences.requested").count() == 2
    accept_consent(practice)
    page = client.get(again["Location"]).content.decode()
    assert "Cooper-Norcross Inventory of Preferences" in page


def test_a_client_with_no_episode_is_told_so_and_nothing_is_created(client, practice):
    with scope(organisation=[practice.org]):
        practice.episode.status = "completed"
        practice.episode.save()
    log_in(client, practice)
    page = client.post("/portal/intake/", {"action": "preferences"}, follow=True)
    assert "You can give your preferences once your therapy has started." in page.content.decode()
    with scopes_disabled():
        assert not CheckIn.objects.filter(instruments=["cnip"]).exists()
