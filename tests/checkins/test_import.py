"""Importing clients (CSV) and clients with their answers (FHIR): all of a file or none of it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.accounts.models import Membership, Organisation, Role, User
from rapport.audit.models import AuditEvent
from rapport.care import search
from rapport.care.models import CareEpisode, Client
from rapport.checkins import imports
from rapport.checkins.models import ImportedRecord, Response
from rapport.checkins.services import submission as checkins
from rapport.checkins.services.answers import goals_to_rate
from rapport.goals import services as goals
from rapport.goals.models import Goal, GoalStatus, Side
from rapport.portal import export
from rapport.portal.views import _my_responses

PHQ9 = {f"phq9-{n}": 2 for n in range(1, 10)} | {"phq9-9": 0, "phq9-difficulty": "somewhat"}
LOINC = "http://loinc.org"
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
              "44253-3", "44260-8"]
ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def empty_practice(name="Harbour"):
    with scopes_disabled():
        org = Organisation.objects.create(name=name)
        therapist = User.objects.create_user(f"t@{name.lower()}.test", "pw-long-enough-1", name="T")
        Membership.objects.create(organisation=org, user=therapist, role=Role.THERAPIST)
    return org, therapist


def run(tmp_path, practice_name, *args, data=None, csv=None):
    path = tmp_path / ("in.json" if data is not None else "in.csv")
    path.write_text(json.dumps(data) if data is not None else csv, encoding="utf-8")
    option = "--fhir" if data is not None else "--clients-csv"
    from io import StringIO

    out = StringIO()
    call_command("import_data", "--practice", practice_name, option, str(path), *args, stdout=out)
    return out.getvalue()


def scores(org):
    """Every stored score; a goal's subscale named by the goal's words (its id differs per practice)."""
    with scope(organisation=[org]):
        words = {str(g.code): g.title for g in Goal.objects.all()}
        return [(r.instrument_id, r.total, r.severity_label,
                 {words.get(k, k): v for k, v in r.subscales.items()}, sorted(r.flags),
                 r.submitted_at) for r in Response.objects.order_by("submitted_at", "id")]


def counts(org):
    with scope(organisation=[org]):
        return Client.objects.count(), CareEpisode.objects.count(), Response.objects.count()


def exported(practice):
    """The client's portal export, after answering a range of instruments and two goals."""
    with scope(organisation=[practice.org]):
        goal = goals.propose_goal(practice.episode, "Take the bus", side=Side.THERAPIST,
                                  user=practice.therapist)
        goals.agree_goal(goal, side=Side.CLIENT)
        walk = goals.propose_goal(practice.episode, "Walk to the café", side=Side.CLIENT)
        goals.agree_goal(walk, side=Side.THERAPIST, user=practice.therapist)
        for instrument_id, answers in (
            ("phq9", PHQ9), ("gad7", {f"gad7-{n}": 3 for n in range(1, 8)}),
            ("phq2", {"phq2-1": 1, "phq2-2": 2}), ("gad2", {"gad2-1": 3, "gad2-2": 3}),
            ("pcl5", {f"pcl5-{n}": n % 5 for n in range(1, 21)}),
            ("relationship-checkin", {"trust": 8, "empathy": 7, "genuineness": 9, "respect": 8,
                                      "listening": 6, "safety": 9, "goals": 7,
                                      "not-right": "Rushed"}),
            ("session-prep", {"focus": "Sleep", "since-last": 6}),
            ("goal-progress", {goal.link_id: 4, walk.link_id: 7}),
            ("phq9", PHQ9 | {"phq9-9": 2}), ("goal-progress", {goal.link_id: 6, walk.link_id: 9}),
        ):
            checkins.submit(episode=practice.episode, instrument_id=instrument_id, answers=answers)
        client = practice.client
        return export.bundle(_my_responses(client), export.goal_titles(client), client,
                             include_name=True)


