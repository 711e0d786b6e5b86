"""The demo's check-in histories tell each client's story."""

from __future__ import annotations

from datetime import date

import pytest
from django_scopes import scopes_disabled

from rapport.checkins.models import CheckIn, Consent, Response
from tests.conftest import built_once_per_module, fresh
from tests.demo_snapshot import load_demo

TODAY = date(2026, 11, 25)


# Built once for the module's tests, which only read it (see built_once_per_module).
demo_built = built_once_per_module(lambda: load_demo(seed=7, today=TODAY))


@pytest.fixture
def demo(demo_built, db):
    with scopes_disabled():
        yield fresh(demo_built)


def _phq9(plan):
    return [r.total for r in Response.objects.filter(episode=plan.episode, instrument_id="phq9")
            .order_by("submitted_at")]


def test_improving_clients_improve_and_deteriorating_ones_get_worse(demo):
    improving = [_phq9(p) for p in demo.plans if p.story == "improving"]
    worse = [_phq9(p) for p in demo.plans if p.story == "deteriorating"]
    # Reliable change on the PHQ-9 is 6 points (DESIGN.md).
    assert sum(1 for s in improving if len(s) > 3 and s[0] - s[-1] >= 6) >= len(improving) * 0.7
    assert all(s[-1] - s[0] >= 6 for s in worse if len(s) > 3)


def test_ruptures_show_in_the_relationship_checkins(demo):
    for plan in demo.plans:
        if plan.story not in ("rupture_repaired", "rupture_unrepaired"):
            continue
        totals = [r.total for r in Response.objects.filter(
            episode=plan.episode, instrument_id="relationship-checkin").order_by("submitted_at")]
        if len(totals) < 3:
            continue
        dip = min(range(len(totals)), key=totals.__getitem__)
        assert totals[dip] <= max(totals) - 30
        after = totals[dip + 1:]
        if after and plan.story == "rupture_repaired":
            assert max(after) >= totals[dip] + 30
        if after and plan.story == "rupture_unrepaired":
            assert max(after) < max(totals[:dip]) - 15


def test_one_risk_answer_and_consent_for_everyone_who_answered(demo):
    risky = [r for r in Response.objects.filter(instrument_id="phq9") if r.is_risk]
    assert len(risky) == 1
    answered = set(Response.objects.filter(respondent="client").values_list("episode__client", flat=True))
    consented = set(Consent.objects.values_list("client", flat=True))
    assert answered <= consented


def test_active_clients_have_a_checkin_waiting_for_their_next_session(demo):
    active = [p for p in demo.plans if p.episode.status == "active"]
    waiting = CheckIn.objects.filter(completed_at__isnull=True, when="before",
                                     session__attendance="scheduled")
    assert {c.episode_id for c in waiting} == {p.episode.pk for p in active}
