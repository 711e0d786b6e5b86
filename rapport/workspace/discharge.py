"""Ending an episode (discharge): its final measures, a closing summary to the client, audited.

Nothing here scores anything: the measures are the stored responses' totals, compared with the
instrument's own reliable-change amount and cutoff (rapport.workspace.measures, from the
instrument definitions; Jacobson & Truax 1991 for reliable change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.audit.services import record
from rapport.care.models import Attendance, CareEpisode, EpisodeStatus, Session
from rapport.checkins.models import Response
from rapport.notes.models import ClosingSummary
from rapport.workspace.measures import CLIENT_ALLIANCE, Measure, fmt, measure, outcome_ids
from rapport.workspace.said import client_responses

ENDINGS = (EpisodeStatus.COMPLETED, EpisodeStatus.DROPPED_OUT, EpisodeStatus.TRANSFERRED)


@dataclass(frozen=True)
class FinalMeasure:
    measure: Measure
    first: float
    last: float
    first_on: date
    last_on: date
    count: int

    @property
    def change(self) -> float:
        return self.last - self.first

    @property
    def summary(self) -> str:
        """The change in words, by the measure's own direction and reliable-change amount."""
        if self.count < 2:
            return _("one score only")
        if self.change == 0:
            return _("no change")
        better = (self.change > 0) == self.measure.higher_is_better
        rc = self.measure.reliable_change
        if rc is not None and abs(self.change) >= rc:
            return _("reliably better") if better else _("reliably worse")
        return _("better, within measurement error") if better else _(
            "worse, within measurement error")

    @property
    def figures(self) -> str:
        return f"{fmt(self.first)} → {fmt(self.last)}"


def final_measures(episode: CareEpisode) -> list[FinalMeasure]:
    """Each outcome measure's first and latest score in the episode (PHQ-9 first), then the
    client's relationship rating."""
    responses = client_responses(Response.objects.filter(episode=episode, total__isnull=False))
    by_id: dict[str, list[Response]] = {}
    for r in responses:
        by_id.setdefault(r.instrument_id, []).append(r)
    out = []
    for instrument_id in (*outcome_ids(), CLIENT_ALLIANCE):
        rows = by_id.get(instrument_id)
        m = measure(instrument_id)
        if not rows or m is None:
            continue
        first, last = rows[0], rows[-1]
        out.append(FinalMeasure(m, first.total, last.total, timezone.localdate(first.submitted_at),
                                timezone.localdate(last.submitted_at), len(rows)))
    return out


class DischargeError(Exception):
    pass


@transaction.atomic
def discharge(request: HttpRequest, episode: CareEpisode, *, status: str, ended_on: date,
              summary: str) -> int:
    """End the episode: its status and end date, the closing summary (when written) shared with
    the client, future sessions cancelled by the practice. Returns how many were cancelled."""
    episode = CareEpisode.objects.select_for_update(no_key=True).get(pk=episode.pk)
    if episode.status != EpisodeStatus.ACTIVE:
        raise DischargeError(_("This episode has already ended."))
    if status not in ENDINGS:
        raise DischargeError(_("Choose how the episode ended."))
    if ended_on < episode.started_on:
        raise DischargeError(_("The end date cannot be before the episode started."))
    episode.status, episode.ended_on = status, ended_on
    episode.save(update_fields=["status", "ended_on"])
    if summary.strip():
        ClosingSummary.objects.create(organisation=episode.organisation, episode=episode,
                                      text=summary.strip(), written_by=request.user)
    now = timezone.now()
    cancelled = Session.objects.filter(episode=episode, scheduled_at__gt=now,
                                       attendance=Attendance.SCHEDULED).update(
        attendance=Attendance.CANCELLED_CLINIC, cancelled_at=now)
    record(request, "care.episode.discharged", episode, client=episode.client,
           detail={"status": status, "ended_on": ended_on.isoformat(),
                   "closing_summary": bool(summary.strip()), "sessions_cancelled": cancelled})
    return cancelled