def test_round_trip_into_an_empty_practice_reproduces_the_scores(practice, tmp_path):
    bundle = exported(practice)
    org, therapist = empty_practice()
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert "Imported 1 clients, 2 goals and 10 responses" in out
    assert "goal ratings are not imported" not in out and "REFUSE" not in out
    assert scores(org) == scores(practice.org)
    with scope(organisation=[org]):
        client = Client.objects.get()
        assert (client.name, client.preferred_name) == ("Riverside Client", "")
        episode = CareEpisode.objects.get()
        assert episode.therapist == therapist
        assert Response.objects.filter(imported__source="fhir").count() == 10
        # The goals, in the client's words, agreed and rated in check-ins here from now on.
        assert {(g.title, g.status, g.episode) for g in Goal.objects.all()} == {
            ("Take the bus", GoalStatus.ACTIVE, episode), ("Walk to the café", GoalStatus.ACTIVE, episode)}
        first = next(g for g in Goal.objects.all() if g.title == "Take the bus")
        assert first.created_at == Response.objects.filter(instrument_id="goal-progress").first().submitted_at
        assert set(goals_to_rate(episode).values()) == {"Take the bus", "Walk to the café"}
        # Free text comes across (encrypted at rest as any answer), and risk raises its alert.
        rel = Response.objects.get(instrument_id="relationship-checkin")
        assert rel.free_text_answers == {"not-right": "Rushed"}
        assert sum("risk:phq9-9" in r.flags for r in Response.objects.all()) == 1
        actions = set(AuditEvent.objects.filter(organisation=org).values_list("action", flat=True))
    assert {"care.client.imported", "goals.goal.imported", "checkins.response.submitted",
            "checkins.import.applied"} <= actions


def test_an_export_without_the_name_is_refused_until_the_client_is_named(practice, tmp_path):
    bundle = exported(practice)
    with scope(organisation=[practice.org]):
        bundle["entry"][0]["resource"] = export.patient(practice.client)
    org, therapist = empty_practice()
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, "--dry-run", data=bundle)
    assert "REFUSE entry 0 (Patient/" in out and "name: This field is required." in out
    assert "its subject, entry 0 (Patient/" in out  # its responses have no client to go to
    assert counts(org) == (0, 0, 0)


def test_importing_the_same_file_again_stores_nothing_twice(practice, tmp_path):
    bundle = exported(practice)
    org, therapist = empty_practice()
    run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    before = counts(org)
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert "Imported 0 clients, 0 goals and 0 responses (11 imported before, skipped)" in out
    assert counts(org) == before


def test_a_dry_run_lists_everything_and_changes_nothing(practice, tmp_path):
    bundle = exported(practice)
    org, therapist = empty_practice()
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, "--dry-run", data=bundle)
    assert "create entry 0 (Patient/" in out and "client Riverside Client" in out
    assert "phq9 response of" in out and "total 16" in out
    assert "goal 'Walk to the café' of Riverside Client (agreed, active; rated from" in out
    assert "goal-progress response of" in out and "total 5.5" in out
    assert "Dry run: nothing imported (1 clients, 2 goals and 10 responses would be, 0 refused)." in out
    assert counts(org) == (0, 0, 0)


def _goal_parts(bundle):
    """(the goal Questionnaire, the goal-progress responses) of an export."""
    resources = [e["resource"] for e in bundle["entry"]]
    [q] = [r for r in resources if r["resourceType"] == "Questionnaire"
           and r["id"].startswith("goal-progress-")]
    return q, [r for r in resources if r["resourceType"] == "QuestionnaireResponse"
               and r["questionnaire"].startswith("urn:rapport:questionnaire:goal-progress-")]


def _without_goal_questionnaire(bundle):
    q, _ratings = _goal_parts(bundle)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"] is not q]


def _without_goal_words(bundle):
    """Neither the goal Questionnaire nor the responses' item texts: nothing says what a goal is."""
    ratings = _goal_parts(bundle)[1]
    _without_goal_questionnaire(bundle)
    for response in ratings:
        for item in response["item"]:
            item.pop("text")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: _goal_parts(b)[1][0]["item"][0].update(linkId="not-a-goal"),
     "goal 'not-a-goal' is not an item of its Questionnaire in this file, so its words are unknown"),
    (lambda b: _without_goal_words(b), "has no words (no item text) to make a goal of"),
    (lambda b: _goal_parts(b)[1][0]["item"][0]["answer"][0].update(valueInteger=11),
     "out of range: 11; allowed: a whole number from 0 to 10"),
    (lambda b: _goal_parts(b)[0]["item"][0].update(text="x" * 201),
     "Please keep the title to 200 characters."),
])
def test_goal_ratings_that_cannot_be_matched_are_refused_and_nothing_is_imported(
        practice, tmp_path, change, reason):
    bundle = exported(practice)
    change(bundle)
    org, therapist = empty_practice()
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, "--dry-run", data=bundle)
    assert "REFUSE" in out and reason in out, out
    with pytest.raises(CommandError, match="refused; nothing imported"):
        run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert counts(org) == (0, 0, 0)
    with scope(organisation=[org]):
        assert not Goal.objects.exists()


