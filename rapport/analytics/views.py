"""The analytics page: the user's own (or their team's) figures beside the practice's."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from rapport import instruments
from rapport.accounts.models import Role
from rapport.analytics import data as analytics_data
from rapport.analytics.forms import PeriodForm, last_twelve_months
from rapport.analytics.stats import MIN_N, Figure, Figures, summarise
from rapport.audit.services import record
from rapport.care.access import clinical_episodes_for


@dataclass(frozen=True)
class Cell:
    value: str  # the figure, or "too few to say"
    interval: str  # "95% CI a to b", or ""
    n: int
    enough: bool


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def cell(fig: Figure) -> Cell:
    if not fig.enough or fig.value is None:
        return Cell("too few to say", "", fig.n, False)
    if fig.kind == "count":
        return Cell(f"{fig.n:,}", "", fig.n, True)
    if fig.kind == "proportion":
        value = f"{_pct(fig.value)} ({fig.count} of {fig.n})"
        interval = f"95% CI {_pct(fig.low)} to {_pct(fig.high)}"
    elif fig.kind == "effect":
        value = f"{fig.value:+.2f}"
        interval = f"95% CI {fig.low:+.2f} to {fig.high:+.2f}" if fig.low is not None else ""
    else:
        value = f"{fig.value:.1f}"
        interval = f"95% CI {fig.low:.1f} to {fig.high:.1f}" if fig.low is not None else ""
    return Cell(value, interval, fig.n, True)


# (label, attribute of Figures, what n counts)
GENERAL_ROWS = [
    ("Episodes active", "episodes_active", "episodes"),
    ("Episodes ended", "episodes_ended", "episodes"),
    ("Sessions attended", "sessions_attended", "sessions"),
    ("Drop-out rate (of episodes ended)", "dropout", "episodes ended"),
    ("Client check-ins completed (of those due)", "checkins", "check-ins due"),
]
RELATIONSHIP_ROWS = [
    ("Mean relationship rating (0–100)", "relationship", "clients who rated"),
    ("Ruptures", "ruptures", "ruptures"),
    ("Ruptures repaired", "repaired", "ruptures"),
    # Why the ruptures fired, in the clients' own numbers (means over ruptures).
    (_("Usual level before a rupture (0–100)"), "rupture_usual", _("ruptures")),
    (_("Client’s own spread (SD) at a rupture"), "rupture_spread", _("ruptures")),
    (_("Drop from the usual level at a rupture"), "rupture_drop", _("ruptures")),
]
OUTCOME_ROWS = [
    ("Reliable improvement", "improved", "clients"),
    ("Recovery (of those a case at intake)", "recovered", "clients a case at intake"),
    ("Reliable deterioration", "deteriorated", "clients"),
    ("Severity-adjusted effect size", "effect", "clients"),
]
# The per-therapist breakdown for supervisors: the figures a supervision conversation starts from.
BREAKDOWN = [
    ("Active", "episodes_active"),
    ("Sessions", "sessions_attended"),
    ("Drop-out", "dropout"),
    ("Relationship", "relationship"),
    ("Repaired", "repaired"),
    ("Check-ins", "checkins"),
]


def _title(instrument_id: str) -> str:
    if "+" in instrument_id:  # an NHS Talking Therapies pair (monitoring.paired), e.g. phq9+gad7
        return " and ".join(_title(i) for i in instrument_id.split("+")) + " together"
    try:
        return instruments.load(instrument_id).title
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return instrument_id


def _table(caption: str, rows, columns: list[tuple[str, Figures]], getter) -> dict:
    return {
        "caption": caption,
        "columns": [label for label, _ in columns],
        "rows": [
            {"label": label, "n_of": n_of, "cells": [cell(getter(figs, attr)) for _, figs in columns]}
            for label, attr, n_of in rows
        ],
    }


def _period_form(request: HttpRequest) -> PeriodForm:
    date_from, date_to = last_twelve_months(timezone.localdate())
    values = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    values.update({k: request.GET[k] for k in values if k in request.GET})
    return PeriodForm(values)


@require_safe
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    if request.organisation is None:
        raise Http404("No such page")
    roles = request.roles
    clinical = bool(roles & {Role.THERAPIST, Role.SUPERVISOR})
    supervisor = Role.SUPERVISOR in roles
    scope_name = ("team" if supervisor else "own") if clinical else "practice"
    form = _period_form(request)
    context: dict = {"form": form, "min_n": MIN_N, "scope": scope_name}
    if not form.is_valid():
        return render(request, "analytics/overview.html", context)
    period = analytics_data.Period(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    practice = analytics_data.load(request.organisation, period)
    facts = practice.facts
    columns: list[tuple[str, Figures]] = []
    breakdown = []
    if clinical:
        mine = set(clinical_episodes_for(request).values_list("id", flat=True))
        own = [f for pk, f in facts.items() if pk in mine]
        columns.append(("Your team" if supervisor else "Your clients", summarise(own)))
        if supervisor:
            by_therapist: dict[int, list] = {}
            for f in own:
                by_therapist.setdefault(f.therapist_id, []).append(f)
            for therapist_id, group in sorted(
                by_therapist.items(), key=lambda item: practice.therapists[item[0]].lower()
            ):
                figs = summarise(group)
                breakdown.append({
                    "name": practice.therapists[therapist_id],
                    "you": therapist_id == request.user.pk,
                    "cells": [cell(getattr(figs, attr)) for _, attr in BREAKDOWN],
                })
    columns.append(("Practice", summarise(facts.values())))
    instrument_ids = sorted({i for _, figs in columns for i in figs.outcomes},
                            key=lambda i: ("+" not in i, i != "phq9", i != "gad7", i))
    context.update(
        period=period,
        tables=[
            _table("Caseload", GENERAL_ROWS, columns, getattr),
            _table("The relationship", RELATIONSHIP_ROWS, columns, getattr),
            *[_table(f"Outcomes on the {_title(i)}", OUTCOME_ROWS, columns,
                     lambda figs, attr, i=i: getattr(figs.outcome(i), attr))
              for i in instrument_ids],
        ],
        breakdown=breakdown,
        breakdown_columns=[label for label, _ in BREAKDOWN],
    )
    # Aggregates only: no client is named in the page or in the trail.
    record(request, "analytics.viewed", organisation=request.organisation, detail={
        "from": period.date_from.isoformat(), "to": period.date_to.isoformat(), "scope": scope_name,
    })
    return render(request, "analytics/overview.html", context)
