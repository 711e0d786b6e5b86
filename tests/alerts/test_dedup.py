"""An unresolved alert never duplicates itself; a resolved one does not block a new one."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django_scopes import scope, scopes_disabled

from rapport.alerts import services
from rapport.alerts.models import Alert, Status
from rapport.monitoring import Finding
from tests.alerts.conftest import make_alert


def test_the_same_key_twice_is_one_alert_with_a_dated_update(in_scope):
    p = in_scope
    first = make_alert(p, evidence={"score": 40})
    seen = first.last_seen_at
    second = make_alert(p, evidence={"score": 35})
    assert second.pk == first.pk
    assert Alert.objects.filter(episode=p.episode).count() == 1
    second.refresh_from_db()
    # The evidence it was raised on never changes under it; the newer one is a dated update.
    assert second.evidence == {"score": 40}
    assert second.latest_evidence == {"score": 35}
    assert [u.evidence for u in second.updates.all()] == [{"score": 35}]
    assert second.last_seen_at >= seen
    make_alert(p, evidence={"score": 35})  # the same again: no second update
    assert second.updates.count() == 1


def test_severity_rises_but_never_falls_while_unresolved(in_scope):
    p = in_scope
    make_alert(p, severity="warning")
    assert make_alert(p, severity="urgent").severity == "urgent"
    assert make_alert(p, severity="info").severity == "urgent"


def test_suggestions_stay_as_first_shown(in_scope):
    p = in_scope
    first = make_alert(p, evidence={"components": {"goals": 2, "trust": 9}})
    again = make_alert(p, evidence={"components": {"goals": 9, "trust": 2}})
    again.refresh_from_db()
    assert again.suggestions == first.suggestions
    assert any("Mutual goals" in s for s in again.suggestions)


def test_a_resolved_alert_does_not_block_a_new_one(in_scope):
    p = in_scope
    first = make_alert(p)
    services.transition(first, Status.RESOLVED, request=None, note="Handled")
    second = make_alert(p)
    assert second.pk != first.pk
    assert second.status == Status.OPEN
    assert Alert.objects.filter(episode=p.episode).count() == 2


def test_other_keys_and_other_episodes_are_separate_alerts(in_scope):
    p = in_scope
    a = make_alert(p, key="rupture:relationship-checkin:5")
    b = make_alert(p, key="rupture:relationship-checkin:9")
    c = make_alert(p, key="rupture:relationship-checkin:5", episode=p.colleague_episode)
    assert len({a.pk, b.pk, c.pk}) == 3


def test_the_database_refuses_a_second_unresolved_alert(in_scope):
    p = in_scope
    alert = make_alert(p)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(organisation=p.org, episode=p.episode, kind=alert.kind,
                             severity="info", key=alert.key, status=Status.ACKNOWLEDGED)


@pytest.mark.parametrize("evidence", [
    {"comment": "the client said they felt judged"},
    {"nested": {"text": "x" * 65}},
    {"items": ["fine", "not fine at all"]},
    {"when": object()},
])
def test_evidence_takes_numbers_and_identifiers_only(in_scope, evidence):
    with pytest.raises(services.EvidenceError):
        make_alert(in_scope, evidence=evidence)
    assert not Alert.objects.exists()


def test_evidence_floats_are_rounded_and_nan_dropped(in_scope):
    alert = make_alert(in_scope, evidence={"z": -2.34567, "sd": float("nan"), "ok": True})
    assert alert.evidence == {"z": -2.35, "sd": None, "ok": True}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_raises_make_one_alert(practice):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent inserts need PostgreSQL")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with scope(organisation=practice.org), transaction.atomic():
                # Both transactions are open before either inserts.
                Alert.objects.filter(episode=practice.episode).count()
                barrier.wait(timeout=10)
                results.append(services.raise_alert(
                    episode=practice.episode, kind="rupture", severity="warning",
                    key="rupture:relationship-checkin:5", evidence={"score": 40},
                ).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    with scopes_disabled():
        assert Alert.objects.filter(episode=practice.episode).count() == 1
    assert len(results) == 2 and results[0] == results[1]


# ---- findings into alerts ------------------------------------------------------------------------


def finding(kind="rupture", session=5, severity="warning", subject="relationship-checkin",
            ongoing=True, **evidence):
    return Finding(kind, severity, session, subject, evidence or {"score": 40}, "e", session,
                   ongoing)


def test_sync_raises_new_keys_and_refreshes_known_ones(in_scope):
    p = in_scope
    r1 = services.sync_findings(p.episode, [finding(), finding("alliance_low", 6)])
    assert len(r1.raised) == 2 and not r1.refreshed
    r2 = services.sync_findings(p.episode, [finding(score=30), finding("alliance_low", 6)])
    assert not r2.raised and len(r2.refreshed) == 2
    assert Alert.objects.filter(episode=p.episode).count() == 2
    rupture = Alert.objects.get(kind="rupture")
    assert rupture.evidence == {"score": 40} and rupture.latest_evidence == {"score": 30}
    assert rupture.updates.get().session_number == 5


def test_a_refresh_adds_a_dated_update_only_when_the_evidence_differs_from_the_latest(in_scope):
    # Each alert's latest update is the one compared (they are read for all alerts at once).
    p = in_scope
    services.sync_findings(p.episode, [finding(), finding("alliance_low", 6)])
    for score in (30, 20, 20, 30, 30):
        services.sync_findings(p.episode, [finding(score=score), finding("alliance_low", 6)])
    rupture, low = Alert.objects.get(kind="rupture"), Alert.objects.get(kind="alliance_low")
    assert [u.evidence["score"] for u in rupture.updates.all()] == [30, 20, 30]
    assert rupture.latest_evidence == {"score": 30} and not low.updates.exists()
    # Back to the evidence it was raised with: that differs from the latest update.
    result = services.sync_findings(p.episode, [finding(), finding("alliance_low", 6, score=41)])
    assert rupture.updates.count() == 4 and rupture.latest_evidence == {"score": 40}
    assert low.updates.get().evidence == {"score": 41} and len(result.refreshed) == 2


def test_sync_does_not_raise_again_what_a_person_resolved(in_scope):
    p = in_scope
    (alert,) = services.sync_findings(p.episode, [finding()]).raised
    services.transition(alert, Status.RESOLVED, request=None, note="Repaired together")
    again = services.sync_findings(p.episode, [finding()])
    assert not again.raised
    assert Alert.objects.filter(episode=p.episode).count() == 1
    # ... unless it has become more severe.
    worse = services.sync_findings(p.episode, [finding(severity="urgent")])
    assert len(worse.raised) == 1


def test_sync_ignores_risk_findings_the_checkin_path_raises_itself(in_scope):
    p = in_scope
    result = services.sync_findings(
        p.episode, [finding("risk", 3, "urgent", "phq9", flags=["risk:phq9-9"])])
    assert not result.raised
    assert not Alert.objects.exists()


def test_a_repair_is_noted_on_the_rupture_alert_once(in_scope):
    p = in_scope
    rupture = finding(ongoing=False)
    repaired = finding("rupture_repaired", 7, "info", ongoing=False, rupture_session=5)
    result = services.sync_findings(p.episode, [rupture, repaired])
    assert len(result.raised) == 1 and len(result.repaired) == 1
    alert = Alert.objects.get()
    assert alert.kind == "rupture" and alert.status == Status.OPEN  # a person resolves it
    (step,) = alert.steps.all()
    assert step.is_note and step.by is None and "session 7" in step.note
    services.sync_findings(p.episode, [rupture, repaired])
    assert alert.steps.count() == 1
    assert Alert.objects.count() == 1


def test_a_repair_without_an_open_rupture_alert_is_an_info_alert(in_scope):
    p = in_scope
    repaired = finding("rupture_repaired", 7, "info", ongoing=False, rupture_session=5)
    (alert,) = services.sync_findings(p.episode, [repaired]).raised
    assert (alert.kind, alert.severity) == ("rupture_repaired", "info")


def test_alerts_whose_finding_is_gone_stay_open_but_not_ongoing(in_scope):
    p = in_scope
    services.sync_findings(p.episode, [finding()])
    result = services.sync_findings(p.episode, [])
    assert result.no_longer_seen == 1
    alert = Alert.objects.get()
    assert alert.status == Status.OPEN and alert.ongoing is False


def test_one_unresolved_alert_per_topic_follows_the_latest_finding(in_scope):
    p = in_scope
    first = finding("not_on_track", 3, "urgent", "phq9", ongoing=False, z=2.1)
    (alert,) = services.sync_findings(p.episode, [first]).raised
    second = finding("not_on_track", 6, "warning", "phq9", ongoing=True, z=1.2)
    result = services.sync_findings(p.episode, [first, second])
    assert not result.raised
    alert.refresh_from_db()
    assert alert.key == second.key and alert.latest_evidence == {"z": 1.2}
    assert alert.evidence == {"z": 2.1} and alert.session_number == 3  # as raised
    assert alert.severity == "urgent" and alert.ongoing is True
    # Resolved: the same findings do not bring it back; a later run does.
    services.transition(alert, Status.RESOLVED, request=None, note="Plan reviewed")
    assert not services.sync_findings(p.episode, [first, second]).raised
    third = finding("not_on_track", 9, "warning", "phq9")
    assert len(services.sync_findings(p.episode, [first, second, third]).raised) == 1


def test_component_drops_at_a_rupture_are_part_of_it(in_scope):
    p = in_scope
    rupture = finding(instrument="relationship-checkin", component_drops={"goals": 5})
    drop = finding("component_drop", 5, "info", "relationship-checkin/goals",
                   instrument="relationship-checkin", component="goals")
    later_drop = finding("component_drop", 8, "info", "relationship-checkin/trust",
                         instrument="relationship-checkin", component="trust")
    services.sync_findings(p.episode, [rupture, drop, later_drop])
    assert sorted(Alert.objects.values_list("kind", "session_number")) == [
        ("component_drop", 8), ("rupture", 5)]