def test_goal_words_may_come_from_the_response_when_its_questionnaire_is_not_in_the_file(
        practice, tmp_path):
    bundle = exported(practice)
    _without_goal_questionnaire(bundle)
    org, therapist = empty_practice()
    assert "Imported 1 clients, 2 goals and 10 responses" in run(
        tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert scores(org) == scores(practice.org)


def test_a_later_export_rates_the_goals_imported_before(practice, tmp_path):
    org, therapist = empty_practice()
    run(tmp_path, "Harbour", "--therapist", therapist.email, data=exported(practice))
    with scope(organisation=[practice.org]):
        goal_ids = list(goals_to_rate(practice.episode))
        checkins.submit(episode=practice.episode, instrument_id="goal-progress",
                        answers=dict.fromkeys(goal_ids, 10))
        later = export.bundle(_my_responses(practice.client), export.goal_titles(practice.client),
                              practice.client, include_name=True)
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, data=later)
    assert "skip" in out and "imported before" in out
    assert "Imported 0 clients, 0 goals and 1 responses" in out
    with scope(organisation=[org]):
        assert Goal.objects.count() == 2
        latest = Response.objects.filter(instrument_id="goal-progress").latest("submitted_at")
        assert set(latest.answers) == {str(g.code) for g in Goal.objects.all()}
    assert scores(org) == scores(practice.org)


