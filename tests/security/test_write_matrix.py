"""Every URL pattern posted to by every actor, the "password done, second factor not yet" state,
error pages, and who each audit row is attributed to.

Extends tests/test_permission_matrix.py (GET only) with the same world and visitors, plus
`unverified`: the treating therapist after the password step only.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.alerts.services import raise_alert
from rapport.audit.models import AuditEvent
from tests.conftest import built_once_per_module, fresh
from tests.test_permission_matrix import ARGS, MATRIX, build_world

# What a POST (a form with no fields) gets, by visitor. Outcomes: an HTTP status, or where a
# redirect goes: LOGIN (staff login), 2FA (second-factor step), PORTAL (portal login), ON (on to
# the next page, after acting or because nothing was to be done there).
VISITORS = ["anonymous", "unverified", "client_own", "client_other", "therapist_own",
            "therapist_other", "supervisor_team", "supervisor_outside", "admin_own", "admin_other"]


def row(*outcomes):
    return dict(zip(VISITORS, outcomes, strict=True))


def _outcome(response) -> str | int:
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    for prefix, name in ((reverse("accounts-2fa-verify"), "2FA"), (reverse("accounts-2fa-setup"), "2FA"),
                         (reverse("accounts-login"), "LOGIN"), (reverse("portal-login"), "PORTAL")):
        if location.startswith(prefix):
            return name
    return "ON"


def _build():
    world, visitors, _ = build_world()
    with scope(organisation=[world.org]):
        # An urgent alert: the banner that must never reach a session without its second factor.
        raise_alert(episode=world.episode, kind="risk", severity="urgent", key="risk:phq9:1",
                    evidence={"item": "phq9-9", "answer": 2})

    from rapport.accounts.models import AuthenticatorDevice

    # Enrolled, as the attacker found it: the password is known, the code is not.
    AuthenticatorDevice.objects.create(user=world.therapist, name="app", confirmed=True)

    def unverified(http, therapist=world.therapist):
        http.force_login(therapist, verified=False)

    visitors = {"unverified": unverified, **visitors}
    with scopes_disabled():
        from rapport.care.models import Client

        names = [c.name for c in Client.objects.all()]
    return world, visitors, names


# Built once for the module (see built_once_per_module): each test's requests are rolled back.
world_built = built_once_per_module(_build)


@pytest.fixture
def world(world_built, db):
    world, visitors, names = world_built
    return fresh(world), visitors, names


def _post(client, name, world):
    return client.post(reverse(name, args=ARGS[name](world)), {})


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_no_page_for_an_unverified_session_names_a_client(client, world, name):
    world, visitors, names = world
    visitors["unverified"](client)
    for method in ("get", "post"):
        response = getattr(client, method)(reverse(name, args=ARGS[name](world)))
        body = response.content.decode() if not response.streaming else ""
        leaked = [n for n in names if n in body]
        assert leaked == [], f"{method.upper()} {name} ({response.status_code}) shows {leaked}"
        assert _outcome(response) not in (200, "ON") or name in UNVERIFIED_MAY_SEE, (
            f"{method.upper()} {name} answered {response.status_code} before the second factor")


# Pages a password-only session may reach: the login steps themselves and public pages.
UNVERIFIED_MAY_SEE = {
    "accounts-2fa-verify", "accounts-2fa-setup", "accounts-2fa-recovery-codes", "accounts-logout",
    "accounts-login", "healthz", "checkins-answer", "portal-login", "portal-login-link",
    "home",
}


def test_error_pages_for_an_unverified_session_name_no_client(client, world):
    world, visitors, names = world
    visitors["unverified"](client)
    for url in ("/no-such-page/", f"/clients/{world.colleague_client.code}x/", "/sessions/nope/"):
        body = client.get(url).content.decode()
        assert [n for n in names if n in body] == [], url


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_post_is_refused_to_everyone_without_access_and_attributed(client, world, name):
    world, visitors, _ = world
    got = {}
    for visitor in VISITORS:
        client.logout()
        visitors[visitor](client)
        before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        got[visitor] = _outcome(_post(client, name, world))
        new = list(AuditEvent.objects.filter(seq__gt=before))
        _check_attribution(visitor, world, new, name)
    expected = POST_MATRIX[name]
    assert got == expected


def _check_attribution(visitor, world, events, name):
    """Each audit row names whoever acted: the staff member, or the client in their portal."""
    staff = {"unverified": world.therapist, "therapist_own": world.therapist,
             "therapist_other": world.colleague, "supervisor_team": world.supervisor,
             "admin_own": world.admin}
    for event in events:
        where = f"{visitor} POST {name}: {event.action} by {event.actor_label}"
        if visitor in staff:
            assert event.actor == staff[visitor], where
        elif visitor in ("supervisor_outside", "admin_other"):
            assert event.actor is not None and event.actor_label == f"user:{event.actor.email}", where
        elif visitor == "client_own":
            assert (event.actor, event.actor_label) == (None, f"client:{world.client.code}"), where
        elif visitor == "client_other":
            assert (event.actor, event.actor_label) == (None, f"client:{world.colleague_client.code}"), where
        else:  # anonymous: only the holder of a check-in link, speaking as its client
            assert event.actor is None and not event.actor_label.startswith("user:"), where


POST_MATRIX = {
    #  anonymous, unverified, client_own, client_other, therapist_own, therapist_other,
    #  supervisor_team, supervisor_outside, admin_own, admin_other
    "accounts-2fa-recovery-codes": row("LOGIN", "ON", "LOGIN", "LOGIN", "ON", "ON", "ON", "ON", "ON", "ON"),
    "accounts-2fa-setup": row("LOGIN", "2FA", "LOGIN", "LOGIN", "2FA", "2FA", "2FA", "2FA", "2FA", "2FA"),
    "accounts-2fa-verify": row("LOGIN", 200, "LOGIN", "LOGIN", "ON", "ON", "ON", "ON", "ON", "ON"),
    "accounts-login": row(200, "ON", 200, 200, "ON", "ON", "ON", "ON", "ON", "ON"),
    "accounts-logout": row("LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN", "LOGIN"),
    "accounts-password": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 200, 200, 200, 200, 200),
    "accounts-language": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", "ON", "ON", "ON", "ON", "ON"),
    "accounts-reauth": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 200, 200, 200, 200, 200),
    "alerts-detail": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 200, 404, 404, 404),
    "alerts-list": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "analytics-overview": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "audit-export": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "audit-trail": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "care-caseload": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 200, 200, 200, 200, 200),
    "care-client": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 200, 404, 200, 404),
    "care-client-search": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "care-past-clients": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "care-discharge": row("LOGIN", "2FA", "LOGIN", "LOGIN", 400, 404, 403, 404, 400, 404),
    "care-episode": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 200, 404, 403, 404),
    "care-session": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 200, 404, 200, 404),
    "checkins-answer": row(200, "2FA", 200, 200, 200, 200, 200, 200, 200, 200),
    "checkins-reflection": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 403, 404, 403, 404),
    "checkins-schedule": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", 404, 403, 404, "ON", 404),
    "checkins-session": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 404, 404),
    "goals-episode": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 403, 404, 404, 404),
    "goals-goal": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 403, 404, 404, 404),
    "goals-portal-agree": row("PORTAL", "2FA", "ON", 404, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "goals-portal-propose": row("PORTAL", "2FA", 400, 400, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "healthz": row(405, 405, 405, 405, 405, 405, 405, 405, 405, 405),
    "home": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", "ON", "ON", "ON", "ON", "ON"),
    "notes-portal-tick": row("PORTAL", "2FA", "ON", 404, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "notes-record": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 403, 404, 404, 404),
    "portal-data": row("PORTAL", "2FA", 200, 200, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-download": row("PORTAL", "2FA", 200, 200, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-goals": row("PORTAL", "2FA", 405, 405, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-home": row("PORTAL", "2FA", 200, 200, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-login": row(200, "2FA", 200, 200, 200, 200, 200, 200, 200, 200),
    "portal-login-link": row(404, "2FA", 404, 404, 404, 404, 404, 404, 404, 404),
    "portal-logout": row("PORTAL", "2FA", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-progress": row("PORTAL", "2FA", 200, 200, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-start-checkin": row("PORTAL", "2FA", "ON", 404, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-summaries": row("PORTAL", "2FA", 405, 405, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "privacy-erase": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 404),
    "privacy-erasures": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "privacy-retention": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    # Scheduling, running the practice, urgent-alert settings: reviewed by hand. Pages without an
    # object in their address act on the visitor's own practice (admin_other: their own).
    "alerts-settings": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, "ON", "ON"),
    "favicon": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "portal-intake": row("PORTAL", "2FA", 200, 200, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "practice-add-client": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 200, 404, 404, 200, 200),
    "practice-invite": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", 404, 404, 404, "ON", 404),
    "practice-settings": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "practice-staff": row("LOGIN", "2FA", "LOGIN", "LOGIN", 405, 405, 405, 405, 405, 405),
    "practice-failed-tasks": row("LOGIN", "2FA", "LOGIN", "LOGIN", 405, 405, 405, 405, 405, 405),
    # Queued again by its own practice's administrator only; another practice's gets 404.
    "practice-failed-task-retry": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, "ON",
                                      404),
    "practice-staff-invite": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 400, 400),
    "practice-staff-member": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 404),
    "practice-staff-reassign": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 404),
    "practice-welcome": row(404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    "scheduling-availability": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 404, 404, 200, 404),
    "scheduling-book": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 404, 404, 200, 404),
    "scheduling-feed": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "scheduling-feed-settings": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", "ON", 404, 404, 404, 404),
    "scheduling-home": row("LOGIN", "2FA", "LOGIN", "LOGIN", "ON", "ON", 200, 200, 200, 200),
    "scheduling-session": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 404, 404, 200, 404),
    "scheduling-requests": row("LOGIN", "2FA", "LOGIN", "LOGIN", 405, 405, 405, 405, 405, 405),
    "scheduling-request": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 404, 404, 200, 404),
    "portal-reschedule": row("PORTAL", "2FA", 200, 404, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "portal-reschedule-accept": row("PORTAL", "2FA", "ON", 404, "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL", "PORTAL"),
    "scheduling-week": row("LOGIN", "2FA", "LOGIN", "LOGIN", 200, 404, 200, 404, 200, 404),
    # API tokens: the practice's admins only (an empty form is refused and shown again).
    "api-tokens": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "api-tokens-revoke": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, "ON", 404),
    # The API and FHIR take API tokens, never a session: 401 to every browser, 405 where only GET.
    "fhir-metadata": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "fhir-search": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    "fhir-read": row(405, "2FA", 405, 405, 405, 405, 405, 405, 405, 405),
    **{name: row(*[405, "2FA"], *[405] * 8) for name in MATRIX if name.startswith("api:") and name not in (
        "api:api-root", "api:session-checkins", "api:session-checkins-plan", "api:responses",
        "api:responses-submit", "api:episode-goals", "api:episode-goals-propose", "api:checkin-send",
        "api:alert-acknowledge")},
    "api:api-root": row(404, "2FA", *[404] * 8),
    **{name: row(401, "2FA", *[401] * 8) for name in (
        "api:session-checkins", "api:session-checkins-plan", "api:responses", "api:responses-submit",
        "api:episode-goals", "api:episode-goals-propose", "api:checkin-send", "api:alert-acknowledge")},
    # Webhooks: administrators of the endpoint's practice only (the list: each their own).
    "webhooks-list": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 200),
    "webhooks-endpoint": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, 200, 404),
    "webhooks-rotate": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, "ON", 404),
    "webhooks-delete": row("LOGIN", "2FA", "LOGIN", "LOGIN", 404, 404, 404, 404, "ON", 404),
}
