"""Hypothesis-generated input into every form, every query parameter and the scoring path.

No input may cause a server error, and input that is rejected must store nothing. A new form
goes into FORMS (url name, arguments from the world, its field names, who posts it).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.instruments import instrument_ids, load
from tests.conftest import built_once_per_module, fresh
from tests.test_permission_matrix import ARGS, build_world

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Query strings: most pages read one or two parameters, so fewer examples find the same crashes
# (every URL still gets them; the suite stays under four minutes).
QUERY_FUZZ = settings(FUZZ, max_examples=20)

text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "0", "-1", "10", "11", "1e9", "NaN", "null", "true", "<script>", "' OR 1=1 --",
                     "2026-13-45", "00000000-0000-0000-0000-000000000000", "\x00", "a" * 20_000]),
)

ACTIONS = st.one_of(text, st.sampled_from([
    "submit", "save", "consent", "email", "revisited", "agree", "acknowledge", "revise", "close",
    "summary", "share", "unshare", "note", "agenda_add", "agenda_remove", "homework_add",
    "homework_remove"]))
ANSWER = st.one_of(text, st.sampled_from(["0", "3", "10", "not-at-all", "nearly-every-day", "yes"]))

# url name -> (who posts, {field: strategy}); fields not listed get no value.
FORMS = {
    "care-episode": ("therapist", {"presenting_concerns": text}),
    "care-session": ("therapist", {"attendance": st.one_of(text, st.sampled_from(["attended", "no_show"]))}),
    "accounts-language": ("therapist", {"language": st.one_of(text, st.sampled_from(["en", "es"]))}),
    "accounts-password": ("therapist", dict.fromkeys(["old_password", "new_password1", "new_password2"], text)),
    "accounts-reauth": ("therapist", dict.fromkeys(["password", "code", "next"], text)),
    "privacy-erase": ("admin", {"reason": text, "confirm": text}),
    "privacy-retention": ("admin", dict.fromkeys(["retain_days_after_last_episode", "keep_deidentified_scores"], text)),
    "practice-failed-task-retry": ("admin", {"x": text}),  # a button: no fields of its own
    "checkins-answer": ("anonymous", {
        "action": ACTIONS, "instrument": st.one_of(text, st.sampled_from(["session-prep", "phq9"])),
        "submission": text, "accept": text, "version": text, "a-focus": text, "a-since-last": ANSWER,
        **{f"a-phq9-{n}": ANSWER for n in range(1, 10)}}),
    "checkins-session": ("therapist", {"action": ACTIONS, "checkin": text}),
    "checkins-reflection": ("therapist", {"submission": text, **{f"a-{k}": ANSWER for k in (
        "trust", "empathy", "genuineness", "respect", "listening", "safety", "goals", "warmth")}}),
    "checkins-schedule": ("therapist", dict.fromkeys(["on-0", "every-0", "new-instrument", "new-when", "new-every"], text)),
    "goals-episode": ("therapist", {"action": ACTIONS, "title": text, "description": text}),
    "goals-goal": ("therapist", {"action": ACTIONS, "title": text, "description": text, "outcome": text,
                                 "reason": text, "event": text}),
    "notes-record": ("therapist", {"action": ACTIONS, "summary": text, "next_steps": text,
                                   "private_note": text, "text": text, "item": text}),
    "alerts-detail": ("therapist", {"to_status": st.one_of(text, st.sampled_from(["acknowledged", "resolved"])),
                                    "note": text}),
    "portal-login": ("anonymous", {"email": st.one_of(text, st.emails())}),
    "goals-portal-propose": ("client", {"title": text, "description": text, "episode": text}),
    "goals-portal-agree": ("client", {}),
    "notes-portal-tick": ("client", {"done": text}),
    "portal-start-checkin": ("client", {}),
    "portal-download": ("client", {"format": text}),
    "scheduling-book": ("therapist", {
        "day": st.one_of(text, st.sampled_from(["2030-01-07", "2026-09-01"])),
        "at": st.one_of(text, st.sampled_from(["09:00", "25:00"])), "minutes": text,
        "repeat": st.one_of(text, st.sampled_from(["once", "weekly", "fortnightly"])),
        "count": text, "telehealth_url": text, "key": st.one_of(text, st.uuids().map(str))}),
    "scheduling-session": ("therapist", {
        "action": st.one_of(text, st.sampled_from(["move", "cancel"])), "day": text, "at": text,
        "minutes": text, "telehealth_url": text, "cancel-by": text, "cancel-rest_of_series": text}),
    "scheduling-availability": ("therapist", dict.fromkeys(["weekday", "starts", "ends", "remove"], text)),
    "practice-add-client": ("therapist", {
        **dict.fromkeys(["name", "preferred_name", "pronouns", "phone", "language", "emergency_contact",
                         "therapist", "invite", "different_person"], text),
        "email": st.one_of(text, st.emails()),
        "preferred_channel": st.one_of(text, st.sampled_from(["email", "text"]))}),
    "practice-invite": ("therapist", {}),
    "practice-settings": ("admin", dict.fromkeys(["crisis_resources", "invitation_days", "statement",
                                                  "hours_before", "quiet_from", "quiet_until",
                                                  "checkin_invitations", "checkin_hours_before",
                                                  "followup_hours", "duty_name", "duty_email",
                                                  "duty_phone", "escalate_after_minutes", "on-0",
                                                  "every-0", "new-instrument", "new-when", "new-every"],
                                                 text) | {"action": st.sampled_from(["", "schedule"])}),
    "practice-staff-invite": ("admin", {"email": st.one_of(text, st.emails()), "name": text,
                                        "role": st.one_of(text, st.sampled_from(["admin", "therapist"]))}),
    "practice-staff-member": ("admin", {
        "action": st.one_of(text, st.sampled_from(["roles", "supervision", "deactivate", "reset_two_factor"])),
        "roles": st.one_of(text, st.sampled_from(["admin", "supervisor", "therapist"])), "therapists": text}),
    "practice-staff-reassign": ("admin", {"episode": text, "therapist": text}),
    "care-discharge": ("therapist", {
        "status": st.one_of(text, st.sampled_from(["completed", "dropped_out", "active"])),
        "ended_on": st.one_of(text, st.sampled_from(["2026-09-02", "2026-08-01", "2099-01-01"])),
        "summary": text, "confirm": st.one_of(text, st.sampled_from(["True", ""])), "edit": text}),
    "practice-welcome": ("anonymous", dict.fromkeys(["new_password1", "new_password2"], text)),
    "portal-intake": ("client", {
        "accept": text, "preferred_channel": st.one_of(text, st.sampled_from(["email", "text"])),
        "reminders": text, "hope": text,
        "time_zone": st.one_of(text, st.sampled_from(["", "America/New_York", "Etc/GMT+3"])),
        "slots": st.one_of(text, st.sampled_from(["0-morning", "6-evening", "7-morning", "0-night"]))}),
    "scheduling-feed-settings": ("therapist", {"action": st.one_of(text, st.sampled_from(["create", "revoke"]))}),
    "api-tokens": ("admin", {**dict.fromkeys(["name", "user", "days"], text),
                             "scopes": st.one_of(text, st.sampled_from(["clients:write", "fhir:write"]))}),
    "api-tokens-revoke": ("admin", {}),
    "webhooks-list": ("admin", {
        "url": st.one_of(text, st.sampled_from(["https://example.org/h", "ftp://example.org/",
                                                "http://169.254.169.254/", "file:///etc/passwd"])),
        "events": st.one_of(text, st.sampled_from(["alert.raised", "checkin.missed"])), "active": text}),
    "webhooks-endpoint": ("admin", {
        "url": st.one_of(text, st.sampled_from(["https://example.org/h", "gopher://x"])),
        "events": st.one_of(text, st.sampled_from(["alert.resolved", "response.stored"])), "active": text}),
    "webhooks-rotate": ("admin", {"keep_old": text}),
    "webhooks-delete": ("admin", {}),
    "scheduling-request": ("therapist", {
        "action": st.one_of(text, st.sampled_from(["accept", "propose", "decline"])),
        "option": st.one_of(text, st.sampled_from(["0", "1", "-1"])),
        "day": st.one_of(text, st.sampled_from(["2030-01-08", "2020-01-01"])),
        "at": st.one_of(text, st.sampled_from(["11:00", "25:00"]))}),
    "portal-reschedule": ("client", {
        "reason": st.one_of(text, st.sampled_from(["work", "health", "other"])),
        "times": text, "day": st.one_of(text, st.sampled_from(["2030-01-08", "2020-01-01"])),
        "at": st.one_of(text, st.sampled_from(["11:00", "25:00"])), "key": st.one_of(text, st.uuids().map(str))}),
    "portal-reschedule-accept": ("client", {}),
}

# Rows that change by design whatever the input: sessions, the audit of reads, rate limits,
# two-factor throttling, check-in drafts (saving a half-finished check-in is accepted input), and
# a practice's default settings and confidentiality statement, an episode's default schedule and a
# session's planned check-ins, all made on first use.
UNCOUNTED_APPS = {"sessions", "audit", "core", "otp_totp", "otp_static", "contenttypes"}
UNCOUNTED_MODELS = {"checkins.Draft", "checkins.ConfidentialityStatement",
                    "checkins.PracticeSettings", "checkins.Schedule", "checkins.CheckIn"}


def _counts() -> dict[str, int]:
    """Every counted model's rows (unscoped, as its base manager sees them), in one query: it runs
    twice for every generated example."""
    models = [model for model in apps.get_models()
              if model._meta.app_label not in UNCOUNTED_APPS and model._meta.label not in UNCOUNTED_MODELS]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(
            f"(SELECT COUNT(*) FROM {quote(model._meta.db_table)})" for model in models))
        counts = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(models, counts, strict=True)}


# The permission matrix's world, built once for this module (see built_once_per_module): what a
# test's requests store is rolled back after it.
world_built = built_once_per_module(build_world)


@pytest.fixture
def world(world_built, db):
    world, visitors, _ = world_built
    return fresh(world), visitors


def _log_in(http, world, visitors, who):
    http.logout()
    key = {"therapist": "therapist_own", "admin": "admin_own", "client": "client_own"}.get(who, who)
    visitors[key](http)


def test_every_form_is_fuzzed():
    posting = {name for name in ARGS if name not in {
        "home", "healthz", "accounts-login", "accounts-logout", "accounts-2fa-setup",
        "accounts-2fa-verify", "accounts-2fa-recovery-codes", "care-caseload", "care-client",
        "alerts-list", "analytics-overview", "audit-trail", "audit-export", "privacy-erasures", "portal-home",
        "portal-login-link", "portal-logout", "portal-progress", "portal-goals", "portal-summaries",
        "portal-data", "scheduling-home", "scheduling-week", "scheduling-feed", "scheduling-requests", "practice-staff",
        "favicon", "care-client-search", "care-past-clients", "alerts-settings", "practice-failed-tasks"}
        # JSON, not forms: the API's bad input is tested in tests/api; FHIR is read only.
        and not name.startswith(("api:", "fhir-"))}
    assert posting == FORMS.keys()


@pytest.mark.parametrize("name", sorted(FORMS))
def test_forms_survive_any_input(client, world, name):
    world, visitors = world
    poster, fields = FORMS[name]
    _log_in(client, world, visitors, poster)
    url = reverse(name, args=ARGS[name](world))

    @FUZZ
    @given(values=st.fixed_dictionaries(fields), extra=st.dictionaries(text, text, max_size=3))
    def post(values, extra):
        before = _counts()
        response = client.post(url, {**extra, **values})
        assert response.status_code < 500
        if response.status_code != 302:  # not accepted: nothing may have been stored
            assert _counts() == before

    post()


# The API and FHIR answer 401 to a browser session: tests/api fuzzes their parameters with a token.
@pytest.mark.parametrize("name", sorted(n for n in ARGS if n not in {"accounts-logout", "portal-logout"}
                                        and not n.startswith(("api:", "fhir-"))))
def test_query_parameters_never_cause_a_server_error(client, world, name):
    world, visitors = world
    who = "admin" if name.startswith(("audit", "privacy", "practice-staff", "practice-settings", "api-tokens", "webhooks")) else "client" if "portal" in name else "therapist"
    _log_in(client, world, visitors, who)
    url = reverse(name, args=ARGS[name](world))

    @QUERY_FUZZ
    @given(params=st.dictionaries(
        st.one_of(text, st.sampled_from(["page", "next", "client", "user", "action", "date_from", "date_to",
                                         "instrument", "format", "q"])),
        text, max_size=4))
    def get(params):
        assert client.get(url, params).status_code < 500

    get()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@pytest.mark.parametrize("instrument_id", instrument_ids())
@FUZZ
@given(answers=st.dictionaries(st.text(max_size=12), json_values, max_size=12))
def test_scoring_never_crashes_and_explains_every_rejection(instrument_id, answers):
    instrument = load(instrument_id)
    score = instrument.score(answers)
    result = score.to_json()
    assert set(result) >= {"instrument", "complete", "total", "errors", "flags"}
    if score.errors:
        assert all(isinstance(e, str) and e for e in result["errors"])
    if result["total"] is not None:
        assert not (isinstance(result["total"], float) and result["total"] != result["total"])  # no NaN
