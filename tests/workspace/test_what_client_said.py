"""What the client said: item-level answers in the questionnaire's words, critical items first,
the client's comments and preparation for those who read clinical text, the C-NIP, audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services import submission
from tests.conftest import login
from tests.workspace.conftest import phq9, relationship

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
COMMENT = "I felt rushed today"


@pytest.fixture
def answered(practice):
    """Session 1 (in the past): preparation, a PHQ-9 with item 9 answered, the after-session
    check-in with a comment; a C-NIP at intake."""
    with scope(organisation=[practice.org]):
        episode, session = practice.episode, practice.session
        before = CheckIn.objects.create(organisation=practice.org, episode=episode, session=session,
                                        when=When.BEFORE, respondent=Respondent.CLIENT,
                                        instruments=["session-prep", "phq9"])
        after = CheckIn.objects.create(organisation=practice.org, episode=episode, session=session,
                                       when=When.AFTER, respondent=Respondent.CLIENT,
                                       instruments=["relationship-checkin"])
        submission.submit(episode=episode, instrument_id="session-prep", checkin=before,
                          answers={"focus": "Sleep, and my sister", "since-last": 4})
        submission.submit(episode=episode, instrument_id="phq9", checkin=before,
                          answers=phq9(12) | {"phq9-9": 2})
        submission.submit(episode=episode, instrument_id="relationship-checkin", checkin=after,
                          answers=relationship(6) | {"not-right": COMMENT})
        cnip = {f"cnip-{n}": "none" for n in range(1, 19)} | {"cnip-14": "left-3"}
        submission.submit(episode=episode, instrument_id="cnip", answers=cnip)
    return practice


def page(client, name, code) -> str:
    response = client.get(reverse(name, args=[code]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["therapist", "supervisor"])
def test_the_session_page_shows_answers_critical_items_and_comments(client, answered, who):
    login(client, getattr(answered, who))
    html = page(client, "care-session", answered.session.code)
    said = html[html.index('id="said-title"'):]
    critical = said[said.index("critical-items"):said.index("</div>")]
    assert ITEM_9 in critical and "More than half the days" in critical
    assert "Over the last 2 weeks, how often have you been bothered" in said  # the stem
    assert "Little interest or pleasure in doing things" in said
    assert COMMENT in said and "Sleep, and my sister" in said
    assert "PHQ-9" in said and "phq9" not in said
    with scope(organisation=[answered.org]):
        event = AuditEvent.objects.get(action="workspace.answers.viewed")
    assert event.actor == getattr(answered, who)
    assert event.client_code == answered.client.code
    assert event.detail == {"responses": 3, "free_text": True, "preferences": True}  # session 1


def test_the_admin_sees_no_answers_and_no_words(client, answered):
    login(client, answered.admin)
    for name, code in (("care-session", answered.session.code),
                       ("care-episode", answered.episode.code)):
        html = page(client, name, code)
        assert ITEM_9 not in html and COMMENT not in html and "Sleep, and my sister" not in html
    with scope(organisation=[answered.org]):
        assert not AuditEvent.objects.filter(action="workspace.answers.viewed").exists()


def test_another_therapist_and_another_practice_get_404(client, answered, other_practice):
    for user in (answered.colleague, other_practice.therapist):
        login(client, user)
        for name, code in (("care-session", answered.session.code),
                           ("care-episode", answered.episode.code)):
            assert client.get(reverse(name, args=[code])).status_code == 404


def test_the_episode_page_shows_the_latest_answers_and_the_preferences(client, answered):
    login(client, answered.therapist)
    html = page(client, "care-episode", answered.episode.code)
    assert "What the client said at the latest session" in html
    assert ITEM_9 in html and COMMENT in html
    prefs = html[html.index('id="preferences-title"'):]
    assert "Strong preference: Be gentle" in prefs
    assert "no preference either way on 17 items" in prefs
    with scope(organisation=[answered.org]):
        assert AuditEvent.objects.filter(action="workspace.answers.viewed",
                                         object_code=str(answered.episode.code)).count() == 1


def test_a_corrected_answer_shows_the_correction_only(client, answered):
    with scope(organisation=[answered.org]):
        first = answered.episode.responses.get(instrument_id="phq9")
        submission.submit(episode=answered.episode, instrument_id="phq9", session=answered.session,
                          answers=phq9(12), supersedes=first)
    login(client, answered.therapist)
    html = page(client, "care-session", answered.session.code)
    assert "a correction of an earlier answer" in html
    assert 'class="critical-items"' not in html  # the corrected PHQ-9 has item 9 at 0


def test_phq9_comes_before_gad7_whichever_the_schedule_asked_first(client, practice):
    """One measure order on every page: a practice whose schedule asks GAD-7 first still reads
    PHQ-9 first on the session and episode pages (as in the portal, the charts, the caseload);
    the preparation keeps its place before them."""
    from tests.workspace.conftest import gad7

    with scope(organisation=[practice.org]):
        episode, session = practice.episode, practice.session
        before = CheckIn.objects.create(organisation=practice.org, episode=episode, session=session,
                                        when=When.BEFORE, respondent=Respondent.CLIENT,
                                        instruments=["session-prep", "gad7", "phq9"])
        for instrument_id, answers in (("session-prep", {"focus": "Work", "since-last": 5}),
                                       ("gad7", gad7(9)), ("phq9", phq9(12))):
            submission.submit(episode=episode, instrument_id=instrument_id, checkin=before,
                              answers=answers)
    login(client, practice.therapist)
    for name, code in (("care-session", session.code), ("care-episode", episode.code)):
        body = page(client, name, code)
        said = body[body.index('id="said-title"'):]
        headings = re.findall(r'<h3 id="said-\d+">([^<]*)', said)
        assert [h.strip() for h in headings][:3] == ["Getting ready for your session", "PHQ-9",
                                                      "GAD-7"], name
