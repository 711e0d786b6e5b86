"""Shared fixtures: two practices, each with staff of every role, clients, episodes and sessions."""

from __future__ import annotations

import copy
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_scopes import scopes_disabled

from rapport.accounts.models import (
    AuthenticatorDevice,
    Membership,
    Organisation,
    Role,
    Supervision,
    User,
)
from rapport.accounts.twofactor import REAUTH_SESSION_KEY
from rapport.care.models import CareEpisode, Client, Session
from tests.demo_snapshot import SHARED_DIR

PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    """A folder the run's processes share (the xdist workers inherit its name): slow fixtures
    built once per run are left there (tests/demo_snapshot.py). Removed when the run ends."""
    if not hasattr(config, "workerinput"):
        os.environ[SHARED_DIR] = tempfile.mkdtemp(prefix="rapport-tests-")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        shutil.rmtree(os.environ.pop(SHARED_DIR, ""), ignore_errors=True)


# The modules whose tests take longest (chromium with axe, the demo practice, fuzzing, real
# Celery workers, the subprocess and migration tests), in that order, run before the rest: pytest-xdist's worksteal
# hands each worker a contiguous share of the run and lets an idle worker take the end of
# another's queue, so the run ends on short tests rather than with one worker idle while the other
# finishes a long one. Each module's tests stay together (module fixtures are built once).
SLOW_FIRST = (
    "tests/browser/", "tests/test_demo", "tests/checkins/test_demo_histories.py",
    "tests/test_staff_pages_speak_plainly.py", "tests/test_fuzz.py", "tests/security/test_write_matrix.py",
    "tests/test_permission_matrix.py", "tests/concurrency/test_worker_kill.py",
    "tests/concurrency/test_celery_worker.py", "tests/security/test_proxy_process.py",
    "tests/monitoring/test_evaluation.py",
    "tests/test_settings_modes.py",
    "tests/security/test_second_factor_migration.py", "tests/privacy/test_erasure_all_apps.py",
    "tests/security/test_client_identifiers.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((n for n, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)),
                    len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the order within each group is pytest's


@dataclass
class Practice:
    org: Organisation
    admin: User
    supervisor: User
    therapist: User  # supervised by `supervisor`
    colleague: User  # another therapist in the same practice, not supervised by `supervisor`
    client: Client  # treated by `therapist`
    episode: CareEpisode
    session: Session
    colleague_client: Client  # treated by `colleague`
    colleague_episode: CareEpisode
    colleague_session: Session


def make_practice(name: str) -> Practice:
    slug = name.lower().replace(" ", "")
    with scopes_disabled():
        org = Organisation.objects.create(name=name)

        def staff(role_name: str, *roles: str) -> User:
            user = User.objects.create_user(f"{role_name}@{slug}.test", PASSWORD, name=role_name.title())
            for role in roles:
                Membership.objects.create(organisation=org, user=user, role=role)
            return user

        admin = staff("admin", Role.ADMIN)
        supervisor = staff("supervisor", Role.SUPERVISOR)
        therapist = staff("therapist", Role.THERAPIST)
        colleague = staff("colleague", Role.THERAPIST)
        Supervision.objects.create(organisation=org, supervisor=supervisor, therapist=therapist)

        def treat(user: User, client_name: str):
            client = Client.objects.create(organisation=org, name=client_name)
            episode = CareEpisode.objects.create(
                organisation=org, client=client, therapist=user, started_on=date(2026, 9, 1),
                presenting_concerns=f"{client_name} worries about sleep",
            )
            session = Session.objects.create(
                organisation=org, episode=episode,
                scheduled_at=datetime(2026, 9, 1, 10, tzinfo=UTC),
            )
            return client, episode, session

        client, episode, session = treat(therapist, f"{name} Client")
        c2, e2, s2 = treat(colleague, f"{name} Other Client")
    return Practice(org, admin, supervisor, therapist, colleague, client, episode, session, c2, e2, s2)


class StaffClient(HttpClient):
    """The test client, whose force_login passes both login steps (password and second factor).

    Staff pages require two-factor login; tests that are not about it log in fully. Pass
    `verified=False` to be logged in with the password step only.
    """

    def force_login(self, user, backend=None, *, verified: bool = True):
        super().force_login(user, backend)
        if verified:
            device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = AuthenticatorDevice.objects.create(user=user, name="test", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    def reauthenticate(self):
        """As if the user had just re-entered their password and a code (for sensitive actions)."""
        session = self.session
        session[REAUTH_SESSION_KEY] = time.time()
        session.save()


@pytest.fixture(autouse=True)
def _eager_tasks_may_be_awaited():
    """Celery runs an eager task under a process-wide "no waiting for results" flag that it
    saves and restores around each task; two threads running eager tasks at once (the
    concurrency tests' submissions) can leave it set, and a later test's `.get()` in the same
    process would then refuse to run. Each test starts with it cleared."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture
def client(db) -> StaffClient:
    return StaffClient()


@pytest.fixture
def practice(db) -> Practice:
    return make_practice("Riverside")


@pytest.fixture
def other_practice(db) -> Practice:
    return make_practice("Hillside")


@pytest.fixture
def web(db) -> HttpClient:
    """The test client with CSRF checks enforced, as a browser would meet them."""
    return StaffClient(enforce_csrf_checks=True)


def built_once_per_module(build):
    """A module-scoped fixture for data that is slow to build (the demo practice) and that the
    module's tests share: `build()` runs once per test module (and xdist worker), inside a
    transaction that stays open while the module's tests run and is rolled back after them.

    Request it through a function fixture that also requests `db` and takes `fresh(built)`: each
    test then runs in a savepoint inside that transaction (what it writes is undone before the next
    test) and gets its own copy of the built objects, as with Django's setUpTestData. Not for
    transactional tests (`transaction=True`, live_server): they commit and flush.
    """

    @pytest.fixture(scope="module")
    def built(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                data = build()
            except BaseException:
                outer.__exit__(*sys.exc_info())
                raise
        try:
            yield data
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return built


def fresh(built):
    """A test's own copy of data from a `built_once_per_module` fixture."""
    return copy.deepcopy(built)


def login(http: HttpClient, user: User) -> HttpClient:
    http.force_login(user)
    return http


__all__ = ["PASSWORD", "Practice", "built_once_per_module", "fresh", "login", "make_practice",
           "timedelta"]


@pytest.fixture
def redis_url() -> str:
    """Redis for the tests that need one (RAPPORT_TEST_REDIS_URL, default database 15): skipped
    without it, except under CI=true."""
    import redis

    url = os.getenv("RAPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.getenv("CI") == "true":
            pytest.fail(f"Redis is required under CI=true ({url}): {exc}")
        pytest.skip(f"needs Redis at {url} (RAPPORT_TEST_REDIS_URL): {exc}")
    return url
