"""Answering a check-in through its link (no password), and the therapist's side of check-ins.

A link is resolved without any scope (the request is anonymous); once it is known to be good,
the view opens its organisation's scope and renders inside it.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from rapport import instruments
from rapport.accounts.models import Role
from rapport.audit.services import record
from rapport.care import access
from rapport.checkins.forms import InstrumentForm
from rapport.checkins.models import DEFAULT_RULES, CheckIn, Respondent, Response, When
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
    absolute,
    create_invitation,
    invitation_path,
    resolve_token,
    send_invitation,
)
from rapport.checkins.services.schedule import CANCELLED, plan_session, schedule_for
from rapport.checkins.services.submission import Source, next_instrument, submit
from rapport.core import i18n
from rapport.core.templatetags.instruments import instrument_name

DONE_KEY = "rapport_checkins_done"  # invitation codes finished in this browser session


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code, for showing to a client in the room."""
    return segno.make(url, error="m").svg_inline(scale=4, title="QR code of the check-in link")


# -- the client's side -----------------------------------------------------------------------


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
            if str(invitation.code) in request.session.get(DONE_KEY, []) or _resent(
                request, invitation.checkin
            ):
                _remember_done(request, invitation)
                return _done(request, invitation.checkin)
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


def _remember_done(request: HttpRequest, invitation) -> None:
    done = request.session.get(DONE_KEY, [])
    if str(invitation.code) not in done:
        request.session[DONE_KEY] = [*done[-9:], str(invitation.code)]


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
            _remember_done(request, invitation)
            return _done(request, checkin,
                         (risk or submission.response.is_risk) if submission.created else None)
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
        "crisis": practice_settings(invitation.organisation).crisis_resources if risk else "",
        "english_only": not speaks(instrument, translation.get_language()),
    }
    return render(request, "checkins/answer.html", context, status=status)


def _consent(request, organisation, statement, error=None, status=200):
    return render(request, "checkins/consent.html",
                  {"organisation": organisation, "statement": statement, "error": error},
                  status=status)


def _support(request, organisation, token):
    crisis = practice_settings(organisation).crisis_resources
    return render(request, "checkins/support.html",
                  {"organisation": organisation, "crisis": crisis, "token": token})


def _any_risk(checkin: CheckIn) -> bool:
    return any(r.is_risk for r in Response.objects.filter(checkin=checkin).only("flags"))


def _done(request, checkin: CheckIn, risk: bool | None = None) -> HttpResponse:
    """The thank-you page (with the crisis resources after a risk answer); `risk` when the
    caller knows it, else it is read."""
    if risk is None:
        risk = _any_risk(checkin)
    organisation = checkin.episode.organisation
    crisis = practice_settings(organisation).crisis_resources if risk else ""
    return render(request, "checkins/done.html",
                  {"organisation": organisation, "risk": risk, "crisis": crisis})


# -- the therapist's side --------------------------------------------------------------------


def _checkin_for_session(session, code) -> CheckIn:
    try:
        return CheckIn.objects.get(session=session, code=access.parse_code(code))
    except CheckIn.DoesNotExist as exc:
        raise Http404("No such check-in") from exc


@login_required
@require_http_methods(["GET", "POST"])
def session_checkins(request: HttpRequest, code) -> HttpResponse:
    """A session's check-ins: what is due, what was answered, links to give or send."""
    session = access.get_session_for(request, code)
    episode = session.episode
    if request.method == "POST":
        checkin = _checkin_for_session(session, request.POST.get("checkin", ""))
        if checkin.respondent != Respondent.CLIENT or checkin.is_complete:
            raise Http404("No such check-in")
        if request.POST.get("action") == "email":
            if not episode.client.email:
                messages.error(request, _("This client has no email address on record."))
                return redirect("checkins-session", session.code)
            send_invitation(checkin, request)
            messages.success(request, _("Check-in link emailed to %(name)s.") % {
                "name": episode.client.display_name})
            return redirect("checkins-session", session.code)
        if request.user != episode.therapist:
            # A link in hand opens the client's draft and answers as the client: only the
            # therapist who sees the client gets one. Anyone else may only email it to the
            # client's own address.
            return render(request, "403.html", status=403)
        _invitation, token = create_invitation(checkin, channel="link", request=request)
        url = absolute(request, invitation_path(token))
        return render(request, "checkins/invitation.html",
                      {"session": session, "checkin": checkin, "url": url, "qr": qr_svg(url)})
    if session.attendance not in CANCELLED:
        plan_session(session)
    # In the order they happen (the column's text would put "after" first): before, after, end.
    moment = {When.BEFORE: 0, When.AFTER: 1, When.DISCHARGE: 2}
    checkins = sorted(CheckIn.objects.filter(session=session).order_by("respondent", "pk"),
                      key=lambda c: moment.get(c.when, 3))
    responses = list(Response.objects.filter(session=session).order_by("submitted_at"))
    record(request, "checkins.session.viewed", session, client=episode.client)
    return render(request, "checkins/session_checkins.html", {
        "session": session, "checkins": checkins, "responses": responses,
        "can_reflect": request.user == episode.therapist,
        "is_therapist": request.user == episode.therapist,
    })


