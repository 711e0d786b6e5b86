"""The client portal: log in by emailed link, check-ins due, progress, goals, summaries, my data."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport import instruments
from rapport.alerts.suggestions import COMPONENT_SHORT
from rapport.audit.services import record
from rapport.care.models import Attendance, CareEpisode, Session
from rapport.checkins.models import CheckIn, Draft, Respondent, Response
from rapport.checkins.services.invitations import create_invitation
from rapport.checkins.services.schedule import due_checkins
from rapport.core import i18n
from rapport.core.charts import HeatRow, Series, heat_strips, line_chart, pair
from rapport.portal import export, services
from rapport.portal.services import client_required
from rapport.scheduling.models import MoveStatus, RescheduleRequest

COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]
COMPONENT_NAMES = {
    "trust": _("Trust"), "empathy": _("Empathy"), "genuineness": _("Genuineness"),
    "respect": _("Mutual respect"), "listening": _("Active listening"),
    "safety": _("Confidentiality and safety"), "goals": _("Mutual goals"),
}


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


def _audit(request, action, detail=None):
    client = request.portal_client
    record(request, action, client, client=client, actor_label=f"client:{client.code}",
           detail=detail or {})


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not services.request_login(request, form.cleaned_data["email"]):
            return render(request, "portal/login.html", {"form": EmailForm(), "limited": True},
                          status=429)
        return render(request, "portal/login_sent.html")
    return render(request, "portal/login.html", {"form": form})


@require_http_methods(["GET", "POST"])
def login_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a tap (mail scanners follow links); POST uses the link and logs in."""
    status, link = services.resolve_login(token)
    if status != "ok":
        return render(request, "portal/link_problem.html", {"status": status},
                      status=404 if status == "invalid" else 410)
    if request.method == "POST":
        if services.log_in(request, link):
            return redirect("portal-home")
        return render(request, "portal/link_problem.html", {"status": "used"}, status=410)
    return render(request, "portal/login_confirm.html", {"organisation": link.organisation})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    services.log_out(request)
    return redirect("portal-login")


def _episodes(client):
    return CareEpisode.objects.filter(client=client)


