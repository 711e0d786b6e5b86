"""Erasure reaches every app: check-ins, portal, goals, session records and alerts.

A client gets data in every app through the apps' own services; a colleague's client gets the
same. Erasing the first, with and without kept scores, must leave nothing of theirs beyond what
the policy keeps, no free text anywhere, an audit trail that names none of their objects, and the
colleague's client exactly as before. The rows "of the client" are found from the model graph
(every row that points, through any chain of foreign keys, at the client, an episode or a
session), so a model added later is covered without changing these tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.alerts import services as alerts
from rapport.audit.models import AuditEvent
from rapport.care.models import CareEpisode, Client, Session
from rapport.checkins.models import CheckIn, ImportedRecord, Respondent, Response, When
from rapport.checkins.services.answers import save_draft
from rapport.checkins.services.consent import accept_statement, current_statement
from rapport.checkins.services.invitations import create_invitation
from rapport.checkins.services.schedule import schedule_for
from rapport.checkins.services.submission import submit
from rapport.core.fields import encrypted_fields
from rapport.core.models import TokenBucket
from rapport.goals import services as goals
from rapport.goals.models import Side
from rapport.notes import services as notes
from rapport.portal import services as portal
from rapport.portal.models import LoginLink
from rapport.privacy import registry
from rapport.privacy.models import Erasure, RetentionPolicy
from rapport.privacy.services import ERASED_NAME, erase_client
from tests.checkins.conftest import PHQ9_MILD
from tests.conftest import StaffClient, built_once_per_module, fresh, login, make_practice
from tests.goals.conftest import rate

# What keep_scores=True keeps (de-identified); every other row of the client goes either way.
KEPT = {
    "care.client", "care.careepisode", "care.session",
    "checkins.response", "checkins.checkin", "checkins.consent",
    "alerts.alert", "alerts.alertstep", "goals.goal", "goals.goalevent",
}
# Rows the fixture creates in every app (so an eraser that does nothing cannot pass).
POPULATED = KEPT | {
    "checkins.invitation", "checkins.draft", "checkins.schedule", "portal.loginlink",
    "notes.sessionrecord", "notes.agendaitem", "notes.homework", "checkins.importedrecord",
}
CARE_MODELS = (Client, CareEpisode, Session)


def _pointing_at(model):
    """The foreign keys of other models (and of itself) pointing at `model`, hidden ones included."""
    return [f for f in model._meta.get_fields(include_hidden=True)
            if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)]


@dataclass
class Person:
    client: Client
    marker: str  # in every piece of free text written by or about them
    limit_key: str  # the login rate limit's bucket for their address


def _populate(http, practice, *, client, episode, session, therapist, marker) -> Person:
    """Data about `client` in every app, written through the apps' services."""
    org = practice.org
    email = f"{marker.lower()}@example.test"
    with scopes_disabled():
        Client.objects.filter(pk=client.pk).update(email=email, phone=f"+44 7700 {len(marker):06d}")
        client.refresh_from_db()
    with scope(organisation=[org]):
        later = Session.objects.create(organisation=org, episode=episode,
                                       scheduled_at=session.scheduled_at + timedelta(weeks=1))
        # Check-ins: consent, a schedule, a check-in with a link, answers with free text, a risk
        # answer and its correction, a therapist's reflection, and a draft not yet submitted.
        accept_statement(client, current_statement(org))
        schedule_for(episode)
        before = CheckIn.objects.create(organisation=org, episode=episode, session=session,
                                        when=When.BEFORE, respondent=Respondent.CLIENT,
                                        instruments=["session-prep", "phq9"])
        create_invitation(before)
        submit(episode=episode, instrument_id="session-prep", checkin=before,
                        answers={"focus": f"{marker} focus", "since-last": 4,
                                 "tell-therapist": f"{marker} tells"})
        risky = submit(episode=episode, instrument_id="phq9", checkin=before,
                                answers=PHQ9_MILD | {"phq9-9": 2}).response
        submit(episode=episode, instrument_id="phq9", checkin=before, supersedes=risky,
                        answers=PHQ9_MILD)
        # Where an answer came from when it was imported: an identifier in another system.
        ImportedRecord.objects.create(organisation=org, client=client, response=risky, source="fhir",
                                      source_id=f"QuestionnaireResponse?identifier=urn:x|{marker}")
        after = CheckIn.objects.create(organisation=org, episode=episode, session=session,
                                       when=When.AFTER, respondent=Respondent.CLIENT,
                                       instruments=["relationship-checkin"])
        create_invitation(after)
        save_draft(after, "relationship-checkin", {"trust": 6, "not-right": f"{marker} draft"})
        submit(episode=episode, instrument_id="relationship-checkin", session=later,
                        answers={c: 7 for c in ("trust", "empathy", "genuineness", "respect",
                                                "listening", "safety", "goals")}
                        | {"not-right": f"{marker} not right"})
        # Goals: proposed, agreed, revised, rated into a milestone, another closed with a reason.
        goal = goals.propose_goal(episode, f"{marker} goal", f"{marker} description",
                                  side=Side.THERAPIST, user=therapist)
        goals.agree_goal(goal, side=Side.CLIENT)
        goals.revise_goal(goal, f"{marker} goal, reworded", side=Side.THERAPIST, user=therapist)
        goals.agree_goal(goal, side=Side.CLIENT)
        rate(episode, {goal.code: 3}, session=session)
        rate(episode, {goal.code: 8}, session=later)
        closed = goals.propose_goal(episode, f"{marker} other goal", side=Side.CLIENT)
        goals.close_goal(closed, achieved=False, reason=f"{marker} reason", user=therapist)
        goals.mark_revisited(episode, user=therapist, session=session)
        # Session record: summary, private note, agenda, homework, shared and ticked.
        notes.save_summary(session, f"{marker} summary", f"{marker} next steps")
        notes.save_private_note(session, f"{marker} private")
        notes.add_item(session, "agenda", f"{marker} agenda")
        homework = notes.add_item(session, "homework", f"{marker} homework")
        notes.share(session, user=therapist)
        notes.tick_homework(client, homework.code, True)
        # Alerts: one raised from a finding, moved on with notes (the risk alert came above).
        alert = alerts.raise_alert(episode=episode, kind="rupture", severity="warning",
                                   key="rupture:relationship-checkin:1",
                                   evidence={"score": 40, "usual": 80}, session=session)
        alerts.transition(alert, "acknowledged", request=None, note=f"{marker} acknowledged")
        alerts.transition(alert, "resolved", request=None, note=f"{marker} resolved")
        # Portal: a login link, and the rate limit's counter for the address.
        LoginLink.objects.create(organisation=org, client=client,
                                 token_hash=hashlib.sha256(marker.encode()).hexdigest(),
                                 expires_at=timezone.now() + timedelta(minutes=30))
    portal.allow(email, "192.0.2.1")
    # Staff read the client's pages, and an administrator searches the trail for them.
    login(http, therapist)
    http.get(reverse("care-client", args=[client.code]))
    http.get(reverse("care-episode", args=[episode.code]))
    login(http, practice.admin)
    http.get(reverse("audit-trail"), {"client": str(client.code)})
    http.logout()
    return Person(client, marker, portal.EMAIL_LIMIT.key(email))


