

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
