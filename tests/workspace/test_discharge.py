"""Finding clients (search by name, past clients) and ending an episode (discharge): final
measures, a confirmation step, a closing summary the client reads in the portal, audited."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.care.models import Attendance, CareEpisode, Client, EpisodeStatus, Session
from rapport.notes.models import ClosingSummary
from tests.conftest import login
from tests.test_permission_matrix import _portal_login
from tests.workspace.conftest import gad7, new_episode, phq9, submit

SUMMARY = "We worked on sleep and on talking with your sister.\nCall us if things get hard again."


def _end(client, episode, **overrides):
    data = {"status": "completed", "ended_on": timezone.localdate().isoformat(),
            "summary": SUMMARY, **overrides}
    return client.post(reverse("care-discharge", args=[episode.code]), data)


def _fresh(practice, episode):
    with scope(organisation=practice.org):
        return CareEpisode.objects.get(pk=episode.pk)


# ---- search ---------------------------------------------------------------------------------


def test_search_finds_clients_by_the_start_of_any_name_without_accents(client, practice):
    with scope(organisation=practice.org):
        Client.objects.filter(pk=practice.client.pk).update(name="José Álvarez", preferred_name="Pepe")
    login(client, practice.therapist)
    url = reverse("care-client-search")
    for query in ("jose", "ALV", "pepe", "jo al"):
        page = client.get(url, {"q": query})
        assert page.status_code == 200 and "José Álvarez" in page.content.decode(), query
        assert reverse("care-episode", args=[practice.episode.code]) in page.content.decode()
    page = client.get(url, {"q": "osé"})  # inside a word, not at its start
    assert "José Álvarez" not in page.content.decode() and "0 clients found" in page.content.decode()


def test_search_never_shows_a_client_the_user_may_not_see(client, practice, other_practice):
    login(client, practice.therapist)
    url = reverse("care-client-search")
    for hidden in (practice.colleague_client, other_practice.client):
        page = client.get(url, {"q": hidden.name.split()[0]})
        assert hidden.name not in page.content.decode()
        assert str(hidden.code) not in page.content.decode()
    login(client, practice.admin)  # administrators reach every client of their practice
    assert practice.colleague_client.name in client.get(url, {"q": "riverside other"}).content.decode()


def test_search_is_audited_without_the_name_typed(client, practice):
    login(client, practice.therapist)
    client.get(reverse("care-client-search"), {"q": "Riverside"})
    with scope(organisation=practice.org):
        event = AuditEvent.objects.get(action="care.clients.searched")
    assert event.detail == {"results": 1} and "Riverside" not in str(event.detail)


# ---- past clients ---------------------------------------------------------------------------


def test_past_clients_lists_ended_episodes_and_admins_reach_erasure(client, practice):
    with scope(organisation=practice.org):
        CareEpisode.objects.filter(pk=practice.episode.pk).update(
            status=EpisodeStatus.COMPLETED, ended_on=date(2026, 10, 1))
    login(client, practice.therapist)
    caseload = client.get(reverse("care-caseload")).content.decode()
    assert practice.client.name not in caseload and reverse("care-past-clients") in caseload
    page = client.get(reverse("care-past-clients")).content.decode()
    assert practice.client.name in page and "Completed" in page
    assert practice.colleague_client.name not in page  # still active, and not theirs
    assert reverse("privacy-erase", args=[practice.client.code]) not in page  # admins only
    login(client, practice.admin)
    page = client.get(reverse("care-past-clients")).content.decode()
    assert reverse("privacy-erase", args=[practice.client.code]) in page


# ---- discharge ------------------------------------------------------------------------------


def test_the_form_shows_the_final_measures_phq9_first(client, practice):
    episode, sessions = new_episode(practice, "Nadia Kovacs")
    submit(practice, episode, sessions[0], "gad7", gad7(15))
    submit(practice, episode, sessions[0], "phq9", phq9(18))
    submit(practice, episode, sessions[1], "phq9", phq9(9))
    submit(practice, episode, sessions[1], "gad7", gad7(13))
    login(client, practice.therapist)
    page = client.get(reverse("care-discharge", args=[episode.code])).content.decode()
    assert page.index("PHQ-9") < page.index("GAD-7")
    # PHQ-9 fell 9 points (reliable change 6 in its definition); GAD-7 2 points (less than 4).
    assert "reliably better" in page and "better, within measurement error" in page
    with scope(organisation=practice.org):
        event = AuditEvent.objects.get(action="care.discharge_form.viewed")
    assert (event.object_code, event.actor, event.detail) == (str(episode.code), practice.therapist,
                                                              {"measures": 2})


def test_ending_asks_for_confirmation_then_ends_shares_the_summary_and_audits(client, practice):
    episode, sessions = new_episode(practice, "Nadia Kovacs", future=2)
    login(client, practice.therapist)
    review = _end(client, episode)
    assert review.status_code == 200 and "Check and confirm" in review.content.decode()
    assert "2 future sessions will be cancelled" in review.content.decode()
    assert _fresh(practice, episode).status == EpisodeStatus.ACTIVE  # nothing changed yet
    done = _end(client, episode, confirm="True")
    assert done.status_code == 302
    ended = _fresh(practice, episode)
    assert (ended.status, ended.ended_on) == (EpisodeStatus.COMPLETED, timezone.localdate())
    with scope(organisation=practice.org):
        closing = ClosingSummary.objects.get(episode=episode)
        assert closing.text == SUMMARY and closing.written_by == practice.therapist
        future = Session.objects.filter(episode=episode, scheduled_at__gt=timezone.now())
        assert {s.attendance for s in future} == {Attendance.CANCELLED_CLINIC}
        event = AuditEvent.objects.get(action="care.episode.discharged")
    assert event.actor == practice.therapist and event.detail["sessions_cancelled"] == 2
    assert SUMMARY.splitlines()[0] not in str(event.detail)  # the audit keeps no free text
    # A second attempt changes nothing.
    assert _end(client, episode, confirm="True").status_code == 302
    with scope(organisation=practice.org):
        assert ClosingSummary.objects.filter(episode=episode).count() == 1


def test_the_client_reads_the_closing_summary_in_the_portal(client, practice):
    login(client, practice.therapist)
    _end(client, practice.episode, confirm="True")
    client.logout()
    _portal_login(practice.client)(client)
    page = client.get(reverse("portal-summaries")).content.decode()
    assert "Closing summary" in page and "Call us if things get hard again." in page


def test_bad_input_is_refused_and_changes_nothing(client, practice):
    login(client, practice.therapist)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    for bad in ({"status": "active"}, {"ended_on": tomorrow}, {"ended_on": "2020-01-01"},
                {"summary": "   "}, {"ended_on": "not a date"}):
        response = _end(client, practice.episode, confirm="True", **bad)
        assert response.status_code == 400, bad
    assert _fresh(practice, practice.episode).status == EpisodeStatus.ACTIVE
    with scope(organisation=practice.org):
        assert not ClosingSummary.objects.exists()
        assert not AuditEvent.objects.filter(action="care.episode.discharged").exists()


def test_only_the_treating_therapist_or_an_admin_may_end_an_episode(client, practice, other_practice):
    for user, status in ((practice.supervisor, 403), (practice.colleague, 404), (other_practice.admin, 404)):
        login(client, user)
        assert _end(client, practice.episode, confirm="True").status_code == status
    assert _fresh(practice, practice.episode).status == EpisodeStatus.ACTIVE
    login(client, practice.admin)  # an administrator ends it without writing to the client
    page = client.get(reverse("care-discharge", args=[practice.episode.code])).content.decode()
    assert 'name="summary"' not in page
    assert _end(client, practice.episode, confirm="True", status="transferred").status_code == 302
    assert _fresh(practice, practice.episode).status == EpisodeStatus.TRANSFERRED
    with scope(organisation=practice.org):
        assert not ClosingSummary.objects.exists()


def test_erasing_the_client_erases_the_closing_summary(client, practice):
    from rapport.privacy.services import erase_client

    login(client, practice.therapist)
    _end(client, practice.episode, confirm="True")
    with scope(organisation=practice.org):
        assert ClosingSummary.objects.filter(episode=practice.episode).exists()
        erasure = erase_client(practice.client, reason="asked")
        assert not ClosingSummary.objects.exists()
    assert erasure.counts["notes.closing_summaries"] == 1
