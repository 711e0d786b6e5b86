"""Staff read in their own language, clients in theirs: pages, check-ins, emails, reminders."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core import mail
from django.utils import translation
from django_scopes import scope, scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.checkins.services.invitations import send_invitation
from rapport.scheduling import reminders
from tests.checkins.conftest import accept_consent, make_checkin, make_link
from tests.conftest import StaffClient, login
from tests.portal.test_portal import log_in


def set_language(practice, client, language):
    with scope(organisation=[practice.org]):
        client.language = language
        client.save(update_fields=["language"])


def test_a_staff_member_chooses_their_language_and_the_change_is_audited(client, practice):
    login(client, practice.therapist)
    page = client.post("/account/language/", {"language": "es"}, follow=True)
    practice.therapist.refresh_from_db()
    assert practice.therapist.language == "es"
    assert '<html lang="es" dir="ltr">' in page.content.decode()
    assert "Se ha guardado su idioma." in page.content.decode()
    event = AuditEvent.objects.get(action="accounts.language.changed")
    assert event.actor == practice.therapist and event.detail == {"from": "en", "to": "es"}
    caseload = client.get("/caseload/").content.decode()
    assert ">Casos<" in caseload and ">Caseload<" not in caseload


def test_an_unoffered_language_changes_nothing(client, practice):
    login(client, practice.therapist)
    page = client.post("/account/language/", {"language": "xx"}, follow=True)
    practice.therapist.refresh_from_db()
    assert practice.therapist.language == "en"
    assert "Choose one of the languages offered." in page.content.decode()
    assert not AuditEvent.objects.filter(action="accounts.language.changed").exists()


def test_staff_pages_follow_the_account_not_the_browser(client, practice):
    login(client, practice.therapist)
    page = client.get("/caseload/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en" dir="ltr">' in page and ">Caseload<" in page


def test_a_visitor_who_is_not_signed_in_gets_their_browser_language(client, practice):
    page = client.get("/portal/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
    assert '<html lang="es"' in page and "Enviarme un enlace" in page


def test_the_portal_speaks_the_clients_language_from_their_record(client, practice):
    set_language(practice, practice.client, "es-MX")
    log_in(client, practice)
    assert "Use este enlace para abrir su portal" in mail.outbox[-1].body
    page = client.get("/portal/").content.decode()
    assert '<html lang="es"' in page and "Sus cuestionarios" in page and "Hola, " in page


def test_a_staff_member_signed_in_on_the_same_browser_does_not_change_the_portal(client, practice):
    set_language(practice, practice.client, "es")
    login(client, practice.therapist)  # an English-speaking therapist
    log_in(client, practice)
    assert '<html lang="es"' in client.get("/portal/").content.decode()


def test_the_check_in_page_speaks_the_clients_language_and_they_can_change_it(client, practice):
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice))
    page = client.get(link).content.decode()
    assert '<html lang="es"' in page and "Parte 1 de 2" in page
    changed = client.post(link, {"action": "language", "language": "en"})
    assert changed.status_code == 302
    with scopes_disabled():
        practice.client.refresh_from_db()
        event = AuditEvent.objects.get(action="care.client.language_changed")
    assert practice.client.language == "en"
    assert event.actor is None and event.actor_label == f"client:{practice.client.code}"
    assert "Part 1 of 2" in client.get(link).content.decode()


def test_a_malformed_language_choice_on_the_check_in_page_changes_nothing(client, practice):
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice))
    client.post(link, {"action": "language", "language": "<script>"})
    with scopes_disabled():
        practice.client.refresh_from_db()
    assert practice.client.language == "es"
    assert not AuditEvent.objects.filter(action="care.client.language_changed").exists()


def test_an_invitation_email_is_in_the_clients_language_and_the_callers_is_restored(practice):
    set_language(practice, practice.client, "es")
    with scope(organisation=[practice.org]):
        practice.client.email = "cliente@riverside.test"
        practice.client.save()
        with translation.override("en"):
            send_invitation(make_checkin(practice))
            assert translation.get_language() == "en"
    message = mail.outbox[-1]
    assert message.subject == "Riverside: un breve cuestionario"
    assert message.body.startswith("Hola, Riverside Client:")
    assert "(antes de su sesión)" in message.body and "El enlace funciona hasta el" in message.body


def test_a_reminder_is_in_the_clients_language_with_the_day_named_in_it(practice):
    set_language(practice, practice.client, "es")
    with scope(organisation=[practice.org]):
        practice.session.scheduled_at = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # a Monday
        practice.session.save()
        with translation.override("es"):
            subject, text = reminders.message(practice.session)
    assert subject == "Riverside: recordatorio de su sesión"
    assert text.startswith("Hola") and "lunes 7 de diciembre a las 15:30" in text, text


def test_the_account_page_offers_the_languages_each_named_in_itself(client, practice):
    login(client, practice.therapist)
    page = client.get("/account/password/").content.decode()
    assert 'action="/account/language/"' in page
    assert '<option value="es">Español</option>' in page and "English" in page


def test_the_check_in_page_names_each_language_in_itself(client, practice):
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    page = client.get(make_link(practice, make_checkin(practice))).content.decode()
    assert '<option value="en" lang="en">English</option>' in page
    assert '<option value="es" lang="es" selected>Español</option>' in page


def test_a_screener_without_a_spanish_text_is_shown_in_english_with_a_notice(client, practice):
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    page = client.get(make_link(practice, make_checkin(practice, instruments=("gad7",))))
    html = page.content.decode()
    assert "Este cuestionario aún no está disponible en su idioma" in html
    assert '<h1 lang="en">Generalized Anxiety Disorder scale (GAD-7)</h1>' in html
    assert '<span lang="en">Not at all</span>' in html


def open_in_spanish(client, practice, instrument_id):
    """A Spanish-speaking client opens a check-in of one questionnaire: (check-in, link, page)."""
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=(instrument_id,))
    link = make_link(practice, checkin)
    return checkin, link, client.get(link).content.decode()


def stored_response(checkin):
    from rapport.checkins.models import Response

    with scopes_disabled():
        return Response.objects.get(checkin=checkin)


def test_the_phq9_is_asked_in_its_official_spanish_and_scored_as_in_english(client, practice):
    checkin, link, html = open_in_spanish(client, practice, "phq9")
    assert "disponible en su idioma" not in html and '<span lang="en">' not in html
    assert "<h1>Cuestionario sobre la salud del paciente-9 (PHQ-9)</h1>" in html
    assert "Poco interés o placer en hacer cosas" in html and "Casi todos los días" in html
    answers = {f"a-phq9-{n}": "nearly-every-day" if n == 1 else "several-days" for n in range(1, 10)}
    client.post(link, dict(answers, instrument="phq9", action="submit"))
    stored = stored_response(checkin)
    assert stored.total == 3 + 8 * 1 and stored.instrument_id == "phq9"


def test_our_own_questionnaire_is_shown_in_spanish_and_scored_as_in_english(client, practice):
    checkin, link, html = open_in_spanish(client, practice, "session-prep")
    assert "¿En qué quiere centrarse en su próxima sesión?" in html and "disponible en su idioma" not in html
    form = {"instrument": "session-prep", "action": "submit", "a-since-last": "11"}
    assert "Escriba un número entero del 0 al 10." in client.post(link, form).content.decode()
    client.post(link, dict(form, **{"a-since-last": "6", "a-focus": "Dormir"}))
    stored = stored_response(checkin)
    assert stored.subscales == {"since-last": 6} and stored.instrument_id == "session-prep"


def test_the_portal_login_speaks_the_language_of_the_clients_last_check_in(client, practice):
    set_language(practice, practice.client, "es")
    accept_consent(practice)
    client.get(make_link(practice, make_checkin(practice)))
    page = client.get("/portal/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es"' in page and "Enviarme un enlace" in page


def test_an_urgent_alert_email_is_in_the_therapists_language(practice):
    from rapport.alerts import notify
    from rapport.alerts.services import raise_alert

    practice.therapist.language = "es"
    practice.therapist.save()
    with scope(organisation=[practice.org]):
        alert = raise_alert(episode=practice.episode, kind="risk", severity="urgent",
                            key="risk:phq9:1", evidence={"item": "phq9-9", "answer": 2})
        mail.outbox.clear()
        notify.notify_urgent(alert)
    (message,) = [m for m in mail.outbox if m.to == [practice.therapist.email]]
    assert message.subject == "Rapport: hay una alerta urgente pendiente"
    assert "no dice nada sobre el cliente" in message.body


def test_the_portal_shows_times_in_the_clients_own_time_zone(client, practice):
    with scope(organisation=[practice.org]):
        practice.client.time_zone = "America/Mexico_City"  # UTC-6 in December
        practice.client.save()
        practice.session.scheduled_at = datetime(2030, 12, 2, 15, 0, tzinfo=UTC)
        practice.session.save()
    log_in(client, practice)
    page = client.get("/portal/").content.decode()
    assert "09:00" in page and "15:00" not in page
    staff = login(StaffClient(), practice.therapist)  # the next request, in the same thread
    assert "15:00" in staff.get(f"/sessions/{practice.session.code}/").content.decode()


def test_the_times_a_client_may_move_a_session_to_are_written_as_their_language_writes_them():
    from rapport.scheduling.forms import MoveRequestForm

    at = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    with translation.override("es"):
        (label,) = [text for _, text in MoveRequestForm(suggestions=[at]).fields["times"].choices]
    with translation.override("en"):
        (english,) = [text for _, text in MoveRequestForm(suggestions=[at]).fields["times"].choices]
    assert "8 de diciembre" in label and label.startswith("martes")
    assert "8 December" in english and english.startswith("Tuesday")
