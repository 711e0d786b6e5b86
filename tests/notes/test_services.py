"""Session record services, the client's prep as agenda, and the portal-side functions."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.checkins.services.submission import submit
from rapport.notes import services
from rapport.notes.models import AgendaItem, Homework, SessionRecord


def _shared_session(p, summary="We talked about sleep", note="Private: family history"):
    services.save_summary(p.session, summary, "Try the wind-down routine")
    services.save_private_note(p.session, note)
    hw = services.add_item(p.session, "homework", "Write down three good things each evening")
    services.share(p.session, user=p.therapist)
    return hw


def test_reading_writes_nothing(in_org):
    rec = services.record_of(in_org.session)
    assert rec.pk is None and not rec.is_shared
    assert not SessionRecord.objects.exists()


def test_shared_record_reaches_the_client_without_the_private_note(in_org):
    p = in_org
    _shared_session(p)
    shown = services.shared_records_for_client(p.client)
    assert len(shown) == 1
    assert shown[0].summary == "We talked about sleep"
    assert shown[0].next_steps == "Try the wind-down routine"
    assert [h.text for h in shown[0].homework] == ["Write down three good things each evening"]
    assert "Private" not in repr(shown) and not hasattr(shown[0], "private_note")
    audit = AuditEvent.objects.get(action="notes.shared_records.viewed_by_client")
    assert audit.actor_label == f"client:{p.client.code}"


def test_unshared_record_is_not_shown_and_unsharing_is_audited(in_org):
    p = in_org
    services.save_summary(p.session, "Draft", "")
    assert services.shared_records_for_client(p.client) == []
    _shared_session(p)
    services.unshare(p.session)
    assert services.shared_records_for_client(p.client) == []
    actions = list(AuditEvent.objects.filter(action__startswith="notes.record.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["notes.record.shared", "notes.record.unshared"]


def test_client_sees_only_their_own_records(in_org):
    p = in_org
    _shared_session(p)
    services.save_summary(p.colleague_session, "Someone else", "")
    services.share(p.colleague_session)
    assert [r.summary for r in services.shared_records_for_client(p.client)] == [
        "We talked about sleep"
    ]


def test_client_ticks_own_shared_homework(in_org):
    p = in_org
    hw = _shared_session(p)
    item = services.tick_homework(p.client, hw.code, True)
    assert item.done_at is not None
    assert services.shared_records_for_client(p.client)[0].homework[0].done_at is not None
    item = services.tick_homework(p.client, str(hw.code), False)
    assert item.done_at is None
    assert AuditEvent.objects.filter(action="notes.homework.ticked").count() == 2


def test_client_cannot_tick_others_or_unshared_homework(in_org):
    p = in_org
    services.save_summary(p.colleague_session, "x", "")
    theirs = services.add_item(p.colleague_session, "homework", "Theirs")
    services.share(p.colleague_session)
    mine_unshared = services.add_item(p.session, "homework", "Not shared yet")
    for code in (theirs.code, mine_unshared.code, uuid.uuid4(), "junk"):
        with pytest.raises(services.RecordNotFound):
            services.tick_homework(p.client, code, True)
    assert not Homework.objects.filter(done_at__isnull=False).exists()


def test_another_practices_client_reaches_nothing(practice, other_practice):
    with scope(organisation=[practice.org]):
        hw = _shared_session(practice)
    with scope(organisation=[other_practice.org]):
        assert services.shared_records_for_client(other_practice.client) == []
        with pytest.raises(services.RecordNotFound):
            services.tick_homework(other_practice.client, hw.code, True)


def test_bad_input_changes_nothing(in_org):
    p = in_org
    with pytest.raises(services.RecordError):
        services.add_item(p.session, "homework", "  ")
    with pytest.raises(services.RecordError):
        services.add_item(p.session, "agenda", "x" * (services.ITEM_MAX + 1))
    with pytest.raises(services.RecordError):
        services.save_summary(p.session, "x" * (services.TEXT_MAX + 1), "")
    assert not SessionRecord.objects.exists()


def test_items_of_another_session_cannot_be_removed(in_org):
    p = in_org
    theirs = services.add_item(p.colleague_session, "agenda", "Theirs")
    with pytest.raises(services.RecordNotFound):
        services.remove_item(p.session, "agenda", theirs.code)
    assert AgendaItem.objects.filter(pk=theirs.pk).exists()


def test_agenda_comes_from_the_clients_session_prep(in_org):
    p = in_org
    assert services.session_prep(p.session) == []
    submit(episode=p.episode, session=p.session, instrument_id="session-prep",
           answers={"focus": "My sister's visit", "since-last": 6, "questions": ""})
    prep = services.session_prep(p.session)
    assert [(a.question, a.answer) for a in prep] == [
        ("What do you want to focus on in your next session?", "My sister's visit"),
        ("How have you been since last time? (0 = very bad, 10 = very good)", "6"),
    ]


def test_writes_are_audited_without_free_text(in_org):
    p = in_org
    _shared_session(p, summary="Secret summary", note="Secret note")
    services.add_item(p.session, "agenda", "Secret agenda")
    events = AuditEvent.objects.filter(action__startswith="notes.")
    assert {e.action for e in events} >= {
        "notes.summary.saved", "notes.private_note.saved", "notes.homework.added",
        "notes.record.shared", "notes.agenda_item.added",
    }
    assert all(e.client_code == p.client.code for e in events)
    assert "Secret" not in json.dumps([e.detail for e in events])


def test_record_text_is_encrypted_at_rest(in_org):
    p = in_org
    _shared_session(p, summary="Plain summary", note="Plain note")
    services.add_item(p.session, "agenda", "Plain agenda")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT summary, next_steps, private_note FROM {SessionRecord._meta.db_table}")
        values = list(cursor.fetchone())
        for model in (AgendaItem, Homework):
            cursor.execute(f"SELECT text FROM {model._meta.db_table}")
            values += [r[0] for r in cursor.fetchall()]
    assert len(values) == 5
    assert all(v.startswith("gAAAA") for v in values)
    assert not any("Plain" in v or "routine" in v or "good things" in v for v in values)