@login_required
@require_http_methods(["GET", "POST"])
def reflection(request: HttpRequest, code) -> HttpResponse:
    """The therapist's reflection after a session, through the same renderer and `submit`."""
    session = access.get_session_for(request, code)
    episode = session.episode
    if request.user != episode.therapist:
        return render(request, "403.html", status=403)
    plan_session(session)
    checkin = CheckIn.objects.filter(session=session, when=When.AFTER,
                                     respondent=Respondent.THERAPIST).first()
    instrument_id = "therapist-reflection"
    instrument = instruments.load(instrument_id)
    existing = Response.objects.filter(session=session, instrument_id=instrument_id,
                                       respondent=Respondent.THERAPIST,
                                       superseded_by__isnull=True).first()
    if checkin is not None and instrument_id not in checkin.instruments:
        checkin = None
    if request.method == "POST":
        form = InstrumentForm.from_post(instrument, request.POST)
        try:
            submission = submit(
                episode, instrument_id, form.answers(), session=session,
                checkin=checkin if existing is None else None, supersedes=existing,
                source=Source(respondent=Respondent.THERAPIST, user=request.user,
                              request=request, token=form.token),
            )
        except InvalidAnswers as exc:
            form.errors = exc.errors
        else:
            if submission.created:
                messages.success(request, _("Reflection saved."))
            return redirect("checkins-session", session.code)
    else:
        data = {**existing.answers, **existing.free_text_answers} if existing else {}
        form = InstrumentForm(instrument, data)
        record(request, "checkins.reflection.viewed", session, client=episode.client)
    return render(request, "checkins/reflection.html",
                  {"session": session, "instrument": instrument, "form": form, "existing": existing})


WHEN_CHOICES = [("before", _("Before each session")), ("after", _("After each session")),
                ("intake", _("At intake")), ("discharge", _("At discharge"))]


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest, code) -> HttpResponse:
    """The episode's check-in schedule, adjustable by its therapist (or an administrator)."""
    episode = access.get_episode_for(request, code)
    may_edit = request.user == episode.therapist or Role.ADMIN in request.roles
    current = schedule_for(episode)
    known = instruments.instrument_ids()
    rows = []
    seen = set()
    for rule in [*current.rules, *DEFAULT_RULES]:
        key = (rule["instrument"], rule["when"])
        if key in seen:
            continue
        seen.add(key)
        rows.append({"instrument": rule["instrument"], "when": rule["when"],
                     "when_label": dict(WHEN_CHOICES).get(rule["when"], rule["when"]),
                     "every": rule.get("every", 1), "on": rule in current.rules
                     or any((r["instrument"], r["when"]) == key for r in current.rules)})
    errors = []
    if request.method == "POST":
        if not may_edit:
            return render(request, "403.html", status=403)
        rules = []
        for n, row in enumerate(rows):
            if request.POST.get(f"on-{n}") == "yes":
                every = request.POST.get(f"every-{n}", "1")
                if not every.isdigit() or not 1 <= int(every) <= 52:
                    errors.append(f"{instrument_name(row['instrument'])} ({row['when_label']}): "
                                  "'every' must be a whole "
                                  "number from 1 to 52.")
                    continue
                rules.append({"instrument": row["instrument"], "when": row["when"],
                              "every": int(every)})
        new_id = request.POST.get("new-instrument", "")
        if new_id:
            new_when = request.POST.get("new-when", "")
            new_every = request.POST.get("new-every", "1")
            if new_id not in known or new_when not in dict(WHEN_CHOICES):
                errors.append(_("Choose a questionnaire and when to ask it."))
            elif not new_every.isdigit() or not 1 <= int(new_every) <= 52:
                errors.append("'Every' must be a whole number from 1 to 52.")
            else:
                rules.append({"instrument": new_id, "when": new_when, "every": int(new_every)})
        if not errors:
            from django.db import transaction
            from django.utils import timezone

            with transaction.atomic():
                current.rules = rules
                current.updated_at = timezone.now()
                current.save(update_fields=["rules", "updated_at"])
                record(request, "checkins.schedule.changed", episode, detail={"rules": rules})
            messages.success(request, _("Schedule saved. It applies to check-ins not yet planned."))
            return redirect("checkins-schedule", episode.code)
    for n, row in enumerate(rows):
        row["n"] = n
    record(request, "checkins.schedule.viewed", episode)
    return render(request, "checkins/schedule.html", {
        "episode": episode, "rows": rows, "may_edit": may_edit, "errors": errors,
        "known": known, "when_choices": WHEN_CHOICES,
    })
