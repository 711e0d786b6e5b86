"""The client portal: emailed login links, rate limits, own data only, charts and the export."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.schedule import due_checkins
from rapport.checkins.services.submission import submit
from rapport.portal import services
from tests.conftest import login
from tests.fhir.validators import schema_errors, unresolved_references

PHQ9 = {f"phq9-{n}": 2 for n in range(1, 10)} | {"phq9-9": 0}
REL = {"trust": 8, "empathy": 7, "genuineness": 9, "respect": 8, "listening": 6, "safety": 9,
       "goals": 7, "not-right": "Felt rushed at the end"}


def set_email(practice, client, email):
    with scope(organisation=[practice.org]):
        client.email = email
        client.save()


def link_from_mail(message) -> str:
    url = next(w for w in message.body.split() if "/portal/login/" in w)
    return url[url.index("/portal/"):]


def log_in(http, practice, client=None, email="client@riverside.test"):
    client = client or practice.client
    set_email(practice, client, email)
    mail.outbox.clear()
    http.post("/portal/login/", {"email": email})
    # One mail per practice that knows the address: take this practice's.
    link = link_from_mail(next(m for m in mail.outbox if m.subject.startswith(f"{practice.org.name}:")))
    assert http.post(link).status_code == 302
    return http


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(practice, client):
    set_email(practice, practice.client, "client@riverside.test")
    known = client.post("/portal/login/", {"email": "Client@Riverside.test"})
    unknown = client.post("/portal/login/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["client@riverside.test"]


def test_login_requests_are_rate_limited_per_address(practice, client):
    assert services.EMAIL_LIMIT.capacity == 5 and services.EMAIL_LIMIT.period == 3600
    for _ in range(services.EMAIL_LIMIT.capacity):
        assert client.post("/portal/login/", {"email": "x@y.test"}).status_code == 200
    assert client.post("/portal/login/", {"email": "X@y.test "}).status_code == 429
    assert client.post("/portal/login/", {"email": "z@y.test"}).status_code == 200
    # The bucket refills over the hour: one more request is allowed after a fifth of it.
    with time_machine.travel(timezone.now() + timedelta(minutes=13)):
        assert client.post("/portal/login/", {"email": "x@y.test"}).status_code == 200


def test_login_requests_are_rate_limited_per_ip(practice, client):
    assert services.IP_LIMIT.capacity == 20 and services.IP_LIMIT.period == 3600
    for n in range(services.IP_LIMIT.capacity):
        client.post("/portal/login/", {"email": f"a{n}@y.test"})
    assert client.post("/portal/login/", {"email": "fresh@y.test"}).status_code == 429
    other_ip = client.post("/portal/login/", {"email": "fresh@y.test"}, REMOTE_ADDR="192.0.2.7")
    assert other_ip.status_code == 200


def test_a_limited_request_sends_no_email_and_says_the_same_for_any_address(practice, client):
    set_email(practice, practice.client, "client@riverside.test")
    for _ in range(services.EMAIL_LIMIT.capacity):
        client.post("/portal/login/", {"email": "client@riverside.test"})
    sent = len(mail.outbox)
    assert sent == services.EMAIL_LIMIT.capacity
    known = client.post("/portal/login/", {"email": "client@riverside.test"})
    assert len(mail.outbox) == sent
    for _ in range(services.EMAIL_LIMIT.capacity):
        client.post("/portal/login/", {"email": "nobody@nowhere.test"})
    unknown = client.post("/portal/login/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 429

    def page(reply):  # the form's CSRF token is masked afresh on every page
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", reply.content.decode())

    assert page(known) == page(unknown)
    assert "Too many login requests" in page(known)


def test_the_rate_limit_keeps_no_address_and_can_be_forgotten(practice, client):
    from rapport.core.models import TokenBucket

    client.post("/portal/login/", {"email": "Someone@Example.test"})
    keys = list(TokenBucket.objects.values_list("key", flat=True))
    assert keys and not any("example" in k.lower() or "127.0.0.1" in k for k in keys)
    assert services.forget_login_limits("someone@example.test ") == 1


def test_a_login_link_works_once(practice, client):
    set_email(practice, practice.client, "client@riverside.test")
    client.post("/portal/login/", {"email": "client@riverside.test"})
    link = link_from_mail(mail.outbox[0])
    confirm = client.get(link)  # a mail scanner's GET does not use it up
    assert confirm.status_code == 200 and b"Riverside" in confirm.content
    assert client.post(link).status_code == 302
    assert client.get("/portal/").status_code == 200
    assert client.post(link).status_code == 410


def test_an_expired_or_tampered_login_link_does_not_work(practice, client):
    set_email(practice, practice.client, "client@riverside.test")
    client.post("/portal/login/", {"email": "client@riverside.test"})
    link = link_from_mail(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        page = client.post(link)
    assert page.status_code == 410 and b"expired" in page.content
    assert client.post(link[:-3] + "xx/").status_code == 404
    assert client.get("/portal/").status_code == 302


def test_portal_pages_need_a_portal_login_not_a_staff_one(practice, client):
    for path in ("/portal/", "/portal/progress/", "/portal/goals/", "/portal/summaries/",
                 "/portal/data/"):
        assert client.get(path).status_code == 302
    login(client, practice.therapist)
    assert client.get("/portal/progress/").status_code == 302


def test_a_portal_login_gives_no_staff_access(practice, client):
    log_in(client, practice)
    assert client.get(f"/sessions/{practice.session.code}/checkins/").status_code == 302
    assert client.get("/caseload/").status_code == 302


def _history(practice):
    with scope(organisation=[practice.org]):
        submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9)
        submit(episode=practice.episode, instrument_id="relationship-checkin", answers=REL)
        other = {f"phq9-{n}": 3 for n in range(1, 10)} | {"phq9-9": 0}
        submit(episode=practice.colleague_episode, instrument_id="phq9", answers=other)


def test_progress_shows_my_scores_as_svg_charts_with_tables(practice, client):
    _history(practice)
    log_in(client, practice)
    page = client.get("/portal/progress/")
    html = page.content.decode()
    # Each chart twice, for wide screens and for phones: PHQ-9, the overall relationship
    # rating, and the heat strip of its seven parts.
    assert html.count("<svg") == 6 and html.count('class="chart chart-heat"') == 2
    assert 'role="img"' in html and "<table" in html
    assert "<td>16</td>" in html  # my PHQ-9 total (8 items x 2)
    assert "<td>24</td>" not in html  # the other client's total
    assert "Mutual respect" in html


def test_i_see_only_my_own_checkins(practice, client):
    with scope(organisation=[practice.org]):
        for session in (practice.session, practice.colleague_session):
            session.scheduled_at = timezone.now() + timedelta(days=2)
            session.save()
        mine = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                      session=practice.session, when=When.BEFORE,
                                      respondent=Respondent.CLIENT, instruments=["phq9"])
        theirs = CheckIn.objects.create(organisation=practice.org, episode=practice.colleague_episode,
                                        session=practice.colleague_session, when=When.BEFORE,
                                        respondent=Respondent.CLIENT, instruments=["gad7"])
    log_in(client, practice)
    home = client.get("/portal/")
    assert str(mine.code).encode() in home.content
    assert str(theirs.code).encode() not in home.content
    assert client.post(f"/portal/checkins/{theirs.code}/start/").status_code == 404
    start = client.post(f"/portal/checkins/{mine.code}/start/")
    assert start.status_code == 302 and start["Location"].startswith("/c/")


def test_clients_of_other_practices_are_out_of_reach(practice, other_practice, client):
    _history(practice)
    with scope(organisation=[other_practice.org]):
        submit(episode=other_practice.episode, instrument_id="phq9",
                        answers={f"phq9-{n}": 0 for n in range(1, 10)})
    # The same address at two practices: one login link per practice, each its own client.
    set_email(other_practice, other_practice.client, "client@riverside.test")
    log_in(client, practice)
    assert len(mail.outbox) == 2
    html = client.get("/portal/progress/").content.decode()
    assert "<td>16</td>" in html and "<td>0</td>" not in html


def test_download_my_data_is_a_valid_fhir_bundle_and_a_summary_of_my_answers(practice, client):
    _history(practice)
    log_in(client, practice)
    reply = client.post("/portal/data/download/")
    assert reply["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    bundle = json.loads(archive.read("responses.fhir.json"))
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    assert schema_errors(bundle) == []  # the official R4 JSON schema
    assert unresolved_references(bundle) == []
    assert bundle["type"] == "collection"
    responses = [e["resource"] for e in bundle["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == 2  # mine only
    [patient] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert "name" not in patient  # not shared unless the client ticks the box
    named = zipfile.ZipFile(io.BytesIO(client.post("/portal/data/download/",
                                                   {"include_name": "yes"}).content))
    [patient] = [e["resource"] for e in json.loads(named.read("responses.fhir.json"))["entry"]
                 if e["resource"]["resourceType"] == "Patient"]
    assert patient["name"] == [{"use": "official", "text": "Riverside Client"}]
    summary = archive.read("summary.txt").decode()
    assert "Felt rushed at the end" in summary
    assert "PHQ-9" in summary


def test_the_export_carries_scores_as_coded_observations(practice, client):
    from rapport.goals import services as goals
    from rapport.goals.models import Side

    _history(practice)
    with scope(organisation=[practice.org]):
        goal = goals.propose_goal(practice.episode, "Take the bus to work", side=Side.THERAPIST,
                                  user=practice.therapist)
        goals.agree_goal(goal, side=Side.CLIENT)
        submit(episode=practice.episode, instrument_id="goal-progress",
                        answers={goal.link_id: 6})
    log_in(client, practice)
    archive = zipfile.ZipFile(io.BytesIO(client.post("/portal/data/download/").content))
    bundle = json.loads(archive.read("responses.fhir.json"))
    resources = [e["resource"] for e in bundle["entry"]]
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    assert [r["questionnaire"].split("|")[0] for r in responses] == [
        "urn:rapport:questionnaire:phq9", "urn:rapport:questionnaire:relationship-checkin",
        f"urn:rapport:questionnaire:goal-progress-{practice.episode.code}"]
    phq9 = responses[0]
    first = next(i for i in phq9["item"] if i["linkId"] == "phq9-1")
    assert first["answer"][0]["valueCoding"]["code"] == "LA6570-1"  # LOINC: more than half the days
    total = next(r for r in resources if r["resourceType"] == "Observation"
                 and any(c["code"] == "44261-6" for c in r["code"]["coding"]))
    loinc = next(c for c in total["code"]["coding"] if c["code"] == "44261-6")
    assert loinc["system"] == "http://loinc.org"
    assert total["valueInteger"] == 16
    assert total["derivedFrom"] == [{"reference": f"urn:uuid:{phq9['id']}"}]
    assert total["interpretation"] == [{"text": "moderately severe"}]
    rated = responses[2]["item"][0]
    assert rated["linkId"] == goal.link_id and rated["answer"] == [{"valueInteger": 6}]
    assert rated["text"].startswith("Take the bus to work")
    assert "Take the bus to work" in archive.read("summary.txt").decode()


def test_goals_and_summaries_say_honestly_that_there_are_none_yet(practice, client):
    log_in(client, practice)
    assert b"No goals have been shared" in client.get("/portal/goals/").content
    assert b"not shared any session summaries" in client.get("/portal/summaries/").content


def test_logging_out_ends_the_portal_session(practice, client):
    log_in(client, practice)
    client.post("/portal/logout/")
    assert client.get("/portal/").status_code == 302


def test_only_checkins_that_can_still_be_answered_are_due(practice):
    now = timezone.now()
    with scope(organisation=[practice.org]):
        practice.session.scheduled_at = now - timedelta(days=1)
        practice.session.save()
        before = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                        session=practice.session, when=When.BEFORE,
                                        respondent=Respondent.CLIENT, instruments=["phq9"])
        after = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                       session=practice.session, when=When.AFTER,
                                       respondent=Respondent.CLIENT,
                                       instruments=["relationship-checkin"])
        assert list(due_checkins(practice.client)) == [after]
        assert list(due_checkins(practice.client, now=now + timedelta(days=8))) == []
        assert before in due_checkins(practice.client, now=now - timedelta(days=3))
        assert before not in due_checkins(practice.client, now=now - timedelta(days=10))



def test_a_checkin_opened_from_the_portal_is_attributed_to_the_client(practice, client):
    from rapport.audit.models import AuditEvent

    with scope(organisation=[practice.org]):
        practice.session.scheduled_at = timezone.now() + timedelta(days=2)
        practice.session.save()
        mine = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                      session=practice.session, when=When.BEFORE,
                                      respondent=Respondent.CLIENT, instruments=["phq9"])
    log_in(client, practice)
    client.post(f"/portal/checkins/{mine.code}/start/")
    with scope(organisation=[practice.org]):
        created = AuditEvent.objects.get(action="checkins.invitation.created")
    assert created.actor_label == f"client:{practice.client.code}"
    assert created.actor is None


def test_login_mail_goes_to_a_worker_for_known_and_unknown_alike(practice, rf, monkeypatch):
    """Talking to an SMTP server while the client waits would tell known addresses apart: the
    request only queues the email (a worker sends it), and the reply is the same either way."""
    from django.contrib.sessions.backends.db import SessionStore

    from rapport.core import tasks
    from rapport.portal.views import login as login_view

    queued = []
    monkeypatch.setattr(tasks, "enqueue",
                        lambda task, *args, **kwargs: queued.append((task.name, args)))
    set_email(practice, practice.client, "client@riverside.test")
    replies = {}
    for email in ("client@riverside.test", "nobody@nowhere.test"):
        request = rf.post("/portal/login/", {"email": email})
        request.session = SessionStore()
        request._dont_enforce_csrf_checks = True
        replies[email] = login_view(request)
        assert replies[email].status_code == 200
    assert len(mail.outbox) == 0  # nothing sent while the client waits
    assert replies["client@riverside.test"].content == replies["nobody@nowhere.test"].content
    assert [(name, args[2]) for name, args in queued] == [
        (tasks.send_email.name, ["client@riverside.test"])]


def test_a_begun_check_in_says_continue_and_the_logo_stays_in_the_portal(practice, client):
    from rapport.checkins.models import Draft

    with scope(organisation=[practice.org]):
        practice.session.scheduled_at = timezone.now() + timedelta(days=2)
        practice.session.save()
        checkin = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                         session=practice.session, when=When.BEFORE,
                                         respondent=Respondent.CLIENT, instruments=["phq9"])
    log_in(client, practice)
    home = client.get("/portal/").content.decode()
    assert '<a class="brand" href="/portal/">' in home and "/login/" not in home.split("</header>")[0]
    assert ">Start<" in home and ">Continue<" not in home
    with scope(organisation=[practice.org]):
        Draft.objects.create(organisation=practice.org, checkin=checkin, instrument_id="phq9",
                             answers={"phq9-1": 1})
    home = client.get("/portal/").content.decode()
    assert ">Continue<" in home and ">Start<" not in home


def test_progress_lists_phq9_before_gad7(practice, client):
    with scope(organisation=[practice.org]):
        submit(episode=practice.episode, instrument_id="gad7", answers={f"gad7-{n}": 1 for n in range(1, 8)})
        submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9)
    log_in(client, practice)
    html = client.get("/portal/progress/").content.decode()
    assert 0 < html.index('id="h-phq9"') < html.index('id="h-gad7"')
