"""Answering a check-in through its link (no password); the therapist's side is staff_views.

A link is resolved without any scope (the request is anonymous); once it is known to be good,
the view opens its organisation's scope and renders inside it.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from rapport.audit.services import record
from rapport.checkins.forms import InstrumentForm
from rapport.checkins.models import CheckIn, Response
from rapport.checkins.services.answers import (
    InvalidAnswers,
    as_token,
    instrument_for,
    load_draft,
    save_draft,
    speaks,
)
from rapport.checkins.services.consent import accept_statement, needs_consent, practice_settings
from rapport.checkins.services.invitations import (
    resolve_token,
)
from rapport.checkins.services.submission import Source, next_instrument, submit
from rapport.core import i18n

# The invitations finished in this browser (a signed cookie that ends with the browser session:
# answering a link keeps no session on the server).
DONE_COOKIE = "rapport_checkins_done"


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    state = resolve_token(token)
    invitation = state.invitation
    if invitation is not None:  # the client's pages speak the client's language
        client = invitation.checkin.episode.client
        i18n.activate_for_client(request, client.language, client.time_zone)
    if state.status == "used" and invitation is not None:
        with scope(organisation=[invitation.organisation]):
            # The person who just finished, or a retry of their last tap whose reply was lost
            # (a dropped connection, another browser session): thank them again.
            if str(invitation.code) in _finished(request) or _resent(request, invitation.checkin):
                return _remember_done(request, invitation, _done(request, invitation.checkin))
    if state.status != "ok":
        status = 404 if state.status == "invalid" else 410
        return render(request, "checkins/link_problem.html", {"status": state.status}, status=status)
    with scope(organisation=[invitation.organisation]):
        if request.method == "POST" and request.POST.get("action") == "language":
            choose_language(request, invitation.checkin.episode.client, request.POST.get("language", ""))
            return redirect("checkins-answer", token)
        return _answer(request, invitation, token)


def _resent(request: HttpRequest, checkin: CheckIn) -> bool:
    """A POST of a form already stored for this check-in: its submission token (a random UUID
    only the browser that was shown the form knows) is on one of the check-in's responses."""
    token = as_token(request.POST.get("submission")) if request.method == "POST" else None
    return token is not None and Response.objects.filter(
        checkin=checkin, submission_token=token).exists()


def _finished(request: HttpRequest) -> list[str]:
    value = request.get_signed_cookie(DONE_COOKIE, default="", salt=DONE_COOKIE)
    return value.split(",") if value else []


