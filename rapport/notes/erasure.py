"""Erasing a client's session records (see rapport.privacy.registry for the contract).

A session record is free text by nature (summary, next steps, private note, agenda, homework):
it is deleted whatever the policy.
"""

from __future__ import annotations

from django.db.models import Q

from rapport.notes.models import AgendaItem, ClosingSummary, Homework, SessionRecord
from rapport.privacy.registry import Erased


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    # Rows are found through both their episode and their session, so none is missed even if the
    # two ever disagreed.
    records = SessionRecord.objects.filter(Q(episode__client=client) | Q(session__episode__client=client))
    for kind, rows in (
        ("agenda_items", AgendaItem.objects.filter(record__in=records)),
        ("homework", Homework.objects.filter(Q(record__in=records) | Q(episode__client=client))),
        ("records", records),
        ("closing_summaries", ClosingSummary.objects.filter(episode__client=client)),
    ):
        done.add(kind, rows.count(), rows.values_list("code", flat=True))
        rows.delete()
    return done