def _build():
    """A practice, and (the client to erase, the colleague's client), both with data in every
    app: built once for the module (see built_once_per_module); each test erases in its own
    savepoint, rolled back after it."""
    practice, http = make_practice("Riverside"), StaffClient()
    erased = _populate(http, practice, client=practice.client, episode=practice.episode,
                       session=practice.session, therapist=practice.therapist, marker="Kestrel")
    kept = _populate(http, practice, client=practice.colleague_client,
                     episode=practice.colleague_episode, session=practice.colleague_session,
                     therapist=practice.colleague, marker="Heron")
    return practice, (erased, kept)


built = built_once_per_module(_build)


@pytest.fixture
def practice_and_people(built, db):
    return fresh(built)


@pytest.fixture
def practice(practice_and_people):
    return practice_and_people[0]


@pytest.fixture
def people(practice_and_people):
    """(the client to erase, the colleague's client), both with data in every app."""
    return practice_and_people[1]


def _rows_of(client) -> dict[type, set[int]]:
    """Every row pointing, through any chain of foreign keys, at the client (the client included)."""
    found: dict[type, set[int]] = {Client: {client.pk}}
    queue = [Client]
    with scopes_disabled():
        while queue:
            model = queue.pop()
            for relation in _pointing_at(model):
                related = relation.related_model
                pks = set(related._base_manager.filter(
                    **{f"{relation.field.name}__in": found[model]}).values_list("pk", flat=True))
                if pks - found.get(related, set()):
                    found.setdefault(related, set()).update(pks)
                    queue.append(related)
    return found


def _label(model) -> str:
    return model._meta.label_lower