def loinc_bundle(answers, subject="urn:uuid:p1", authored="2026-03-01T09:00:00Z", slash=True):
    """A PHQ-9 as another system writes it: LOINC linkIds and LOINC answer codes."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "id": "p1",
            "name": [{"given": ["Ana"], "family": "Ruiz"}],
            "telecom": [{"system": "email", "value": "Ana@Example.test"}],
            "birthDate": "1990-05-02", "communication": [{"language": {"coding": [{"code": "es"}]}}]}},
        {"fullUrl": "urn:uuid:q1", "resource": {
            "resourceType": "QuestionnaireResponse", "id": "q1",
            "questionnaire": "http://example.org/Questionnaire/phq-9",
            "status": "completed", "subject": {"reference": subject}, "authored": authored,
            "item": [{"linkId": "phq", "item": [
                {"linkId": ("/" if slash else "") + code,
                 "answer": [{"valueCoding": {"system": LOINC, "code": ANSWERS[value]}}]}
                for code, value in zip(PHQ9_ITEMS, answers, strict=True)]}]}},
    ]}


def test_a_phq9_coded_with_loinc_is_scored_and_stored_with_its_source(practice, tmp_path):
    org, therapist = empty_practice()
    out = run(tmp_path, "Harbour", "--therapist", therapist.email,
              data=loinc_bundle([3, 3, 2, 2, 1, 1, 0, 0, 1]))
    assert "Imported 1 clients, 0 goals and 1 responses" in out
    with scope(organisation=[org]):
        client = Client.objects.get()
        assert (client.name, client.email, client.language) == ("Ana Ruiz", "ana@example.test", "es")
        assert client.date_of_birth == date(1990, 5, 2)
        response = Response.objects.get()
        assert (response.instrument_id, response.total, response.severity_label) == ("phq9", 13, "moderate")
        assert response.flags == ["risk:phq9-9"]
        assert response.answers["phq9-1"] == 3
        record = ImportedRecord.objects.get(response=response)
        assert (record.source, record.source_id) == ("fhir", "QuestionnaireResponse/q1")


def test_loinc_codes_may_come_from_the_questionnaire_in_the_file(practice, tmp_path):
    org, therapist = empty_practice()
    bundle = loinc_bundle([1] * 9, slash=False)
    qr = bundle["entry"][1]["resource"]
    for n, item in enumerate(qr["item"][0]["item"]):
        item["linkId"] = f"q{n}"
    bundle["entry"].append({"fullUrl": "urn:uuid:form", "resource": {
        "resourceType": "Questionnaire", "url": "http://example.org/Questionnaire/phq-9",
        "status": "active", "code": [{"system": LOINC, "code": "44249-1"}],
        "item": [{"linkId": f"q{n}", "type": "choice", "code": [{"system": LOINC, "code": c}]}
                 for n, c in enumerate(PHQ9_ITEMS)]}})
    run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert [s[:2] for s in scores(org)] == [("phq9", 9)]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: b["entry"][1]["resource"]["item"][0]["item"][0]["answer"][0]["valueCoding"]
     .update(code="LA9999-9"), "phq9-1: not an allowed answer"),
    (lambda b: b["entry"][1]["resource"]["item"][0]["item"].pop(), "phq9-9: required, not answered"),
    (lambda b: b["entry"][1]["resource"].update(subject={"reference": "Patient/else"}),
     "its subject 'Patient/else' is not a Patient in this file"),
    (lambda b: b["entry"][1]["resource"].pop("authored"), "authored is missing"),
    (lambda b: b["entry"][1]["resource"].update(authored="2999-01-01T00:00:00Z"), "in the future"),
    (lambda b: b["entry"][1]["resource"].update(status="in-progress"), "only completed (or amended)"),
    (lambda b: b["entry"][1]["resource"].update(item=[{"answer": []}]), "not a valid QuestionnaireResponse"),
    (lambda b: b["entry"][0]["resource"].update(name=[]), "name: This field is required."),
    (lambda b: b["entry"][0]["resource"].update(birthDate="2999-01-01"), "date_of_birth: is in the future"),
    (lambda b: b["entry"][0]["resource"]["telecom"][0].update(value="not-an-email"), "email: Enter a valid"),
    (lambda b: b["entry"][1]["resource"].update(questionnaire="urn:rapport:questionnaire:nope|1"),
     "unknown instrument 'nope'"),
])
def test_any_refused_row_means_nothing_is_imported_and_says_why(practice, tmp_path, change, reason):
    org, therapist = empty_practice()
    bundle = loinc_bundle([1] * 9)
    change(bundle)
    out = run(tmp_path, "Harbour", "--therapist", therapist.email, "--dry-run", data=bundle)
    assert "REFUSE" in out and reason in out
    with pytest.raises(CommandError, match="refused; nothing imported"):
        run(tmp_path, "Harbour", "--therapist", therapist.email, data=bundle)
    assert counts(org) == (0, 0, 0)


def test_malformed_files_are_refused(practice, tmp_path):
    org, therapist = empty_practice()
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("import_data", "--practice", "Harbour", "--fhir", str(path))
    for data, reason in (([1, 2], "not a FHIR resource"),
                         ({"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]},
                          "an entry without a resource")):
        with pytest.raises(CommandError, match="refused"):
            run(tmp_path, "Harbour", "--therapist", therapist.email, data=data)
        assert reason in run(tmp_path, "Harbour", "--dry-run", data=data)
    assert counts(org) == (0, 0, 0)


def test_responses_without_a_subject_go_to_the_named_client_of_this_practice_only(
        practice, other_practice, tmp_path):
    bundle = loinc_bundle([0] * 9)
    qr = bundle["entry"][1]["resource"]
    qr.pop("subject")
    assert "it names no subject" in run(tmp_path, practice.org.name, "--dry-run", data=qr)
    with pytest.raises(CommandError, match="no client"):
        run(tmp_path, practice.org.name, "--client", str(other_practice.client.code), data=qr)
    run(tmp_path, practice.org.name, "--client", str(practice.client.code), data=qr)
    with scope(organisation=[practice.org]):
        [response] = Response.objects.all()
        assert response.episode == practice.episode and response.total == 0
    assert counts(other_practice.org)[2] == 0


CSV = """name,preferred_name,email,language,date_of_birth,therapist
Ana Ruiz,Ana,ana@example.test,es,1990-05-02,therapist@riverside.test
Ben Okafor,,,,,colleague@riverside.test
"""


def test_clients_from_csv_each_with_a_first_episode(practice, tmp_path):
    before = counts(practice.org)
    out = run(tmp_path, practice.org.name, csv=CSV)
    assert "Imported 2 clients" in out
    with scope(organisation=[practice.org]):
        ana = search.find_clients(practice.org, "Ana Ruiz")[0]
        assert (ana.preferred_name, ana.language, ana.email) == ("Ana", "es", "ana@example.test")
        assert ana.episodes.get().therapist == practice.therapist
        assert search.find_clients(practice.org, "Ben Okafor")[0].episodes.get().therapist == practice.colleague
    assert counts(practice.org)[:2] == (before[0] + 2, before[1] + 2)


@pytest.mark.parametrize(("row", "reason"), [
    (",,,,,therapist@riverside.test", "name: This field is required."),
    ("Cy,,not-an-email,,,therapist@riverside.test", "email: Enter a valid email address."),
    ("Cy,,,,,therapist@harbour.test", "is not a therapist of this practice"),
    ("Cy,,,,,supervisor@riverside.test", "is not a therapist of this practice"),
    ("Cy,,,,,", "therapist: none named"),
    ("Cy,,,xx_YY!,,therapist@riverside.test", "is not a language tag"),
    ("Cy,,,,01/02/1990,therapist@riverside.test", "date_of_birth: Enter a valid date."),
    ("Cy,,ANA@example.test,,,therapist@riverside.test", "is already a client's address"),
    ("Cy,,,,,therapist@riverside.test,extra", "more cells than columns"),
])
def test_a_refused_csv_row_means_no_client_is_created(practice, tmp_path, row, reason):
    before = counts(practice.org)
    text = CSV + row + "\n"
    out = run(tmp_path, practice.org.name, "--dry-run", csv=text)
    assert reason in out and "line 4" in out
    with pytest.raises(CommandError, match="1 refused; nothing imported"):
        run(tmp_path, practice.org.name, csv=text)
    assert counts(practice.org) == before


@pytest.mark.parametrize(("text", "reason"), [
    ("", "the first line must name the columns"),
    ("email,therapist\nx@y.test,therapist@riverside.test\n", "the first line must name the columns"),
    ("name,age\nCy,40\n", "unknown columns age"),
    ("name,name\nCy,Di\n", "a column is named twice"),
    ("name\n", "no rows"),
])
def test_a_csv_that_is_not_a_table_of_clients_is_refused(practice, tmp_path, text, reason):
    before = counts(practice.org)
    assert reason in run(tmp_path, practice.org.name, "--dry-run", csv=text)
    with pytest.raises(CommandError, match="refused; nothing imported"):
        run(tmp_path, practice.org.name, csv=text)
    assert counts(practice.org) == before


def test_the_therapist_must_belong_to_the_practice(practice, other_practice, tmp_path):
    with pytest.raises(CommandError, match="is not a therapist of"):
        run(tmp_path, practice.org.name, "--therapist", other_practice.therapist.email, csv=CSV)
    with pytest.raises(CommandError, match="no single practice"):
        run(tmp_path, "Nowhere", csv=CSV)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["resourceType", "entry", "resource", "fullUrl", "id", "item", "linkId",
                         "answer", "valueCoding", "subject", "reference", "status", "authored",
                         "questionnaire", "name", "identifier", "url", "code", "x"]),
        inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=JSON, kind=st.sampled_from(["Bundle", "QuestionnaireResponse", "Patient", None]))
def test_any_json_is_planned_without_a_crash_and_refused_input_changes_nothing(practice, data, kind):
    if kind and isinstance(data, dict):
        data = {**data, "resourceType": kind}
    with scope(organisation=[practice.org]):
        before = counts(practice.org)
        plan = imports.plan_fhir(data, practice.org, therapist=practice.therapist)
        assert all(isinstance(why, str) and why for _, why in plan.refused)
        if plan.refused:
            with pytest.raises(imports.ImportRefused):
                imports.apply(plan, practice.org, actor_label="test")
        assert counts(practice.org) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from('name,email,therapist"\n\r;x@ 1-\x00é'), max_size=80))
def test_any_csv_text_is_planned_without_a_crash(practice, text):
    with scope(organisation=[practice.org]):
        before = counts(practice.org)
        plan = imports.plan_csv(text, practice.org)
        if plan.refused:
            with pytest.raises(imports.ImportRefused):
                imports.apply(plan, practice.org, actor_label="test")
        assert counts(practice.org) == before
