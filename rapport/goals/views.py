"""Staff pages for mutual goals: an episode's goals, and one goal with its history."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport.audit.services import record
from rapport.care import access
from rapport.goals import services
from rapport.goals.forms import CloseGoalForm, GoalForm
from rapport.goals.models import EventKind, Goal, GoalEvent, Side
from rapport.goals.progress import goal_progress, revisit_due


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


def _side_label(event: GoalEvent) -> str:
    if event.side == Side.CLIENT:
        return "the client"
    if event.side == Side.THERAPIST:
        return f"the therapist ({event.user})" if event.user else "the therapist"
    return "Rapport"


def history(goal: Goal) -> list[dict]:
    """The goal's events as lines for the page (text decrypted here, for staff eyes only)."""
    acknowledged = set(goal.events.filter(kind=EventKind.MILESTONE_ACKNOWLEDGED)
                       .values_list("key", flat=True))
    lines = []
    for e in goal.events.select_related("user", "session").order_by("at", "id"):
        line = {"event": e, "at": e.at, "who": _side_label(e), "text": "",
                "before": None, "after": None, "can_acknowledge": False}
        if e.kind == EventKind.REVISED:
            line["before"], line["after"] = json.loads(e.text_before), json.loads(e.text_after)
        elif e.kind in (EventKind.CLOSED, EventKind.ACHIEVED, EventKind.MILESTONE):
            line["text"] = e.text_after
            line["can_acknowledge"] = e.kind == EventKind.MILESTONE and e.key not in acknowledged
        lines.append(line)
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def episode_goals(request: HttpRequest, code) -> HttpResponse:
    episode = services.get_clinical_episode_for(request, code)
    can_write = access.may_write(request, episode)
    form = GoalForm()
    if request.method == "POST":
        if not can_write:
            return _forbidden(request)
        action = request.POST.get("action")
        if action == "revisited":
            services.mark_revisited(episode, user=request.user, request=request)
            messages.success(request, _("Noted: you revisited the goals together."))
            return redirect("goals-episode", episode.code)
        if action != "propose":
            raise Http404("No such action")
        form = GoalForm(request.POST)
        if form.is_valid():
            try:
                services.propose_goal(episode, form.cleaned_data["title"],
                                      form.cleaned_data["description"], side=Side.THERAPIST,
                                      user=request.user, request=request)
            except services.GoalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Goal proposed. It becomes active when the client "
                                            "agrees to it in the portal or with you."))
                return redirect("goals-episode", episode.code)
    goals = list(Goal.objects.filter(episode=episode).select_related("proposed_by_user",
                                                                      "therapist_agreed_by"))
    progress = goal_progress(episode)
    rows = [{"goal": g, "points": progress.get(g.link_id, [])} for g in goals]
    reasons = revisit_due(episode)
    record(request, "goals.episode_goals.viewed", episode, client=episode.client,
           detail={"goals": len(goals)})
    return render(request, "goals/episode_goals.html", {
        "episode": episode, "open_rows": [r for r in rows if r["goal"].is_open],
        "ended_rows": [r for r in rows if not r["goal"].is_open], "form": form,
        "can_write": can_write, "revisit_reasons": reasons,
    }, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def goal_detail(request: HttpRequest, code) -> HttpResponse:
    goal = services.get_goal_for(request, code)
    episode = goal.episode
    can_write = access.may_write(request, episode)
    revise_form = GoalForm(initial={"title": goal.title, "description": goal.description})
    close_form = CloseGoalForm()
    if request.method == "POST":
        if not can_write:
            return _forbidden(request)
        action = request.POST.get("action")
        try:
            if action == "agree":
                services.agree_goal(goal, side=Side.THERAPIST, user=request.user, request=request)
                messages.success(request, _("You agreed to this goal."))
                return redirect("goals-goal", goal.code)
            if action == "acknowledge":
                try:
                    event = goal.events.get(code=access.parse_code(request.POST.get("event", "")),
                                            kind=EventKind.MILESTONE)
                except GoalEvent.DoesNotExist as exc:
                    raise Http404("No such milestone") from exc
                services.acknowledge_milestone(event, user=request.user, request=request)
                messages.success(request, _("Milestone acknowledged."))
                return redirect("goals-goal", goal.code)
            if action == "revise":
                revise_form = GoalForm(request.POST)
                if revise_form.is_valid():
                    services.revise_goal(goal, revise_form.cleaned_data["title"],
                                         revise_form.cleaned_data["description"],
                                         side=Side.THERAPIST, user=request.user, request=request)
                    messages.success(request, _("Goal revised. The client is asked to agree to "
                                                "the new wording."))
                    return redirect("goals-goal", goal.code)
            elif action == "close":
                close_form = CloseGoalForm(request.POST)
                if close_form.is_valid():
                    services.close_goal(goal, achieved=close_form.cleaned_data["outcome"] == "achieved",
                                        reason=close_form.cleaned_data["reason"],
                                        user=request.user, request=request)
                    messages.success(request, _("Goal closed."))
                    return redirect("goals-goal", goal.code)
            else:
                raise Http404("No such action")
        except services.GoalError as exc:
            target = close_form if action == "close" else revise_form
            if action in ("agree", "acknowledge"):
                messages.error(request, str(exc))
                return redirect("goals-goal", goal.code)
            target.add_error(None, str(exc))
    points = goal_progress(episode).get(goal.link_id, [])
    record(request, "goals.goal.viewed", goal, client=episode.client)
    status = 400 if (revise_form.errors or close_form.errors) else 200
    return render(request, "goals/goal_detail.html", {
        "goal": goal, "episode": episode, "points": points, "history": history(goal),
        "can_write": can_write, "revise_form": revise_form, "close_form": close_form,
    }, status=status)
