

def test_a_rupture_alert_opens_the_repair_guide_and_others_do_not(client, practice):
    from tests.alerts.conftest import make_alert

    rupture = make_alert(practice, kind="rupture")
    risk = make_alert(practice, kind="reliable_deterioration", key="reliable_deterioration:phq9:3",
                      evidence={"first": 10, "last": 17})
    client.force_login(practice.therapist)
    body = client.get(f"/alerts/{rupture.code}/").content.decode()
    assert "A short repair guide" in body and "Invite the client" in body
    other = client.get(f"/alerts/{risk.code}/").content.decode()
    assert "A short repair guide" not in other


def test_a_risk_alert_puts_the_client_a_tap_away_until_resolved(client, practice):
    from django_scopes import scope

    from rapport.alerts import services
    from tests.alerts.conftest import make_alert

    with scope(organisation=practice.org):
        practice.client.phone, practice.client.emergency_contact = "+44 7700 900456", "Sam 07700 900789"
        practice.client.save()
    risk = make_alert(practice, kind="risk", severity="urgent", key="risk:phq9:1",
                      evidence={"instrument": "phq9", "item": "phq9-9", "value": 2})
    rupture = make_alert(practice)
    client.force_login(practice.therapist)
    url = f"/alerts/{risk.code}/"
    body = client.get(url).content.decode()
    assert 'href="tel:+447700900456"' in body and 'href="tel:07700900789"' in body
    assert 'href="tel:' not in client.get(f"/alerts/{rupture.code}/").content.decode()
    with scope(organisation=practice.org):
        services.transition(risk, "acknowledged", request=None)
        services.transition(risk, "resolved", request=None, note="Called; safe; plan agreed.")
    assert 'href="tel:' not in client.get(url).content.decode()
