"""The findings refresh off the request path: queued on commit, coalesced per episode, and never
lost (rapport.alerts.pending and rapport.alerts.tasks; tasks run eagerly here)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.alerts import findings, pending, tasks
from rapport.alerts.models import Alert, PendingRefresh
from rapport.care.models import CareEpisode, Client, EpisodeStatus, Session
from tests.alerts.conftest import add_sessions
from tests.alerts.test_incremental import submit


@pytest.fixture
def sessions(practice):
    return [practice.session, *add_sessions(practice, 7)]


@pytest.fixture
def recomputes(monkeypatch):
    """Count the recomputes (findings.refresh_episode calls), still doing them."""
    calls = []
    real = findings.refresh_episode

    def counting(episode, **kwargs):
        calls.append(episode.pk)
        return real(episode, **kwargs)

    monkeypatch.setattr(findings, "refresh_episode", counting)
    return calls


def state(episode) -> PendingRefresh:
    with scopes_disabled():
        return PendingRefresh.objects.get(episode=episode)


def state_of(episode_id: int) -> PendingRefresh:
    with scopes_disabled():
        return PendingRefresh.objects.get(pk=episode_id)


def _episode_with_response(practice, n: int) -> int:
    client = Client.objects.create(organisation=practice.org, name=f"Sweep Client {n}")
    episode = CareEpisode.objects.create(organisation=practice.org, client=client,
                                         therapist=practice.therapist)
    session = Session.objects.create(organisation=practice.org, episode=episode,
                                     scheduled_at=timezone.now() - timedelta(days=1))
    submit(practice, session, 8, episode=episode)
    return episode.pk


def test_a_burst_for_one_episode_is_one_recompute(practice, sessions, recomputes):
    # Five responses stored before any worker gets to them (a burst; in production each commits
    # on its own and queues a task): the first task brings the episode up to date, the other
    # four find nothing to do.
    for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
        submit(practice, s, level)
    assert recomputes == []
    assert (state(practice.episode).requested, state(practice.episode).done) == (5, 0)
    outcomes = [tasks.refresh_episode_findings(practice.episode.pk) for _ in range(5)]
    assert outcomes == ["done", "clean", "clean", "clean", "clean"]
    assert recomputes == [practice.episode.pk]
    assert (state(practice.episode).requested, state(practice.episode).done) == (5, 5)
    with scope(organisation=practice.org):
        assert Alert.objects.filter(episode=practice.episode, kind="rupture").count() == 1


def test_nothing_is_due_for_an_episode_up_to_date(practice, sessions, recomputes):
    assert tasks.refresh_episode_findings(practice.episode.pk) == "clean"
    assert recomputes == []


def test_responses_stored_during_a_recompute_are_read_by_one_more(practice, sessions,
                                                                  recomputes, monkeypatch):
    submit(practice, sessions[0], 8)
    real = findings.refresh_episode

    def meanwhile(episode, **kwargs):
        if not recomputes:  # another response is stored while the first recompute runs
            pending.mark(episode.pk, episode.organisation_id)
        return real(episode, **kwargs)

    monkeypatch.setattr(findings, "refresh_episode", meanwhile)
    assert pending.refresh(practice.episode.pk) == "again"
    assert state(practice.episode).done == 1 and state(practice.episode).requested == 2
    # The task queues itself again for what came in meanwhile.
    assert tasks.refresh_episode_findings(practice.episode.pk) == "done"
    assert state(practice.episode).done == 2


def test_an_episode_another_worker_holds_is_left_to_it(practice, sessions, recomputes):
    submit(practice, sessions[0], 8)
    with scopes_disabled():
        PendingRefresh.objects.filter(episode=practice.episode).update(
            claimed_until=timezone.now() + timedelta(seconds=30))
    assert pending.refresh(practice.episode.pk) == "busy"
    assert recomputes == []
    assert pending.behind() == []  # held: not queued again while the claim lasts


def test_a_claim_of_a_dead_worker_lapses(practice, sessions, recomputes):
    submit(practice, sessions[0], 8)
    with scopes_disabled():
        PendingRefresh.objects.filter(episode=practice.episode).update(
            claimed_until=timezone.now() - timedelta(seconds=1))
    assert pending.behind() == [practice.episode.pk]
    assert pending.refresh(practice.episode.pk) == "done"
    assert recomputes == [practice.episode.pk]


def test_a_failing_recompute_keeps_the_episode_due_until_it_succeeds(
        practice, sessions, monkeypatch, django_capture_on_commit_callbacks, caplog):
    for s, level in zip(sessions[:4], (8, 9, 8, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)

    def broken(*args, **kwargs):
        raise RuntimeError("monitoring failed")

    monkeypatch.setattr(findings, "refresh_episode", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(practice, sessions[4], 2)
    assert response.pk is not None  # the answer is stored whatever the refresh does
    assert "monitoring failed" in caplog.text
    due = state(practice.episode)
    assert (due.requested, due.done, due.claimed_until) == (5, 4, None)  # released, still due
    monkeypatch.undo()
    assert tasks.refresh_pending_findings(0) == 1  # the periodic catch-up queues it
    assert state(practice.episode).done == 5
    with scope(organisation=practice.org):
        assert Alert.objects.filter(episode=practice.episode, kind="rupture").count() == 1


def test_a_refresh_never_queued_is_caught_up(practice, sessions, recomputes):
    # Responses stored, but the process died before queueing (no commit callbacks run here).
    for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
        submit(practice, s, level)
    assert tasks.refresh_pending_findings() == 0  # too recent: their own tasks may be coming
    assert tasks.refresh_pending_findings(0) == 1
    assert recomputes == [practice.episode.pk]
    assert pending.behind() == []


def test_an_ended_episode_is_marked_done_without_new_findings(practice, sessions, recomputes):
    submit(practice, sessions[0], 8)
    with scopes_disabled():
        CareEpisode.objects.filter(pk=practice.episode.pk).update(status=EpisodeStatus.COMPLETED)
    assert pending.refresh(practice.episode.pk) == "done"
    assert recomputes == []
    assert pending.behind() == []


def test_one_transaction_storing_many_responses_queues_one_refresh(
        practice, sessions, recomputes, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as queued, transaction.atomic():
        for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
            submit(practice, s, level)
        submit(practice, practice.colleague_session, 8, episode=practice.colleague_episode)
    assert len(queued) == 2
    assert sorted(recomputes) == sorted([practice.episode.pk, practice.colleague_episode.pk])
    assert pending.behind() == []


def test_a_rolled_back_response_is_not_counted(practice, sessions):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        submit(practice, sessions[0], 8)
        raise RuntimeError("the caller fails after storing")
    with scopes_disabled():
        assert not PendingRefresh.objects.filter(episode=practice.episode).exists()


def test_the_daily_refresh_fans_out_per_practice_in_chunks(practice, other_practice, sessions,
                                                           monkeypatch):
    for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
        submit(practice, s, level)
    monkeypatch.setattr(tasks, "CHUNK", 1)
    chunks = []
    real = tasks.refresh_episodes.run

    def recording(organisation_id, episode_ids):
        chunks.append((organisation_id, list(episode_ids)))
        return real(organisation_id, episode_ids)

    monkeypatch.setattr(tasks.refresh_episodes, "run", recording)
    assert tasks.refresh_findings() == 2
    # Each practice's two active episodes, one per task with CHUNK = 1.
    assert sorted(chunks) == sorted(
        [(practice.org.pk, [practice.episode.pk]), (practice.org.pk, [practice.colleague_episode.pk]),
         (other_practice.org.pk, [other_practice.episode.pk]),
         (other_practice.org.pk, [other_practice.colleague_episode.pk])])
    with scope(organisation=practice.org):
        assert Alert.objects.filter(episode=practice.episode, kind="rupture").count() == 1


def test_a_burst_queues_one_sweep_until_a_worker_starts_it(practice, sessions, recomputes,
                                                          monkeypatch,
                                                          django_capture_on_commit_callbacks):
    """Each response commits on its own; while the first one's sweep waits in the queue, the
    others queue none (one message per episode in the queue, not one per response). Once a
    worker starts the episode's refresh (here the sweep itself), the next response queues a
    new one."""
    from rapport.core import tasks as core_tasks

    queued = []
    monkeypatch.setattr(core_tasks, "_publish",
                        lambda task, args, kwargs, **options: queued.append((task.name, args)))
    sweep = ("rapport.alerts.tasks.refresh_marked_findings", ())
    for s, level in zip(sessions[:4], (8, 9, 8, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)
    assert queued == [sweep]
    # The sweep refreshes the episode itself (a task would cost as much as the refresh).
    assert tasks.refresh_marked_findings() == 1 and queued == [sweep]
    assert state(practice.episode).done == 4 and state(practice.episode).queued_at is None
    assert tasks.refresh_marked_findings() == 0  # taken once, however many sweeps follow
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submit(practice, sessions[4], 2)
    assert queued == [sweep]
    assert tasks.refresh_marked_findings() == 1 and queued == [sweep]
    assert tasks.refresh_episode_findings(practice.episode.pk) == "clean"
    assert recomputes == [practice.episode.pk, practice.episode.pk]


def test_a_sweep_queues_what_it_does_not_refresh_itself(practice, sessions, recomputes,
                                                        monkeypatch):
    """Beyond SWEEP_INLINE episodes, the rest go out in tasks of SWEEP_INLINE each (other
    workers share them), queued before the sweep starts on its own share; an episode whose
    refresh fails in the sweep, or in such a task, is queued on its own, and the refreshes go
    on with the next."""
    from rapport.core import tasks as core_tasks

    queued = []
    monkeypatch.setattr(core_tasks, "_publish",
                        lambda task, args, kwargs, **options: queued.append((task.name, args)))
    monkeypatch.setattr(tasks, "SWEEP_INLINE", 2)
    submit(practice, sessions[0], 8)
    with scope(organisation=practice.org):
        others = [_episode_with_response(practice, n) for n in range(5)]
    first, second, *rest = sorted([practice.episode.pk, *others])
    real = pending.refresh
    failing = {first, rest[1]}
    monkeypatch.setattr(pending, "refresh", lambda episode_id: (
        (_ for _ in ()).throw(RuntimeError("boom")) if episode_id in failing else real(episode_id)))
    assert tasks.refresh_marked_findings() == 6
    one, several = "rapport.alerts.tasks.refresh_episode_findings", \
        "rapport.alerts.tasks.refresh_episodes_findings"
    assert queued == [(several, (rest[:2],)), (several, (rest[2:],)), (one, (first,))]
    assert recomputes == [second]
    assert [state_of(e).done for e in (first, *rest)] == [0] * 5  # left to their tasks
    queued.clear()
    assert tasks.refresh_episodes_findings(rest[:2]) == 2  # a worker takes the first share
    assert queued == [(one, (rest[1],))]  # the one that failed, on its own
    assert recomputes == [second, rest[0]] and state_of(rest[0]).done == 1


def test_a_task_that_finds_the_episode_held_leaves_the_next_response_to_queue_its_own(
        practice, sessions, recomputes):
    submit(practice, sessions[0], 8)
    assert state(practice.episode).queued_at is not None
    with scopes_disabled():
        PendingRefresh.objects.filter(episode=practice.episode).update(
            claimed_until=timezone.now() + timedelta(seconds=30))
    assert pending.refresh(practice.episode.pk) == "busy"
    assert state(practice.episode).queued_at is None
    assert pending.mark(practice.episode.pk, practice.org.pk)  # queue one: none is waiting


def test_a_task_that_finds_the_episode_up_to_date_clears_the_mark(practice, sessions,
                                                                  recomputes):
    """A response read by a refresh that started before it was counted leaves its own task
    nothing to do; that task clears the queued mark, so the next response queues again."""
    submit(practice, sessions[0], 8)
    with scopes_disabled():  # as if a running refresh had read this response already
        PendingRefresh.objects.filter(episode=practice.episode).update(done=F("requested"))
    assert pending.refresh(practice.episode.pk) == "clean"
    assert state(practice.episode).queued_at is None
    assert pending.mark(practice.episode.pk, practice.org.pk)


def test_a_queued_task_lost_is_caught_up_while_responses_keep_coming(practice, sessions,
                                                                    recomputes):
    submit(practice, sessions[0], 8)
    long_ago = timezone.now() - timedelta(minutes=5)
    with scopes_disabled():  # queued five minutes ago, never started (the broker lost it)
        PendingRefresh.objects.filter(episode=practice.episode).update(queued_at=long_ago)
    submit(practice, sessions[1], 9)  # a fresh response: it queues nothing of its own
    assert not pending.mark(practice.episode.pk, practice.org.pk)
    assert pending.behind(timedelta(seconds=10)) == [practice.episode.pk]
    assert tasks.refresh_pending_findings() == 1
    assert recomputes == [practice.episode.pk] and pending.behind() == []
