"""The session record page: who reaches it, who writes, sharing, and the private note."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.notes import services
from rapport.notes.models import Homework, SessionRecord
from tests.conftest import login


def _url(session):
    return reverse("notes-record", args=[session.code])


@pytest.fixture
def written(practice):
    with scope(organisation=[practice.org]):
        for session in (practice.session, practice.colleague_session):
            services.save_summary(session, "Summary text", "Next steps text")
            services.save_private_note(session, "Private note text")
    return practice


@pytest.mark.parametrize(
    ("who", "own", "expected"),
    [
        ("therapist", True, 200), ("therapist", False, 404),
        ("colleague", True, 404), ("colleague", False, 200),
        ("supervisor", True, 200), ("supervisor", False, 404),
        ("admin", True, 404), ("admin", False, 404),
    ],
)
def test_access_within_a_practice(client, written, who, own, expected):
    p = written
    login(client, getattr(p, who))
    response = client.get(_url(p.session if own else p.colleague_session))
    assert response.status_code == expected
    body = response.content.decode()
    assert ("Private note text" in body) == (expected == 200)


@pytest.mark.parametrize("who", ["admin", "supervisor", "therapist", "colleague"])
def test_nobody_reaches_another_practice(client, practice, other_practice, who):
    login(client, getattr(practice, who))
    assert client.get(_url(other_practice.session)).status_code == 404
    assert client.post(_url(other_practice.session),
                       {"action": "note", "private_note": "x"}).status_code == 404
    with scopes_disabled():
        assert not SessionRecord.objects.exists()


def test_admin_gets_no_link_to_the_record(client, practice):
    login(client, practice.admin)
    assert _url(practice.session) not in client.get(
        reverse("care-session", args=[practice.session.code])).content.decode()
    login(client, practice.therapist)
    assert _url(practice.session) in client.get(
        reverse("care-session", args=[practice.session.code])).content.decode()


def test_therapist_writes_shares_and_unshares(web, practice):
    login(web, practice.therapist)
    token = web.get(_url(practice.session)).cookies["csrftoken"].value

    def post(data):
        return web.post(_url(practice.session), {**data, "csrfmiddlewaretoken": token})

    assert post({"action": "summary", "summary": "We met", "next_steps": "Walk"}).status_code == 302
    assert post({"action": "note", "private_note": "Just for me"}).status_code == 302
    assert post({"action": "agenda_add", "agenda-text": "Plan the week"}).status_code == 302
    assert post({"action": "homework_add", "homework-text": "Walk 10 minutes"}).status_code == 302
    assert post({"action": "share"}).status_code == 302
    with scope(organisation=[practice.org]):
        shown = services.shared_records_for_client(practice.client)
    assert shown[0].summary == "We met" and shown[0].homework[0].text == "Walk 10 minutes"
    body = web.get(_url(practice.session)).content.decode()
    assert "Stop sharing with the client" in body and "Plan the week" in body
    assert post({"action": "unshare"}).status_code == 302
    with scope(organisation=[practice.org]):
        assert services.shared_records_for_client(practice.client) == []
    with scopes_disabled():
        hw = Homework.objects.get()
    assert post({"action": "homework_remove", "item": str(hw.code)}).status_code == 302
    with scopes_disabled():
        assert not Homework.objects.exists()


def test_invalid_input_is_refused_and_kept(client, practice):
    login(client, practice.therapist)
    too_long = "x" * (services.ITEM_MAX + 1)
    response = client.post(_url(practice.session), {"action": "homework_add", "homework-text": too_long})
    assert response.status_code == 400
    assert too_long in response.content.decode()
    with scopes_disabled():
        assert not Homework.objects.exists()


def test_supervisor_reads_but_does_not_write(client, written):
    p = written
    login(client, p.supervisor)
    body = client.get(_url(p.session)).content.decode()
    assert "Summary text" in body and "Share with the client" not in body
    for data in ({"action": "share"}, {"action": "note", "private_note": "changed"}):
        assert client.post(_url(p.session), data).status_code == 403
    with scopes_disabled():
        rec = SessionRecord.objects.get(session=p.session)
    assert rec.private_note == "Private note text" and not rec.is_shared


def test_removing_another_sessions_item_is_404(client, practice):
    with scope(organisation=[practice.org]):
        theirs = services.add_item(practice.colleague_session, "homework", "Theirs")
    login(client, practice.therapist)
    response = client.post(_url(practice.session), {"action": "homework_remove",
                                                    "item": str(theirs.code)})
    assert response.status_code == 404
    with scopes_disabled():
        assert Homework.objects.filter(pk=theirs.pk).exists()


def test_page_view_is_audited(client, written):
    login(client, written.supervisor)
    client.get(_url(written.session))
    event = AuditEvent.objects.get(action="notes.record.viewed", actor=written.supervisor)
    assert event.client_code == written.client.code


def test_reflection_link_for_the_treating_therapist_only(client, practice):
    link = reverse("checkins-reflection", args=[practice.session.code])
    login(client, practice.therapist)
    assert link in client.get(_url(practice.session)).content.decode()
    login(client, practice.supervisor)
    assert link not in client.get(_url(practice.session)).content.decode()


def test_the_clients_preparation_shows_as_agenda(client, practice):
    from rapport.checkins.services.submission import submit

    with scope(organisation=[practice.org]):
        submit(episode=practice.episode, session=practice.session, instrument_id="session-prep",
               answers={"focus": "The argument at work", "since-last": 4})
    login(client, practice.therapist)
    body = client.get(_url(practice.session)).content.decode()
    assert "The argument at work" in body and "has not prepared" not in body


def test_private_note_is_not_in_the_clients_data_download(client, practice):
    import io
    import zipfile

    from django.core import mail

    from rapport.checkins.services.submission import submit

    with scope(organisation=[practice.org]):
        services.save_private_note(practice.session, "Never to the client")
        services.save_summary(practice.session, "Shared summary", "")
        services.share(practice.session)
        submit(episode=practice.episode, session=practice.session, instrument_id="session-prep",
               answers={"since-last": 4})
        practice.client.email = "me@riverside.test"
        practice.client.save()
    client.post("/portal/login/", {"email": "me@riverside.test"})
    url = next(w for w in mail.outbox[-1].body.split() if "/portal/login/" in w)
    client.post(url[url.index("/portal/"):])
    response = client.post("/portal/data/download/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert archive.namelist() and b"Never to the client" not in everything
