"""Urgent alerts stay on every staff page until someone acknowledges them."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django_scopes import scope

from rapport.accounts.models import AuthenticatorDevice
from rapport.alerts import services
from rapport.alerts.context_processors import urgent_alerts
from tests.alerts.conftest import make_alert
from tests.conftest import login

BANNER = 'id="urgent-banner-title"'


def pages(practice):
    return [
        reverse("care-caseload"),
        reverse("care-episode", args=[practice.episode.code]),
        reverse("care-session", args=[practice.session.code]),
        reverse("alerts-list"),
    ]


def test_an_urgent_alert_is_on_every_staff_page_until_acknowledged(client, practice):
    alert = make_alert(practice, kind="risk", severity="urgent", key="risk:abc",
                       evidence={"item": "phq9-9", "value": 2})
    login(client, practice.therapist)
    for url in pages(practice):
        body = client.get(url).content.decode()
        assert BANNER in body, url
        assert reverse("alerts-detail", args=[alert.code]) in body
    with scope(organisation=practice.org):
        services.transition(alert, "acknowledged", request=None)
    for url in pages(practice):
        assert BANNER not in client.get(url).content.decode(), url


@pytest.mark.parametrize(("who", "shown"), [
    ("therapist", True), ("supervisor", True), ("colleague", False), ("admin", False),
])
def test_the_banner_follows_who_may_see_the_alert(client, practice, who, shown):
    make_alert(practice, kind="risk", severity="urgent", key="risk:abc", evidence={})
    login(client, getattr(practice, who))
    assert (BANNER in client.get(reverse("care-caseload")).content.decode()) is shown


def test_warnings_are_not_in_the_banner(client, practice):
    make_alert(practice, severity="warning")
    login(client, practice.therapist)
    assert BANNER not in client.get(reverse("care-caseload")).content.decode()


def test_the_login_page_has_no_banner(client, practice):
    make_alert(practice, kind="risk", severity="urgent", key="risk:abc", evidence={})
    assert BANNER not in client.get(reverse("accounts-login")).content.decode()


def test_no_banner_or_name_before_the_second_factor(client, practice):
    """A stolen password alone must not reveal which clients raised urgent alerts: neither the
    two-factor page nor an error page shows the banner, a client's name or the practice."""
    make_alert(practice, kind="risk", severity="urgent", key="risk:abc", evidence={})
    AuthenticatorDevice.objects.create(user=practice.therapist, name="phone", confirmed=True)
    client.force_login(practice.therapist, verified=False)
    for url, status in [(reverse("accounts-2fa-verify"), 200), ("/no-such-page/", 404),
                        (reverse("care-caseload"), 302)]:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == status, url
        assert BANNER not in body, url
        assert practice.client.name not in body, url
        assert practice.org.name not in body, url
    client.force_login(practice.therapist)  # both steps: now the banner is there
    assert BANNER in client.get("/no-such-page/").content.decode()


def test_the_banner_costs_one_query(practice, django_assert_num_queries):
    make_alert(practice, kind="risk", severity="urgent", key="risk:abc", evidence={})
    request = RequestFactory().get("/")
    request.user, request.organisation = practice.therapist, practice.org
    request.user.is_verified = lambda: True  # as django_otp's middleware sets it after both steps
    request.roles = frozenset({"therapist"})
    with scope(organisation=practice.org):
        context = urgent_alerts(request)
        with django_assert_num_queries(1):
            assert len(context["urgent_alerts"]) == 1
            assert context["urgent_alerts"][0].episode.client.display_name


def test_a_risk_answer_heads_the_banner_and_the_list_even_when_older(client, practice):
    """Six scores off track raised after it do not push a client at risk down the banner."""
    risk = make_alert(practice, kind="risk", severity="urgent", key="risk:phq9:1",
                      evidence={"instrument": "phq9", "item": "phq9-9", "value": 2})
    later = [make_alert(practice, kind="not_on_track", severity="urgent", key=f"not_on_track:{i}",
                        evidence={"instrument": "phq9", "score": 20, "warning_beyond": 14})
             for i in ("phq9", "gad7")]
    login(client, practice.therapist)
    for url in (reverse("care-caseload"), reverse("alerts-list")):
        body = client.get(url).content.decode()
        banner = body[body.index(BANNER):]
        links = [banner.index(reverse("alerts-detail", args=[a.code])) for a in [risk, *later]]
        assert links[0] == min(links), url
    listed = client.get(reverse("alerts-list")).content.decode().split("</section>", 1)[1]
    at = [listed.index(reverse("alerts-detail", args=[a.code])) for a in [risk, *later]]
    assert at[0] == min(at)


def test_a_phone_lists_three_and_links_the_rest(client, practice):
    """Five urgent alerts: all five in the page (a desktop shows them), and the link a phone
    shows after its first three says how many more there are."""
    alerts = [make_alert(practice, kind="not_on_track", severity="urgent", key=f"not_on_track:{i}",
                         evidence={"instrument": "phq9", "score": 20, "warning_beyond": 14})
              for i in range(5)]
    login(client, practice.therapist)
    body = client.get(reverse("care-caseload")).content.decode()
    banner = body[body.index(BANNER):body.index("</section>", body.index(BANNER))]
    assert all(reverse("alerts-detail", args=[a.code]) in banner for a in alerts)
    assert 'class="urgent-more"' in banner and "2 more: all open alerts" in banner
    # What a phone shows of it: tests/browser/test_risk_answer.py
