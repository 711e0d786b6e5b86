"""Everything a Spanish-speaking client can receive, read as they would: every email and text
(invitation, reminder, a moved session, the portal's login link) and the crisis resources are in
Spanish, with dates and times in the client's own time zone, written the Spanish way."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polib
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import formats, timezone, translation
from django_scopes import scope, scopes_disabled

from rapport.care.models import Channel, Client, Session
from rapport.checkins.services.invitations import send_invitation
from rapport.core import i18n_catalogue, sms
from rapport.scheduling import rescheduling
from rapport.scheduling.models import ReminderPolicy
from rapport.scheduling.reminders import send_due_reminders
from rapport.scheduling.tasks import send_checkin_invitations
from tests.checkins.conftest import PHQ9_MILD, accept_consent, make_checkin, make_link, phq9_post

ZONE = "America/Mexico_City"  # UTC-6 in December: 03:30 UTC is 21:30 the evening before
SESSION_AT = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)  # Monday 7 December, 21:30 in Mexico City


def english_phrases() -> list[str]:
    """The interface's English sentences whose Spanish differs: none may reach a Spanish reader."""
    po = polib.pofile(str(i18n_catalogue.locale_dir() / "es" / "LC_MESSAGES" / "django.po"))
    return [e.msgid for e in po.translated_entries()
            if not e.msgid_plural and "%" not in e.msgid and "{" not in e.msgid
            and len(e.msgid.split()) >= 3 and e.msgstr != e.msgid]


def assert_spanish(*texts: str) -> None:
    phrases = english_phrases()
    for text in texts:
        shown = [p for p in phrases if p in text]
        assert shown == [], f"English in {text!r}: {shown[:3]}"
        assert "Hello" not in text and "your" not in text.lower().split(), text


@pytest.fixture
def spanish(practice):
    """The practice's client reads Spanish, lives in Mexico City and has a session on Monday
    7 December at 21:30 their time (03:30 UTC on the 8th); no quiet hours."""
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(
            language="es-MX", time_zone=ZONE, email="cliente@riverside.test", phone="+5215550000000")
        ReminderPolicy.objects.create(organisation=practice.org, quiet_from="00:00",
                                      quiet_until="00:00")
        Session.objects.filter(pk=practice.session.pk).update(scheduled_at=SESSION_AT)
        practice.client.refresh_from_db()
        practice.session.refresh_from_db()
    mail.outbox.clear()
    sms.outbox.clear()
    return practice


def by_text(practice) -> None:
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(preferred_channel=Channel.TEXT)


def test_the_check_in_invitation_gives_its_last_day_in_the_clients_zone(spanish):
    # Sent at 03:00 UTC on 1 December: the link works for 7 days, until 03:00 UTC on the 8th,
    # which is still the evening of the 7th in Mexico City.
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False), \
            scope(organisation=[spanish.org]):
        send_invitation(make_checkin(spanish))
    (message,) = mail.outbox
    assert message.subject == "Riverside: un breve cuestionario"
    assert "El enlace funciona hasta el 7 de diciembre de 2026" in message.body, message.body
    assert_spanish(message.subject, message.body)


@pytest.mark.parametrize("channel", ["email", "text"])
def test_the_session_reminder_names_the_day_and_time_where_the_client_lives(spanish, channel):
    if channel == "text":
        by_text(spanish)
    assert send_due_reminders(now=SESSION_AT - timedelta(hours=20)) == 1
    if channel == "text":
        (text,) = sms.outbox
        subject, body = "", text.body
        assert mail.outbox == []
    else:
        (message,) = mail.outbox
        subject, body = message.subject, message.body
        assert subject == "Riverside: recordatorio de su sesión"
    assert "lunes 7 de diciembre a las 21:30" in body, body
    assert "03:30" not in body and "martes" not in body
    assert_spanish(subject, body)


@pytest.mark.parametrize("channel", ["email", "text"])
def test_the_pre_session_invitation_speaks_spanish_in_the_clients_zone(spanish, channel):
    if channel == "text":
        by_text(spanish)
    with time_machine.travel(SESSION_AT - timedelta(hours=20), tick=False):
        assert send_checkin_invitations.apply().get() == 1
    body = sms.outbox[0].body if channel == "text" else mail.outbox[0].body
    assert "lunes 7 de diciembre a las 21:30" in body, body
    assert_spanish(body, *(m.subject for m in mail.outbox))