def _remember_done(request: HttpRequest, invitation, response: HttpResponse) -> HttpResponse:
    """`response`, remembering in the browser that it finished this invitation (the last ten)."""
    done = _finished(request)
    if str(invitation.code) not in done:
        response.set_signed_cookie(
            DONE_COOKIE, ",".join([*done[-9:], str(invitation.code)]), salt=DONE_COOKIE,
            secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")
    return response


def choose_language(request: HttpRequest, client, language: str) -> None:
    """The client picks their language on the check-in page: kept on their record (and so used
    for their portal, reminders and emails too) and audited. An unoffered language changes nothing."""
    if language not in dict(i18n.choices()) or language == i18n.supported(client.language):
        return
    old, client.language = client.language, language
    client.save(update_fields=["language"])
    record(request, "care.client.language_changed", client, client=client,
           actor_label=f"client:{client.code}", detail={"from": old, "to": language})
    i18n.activate_for_client(request, language, client.time_zone)


def _client_label(checkin: CheckIn) -> str:
    return f"client:{checkin.episode.client.code}"


def _consent_step(request: HttpRequest, invitation, token: str) -> HttpResponse | None:
    """The confidentiality statement while the client has not accepted its current version."""
    if getattr(invitation, "consented", False):
        return None  # read with the link
    client, organisation = invitation.checkin.episode.client, invitation.organisation
    statement = needs_consent(client)
    if statement is None:
        return None
    if request.method == "POST" and request.POST.get("action") == "consent":
        if request.POST.get("accept") == "yes" and request.POST.get("version") == str(statement.version):
            accept_statement(client, statement, request)
            return redirect("checkins-answer", token)
        error = _("Please tick the box to say you have read and accept the statement.")
        return _consent(request, organisation, statement, error, status=200)
    return _consent(request, organisation, statement)


def _answer(request: HttpRequest, invitation, token: str) -> HttpResponse:
    checkin = invitation.checkin
    if (asked := _consent_step(request, invitation, token)) is not None:
        return asked
    if not checkin.is_open():
        return render(request, "checkins/link_problem.html",
                      {"status": "early", "opens_at": checkin.opens_at}, status=200)
    answered = _answered(checkin)  # {instrument: flags risk}
    risk = any(answered.values())
    instrument_id = next_instrument(checkin, set(answered))
    if instrument_id is None:
        if request.method == "POST" and not _resent(request, checkin):
            # Answered from another device since the link was checked: as for a used link.
            return render(request, "checkins/link_problem.html", {"status": "used"}, status=410)
        return _done(request, checkin)
    instrument = instrument_for(checkin.episode, instrument_id, language=translation.get_language())
    if request.method == "POST" and request.POST.get("action") != "consent":
        posted_id = request.POST.get("instrument", "")
        if posted_id != instrument_id:
            if posted_id in checkin.instruments:
                # A second tap on a step already stored: the stored answer stands.
                return redirect("checkins-answer", token)
            raise Http404("No such questionnaire in this check-in")
        form = InstrumentForm.from_post(instrument, request.POST)
        if request.POST.get("action") == "save":
            save_draft(checkin, instrument_id, form.answers(), request)
            return _form(request, invitation, checkin, instrument, form, saved=True, risk=risk)
        try:
            submission = submit(
                checkin.episode, instrument_id, form.answers(), checkin=checkin,
                source=Source(token=form.token, request=request,
                              actor_label=_client_label(checkin)),
            )
        except InvalidAnswers as exc:
            save_draft(checkin, instrument_id, form.answers(), request)
            form.errors = exc.errors
            return _form(request, invitation, checkin, instrument, form, risk=risk)
        if not submission.created:  # stored by an earlier tap: see where the check-in stands
            checkin.refresh_from_db(fields=["completed_at"])
            if submission.response.submission_token != as_token(form.token):
                # Another device answered this step at the same moment and its answer stands:
                # say so, as for a link used before, rather than thank for answers not kept.
                if checkin.is_complete:
                    return render(request, "checkins/link_problem.html", {"status": "used"},
                                  status=410)
                return redirect("checkins-answer", token)
        if checkin.is_complete:
            risk = (risk or submission.response.is_risk) if submission.created else None
            return _remember_done(request, invitation, _done(request, checkin, risk))
        if submission.response.is_risk:
            return _support(request, invitation.organisation, token)
        return redirect("checkins-answer", token)

    form = InstrumentForm(instrument, load_draft(checkin, instrument_id))
    record(request, "checkins.checkin.opened", checkin, client=checkin.episode.client,
           organisation=invitation.organisation,
           actor_label=_client_label(checkin), detail={"instrument": instrument_id})
    return _form(request, invitation, checkin, instrument, form, risk=risk)


def _answered(checkin: CheckIn) -> dict[str, bool]:
    """The check-in's answers so far, read once: what comes next, and whether any flags risk.

    A check-in of one questionnaire that is still open has none: its one answer completes it
    in the same transaction (and one stored since the link was read is refused as a duplicate).
    """
    if len(checkin.instruments) == 1 and checkin.completed_at is None:
        return {}
    return {r.instrument_id: r.is_risk
            for r in Response.objects.filter(checkin=checkin).only("instrument_id", "flags")}


def _form(request, invitation, checkin, instrument, form, *, saved=False, status=200, risk=None):
    step = checkin.instruments.index(instrument.id) + 1
    if risk is None:
        risk = _any_risk(checkin)
    context = {
        "organisation": invitation.organisation,
        "checkin": checkin,
        "instrument": instrument,
        "form": form,
        "step": step,
        "steps": len(checkin.instruments),
        "saved": saved,
        "expires_at": invitation.expires_at,
        "risk": risk,
        "crisis": practice_settings(invitation.organisation).shown_crisis_resources if risk else "",
        "english_only": not speaks(instrument, translation.get_language()),
    }
    return render(request, "checkins/answer.html", context, status=status)


def _consent(request, organisation, statement, error=None, status=200):
    return render(request, "checkins/consent.html",
                  {"organisation": organisation, "statement": statement, "error": error},
                  status=status)


def _support(request, organisation, token):
    crisis = practice_settings(organisation).shown_crisis_resources
    return render(request, "checkins/support.html",
                  {"organisation": organisation, "crisis": crisis, "token": token})


def _any_risk(checkin: CheckIn) -> bool:
    return any(r.is_risk for r in Response.objects.filter(checkin=checkin).only("flags"))


def _done(request, checkin: CheckIn, risk: bool | None = None) -> HttpResponse:
    """The thank-you page (with the crisis resources after a risk answer); `risk` when the
    caller knows it, else it is read.

    Without a risk answer, a client (nobody logged in) with no message waiting gets the page
    rendered once per practice and language: it holds nothing of theirs, and rendering it
    cost a tenth of a check-in's answer."""
    if risk is None:
        risk = _any_risk(checkin)
    organisation = checkin.episode.organisation
    if not risk and not request.user.is_authenticated and not len(get_messages(request)):
        return HttpResponse(_thanks(organisation.pk, organisation.name, translation.get_language()))
    crisis = practice_settings(organisation).shown_crisis_resources if risk else ""
    return render(request, "checkins/done.html",
                  {"organisation": organisation, "risk": risk, "crisis": crisis})


@functools.lru_cache(maxsize=512)
def _thanks(organisation_id: int, name: str, language: str) -> str:
    """The thank-you page as an anonymous visitor sees it (no request: no context processor
    adds anything), for one practice (its name is part of the key) in one language."""
    with translation.override(language):
        return render_to_string("checkins/done.html",
                                {"organisation": {"name": name}, "risk": False})


# -- the therapist's side --------------------------------------------------------------------