def _snapshot(rows: dict[type, set[int]]) -> dict[str, list[dict]]:
    with scopes_disabled():
        return {_label(m): list(m._base_manager.filter(pk__in=pks).order_by("pk").values())
                for m, pks in rows.items()}


def _codes(rows: dict[type, set[int]]) -> set[str]:
    codes = set()
    with scopes_disabled():
        for model, pks in rows.items():
            if any(f.name == "code" for f in model._meta.concrete_fields):
                codes |= {str(c) for c in model._base_manager.filter(pk__in=pks).values_list("code", flat=True)}
    return codes


def _remaining(rows: dict[type, set[int]]) -> dict[str, int]:
    with scopes_disabled():
        counts = {_label(m): m._base_manager.filter(pk__in=pks).count() for m, pks in rows.items()}
    return {label: n for label, n in counts.items() if n}


def _raw_database() -> str:
    """Every row of every table, as stored (encrypted columns as their ciphertext)."""
    dump = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            dump.append(str(cursor.fetchall()))
    return "\n".join(dump)


def _raw_free_text(rows: dict[type, set[int]]) -> list:
    """The stored value of every encrypted column of the given rows that is not empty."""
    found = []
    with connection.cursor() as cursor:
        for model, field in encrypted_fields():
            pks = sorted(rows.get(model, ()))
            if not pks:
                continue
            table, column = (connection.ops.quote_name(n) for n in (model._meta.db_table, field.column))
            cursor.execute(f"SELECT {column} FROM {table} WHERE id IN ({', '.join(['%s'] * len(pks))})", pks)
            found += [(_label(model), field.name) for (value,) in cursor.fetchall() if value]
    return found


def _keep_scores(practice, keep: bool) -> None:
    RetentionPolicy.objects.create(organisation=practice.org, keep_deidentified_scores=keep)


def _scores(rows) -> list[tuple]:
    with scopes_disabled():
        return list(Response.objects.filter(pk__in=rows[Response]).order_by("pk").values_list(
            "instrument_id", "instrument_version", "respondent", "answers", "total", "severity_label",
            "severity_band", "subscales", "flags", "session_id", "checkin_id", "episode_id",
            "submitted_at", "supersedes_id"))


def test_the_fixture_puts_the_client_in_every_app(people):
    erased, _ = people
    rows = _rows_of(erased.client)
    assert POPULATED <= set(_remaining(rows))
    assert _raw_free_text(rows)  # free text written in every app, encrypted
    assert TokenBucket.objects.filter(key=erased.limit_key).exists()


def test_without_kept_scores_nothing_of_the_client_remains(people, practice):
    erased, _ = people
    rows = _rows_of(erased.client)
    identity = (erased.client.name, erased.client.email, erased.client.phone)
    _keep_scores(practice, False)
    erasure = erase_client(erased.client, by=practice.admin, reason="asked")
    assert _remaining(rows) == {}
    assert not TokenBucket.objects.filter(key=erased.limit_key).exists()
    raw = _raw_database()
    assert not any(part in raw for part in identity)
    counts = erasure.counts
    for kind in ("checkins.responses", "checkins.checkins", "checkins.invitations", "checkins.drafts",
                 "checkins.consents", "checkins.schedules", "checkins.import_records",
                 "portal.login_links", "portal.login_limits",
                 "goals.goals", "goals.events", "notes.records", "notes.agenda_items",
                 "notes.homework", "alerts.alerts", "alerts.steps", "care.sessions"):
        assert counts[kind] >= 1, kind
    assert counts["checkins.responses"] == len(rows[Response])


def test_kept_scores_keep_the_numbers_and_no_free_text(people, practice):
    erased, _ = people
    rows = _rows_of(erased.client)
    scores = _scores(rows)
    identity = (erased.client.name, erased.client.email, erased.client.phone)
    _keep_scores(practice, True)
    erase_client(erased.client, by=practice.admin, reason="asked")

    remaining = _remaining(rows)
    assert set(remaining) == KEPT  # invitations, drafts, links, records, schedule: gone
    assert remaining["checkins.response"] == len(rows[Response])
    assert _scores(rows) == scores  # instrument, answers, totals, flags, links: unchanged
    assert any(total is not None for *_, total, _l, _b, _s, _f in
               [s[:9] for s in scores])  # there were scores to keep
    # Every encrypted column of every kept row is empty but the client's placeholder name.
    assert _raw_free_text(rows) == [("care.client", "name")]
    with scopes_disabled():
        assert Client.objects.get(pk=erased.client.pk).name == ERASED_NAME
        assert not Response.objects.filter(pk__in=rows[Response], submission_token__isnull=False).exists()
    assert not TokenBucket.objects.filter(key=erased.limit_key).exists()
    raw = _raw_database()
    assert not any(part in raw for part in identity)


