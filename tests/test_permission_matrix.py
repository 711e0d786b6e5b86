"""Every URL pattern, checked for every kind of visitor.

The first test enumerates the URL patterns, so a new view cannot be forgotten: add it to MATRIX
with the status each visitor should get. Objects belong to `practice.therapist` (supervised by
`practice.supervisor`); "other" visitors are the colleague, a supervisor who does not supervise
that therapist, and the staff of another practice.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rapport.accounts.models import Membership, Role

VISITORS = ["anonymous", "therapist_own", "therapist_other", "supervisor_team",
            "supervisor_outside", "admin_own", "admin_other"]

OK, LOGIN, HIDDEN = 200, 302, 404
REDIRECT = 302  # a page that sends a logged-in visitor on (e.g. to the caseload)


def row(anonymous, therapist_own, therapist_other, supervisor_team, supervisor_outside,
        admin_own, admin_other):
    return dict(zip(VISITORS, (anonymous, therapist_own, therapist_other, supervisor_team,
                               supervisor_outside, admin_own, admin_other), strict=True))


STAFF_PAGE = row(LOGIN, OK, OK, OK, OK, OK, OK)
CLINICAL = row(LOGIN, OK, HIDDEN, OK, HIDDEN, OK, HIDDEN)
ADMIN_ONLY = row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, HIDDEN)
ADMIN_PAGE = row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, OK)  # each admin sees their own practice's

# url name -> (arguments from the world, expected GET status per visitor)
MATRIX = {
    "home": (lambda w: [], row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "healthz": (lambda w: [], row(OK, OK, OK, OK, OK, OK, OK)),
    "accounts-login": (lambda w: [], row(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "accounts-logout": (lambda w: [], row(405, 405, 405, 405, 405, 405, 405)),  # POST only
    # Fully logged-in staff are sent on from the two-factor pages.
    "accounts-2fa-setup": (lambda w: [], row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "accounts-2fa-verify": (lambda w: [], row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "accounts-2fa-recovery-codes": (lambda w: [], row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    "accounts-reauth": (lambda w: [], STAFF_PAGE),
    "accounts-password": (lambda w: [], STAFF_PAGE),
    "care-caseload": (lambda w: [], STAFF_PAGE),
    "care-client": (lambda w: [w.client.code], CLINICAL),
    "care-episode": (lambda w: [w.episode.code], CLINICAL),
    "care-session": (lambda w: [w.session.code], CLINICAL),
    "audit-trail": (lambda w: [], ADMIN_PAGE),
    "audit-export": (lambda w: [], ADMIN_PAGE),
    "privacy-erase": (lambda w: [w.client.code], ADMIN_ONLY),
    "privacy-erasures": (lambda w: [], ADMIN_PAGE),
    "privacy-retention": (lambda w: [], ADMIN_PAGE),
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
    names = set(_names(get_resolver().url_patterns))
    assert names - MATRIX.keys() == set(), "new views: add them to MATRIX"
    assert MATRIX.keys() - names == set(), "MATRIX lists views that no longer exist"


@pytest.fixture
def visitors(practice, other_practice, django_user_model):
    outsider = django_user_model.objects.create_user("outside-supervisor@riverside.test", "x", name="O")
    Membership.objects.create(organisation=practice.org, user=outsider, role=Role.SUPERVISOR)
    return {
        "anonymous": None,
        "therapist_own": practice.therapist,
        "therapist_other": practice.colleague,
        "supervisor_team": practice.supervisor,
        "supervisor_outside": outsider,
        "admin_own": practice.admin,
        "admin_other": other_practice.admin,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(client, practice, visitors, name):
    args_of, expected = MATRIX[name]
    url = reverse(name, args=args_of(practice))
    got = {}
    for visitor, user in visitors.items():
        client.logout()
        if user is not None:
            client.force_login(user)
            client.reauthenticate()  # sensitive pages then answer with their access decision
        got[visitor] = client.get(url).status_code
    assert got == expected


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("care-episode", {"presenting_concerns": "x"}),
        ("care-session", {"attendance": "no_show"}),
        ("privacy-erase", {"reason": "asked", "confirm": "on"}),
        ("privacy-retention", {"retain_days_after_last_episode": "10"}),
        ("accounts-password", {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
        ("accounts-logout", {}),
    ],
)
def test_csrf_is_enforced_on_every_form(web, practice, name, data):
    """A POST without the CSRF token is refused for a fully logged-in administrator."""
    web.force_login(practice.admin)
    web.reauthenticate()
    args = MATRIX[name][0](practice)
    response = web.post(reverse(name, args=args), data)
    assert response.status_code == 403
