"""A Spanish-speaking client on a phone: the check-in and every portal page in Spanish, axe
clean at both widths; their therapist's pages stay in the therapist's English."""

from __future__ import annotations

import re
from datetime import timedelta

import polib
import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from rapport.checkins.models import Response
from rapport.checkins.services.submission import submit
from rapport.core import i18n_catalogue
from tests.browser.conftest import DESKTOP, PHONE
from tests.checkins.conftest import accept_consent, make_checkin, make_link
from tests.conftest import StaffClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]


def english_phrases() -> list[str]:
    """The interface's English sentences whose Spanish differs: none may show on a Spanish page."""
    po = polib.pofile(str(i18n_catalogue.locale_dir() / "es" / "LC_MESSAGES" / "django.po"))
    return [e.msgid for e in po.translated_entries()
            if not e.msgid_plural and "%" not in e.msgid and "{" not in e.msgid
            and len(e.msgid.split()) >= 3 and e.msgstr != e.msgid]


def in_spanish(page, phrases):
    assert page.locator("html").get_attribute("lang") == "es"
    text = page.locator("body").inner_text()
    shown = [p for p in phrases if p in text]
    assert shown == [], f"{page.url} shows English: {shown[:5]}"


def both_widths(page, axe_check):
    axe_check(page)
    page.set_viewport_size(DESKTOP["viewport"])
    try:
        axe_check(page)
    finally:
        page.set_viewport_size(PHONE["viewport"])


def test_a_spanish_speaking_client_answers_and_reads_their_portal_in_spanish(
        live_server, phone, axe_check, practice):
    phrases = english_phrases()
    with scope(organisation=[practice.org]):
        practice.client.language = "es"
        practice.client.email = "cliente@riverside.test"
        practice.client.save()
        submit(episode=practice.episode, instrument_id="relationship-checkin",
               answers=dict.fromkeys(COMPONENTS, 6))
    link = make_link(practice, make_checkin(practice, instruments=("session-prep",
                                                                   "relationship-checkin")))
    page = phone
    page.goto(live_server.url + link)
    page.get_by_role("heading", name="Antes de empezar: quién ve sus respuestas").wait_for()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_text("Marque la casilla").or_(page.get_by_role("alert")).first).to_be_visible()
    page.get_by_label("Lo he leído y lo acepto").check()
    page.get_by_role("button", name="Continuar").click()

    page.get_by_role("heading", name="Preparación para su sesión").wait_for()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
    page.get_by_label("¿En qué quiere centrarse en su próxima sesión?").fill("Dormir mejor")
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_text("Responda a esta pregunta, por favor.").first).to_be_visible()
    page.locator("label.scale-point", has_text=re.compile(r"^\s*6\s*$")).first.tap()
    page.get_by_role("button", name="Continuar").click()

    page.get_by_role("heading", name="¿Cómo fue la sesión de hoy?").wait_for()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
    for name in COMPONENTS:
        page.locator(f'input[name="a-{name}"][value="8"]').check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.get_by_role("heading", name="Gracias, sus respuestas se han enviado").wait_for()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
    with scope(organisation=[practice.org]):
        stored = Response.objects.filter(checkin__isnull=False).order_by("submitted_at")
        assert [(r.instrument_id, r.total) for r in stored] == [
            ("session-prep", None), ("relationship-checkin", 80)]

    # The portal, from the emailed link (in Spanish too) to every page.
    page.goto(live_server.url + "/portal/login/")
    page.get_by_label("Su dirección de correo electrónico").fill("cliente@riverside.test")
    page.get_by_role("button", name="Enviarme un enlace").click()
    page.get_by_role("heading", name="Revise su correo").wait_for()
    body = mail.outbox[-1].body
    assert body.startswith("Hola, Riverside Client:") and "Use este enlace" in body
    url = next(w for w in body.split() if "/portal/login/" in w)
    page.goto(live_server.url + url[url.index("/portal/"):])
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Hola, Riverside Client").wait_for()
    with scope(organisation=[practice.org]):  # ahead: the portal offers to move it
        practice.session.scheduled_at = timezone.now() + timedelta(days=3)
        practice.session.save(update_fields=["scheduled_at"])
    move = f"sessions/{practice.session.code}/move/"
    for path in ("", "progress/", "goals/", "summaries/", "intake/", "data/", move):
        page.goto(f"{live_server.url}/portal/{path}")
        in_spanish(page, phrases)
        both_widths(page, axe_check)


def test_the_therapist_of_a_spanish_speaking_client_keeps_reading_english(
        live_server, desktop, axe_check, practice):
    with scope(organisation=[practice.org]):
        practice.client.language = "es"
        practice.client.save()
        submit(episode=practice.episode, instrument_id="session-prep",
               answers={"since-last": 6, "focus": "Dormir mejor"}, session=practice.session)
    staff = StaffClient()
    staff.force_login(practice.therapist)
    desktop.context.add_cookies([{"name": "sessionid", "value": staff.cookies["sessionid"].value,
                                  "url": live_server.url}])
    for path in (f"/sessions/{practice.session.code}/", f"/episodes/{practice.episode.code}/",
                 f"/sessions/{practice.session.code}/record/", "/caseload/"):
        desktop.goto(live_server.url + path)
        assert desktop.locator("html").get_attribute("lang") == "en"
        expect(desktop.get_by_role("link", name="Caseload")).to_be_visible()
        axe_check(desktop)
    # What the client answered in Spanish, under the questionnaire's English wording.
    desktop.goto(f"{live_server.url}/sessions/{practice.session.code}/")
    expect(desktop.get_by_text("What do you want to focus on in your next session?").first).to_be_visible()
    expect(desktop.get_by_text("Dormir mejor").first).to_be_visible()


def test_a_spanish_speaking_client_answers_the_phq9_and_reads_the_crisis_resources_in_spanish(
        live_server, phone, axe_check, practice):
    phrases = english_phrases()
    with scope(organisation=[practice.org]):
        practice.client.language = "es"
        practice.client.save()
    accept_consent(practice)
    page = phone
    page.goto(live_server.url + make_link(practice, make_checkin(practice, instruments=("phq9",))))
    page.get_by_role("heading", name="Cuestionario sobre la salud del paciente-9 (PHQ-9)").wait_for()
    expect(page.get_by_text("Poco interés o placer en hacer cosas")).to_be_visible()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
    for n in range(1, 10):  # item 9 answered "Varios días": a risk answer
        page.locator(f'input[name="a-phq9-{n}"][value="several-days"]').check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.get_by_role("heading", name="Por favor, busque apoyo ahora").wait_for()
    expect(page.get_by_text("Si está pensando en hacerse daño")).to_be_visible()
    in_spanish(page, phrases)
    both_widths(page, axe_check)
