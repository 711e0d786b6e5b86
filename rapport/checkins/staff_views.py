"""The therapist's side of check-ins: a session's check-ins (plan, send, show a link or QR code),
the therapist's own reflection, and an episode's check-in schedule."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport import instruments
from rapport.accounts.models import Role
from rapport.audit.services import record
from rapport.care import access
from rapport.checkins import rules
from rapport.checkins.forms import InstrumentForm
from rapport.checkins.models import CheckIn, Respondent, Response, When
from rapport.checkins.services.answers import (
    InvalidAnswers,
)
from rapport.checkins.services.invitations import (
    absolute,
    create_invitation,
    invitation_path,
    send_invitation,
)
from rapport.checkins.services.schedule import CANCELLED, plan_session, schedule_for
from rapport.checkins.services.submission import Source, submit


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code, for showing to a client in the room."""
    return segno.make(url, error="m").svg_inline(scale=4, title="QR code of the check-in link")


# -- the client's side -----------------------------------------------------------------------


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


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest, code) -> HttpResponse:
    """The episode's check-in schedule, adjustable by its therapist (or an administrator)."""
    episode = access.get_episode_for(request, code)
    may_edit = request.user == episode.therapist or Role.ADMIN in request.roles
    current = schedule_for(episode)
    known = instruments.instrument_ids()
    shown = rules.rows(current.rules)
    errors = []
    if request.method == "POST":
        if not may_edit:
            return render(request, "403.html", status=403)
        chosen, errors = rules.posted(request.POST, shown, known)
        if not errors:
            with transaction.atomic():
                current.rules = chosen
                current.updated_at = timezone.now()
                current.save(update_fields=["rules", "updated_at"])
                record(request, "checkins.schedule.changed", episode, detail={"rules": chosen})
            messages.success(request, _("Schedule saved. It applies to check-ins not yet planned."))
            return redirect("checkins-schedule", episode.code)
    record(request, "checkins.schedule.viewed", episode)
    return render(request, "checkins/schedule.html", {
        "episode": episode, "rows": shown, "may_edit": may_edit, "errors": errors,
        "known": known, "when_choices": rules.WHEN_CHOICES,
    })
