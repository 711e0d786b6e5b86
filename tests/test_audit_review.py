"""Administrators search and export their practice's audit trail; nobody else reaches it."""

import csv
import io
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from rapport.audit.models import AuditEvent
from tests.conftest import login


@pytest.fixture
def trail(client, practice, other_practice):
    """Some reads by the therapist and the colleague, and one in the other practice."""
    login(client, practice.therapist)
    client.get(reverse("care-episode", args=[practice.episode.code]))
    client.get(reverse("care-client", args=[practice.client.code]))
    login(client, practice.colleague)
    client.get(reverse("care-episode", args=[practice.colleague_episode.code]))
    login(client, other_practice.therapist)
    client.get(reverse("care-episode", args=[other_practice.episode.code]))
    client.logout()
    return practice


@pytest.mark.parametrize(("who", "expected"), [("admin", 200), ("supervisor", 404), ("therapist", 404)])
def test_only_admins_reach_the_trail(client, practice, who, expected):
    login(client, getattr(practice, who))
    client.reauthenticate()
    assert client.get(reverse("audit-trail")).status_code == expected
    assert client.get(reverse("audit-export")).status_code == expected


def test_anonymous_is_sent_to_login(client, db):
    assert client.get(reverse("audit-trail")).status_code == 302


def test_admin_sees_only_their_practice(client, trail, other_practice):
    login(client, trail.admin)
    client.reauthenticate()
    body = client.get(reverse("audit-trail")).content.decode()
    assert "therapist@riverside.test" in body
    assert "therapist@hillside.test" not in body


@pytest.mark.parametrize(
    ("params", "actors"),
    [
        ({"user": "colleague"}, {"user:colleague@riverside.test"}),
        ({"action": "care.client"}, {"user:therapist@riverside.test"}),
    ],
)
def test_filters(client, trail, params, actors):
    login(client, trail.admin)
    client.reauthenticate()
    response = client.get(reverse("audit-export"), params)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["actor"] for r in rows} == actors


def test_filter_by_client(client, trail):
    login(client, trail.admin)
    client.reauthenticate()
    response = client.get(reverse("audit-export"), {"client": str(trail.client.code)})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["client"] for r in rows} == {trail.client.name}
    assert {r["action"] for r in rows} == {"care.episode.viewed", "care.client.viewed",
                                          "workspace.answers.viewed"}


def test_filter_by_date_range(client, trail):
    login(client, trail.admin)
    client.reauthenticate()
    response = client.get(reverse("audit-export"), {"date_from": "2000-01-01", "date_to": "2000-01-02"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == []


def test_invalid_filters_show_an_error_and_no_rows(client, trail):
    login(client, trail.admin)
    client.reauthenticate()
    response = client.get(reverse("audit-trail"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    body = response.content.decode()
    assert "The start date is after the end date." in body
    assert "Nothing matches." in body


def test_reviewing_the_trail_is_itself_audited(client, trail):
    login(client, trail.admin)
    client.reauthenticate()
    client.get(reverse("audit-trail"), {"action": "care"})
    b"".join(client.get(reverse("audit-export")).streaming_content)
    viewed = AuditEvent.objects.get(action="audit.trail.viewed")
    assert viewed.detail == {"filters": {"action": "care"}}
    assert AuditEvent.objects.filter(action="audit.trail.exported", actor=trail.admin).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database-level guard is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_audit_rows(trail):
    event_id = AuditEvent.objects.values_list("pk", flat=True).first()
    for sql in ("UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [event_id])
    assert AuditEvent.objects.filter(pk=event_id).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database-level guard is PostgreSQL's")
def test_postgresql_allows_masking_only_of_the_masked_columns(trail):
    event_id = AuditEvent.objects.values_list("pk", flat=True).first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL rapport.audit_masking = 'on'")
        cursor.execute("UPDATE audit_auditevent SET object_code = '' WHERE id = %s", [event_id])
    assert AuditEvent.objects.get(pk=event_id).object_code == ""


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_export_cannot_smuggle_a_formula_into_a_spreadsheet(client, trail, name):
    from django_scopes import scopes_disabled

    with scopes_disabled():
        trail.client.name = name
        trail.client.save()
    login(client, trail.admin)
    client.reauthenticate()
    response = client.get(reverse("audit-export"), {"client": str(trail.client.code)})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["client"] for r in rows} == {"'" + name}


def test_the_trail_names_people_not_codes(client, practice):
    """A client's own action is named by the client's name; Rapport's by 'Rapport'."""
    from django_scopes import scope

    from rapport.audit.services import record

    with scope(organisation=[practice.org]):
        record(None, "checkins.checkin.opened", practice.episode, client=practice.client,
               organisation=practice.org, actor_label=f"client:{practice.client.code}")
        record(None, "alerts.alert.notified", practice.episode, client=practice.client,
               organisation=practice.org, actor_label="system")
    login(client, practice.admin)
    body = re.sub(r"<[^>]+>", " ", client.get(reverse("audit-trail")).content.decode())
    assert f"{practice.client.name} (client)" in body
    assert "Rapport (automatic)" in body
    assert str(practice.client.code) not in body and "client:" not in body


def test_the_trail_speaks_the_reader_s_language(client, practice):
    """Who acted is worded in the administrator's language, the command line included."""
    from django_scopes import scope

    from rapport.audit.services import record

    with scope(organisation=[practice.org]):
        record(None, "checkins.checkin.opened", practice.episode, client=practice.client,
               organisation=practice.org, actor_label=f"client:{practice.client.code}")
        record(None, "alerts.alert.notified", practice.episode, organisation=practice.org,
               actor_label="system")
        record(None, "accounts.staff.added", practice.therapist, organisation=practice.org,
               actor_label="cli")
    practice.admin.language = "es"
    practice.admin.save()
    login(client, practice.admin)
    body = re.sub(r"<[^>]+>", " ", client.get(reverse("audit-trail")).content.decode())
    assert f"{practice.client.name} (cliente)" in body
    assert "Rapport (automático)" in body and "La línea de órdenes del servidor" in body
    assert "(client)" not in body and " cli " not in body