@client_required
def home(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    due = list(due_checkins(client))
    _audit(request, "portal.home.viewed", {"due": len(due)})
    titles = {}
    for checkin in due:
        titles[checkin.pk] = [i18n.instrument(i).title for i in checkin.instruments]
    upcoming = Session.objects.filter(
        episode__client=client, scheduled_at__gte=timezone.now(), attendance=Attendance.SCHEDULED,
    ).order_by("scheduled_at")[:5]
    moves = {m.session_id: m for m in RescheduleRequest.objects.filter(
        session__in=upcoming, status__in=[MoveStatus.OPEN, MoveStatus.PROPOSED])}
    # Begun already (a draft kept, or some questionnaires answered): "Continue", not "Start".
    begun = set(Draft.objects.filter(checkin__in=due).values_list("checkin_id", flat=True))
    begun |= set(Response.objects.filter(checkin__in=due).values_list("checkin_id", flat=True))
    return render(request, "portal/home.html", {
        "client": client, "due": [(c, titles[c.pk], c.pk in begun) for c in due],
        "upcoming": [(s, moves.get(s.pk)) for s in upcoming],
    })


@client_required
@require_POST
def start_checkin(request: HttpRequest, code) -> HttpResponse:
    """Open one of my due check-ins: a fresh link, straight into the answering pages."""
    client = request.portal_client
    checkin = CheckIn.objects.filter(
        code=code, episode__client=client, respondent=Respondent.CLIENT, completed_at__isnull=True
    ).first()
    if checkin is None:
        raise Http404("No such check-in")
    _invitation, token = create_invitation(checkin, channel="portal", request=request)
    return redirect("checkins-answer", token)


def _current(responses):
    superseded = {r.supersedes_id for r in responses if r.supersedes_id}
    return [r for r in responses if r.pk not in superseded]


def _line(series: list[Series], *, chart_id: str, **kwargs):
    """A date chart for wide screens and for phones (its text legible at 390 px)."""
    return pair(line_chart(series, chart_id=chart_id, **kwargs),
                line_chart(series, chart_id=f"{chart_id}-sm", width=360, height=240, **kwargs))


def _relationship(rows: list[Response]) -> dict:
    """The overall rating after each session (a line), and each part of it (a heat strip)."""
    dates = [timezone.localdate(r.submitted_at) for r in rows]
    totals = [(d, r.total) for d, r in zip(dates, rows, strict=True) if r.total is not None]
    return {
        "total_chart": _line([Series(_("Overall"), totals)], chart_id="chart-relationship",
                             title=_("How the sessions felt overall (0 to 100)"),
                             y_min=0, y_max=100, y_step=20) if totals else None,
        "parts_chart": heat_strips(
            [HeatRow(str(COMPONENT_SHORT[c]), [r.answers.get(c) for r in rows]) for c in COMPONENTS],
            [f"{d.day} {d:%b}" for d in dates], title=_("Each part of the sessions (0 to 10)"),
            chart_id="chart-parts", label_width=100, column_title=_("Session date"),
            description=_("Your rating of each part (rows) after each session (columns), 0 red "
                          "to 10 blue, each with its number; the same figures are in the table "
                          "below."),
            region_label=_("Each part of the sessions (scrolls sideways)")),
    }


@client_required
def progress(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    responses = _current(list(
        Response.objects.filter(episode__in=_episodes(client), respondent=Respondent.CLIENT)
        .order_by("submitted_at")
    ))
    by_instrument: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        if r.total is not None and r.instrument_id != "relationship-checkin":
            by_instrument[r.instrument_id].append(r)
    outcomes = []
    for instrument_id in instruments.display_order(list(by_instrument)):  # PHQ-9 before GAD-7
        instrument = i18n.instrument(instrument_id)
        if instrument.validated:
            outcomes.append(_outcome(instrument, by_instrument[instrument_id]))
    relationship = [r for r in responses if r.instrument_id == "relationship-checkin"]
    _audit(request, "portal.progress.viewed")
    return render(request, "portal/progress.html", {
        "client": client, "outcomes": outcomes,
        "relationship": _relationship(relationship) if relationship else None,
        "components": [COMPONENT_NAMES[c] for c in COMPONENTS],
        "rel_rows": [(timezone.localtime(r.submitted_at), r.total,
                      [r.answers.get(c) for c in COMPONENTS]) for r in relationship],
    })


def _outcome(instrument, rows: list[Response]) -> dict:
    """One validated measure's chart and table for the client, in their language."""
    scale = instrument.scoring.total
    top = _max_total(instrument)
    name = i18n.title(instrument)
    bands = [(b.min, i18n.severity(b.label)) for b in instrument.scoring.bands if b.min > 0]
    points = [(timezone.localdate(r.submitted_at), r.total) for r in rows]
    return {
        "instrument": instrument,
        "title": name,
        "label": scale.label if scale else name,
        "chart": _line([Series(name, points)], title=_("%(title)s over time") % {"title": name},
                       y_min=0, y_max=top, y_step=_step(top), chart_id=f"chart-{instrument.id}",
                       bands=bands),
        "rows": [(timezone.localtime(r.submitted_at), r.total, i18n.severity(r.severity_label))
                 for r in rows],
    }


def _max_total(instrument) -> float:
    bounds = instrument.score_range()
    return (bounds[1] if bounds else 0) or 10


def _step(top: float) -> float:
    for step in (1, 2, 3, 5, 10, 20, 25):
        if top / step <= 8:
            return step
    return top / 5


def _my_responses(client) -> list[Response]:
    return list(
        Response.objects.filter(episode__in=_episodes(client), respondent=Respondent.CLIENT)
        .select_related("episode").order_by("submitted_at")
    )


@client_required
def my_data(request: HttpRequest) -> HttpResponse:
    count = len(_my_responses(request.portal_client))
    return render(request, "portal/data.html", {"client": request.portal_client, "count": count})


@client_required
@require_POST
def download(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    responses = _my_responses(client)
    include_name = request.POST.get("include_name") == "yes"  # the client's choice, off by default
    body = export.archive(client, responses, include_name=include_name, request=request)
    _audit(request, "portal.data.exported", {"responses": len(responses), "named": include_name})
    reply = HttpResponse(body, content_type="application/zip")
    reply["Content-Disposition"] = 'attachment; filename="rapport-my-data.zip"'
    reply["Cache-Control"] = "no-store"
    return reply
