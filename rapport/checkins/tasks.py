"""Background tasks of the check-ins app: emailing each client the link to their check-in before
a session, without anyone pressing a button (the scheduler runs `send_due_invitations`)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.core.tasks import RETRY, enqueue

# A client's before-session check-in is emailed once, when the session is at most this far
# ahead (the link stays valid for the practice's invitation_days).
INVITE_AHEAD = timedelta(days=2)


@shared_task(**RETRY)
def send_due_invitations() -> int:
    """One task per practice (periodic)."""
    from rapport.accounts.practices import queue_for_each_practice

    return queue_for_each_practice(send_practice_invitations)


@shared_task(**RETRY)
def send_practice_invitations(organisation_id: int) -> int:
    """Plan the check-ins of the practice's sessions coming up soon, then queue one invitation
    for each client check-in that has had no email yet."""
    from rapport.accounts.models import Organisation
    from rapport.care.models import Session
    from rapport.checkins.models import CheckIn, Respondent, When
    from rapport.checkins.services.schedule import CANCELLED, plan_session

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    now = timezone.now()
    soon = {"scheduled_at__gt": now, "scheduled_at__lte": now + INVITE_AHEAD}
    with scope(organisation=organisation):
        sessions = (Session.objects.filter(organisation=organisation, episode__status="active",
                                           **soon)
                    .exclude(attendance__in=CANCELLED)
                    .exclude(episode__client__email="").select_related("episode"))
        for session in sessions:
            plan_session(session)
        due = list(
            CheckIn.objects.filter(
                organisation=organisation, respondent=Respondent.CLIENT, when=When.BEFORE,
                completed_at__isnull=True, session__in=sessions)
            .exclude(invitations__channel="email").values_list("id", flat=True)
        )
    for checkin_id in due:
        enqueue(send_checkin_invitation, checkin_id)
    return len(due)


@shared_task(**RETRY)
def send_checkin_invitation(checkin_id: int) -> bool:
    """Email the check-in's link, unless one was emailed already (checked under a lock, so two
    runs at once send one email)."""
    from rapport.checkins.models import CheckIn
    from rapport.checkins.services.invitations import send_invitation

    with scopes_disabled():
        organisation_id = CheckIn.objects.values_list("organisation_id", flat=True).get(
            pk=checkin_id)
    with scope(organisation=organisation_id), transaction.atomic():
        checkin = (CheckIn.objects.select_for_update(of=("self",))
                   .select_related("episode__client", "organisation").get(pk=checkin_id))
        if checkin.completed_at or not checkin.episode.client.email or (
                checkin.invitations.filter(channel="email").exists()):
            return False
        send_invitation(checkin)
    return True


@shared_task(**RETRY)
def mark_missed_checkins() -> int:
    """One task per practice (periodic): check-ins that closed unanswered are marked missed."""
    from rapport.accounts.practices import queue_for_each_practice

    return queue_for_each_practice(mark_practice_missed_checkins)


@shared_task(**RETRY)
def mark_practice_missed_checkins(organisation_id: int) -> int:
    from rapport.accounts.models import Organisation
    from rapport.checkins.services.schedule import mark_missed

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    with scope(organisation=organisation):
        return mark_missed(organisation)
