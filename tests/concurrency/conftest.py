"""Concurrency and fault tests: they need PostgreSQL (row locks, concurrent transactions).

On SQLite every test here is skipped with the reason; the CI's PostgreSQL pass runs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connections
from django_scopes import scope

from rapport.checkins.models import CheckIn, Respondent, When

PHQ9_RISK = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 2}  # item 9 answered: a risk flag
PHQ9_MILD = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 0}
CHOICES = ["not-at-all", "several-days", "more-than-half", "nearly-every-day"]


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture(autouse=True)
def _needs_postgres():
    if not on_postgres():
        pytest.skip("concurrent transactions need PostgreSQL: set RAPPORT_DATABASE_URL "
                    "(SQLite serialises every write, so there is no race to test)")


def phq9_form(answers: dict, token: str) -> dict:
    """The POST a browser sends for the PHQ-9 step of a check-in link."""
    data = {"instrument": "phq9", "action": "submit", "submission": token}
    for key, value in answers.items():
        data[f"a-{key}"] = CHOICES[value]
    return data


def phq9_checkin(practice, session=None, episode=None) -> CheckIn:
    with scope(organisation=[practice.org]):
        return CheckIn.objects.create(
            organisation=practice.org, episode=episode or practice.episode,
            session=session or practice.session, when=When.BEFORE,
            respondent=Respondent.CLIENT, instruments=["phq9"],
        )


def at_once(n: int, work: Callable[[int, threading.Barrier], object],
            timeout: float = 30) -> tuple[list, list]:
    """Run work(i, barrier) in n threads that start together; returns (results, errors).

    Each thread has its own database connection (Django's are per thread), closed at the end.
    """
    barrier = threading.Barrier(n, timeout=timeout)
    results: list = [None] * n
    errors: list = []

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a submitting thread hung (a deadlock?)"
    return results, errors
