"""The sweep that follows responses (rapport.alerts.pending.take_unsent) and a response being
stored at the same moment: the sweep waits for it and queues the episode, once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from rapport.alerts import pending
from tests.concurrency.conftest import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_sweep_waits_for_a_response_being_stored_and_queues_its_episode_once(practice):
    episode, org = practice.episode.pk, practice.org.pk
    assert pending.mark(episode, org)  # asked for, not yet on the queue
    storing = threading.Event()

    def work(i, barrier):
        if i == 0:  # another response of the episode, its transaction open a while
            with transaction.atomic():
                pending.mark(episode, org)
                storing.set()
                barrier.wait()
                time.sleep(0.5)
            return None
        storing.wait(10)
        barrier.wait()
        return pending.take_unsent()

    results, errors = at_once(2, work)

    assert errors == []
    assert results[1] == [episode]  # not passed over while the other transaction held it
    assert pending.take_unsent() == []  # queued once