def test_a_session_kept_at_its_time_is_announced_in_spanish_at_the_clients_time(
        spanish, rf, django_capture_on_commit_callbacks):
    request = rf.post("/")
    request.user = spanish.therapist  # reads English: the client's message is still Spanish
    with scope(organisation=[spanish.org]):
        move, _created = rescheduling.ask(request, spanish.session, reason="work",
                                options=[SESSION_AT + timedelta(days=2)],
                                key=uuid.UUID("6f1c9a52-3f1e-4a43-9f55-0a3c3c1d2b11"))
        with django_capture_on_commit_callbacks(execute=True):
            rescheduling.decline(request, move)
    (message,) = mail.outbox
    assert message.subject == "Riverside: su sesión"
    assert "lunes 7 de diciembre a las 21:30" in message.body, message.body
    assert_spanish(message.subject, message.body)


def test_the_portal_login_link_is_in_spanish(spanish, client):
    client.post("/portal/login/", {"email": "cliente@riverside.test"})
    (message,) = [m for m in mail.outbox if m.to == ["cliente@riverside.test"]]
    assert message.subject == "Riverside: su enlace para entrar"
    assert message.body.startswith("Hola")
    assert_spanish(message.subject, message.body)


def test_the_default_crisis_resources_are_shown_in_spanish(spanish, client):
    accept_consent(spanish)
    link = make_link(spanish, make_checkin(spanish, instruments=("phq9",)))
    page = client.post(link, phq9_post(PHQ9_MILD | {"phq9-9": 2})).content.decode()
    assert "Por favor, busque apoyo ahora" in page
    assert "Si está pensando en hacerse daño" in page
    assert "If you are thinking about harming yourself" not in page
    assert_spanish(page.split("<main", 1)[1])


def portal_pages(practice) -> list[str]:
    return ["/portal/", "/portal/progress/", "/portal/goals/", "/portal/summaries/",
            "/portal/intake/", "/portal/data/",
            reverse("portal-reschedule", args=[practice.session.code])]


def test_every_page_a_spanish_client_can_open_is_in_spanish(spanish, client):
    from tests.portal.test_portal import log_in

    accept_consent(spanish)
    link = make_link(spanish, make_checkin(spanish, instruments=("phq9", "session-prep")))
    pages = {"phq9": client.get(link).content.decode()}
    pages["login"] = client.get("/portal/login/").content.decode()  # remembers the language
    pages["support"] = client.post(link, phq9_post(PHQ9_MILD | {"phq9-9": 1})).content.decode()
    pages["broken link"] = client.get("/c/not-a-token/").content.decode()
    with scopes_disabled():  # ahead, whenever this runs: the portal offers to move it
        Session.objects.filter(pk=spanish.session.pk).update(
            scheduled_at=timezone.now() + timedelta(days=3))
    log_in(client, spanish, email="cliente@riverside.test")
    for path in portal_pages(spanish):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
    for name, html in pages.items():
        assert '<html lang="es"' in html, name
        assert_spanish(html.split("<body", 1)[1])
    # Dates written the Spanish way ("5 de diciembre", never "5 diciembre").
    day = timezone.localtime(timezone.now() + timedelta(days=3), ZoneInfo(ZONE))
    with translation.override("es"):
        spanish_day = formats.date_format(day, "j \\d\\e F")
    assert f"sesión del {spanish_day}" in pages["/portal/"], spanish_day


def test_the_data_a_spanish_client_downloads_reads_in_spanish(spanish, client):
    from rapport.checkins.services.submission import submit
    from tests.portal.test_portal import log_in

    with scope(organisation=[spanish.org]):
        submit(episode=spanish.episode, instrument_id="phq9",
               answers={f"phq9-{n}": "several-days" for n in range(1, 10)})
    log_in(client, spanish, email="cliente@riverside.test")
    archive = zipfile.ZipFile(io.BytesIO(client.post("/portal/data/download/").content))
    text = archive.read("summary.txt").decode()
    assert text.startswith("Sus respuestas a los cuestionarios en Riverside"), text[:80]
    assert "Cuestionario sobre la salud del paciente-9 (PHQ-9)" in text
    assert "Puntuación: 9 (leve)" in text
    assert "  Poco interés o placer en hacer cosas: Varios días" in text
    with translation.override("es"):
        today = formats.date_format(timezone.localtime(timezone.now(), ZoneInfo(ZONE)), "j \\d\\e F \\d\\e Y")
    assert f"Preparado el {today}" in text
    assert_spanish(text)
