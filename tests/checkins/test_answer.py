"""Answering a check-in through its link: links, consent, validation, drafts, retries, crisis."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.alerts.models import Alert
from rapport.checkins.models import Consent, Draft, Response
from rapport.checkins.services.consent import practice_settings, publish_statement
from rapport.checkins.services.invitations import (
    INVITATION_SALT,
    create_invitation,
    send_invitation,
)
from rapport.checkins.services.schedule import plan_session
from tests.checkins.conftest import PHQ9_MILD, accept_consent, make_checkin, make_link, phq9_post

PREP = {"instrument": "session-prep", "action": "submit", "a-since-last": "6",
        "a-focus": "Sleep, mostly", "submission": "8c6f7c57-7d4f-4c4b-a1de-3bb2c4e5b4a1"}


def csrf_post(web, url, data):
    """Post as a browser would: with the CSRF token from the page just shown."""
    web.get(url)
    return web.post(url, {**data, "csrfmiddlewaretoken": web.cookies["csrftoken"].value})


def responses(practice):
    with scope(organisation=[practice.org]):
        return list(Response.objects.all())


def test_a_link_says_which_practice_and_asks_for_consent_first(practice, web, link):
    page = web.get(link)
    assert page.status_code == 200
    assert b"Riverside" in page.content
    assert b"Before you start" in page.content
    assert b"supervisor" in page.content  # the statement says who sees the answers


def test_consent_must_be_ticked_and_is_stored_with_its_version(practice, web, link):
    page = csrf_post(web, link, {"action": "consent", "version": "1"})
    assert b"Please tick the box" in page.content
    with scope(organisation=[practice.org]):
        assert not Consent.objects.exists()
    page = csrf_post(web, link, {"action": "consent", "version": "1", "accept": "yes"})
    assert page.status_code == 302
    with scope(organisation=[practice.org]):
        consent = Consent.objects.get(client=practice.client)
    assert consent.version == 1 and consent.accepted_at is not None
    assert b"Getting ready" in web.get(link).content


def test_a_new_statement_is_asked_for_again(practice, web, link):
    accept_consent(practice)
    assert b"Getting ready" in web.get(link).content
    with scope(organisation=[practice.org]):
        publish_statement(practice.org, "We now also share totals with your GP.")
    page = web.get(link)
    assert b"Before you start" in page.content and b"your GP" in page.content
    assert b'name="version" value="2"' in page.content


def test_the_whole_checkin_stores_one_response_per_questionnaire(practice, web, link):
    accept_consent(practice)
    page = web.get(link)
    assert b"Part 1 of 2" in page.content
    assert csrf_post(web, link, PREP).status_code == 302
    page = web.get(link)
    assert b"Part 2 of 2" in page.content and b"PHQ-9" in page.content
    page = csrf_post(web, link, phq9_post(PHQ9_MILD, "5f0d0b4e-5d0e-4f27-9d55-0c8d8a1a6a11"))
    assert b"your answers have been sent" in page.content
    stored = responses(practice)
    assert [r.instrument_id for r in stored] == ["session-prep", "phq9"]
    assert stored[0].free_text_answers == {"focus": "Sleep, mostly"}
    assert stored[1].total == 8


def test_a_double_tap_stores_exactly_one_response(practice, client, link):
    accept_consent(practice)
    assert client.post(link, PREP).status_code == 302
    again = client.post(link, PREP)  # the same tap again: now the next step is shown
    assert again.status_code == 302
    assert len(responses(practice)) == 1


def test_a_retry_of_the_last_step_shows_thanks_and_stores_nothing_more(practice, client, link):
    accept_consent(practice)
    client.post(link, PREP)
    data = phq9_post(PHQ9_MILD, "0d7f7f43-1d7c-4f4e-9e5e-5b8b6f3a4b21")
    first = client.post(link, data)
    retry = client.post(link, data)
    assert b"your answers have been sent" in first.content
    assert b"your answers have been sent" in retry.content
    assert len(responses(practice)) == 2


def test_invalid_answers_store_nothing_keep_what_was_entered_and_say_what_is_wrong(practice, client, link):
    accept_consent(practice)
    data = dict(PREP, **{"a-since-last": "12", "a-tell-therapist": "Work is hard"})
    page = client.post(link, data)
    assert page.status_code == 200
    assert b"Please give a whole number from 0 to 10." in page.content
    assert b"Work is hard" in page.content  # the free text is kept
    assert responses(practice) == []
    missing = {k: v for k, v in phq9_post(PHQ9_MILD).items() if k != "a-phq9-5"}
    client.post(link, PREP)
    page = client.post(link, missing)
    assert b"Please answer this question." in page.content
    assert b'value="several-days" checked' in page.content  # the other answers are kept
    assert len(responses(practice)) == 1


def test_a_half_finished_checkin_can_be_saved_and_resumed(practice, client, link):
    accept_consent(practice)
    page = client.post(link, dict(PREP, action="save", **{"a-since-last": "3"}))
    assert b"Saved." in page.content
    assert responses(practice) == []
    with scope(organisation=[practice.org]):
        draft = Draft.objects.get()
    assert draft.answers == {"since-last": 3}
    with connection.cursor() as cursor:
        cursor.execute("SELECT free_text FROM checkins_draft WHERE id = %s", [draft.pk])
        assert "Sleep" not in cursor.fetchone()[0]  # encrypted at rest
    page = client.get(link)
    assert b"Sleep, mostly" in page.content
    assert b'value="3" checked' in page.content


def test_a_risk_answer_shows_crisis_resources_at_once_and_alerts_the_therapist(practice, client):
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=("phq9", "session-prep"))
    link = make_link(practice, checkin)
    page = client.post(link, phq9_post(PHQ9_MILD | {"phq9-9": 1}))
    assert page.status_code == 200
    assert b"Please get support now" in page.content
    assert b"emergency" in page.content
    with scope(organisation=[practice.org]):
        alert = Alert.objects.get(kind="risk")
    assert alert.severity == "urgent" and alert.episode == practice.episode
    # The rest of the check-in still shows the resources.
    assert b"Please get support now" in client.get(link).content


def test_the_crisis_text_is_the_practices_own(practice, client):
    accept_consent(practice)
    with scope(organisation=[practice.org]):
        settings = practice_settings(practice.org)
        settings.crisis_resources = "Call the Riverside duty line on 0100 000 000."
        settings.save()
    link = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    page = client.post(link, phq9_post(PHQ9_MILD | {"phq9-9": 3}))
    assert b"Riverside duty line" in page.content


def test_a_used_link_says_so_and_reveals_nothing(practice, client, web):
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("session-prep",)))
    client.post(link, PREP)
    page = web.get(link)  # another browser
    assert page.status_code == 410
    assert b"already been used" in page.content
    assert b"Riverside" not in page.content
    assert b"new link" in page.content


def test_an_expired_link_says_so_and_reveals_nothing(practice, web, link):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page = web.get(link)
    assert page.status_code == 410
    assert b"expired" in page.content
    assert b"Riverside" not in page.content


def test_a_tampered_link_does_not_work(practice, web, link):
    token = link.split("/")[2]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    page = web.get(f"/c/{forged}/")
    assert page.status_code == 404
    assert b"does not work" in page.content and b"Riverside" not in page.content
    assert web.get("/c/not-a-token/").status_code == 404


def test_a_valid_signature_without_an_invitation_does_not_work(practice, web):
    from django.core import signing

    token = signing.TimestampSigner(salt=INVITATION_SALT).sign("made-up")
    assert web.get(f"/c/{token}/").status_code == 404


def test_a_link_opens_only_its_own_clients_checkin(practice, client):
    accept_consent(practice)
    accept_consent(practice, practice.colleague_client)
    other = make_checkin(practice, instruments=("session-prep",), session=practice.colleague_session,
                         episode=practice.colleague_episode)
    mine = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    make_link(practice, other)
    # Posting another questionnaire (one the other client's check-in asks for) changes nothing.
    page = client.post(mine, PREP)
    assert page.status_code == 404
    assert responses(practice) == []
    page = client.get(mine)
    assert b"PHQ-9" in page.content and b"Getting ready" not in page.content


def test_an_emailed_invitation_works(practice, client, checkin):
    with scope(organisation=[practice.org]):
        practice.client.email = "client@riverside.test"
        practice.client.save()
        checkin.refresh_from_db()
        send_invitation(checkin)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@riverside.test"]
    url = next(w for w in message.body.split() if "/c/" in w)
    path = url[url.index("/c/"):]
    assert client.get(path).status_code == 200


def test_therapist_checkins_and_other_checkins_are_not_reachable_by_link(practice):
    with scopes_disabled():
        from rapport.checkins.models import CheckIn

        planned = plan_session(practice.session)
        therapist_checkin = next(c for c in planned if c.respondent == "therapist")
        assert isinstance(therapist_checkin, CheckIn)
        try:
            create_invitation(therapist_checkin)
        except ValueError:
            pass
        else:
            raise AssertionError("a therapist's check-in must not get a client link")


def test_a_saved_draft_is_deleted_when_its_step_is_sent(practice, client):
    """The link's query says whether the check-in has drafts; one saved earlier is deleted
    in the transaction that stores the answers, so no partial answers outlive them."""
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=("phq9",))
    link = make_link(practice, checkin)
    client.post(link, phq9_post({"phq9-1": 2}, action="save"))
    with scope(organisation=[practice.org]):
        assert Draft.objects.filter(checkin=checkin).count() == 1
    page = client.post(link, phq9_post(PHQ9_MILD))
    assert b"your answers have been sent" in page.content
    with scope(organisation=[practice.org]):
        assert not Draft.objects.filter(checkin=checkin).exists()
        assert Response.objects.filter(checkin=checkin).count() == 1
