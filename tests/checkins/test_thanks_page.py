"""The thank-you page after a check-in: rendered once per practice and language for a client
with nothing waiting for them, and in full for anyone else (rapport.checkins.views._done)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.db import SessionStore
from django.shortcuts import render
from django.test import RequestFactory
from django.utils import translation
from django_scopes import scope, scopes_disabled

from rapport.checkins import views
from rapport.checkins.models import CheckIn, Invitation, Respondent, When
from tests.checkins.conftest import PHQ9_MILD, accept_consent, make_checkin, make_link, phq9_post
from tests.conftest import login


def _request():
    request = RequestFactory().get("/c/token/")
    request.user, request.session = AnonymousUser(), SessionStore()
    request._messages = default_storage(request)
    return request


def _answer(web, practice, other_client=False):
    episode, session = ((practice.colleague_episode, practice.colleague_session) if other_client
                        else (practice.episode, practice.session))
    checkin = make_checkin(practice, instruments=("phq9",), session=session, episode=episode)
    link = make_link(practice, checkin)
    web.get(link)  # the form, and the CSRF cookie
    page = web.post(link, {**phq9_post(PHQ9_MILD),
                           "csrfmiddlewaretoken": web.cookies["csrftoken"].value})
    assert page.status_code == 200
    return page.content.decode()


def test_a_client_gets_the_page_a_full_render_gives_them(practice):
    checkin = make_checkin(practice, instruments=("phq9",))
    for language in ("en", "es"):
        with translation.override(language), scope(organisation=[practice.org]):
            request = _request()
            full = render(_request(), "checkins/done.html",
                          {"organisation": practice.org, "risk": False, "crisis": ""})
            assert views._done(request, checkin, risk=False).content == full.content
    assert b'lang="es"' in full.content and practice.org.name.encode() in full.content


def test_the_page_follows_the_practice_name_and_the_client_language(practice, web):
    accept_consent(practice)
    accept_consent(practice, practice.colleague_client)
    assert practice.org.name in _answer(web, practice)
    with scopes_disabled():
        practice.org.name = "Riverside Counselling"
        practice.org.save(update_fields=["name"])
        practice.colleague_client.language = "es"
        practice.colleague_client.save(update_fields=["language"])
    page = _answer(web, practice, other_client=True)
    assert "Riverside Counselling" in page and 'lang="es"' in page and "Gracias" in page


def test_a_message_waiting_is_shown_and_a_risk_answer_gets_the_crisis_page(practice):
    checkin = make_checkin(practice, instruments=("phq9",))
    request = _request()
    messages.info(request, "Your portal link is on its way.")
    with scope(organisation=[practice.org]), translation.override("en"):
        assert b"Your portal link is on its way." in views._done(request, checkin, False).content
        assert b"Your therapist has been alerted" in views._done(_request(), checkin, True).content


def test_someone_logged_in_gets_their_own_page(practice, web, monkeypatch):
    """Staff pages add what is theirs (the urgent-alert banner): never the shared page."""
    def shared(*args):
        raise AssertionError("the page rendered for anonymous clients")

    accept_consent(practice)
    login(web, practice.therapist)
    monkeypatch.setattr(views, "_thanks", shared)
    assert "your answers have been sent" in _answer(web, practice)


def test_the_browser_that_finished_is_thanked_again_and_keeps_no_session(practice, web):
    """What the browser finished lives in a signed cookie: reopening the used link thanks it
    again; no session is kept on the server for answering a link; a forged cookie is ignored."""
    from django.contrib.sessions.models import Session

    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    web.get(link)
    web.post(link, {**phq9_post(PHQ9_MILD), "csrfmiddlewaretoken": web.cookies["csrftoken"].value})
    again = web.get(link)
    assert again.status_code == 200 and b"your answers have been sent" in again.content
    assert not Session.objects.exists() and "sessionid" not in web.cookies
    stranger = type(web)()
    with scopes_disabled():
        (code,) = Invitation.objects.filter(token_hash__isnull=False).values_list("code", flat=True)
    stranger.cookies[views.DONE_COOKIE] = str(code)  # the right code, unsigned
    forged = stranger.get(link)
    assert forged.status_code == 410 and b"already been used" in forged.content


def test_a_link_to_a_checkin_without_a_session_resolves_and_is_answered(practice, web):
    """The link's statement joins the session with a LEFT JOIN: none gives None, not a row of
    nulls, and the answer is stored and thanked (rapport.core.statements.Joined)."""
    from rapport.checkins.services.invitations import resolve_token

    accept_consent(practice)
    with scope(organisation=[practice.org]):
        checkin = CheckIn.objects.create(
            organisation=practice.org, episode=practice.episode, session=None,
            when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["phq9"])
    link = make_link(practice, checkin)
    state = resolve_token(link.split("/")[2])
    assert state.status == "ok" and state.invitation.checkin.session is None
    assert state.invitation.checkin.episode.client.code == practice.client.code
    web.get(link)
    page = web.post(link, {**phq9_post(PHQ9_MILD),
                           "csrfmiddlewaretoken": web.cookies["csrftoken"].value})
    assert b"your answers have been sent" in page.content
