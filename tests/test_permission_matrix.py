"""Every URL pattern, checked for every kind of visitor.

The first test enumerates the URL patterns, so a new view cannot be forgotten: add it to ARGS
(how to build its URL) and MATRIX (the status each visitor gets). Objects belong to
`practice.therapist`'s client (the therapist is supervised by `practice.supervisor`); the "other"
visitors are the colleague, a supervisor who does not supervise that therapist, the staff of
another practice, and another client of the same practice in the portal.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail, signing
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_scopes import scope

from rapport.accounts.models import Membership, Role
from rapport.alerts.services import raise_alert
from rapport.api.models import ApiToken
from rapport.care.models import Session
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.invitations import create_invitation
from rapport.core.tasks import record_failure
from rapport.goals.models import Side
from rapport.goals.services import propose_goal
from rapport.notes.services import add_item, share
from rapport.portal import services as portal
from rapport.scheduling.models import MoveReason, MoveStatus, RescheduleRequest
from rapport.webhooks.services import create_endpoint
from tests.conftest import built_once_per_module, fresh, make_practice

VISITORS = ["anonymous", "client_own", "client_other", "therapist_own", "therapist_other",
            "supervisor_team", "supervisor_outside", "admin_own", "admin_other"]

OK, LOGIN, HIDDEN, GONE, NO = 200, 302, 404, 410, 405
MOVE = 302  # sent on elsewhere (to the portal's login, to the caseload, to the next step)


def row(*statuses):
    return dict(zip(VISITORS, statuses, strict=True))


#                anon   c_own  c_oth  t_own  t_oth  s_team s_out  a_own  a_oth
STAFF = row(LOGIN, LOGIN, LOGIN, OK, OK, OK, OK, OK, OK)
CLINICAL = row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, OK, HIDDEN, OK, HIDDEN)  # admins administer
CLINICAL_TEXT = row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN)  # no admins
TREATING = row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)
ADMIN_OWN = row(LOGIN, LOGIN, LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, HIDDEN)
ADMIN_PAGE = row(LOGIN, LOGIN, LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, OK)  # their own practice's
PORTAL = row(MOVE, OK, OK, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE)
PORTAL_OWN = row(MOVE, OK, HIDDEN, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE)
PUBLIC = row(OK, OK, OK, OK, OK, OK, OK, OK, OK)
STAFF_SENT_ON = row(LOGIN, LOGIN, LOGIN, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE)

# url name -> how to build its arguments from the world
ARGS = {
    "home": lambda w: [],
    "healthz": lambda w: [],
    "favicon": lambda w: [],
    "accounts-login": lambda w: [],
    "accounts-logout": lambda w: [],
    "accounts-2fa-setup": lambda w: [],
    "accounts-2fa-verify": lambda w: [],
    "accounts-2fa-recovery-codes": lambda w: [],
    "accounts-reauth": lambda w: [],
    "accounts-password": lambda w: [],
    "accounts-language": lambda w: [],
    "care-caseload": lambda w: [],
    "care-client": lambda w: [w.client.code],
    "care-client-search": lambda w: [],
    "care-past-clients": lambda w: [],
    "care-discharge": lambda w: [w.episode.code],
    "care-episode": lambda w: [w.episode.code],
    "care-session": lambda w: [w.session.code],
    "checkins-answer": lambda w: [w.link_token],
    "checkins-session": lambda w: [w.session.code],
    "checkins-reflection": lambda w: [w.session.code],
    "checkins-schedule": lambda w: [w.episode.code],
    "goals-episode": lambda w: [w.episode.code],
    "goals-goal": lambda w: [w.goal.code],
    "notes-record": lambda w: [w.session.code],
    "alerts-list": lambda w: [],
    "alerts-detail": lambda w: [w.alert.code],
    "alerts-settings": lambda w: [],
    "analytics-overview": lambda w: [],
    "audit-trail": lambda w: [],
    "audit-export": lambda w: [],
    "privacy-erase": lambda w: [w.client.code],
    "privacy-erasures": lambda w: [],
    "privacy-retention": lambda w: [],
    "portal-home": lambda w: [],
    "portal-login": lambda w: [],
    "portal-login-link": lambda w: [w.login_token],
    "portal-logout": lambda w: [],
    "portal-start-checkin": lambda w: [w.checkin.code],
    "portal-progress": lambda w: [],
    "portal-goals": lambda w: [],
    "portal-summaries": lambda w: [],
    "portal-data": lambda w: [],
    "portal-download": lambda w: [],
    "goals-portal-propose": lambda w: [],
    "goals-portal-agree": lambda w: [w.goal.code],
    "notes-portal-tick": lambda w: [w.homework.code],
    "scheduling-home": lambda w: [],
    "scheduling-week": lambda w: [w.therapist.code],
    "scheduling-book": lambda w: [w.episode.code],
    "scheduling-session": lambda w: [w.session.code],
    "scheduling-availability": lambda w: [w.client.code],
    "scheduling-feed-settings": lambda w: [],
    "scheduling-feed": lambda w: ["unknown-token"],
    "scheduling-requests": lambda w: [],
    "scheduling-request": lambda w: [w.move.code],
    "portal-reschedule": lambda w: [w.upcoming.code],
    "portal-reschedule-accept": lambda w: [w.move.code],
    "portal-intake": lambda w: [],
    "practice-add-client": lambda w: [],
    "practice-invite": lambda w: [w.client.code],
    "practice-staff": lambda w: [],
    "practice-settings": lambda w: [],
    "practice-staff-invite": lambda w: [],
    "practice-staff-member": lambda w: [w.therapist.code],
    "practice-staff-reassign": lambda w: [w.therapist.code],
    "practice-welcome": lambda w: ["MQ", "unknown-token"],
    "api-tokens": lambda w: [],
    "api-tokens-revoke": lambda w: [w.api_token.code],
    "fhir-metadata": lambda w: [],
    "fhir-search": lambda w: ["QuestionnaireResponse"],
    "fhir-read": lambda w: ["Patient", w.client.code],
    **{f"api:{name}": lambda w: [] for name in ("openapi-json", "openapi-view", "api-root", "clients",
                                                 "episodes", "sessions", "responses", "responses-submit",
                                                 "alerts")},
    "api:client": lambda w: [w.client.code],
    "api:episode": lambda w: [w.episode.code],
    "api:session": lambda w: [w.session.code],
    "api:session-checkins": lambda w: [w.session.code],
    "api:session-checkins-plan": lambda w: [w.session.code],
    "api:checkin": lambda w: [w.checkin.code],
    "api:checkin-send": lambda w: [w.checkin.code],
    "api:response": lambda w: [w.checkin.code],  # no response here; the token is checked first
    "api:alert": lambda w: [w.alert.code],
    "api:alert-acknowledge": lambda w: [w.alert.code],
    "api:episode-goals": lambda w: [w.episode.code],
    "api:episode-goals-propose": lambda w: [w.episode.code],
    "webhooks-list": lambda w: [],
    "webhooks-endpoint": lambda w: [w.endpoint.code],
    "webhooks-rotate": lambda w: [w.endpoint.code],
    "webhooks-delete": lambda w: [w.endpoint.code],
    "practice-failed-tasks": lambda w: [],
    "practice-failed-task-retry": lambda w: [w.task_failure.pk],
}
# The API and FHIR answer API tokens only (tests/api/test_api_matrix.py has every token holder):
# a browser's session gets 401, whoever is logged in.
TOKEN_ONLY = row(*[401] * 9)

REFLECTION = row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, 403, HIDDEN, 403, HIDDEN)  # the therapist's own
POST_ONLY_PORTAL = row(MOVE, NO, NO, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE)
SCHEDULER = row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, HIDDEN, HIDDEN, OK, HIDDEN)  # treating + admins
TWO_FACTOR = row(LOGIN, LOGIN, LOGIN, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE)  # done already: sent on

MATRIX = {
    "home": row(LOGIN, LOGIN, LOGIN, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE),
    "healthz": PUBLIC,
    "favicon": row(*[301] * 9),  # everyone is sent on to the static icon
    "accounts-login": row(OK, OK, OK, MOVE, MOVE, MOVE, MOVE, MOVE, MOVE),
    "accounts-logout": row(NO, NO, NO, NO, NO, NO, NO, NO, NO),  # POST only
    "accounts-2fa-setup": TWO_FACTOR,
    "accounts-2fa-verify": TWO_FACTOR,
    "accounts-2fa-recovery-codes": TWO_FACTOR,
    "accounts-reauth": STAFF,
    "accounts-password": STAFF,
    "accounts-language": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "care-caseload": STAFF,
    "care-client": CLINICAL,
    "care-client-search": STAFF,  # each finds only the clients they may see
    "care-past-clients": STAFF,  # each sees only the ended episodes they may see
    # The treating therapist or an administrator ends an episode; a supervisor may not (403).
    "care-discharge": row(LOGIN, LOGIN, LOGIN, OK, HIDDEN, 403, HIDDEN, OK, HIDDEN),
    "care-episode": CLINICAL,
    "care-session": CLINICAL,
    "checkins-answer": PUBLIC,  # the signed, single-use link is the credential
    "checkins-session": CLINICAL,
    "checkins-reflection": REFLECTION,
    "checkins-schedule": CLINICAL,
    "goals-episode": CLINICAL_TEXT,
    "goals-goal": CLINICAL_TEXT,
    "notes-record": CLINICAL_TEXT,
    "alerts-list": STAFF,  # everyone's own list (empty for those who treat nobody)
    "alerts-detail": CLINICAL_TEXT,
    # Moved into the practice's settings: the old address sends administrators there.
    "alerts-settings": row(LOGIN, LOGIN, LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, MOVE, MOVE),
    "analytics-overview": STAFF,  # aggregates only; each sees their own scope and the practice
    "audit-trail": ADMIN_PAGE,
    "audit-export": ADMIN_PAGE,
    "privacy-erase": ADMIN_OWN,
    "privacy-erasures": ADMIN_PAGE,
    "privacy-retention": ADMIN_PAGE,
    "portal-home": PORTAL,
    "portal-login": PUBLIC,
    "portal-login-link": row(*[HIDDEN] * 9),  # an unknown token; the portal tests cover real ones
    "portal-logout": row(*[NO] * 9),  # POST only
    "portal-start-checkin": POST_ONLY_PORTAL,
    "portal-progress": PORTAL,
    "portal-goals": PORTAL,
    "portal-summaries": PORTAL,
    "portal-data": PORTAL,
    "portal-download": POST_ONLY_PORTAL,
    "goals-portal-propose": POST_ONLY_PORTAL,
    "goals-portal-agree": POST_ONLY_PORTAL,
    "notes-portal-tick": POST_ONLY_PORTAL,
    "scheduling-home": row(LOGIN, LOGIN, LOGIN, MOVE, MOVE, OK, OK, OK, OK),  # therapists: own week
    "scheduling-week": CLINICAL,  # the therapist's own, their supervisors', the admins'
    "scheduling-book": SCHEDULER,
    "scheduling-session": SCHEDULER,
    "scheduling-availability": SCHEDULER,
    "scheduling-feed-settings": row(LOGIN, LOGIN, LOGIN, OK, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "scheduling-feed": row(*[HIDDEN] * 9),  # an unknown token; tests/scheduling cover real ones
    "scheduling-requests": STAFF,  # each sees the requests of the sessions they may move
    "scheduling-request": SCHEDULER,
    "portal-reschedule": PORTAL_OWN,
    "portal-reschedule-accept": POST_ONLY_PORTAL,
    "portal-intake": PORTAL,  # each client their own
    "practice-add-client": row(LOGIN, LOGIN, LOGIN, OK, OK, HIDDEN, HIDDEN, OK, OK),
    "practice-invite": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "practice-staff": ADMIN_PAGE,
    "practice-failed-tasks": ADMIN_PAGE,  # their own practice's failures (and the installation's)
    "practice-failed-task-retry": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "practice-settings": ADMIN_PAGE,
    "practice-staff-invite": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "practice-staff-member": ADMIN_OWN,
    "practice-staff-reassign": ADMIN_OWN,
    "practice-welcome": row(*[HIDDEN] * 9),  # an unknown token; tests/practice cover real ones
    "api-tokens": ADMIN_PAGE,
    "api-tokens-revoke": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "fhir-metadata": PUBLIC,  # the CapabilityStatement, as FHIR expects
    "fhir-search": TOKEN_ONLY,
    "fhir-read": TOKEN_ONLY,
    "api:openapi-json": PUBLIC,
    "api:openapi-view": PUBLIC,  # the interactive documentation
    "api:api-root": row(*[HIDDEN] * 9),
    **{name: TOKEN_ONLY for name in ARGS if name.startswith("api:") and name not in (
        "api:openapi-json", "api:openapi-view", "api:api-root", "api:checkin-send", "api:alert-acknowledge")},
    "api:checkin-send": row(*[NO] * 9),  # POST only
    "api:alert-acknowledge": row(*[NO] * 9),  # POST only
    "webhooks-list": ADMIN_PAGE,  # their own practice's
    "webhooks-endpoint": ADMIN_OWN,
    "webhooks-rotate": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
    "webhooks-delete": row(LOGIN, LOGIN, LOGIN, NO, NO, NO, NO, NO, NO),  # POST only
}

# Portal actions on one client's objects, posted by every visitor: only that client may act.
PORTAL_ACTIONS = {
    "goals-portal-agree": {},
    "notes-portal-tick": {"done": "1"},
    "portal-start-checkin": {},
    "portal-reschedule-accept": {},
}


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            yield from _names(p.url_patterns, prefix + ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name
        elif isinstance(p, URLPattern):
            pytest.fail(f"URL pattern {p.pattern} has no name, so it cannot be in the permission matrix")


def test_every_url_pattern_is_in_the_matrix():
    names = list(_names(get_resolver().url_patterns))
    assert len(names) == len(set(names)), "two URL patterns share a name"
    assert set(names) - MATRIX.keys() == set(), "new views: add them to ARGS and MATRIX"
    assert MATRIX.keys() - set(names) == set(), "MATRIX lists views that no longer exist"
    assert ARGS.keys() == MATRIX.keys()


def _portal_login(client_obj):
    def login(http):
        session = http.session
        session[portal.SESSION_KEY] = signing.dumps({"c": str(client_obj.code)}, salt=portal.SESSION_SALT)
        session.save()
    return login


def _staff_login(user):
    def login(http):
        http.force_login(user)
        http.reauthenticate()  # sensitive pages then answer with their access decision
    return login


def _upcoming_and_a_request_to_move(practice):
    """Two sessions ahead: one the client may ask to move, one whose move the therapist proposed."""
    soon = timezone.now().replace(microsecond=0) + timedelta(days=3)
    upcoming, later = (Session.objects.create(organisation=practice.org, episode=practice.episode,
                                              scheduled_at=soon + timedelta(days=n)) for n in (0, 1))
    move = RescheduleRequest.objects.create(
        organisation=practice.org, key=uuid.uuid4(), session=later, reason=MoveReason.WORK,
        options=[(soon + timedelta(days=2)).isoformat()], status=MoveStatus.PROPOSED,
        proposed_at=soon + timedelta(days=2, hours=2))
    return upcoming, move


def world_and_visitors(practice, other_practice, django_user_model):
    outsider = django_user_model.objects.create_user("outside-supervisor@riverside.test", "x", name="O")
    Membership.objects.create(organisation=practice.org, user=outsider, role=Role.SUPERVISOR)
    with scope(organisation=[practice.org]):
        goal = propose_goal(practice.episode, "Sleep through the night", side=Side.THERAPIST,
                            user=practice.therapist)
        homework = add_item(practice.session, "homework", "Keep a sleep diary")
        share(practice.session, user=practice.therapist)
        alert = raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                            key="rupture:relationship-checkin:1", evidence={"score": 40, "usual": 80})
        checkin = CheckIn.objects.create(
            organisation=practice.org, episode=practice.episode, session=practice.session,
            when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["session-prep"])
        _, link_token = create_invitation(checkin)
        api_token = ApiToken.objects.create(
            organisation=practice.org, name="Other system", user=practice.therapist, prefix="0f0f0f0f",
            digest="0" * 64, scopes=["clients:read"], expires_at=timezone.now() + timedelta(days=1))
        endpoint, _ = create_endpoint(practice.org, url="https://example.org/hooks",
                                      events=["alert.raised"])
        upcoming, move = _upcoming_and_a_request_to_move(practice)
    # A task that failed for good, for this practice (its admins may retry it).
    task_failure = record_failure("rapport.checkins.tasks.mark_practice_missed_checkins", "t1",
                                  [practice.org.pk], {}, "ConnectionRefusedError: smtp down")
    world = SimpleNamespace(**vars(practice), goal=goal, homework=homework, alert=alert,
                            checkin=checkin, link_token=link_token, login_token="unknown-token",
                            api_token=api_token, endpoint=endpoint, upcoming=upcoming, move=move,
                            task_failure=task_failure)
    visitors = {
        "anonymous": lambda http: None,
        "client_own": _portal_login(practice.client),
        "client_other": _portal_login(practice.colleague_client),
        "therapist_own": _staff_login(practice.therapist),
        "therapist_other": _staff_login(practice.colleague),
        "supervisor_team": _staff_login(practice.supervisor),
        "supervisor_outside": _staff_login(outsider),
        "admin_own": _staff_login(practice.admin),
        "admin_other": _staff_login(other_practice.admin),
    }
    mail.outbox.clear()
    return world, visitors


def build_world():
    """The world of world_and_visitors with its two practices, for `built_once_per_module`: the
    matrices' tests only read it (what a request writes is rolled back after each test), so a
    module builds it once rather than once per URL."""
    from rapport.accounts.models import User

    practice, other_practice = make_practice("Riverside"), make_practice("Hillside")
    world, visitors = world_and_visitors(practice, other_practice, User)
    return world, visitors, other_practice


world_built = built_once_per_module(build_world)


@pytest.fixture
def matrix(world_built, db):
    """(world, visitors, other_practice): the module's world, a copy of its objects for each test
    (the visitors log in by the built users' ids, which the copies share)."""
    world, visitors, other_practice = world_built
    return fresh(world), visitors, fresh(other_practice)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(client, matrix, name):
    world, visitors, _ = matrix
    url = reverse(name, args=ARGS[name](world))
    got = {}
    for visitor, login in visitors.items():
        client.logout()
        login(client)
        got[visitor] = client.get(url).status_code
    assert got == MATRIX[name]


@pytest.mark.parametrize("name", sorted(PORTAL_ACTIONS))
def test_portal_actions_on_another_clients_objects_are_hidden(client, matrix, name):
    world, visitors, _ = matrix
    url = reverse(name, args=ARGS[name](world))
    got = {}
    for visitor in ("client_other", "anonymous", "therapist_own", "admin_own", "client_own"):
        client.logout()
        visitors[visitor](client)
        got[visitor] = client.post(url, PORTAL_ACTIONS[name]).status_code
    assert got == {"client_other": HIDDEN, "anonymous": MOVE, "therapist_own": MOVE,
                   "admin_own": MOVE, "client_own": MOVE}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("care-episode", {"presenting_concerns": "x"}),
        ("care-session", {"attendance": "no_show"}),
        ("checkins-schedule", {}),
        ("checkins-reflection", {}),
        ("goals-episode", {}),
        ("notes-record", {}),
        ("alerts-detail", {"to_status": "acknowledged"}),
        ("privacy-erase", {"reason": "asked", "confirm": "on"}),
        ("privacy-retention", {"retain_days_after_last_episode": "10"}),
        ("alerts-settings", {"escalate_after_minutes": "30", "crisis_resources": "Call 999"}),
        ("care-discharge", {"status": "completed", "ended_on": "2026-09-02", "summary": "x",
                            "confirm": "True"}),
        ("accounts-password", {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
        ("accounts-logout", {}),
        ("scheduling-book", {"day": "2030-01-07", "at": "09:00", "minutes": "50", "repeat": "once",
                             "count": "1", "key": "8a0b5a34-9c2f-4b3e-8f0e-3f1c2d4e5f60"}),
        ("scheduling-session", {"action": "cancel", "cancel-by": "client"}),
        ("scheduling-availability", {"weekday": "1", "starts": "09:00", "ends": "12:00"}),
        ("scheduling-feed-settings", {"action": "create"}),
        ("practice-add-client", {"name": "New", "language": "en", "preferred_channel": "text",
                                 "phone": "0123456789"}),
        ("practice-invite", {}),
        ("practice-settings", {"crisis_resources": "x", "invitation_days": "7", "statement": "y"}),
        ("practice-staff-invite", {"email": "new@riverside.test", "name": "New", "role": "therapist"}),
        ("practice-staff-member", {"action": "reset_two_factor"}),
        ("webhooks-list", {"url": "https://example.org/x", "events": "alert.raised"}),
        ("webhooks-rotate", {}),
        ("webhooks-delete", {}),
    ],
)
def test_csrf_is_enforced_on_every_staff_form(web, matrix, name, data):
    """A POST without the CSRF token is refused, even for a fully logged-in administrator."""
    world, _, _ = matrix
    user = (world.admin if name.startswith(("privacy", "webhooks")) or name == "alerts-settings"
            else world.therapist)
    web.force_login(user)
    web.reauthenticate()
    response = web.post(reverse(name, args=ARGS[name](world)), data)
    assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(PORTAL_ACTIONS) + ["goals-portal-propose", "portal-download",
                                                        "portal-intake"])
def test_csrf_is_enforced_on_every_portal_form(web, matrix, name):
    world, visitors, _ = matrix
    visitors["client_own"](web)
    response = web.post(reverse(name, args=ARGS[name](world)), {})
    assert response.status_code == 403


def test_csrf_is_enforced_on_a_check_in_link(web, matrix):
    world, _, _ = matrix
    response = web.post(reverse("checkins-answer", args=[world.link_token]), {"action": "submit"})
    assert response.status_code == 403