@pytest.mark.parametrize("keep", [False, True])
def test_the_colleagues_client_is_untouched(people, practice, keep):
    erased, other = people
    rows = _rows_of(other.client)
    before = _snapshot(rows)
    trail = list(AuditEvent.objects.filter(client_code=other.client.code).order_by("pk").values())
    _keep_scores(practice, keep)
    erase_client(erased.client, by=practice.admin, reason="asked")
    assert _snapshot(_rows_of(other.client)) == before
    assert list(AuditEvent.objects.filter(client_code=other.client.code).order_by("pk").values()) == trail
    assert TokenBucket.objects.filter(key=other.limit_key).exists()
    assert POPULATED <= set(before)
    with scopes_disabled():
        assert any(other.marker in r["summary"] for r in before["notes.sessionrecord"])


@pytest.mark.parametrize("keep", [False, True])
def test_the_trail_names_none_of_the_erased_objects(people, practice, keep):
    erased, other = people
    rows = _rows_of(erased.client)
    codes = _codes(rows)
    other_codes = _codes(_rows_of(other.client))
    assert len(codes) > 20
    trail = AuditEvent.objects.all()
    assert trail.filter(object_code__in=codes).count() > 20  # the apps audited their writes
    _keep_scores(practice, keep)
    erase_client(erased.client, by=practice.admin, reason="asked")

    stored = str(list(AuditEvent.objects.values_list("object_code", "client_code", "actor_label", "detail")))
    assert not [code for code in codes if code in stored]
    # What staff did stays, without saying to whom.
    assert trail.filter(action="care.episode.viewed", actor=practice.therapist).count() == 1
    assert trail.filter(action="audit.trail.viewed").count() == 2
    assert trail.filter(actor_label="client:erased").exists()
    # The colleague's client's events keep their codes.
    assert trail.filter(object_code__in=other_codes).count() > 20
    assert trail.filter(actor_label=f"client:{other.client.code}").exists()


@pytest.mark.parametrize("keep", [False, True])
def test_a_failing_eraser_rolls_every_app_back(people, practice, keep):
    erased, _ = people
    rows = _rows_of(erased.client)
    before = _snapshot(rows)
    trail = list(AuditEvent.objects.order_by("pk").values())
    calls = []

    def failing(client, *, keep_scores):
        calls.append(keep_scores)
        raise RuntimeError("storage failed")

    _keep_scores(practice, keep)
    registry._erasers.append(("failing", failing))  # last: every app's eraser has run
    try:
        with pytest.raises(RuntimeError):
            erase_client(erased.client, by=practice.admin, reason="asked")
    finally:
        registry._erasers.remove(("failing", failing))
    assert calls == [keep]
    assert _snapshot(_rows_of(erased.client)) == before
    assert list(AuditEvent.objects.order_by("pk").values()) == trail
    assert TokenBucket.objects.filter(key=erased.limit_key).exists()
    assert not Erasure.objects.exists()


def _models_about_a_client() -> set[type]:
    """Every model with a chain of foreign keys to a client, an episode or a session."""
    found, queue = set(CARE_MODELS), list(CARE_MODELS)
    while queue:
        for relation in _pointing_at(queue.pop()):
            if relation.related_model not in found:
                found.add(relation.related_model)
                queue.append(relation.related_model)
    return found - set(CARE_MODELS)


def test_every_app_that_stores_data_about_clients_registers_an_eraser():
    registered = {name for name, _ in registry.erasers()}
    apps_about_clients = {model._meta.app_label for model in _models_about_a_client()}
    assert {"checkins", "portal", "goals", "notes", "alerts"} <= apps_about_clients
    assert apps_about_clients <= registered


def test_register_keeps_one_eraser_per_name_and_honours_before(monkeypatch):
    monkeypatch.setattr(registry, "_erasers", [])

    def eraser(client, *, keep_scores):
        return registry.Erased()

    registry.register("a", eraser)
    registry.register("c", eraser, before="b")  # "b" comes later: registration order holds
    registry.register("b", eraser)
    registry.register("d", eraser, before="a")
    registry.register("a", lambda client, *, keep_scores: registry.Erased())
    assert [name for name, _ in registry.erasers()] == ["d", "a", "c", "b"]
    assert registry.erasers()[1][1] is eraser
