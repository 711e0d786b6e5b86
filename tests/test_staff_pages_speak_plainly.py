"""No page a staff member sees shows a UUID, an instrument or item id, or a Python value as text
(nor in what a screen reader reads out: titles, labels, alternative text), and no link on it
answers "not found" to them: a crawl of the demo practice's staff pages, as a therapist, a
supervisor and an administrator, following links from the caseload and from a client search;
the crawl must reach every staff page there is, and opens every alert (their wording differs
by kind of finding)."""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from datetime import date
from urllib.parse import urlparse

from django.urls import Resolver404, resolve, reverse

from rapport import instruments
from tests.conftest import StaffClient
from tests.demo_snapshot import load_demo

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# An instrument's id, alone ("phq9") or as an item's ("phq9-9", "gad7-difficulty").
IDS = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, instruments.instrument_ids()))
                 + r")(?:-\w+)?(?![\w-])")
PYTHON = re.compile(r"\{'\w+': |\[\{'|\b(?:None|True|False)\b(?=[,}\]])")  # a dict or list as text
READ_OUT = re.compile(r'\b(?:title|aria-label|aria-description|alt|placeholder)="([^"]*)"')
PER_PATTERN = 2  # pages of each kind (URL name) visited per person: the crawl stays seconds
EVERY_ONE = {"alerts-detail"}  # kinds whose wording differs page by page: all of them are read
SKIP = {"accounts-logout", "portal-logout", "audit-export", "checkins-answer"}


def visible_text(content: bytes) -> str:
    """The page's text and the attributes a screen reader reads out."""
    body = content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    read_out = " ".join(READ_OUT.findall(body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + read_out)


def problems_in(path: str, content: bytes) -> list[str]:
    """What on this page a person should not have to read."""
    text, problems = visible_text(content), []
    for pattern, what in ((UUID, "a UUID"), (IDS, "an instrument id"), (PYTHON, "a Python value")):
        for found in list(pattern.finditer(text))[:3]:
            context = text[max(0, found.start() - 60):found.end() + 20].split()
            problems.append(f"{path}: {what} {found.group(0)!r} in “{' '.join(context)}”")
    return problems


def crawl(http, *starts: str) -> tuple[set[str], list[str]]:
    """(the URL names of the pages read, the problems found), following links from `starts`."""
    seen, queue, per_name, problems = set(starts), deque(starts), Counter(), []
    read: set[str] = set()
    while queue:
        path = queue.popleft()
        response = http.get(path)
        links = re.findall(r'href="([^"#]+)', response.content.decode(errors="replace"))
        if response.status_code in (301, 302):  # a page that sends on (the calendar): follow it
            links = [response["Location"]]
        elif response.status_code >= 400:  # a link this person was shown that is not for them
            problems.append(f"{path}: a link answering {response.status_code}")
            continue
        elif response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        else:
            read.add(resolve(urlparse(path).path).url_name)
            problems += problems_in(path, response.content)
        for href in links:
            href = html.unescape(href)
            url = urlparse(href)
            if url.netloc or not url.path.startswith("/") or url.path.startswith("/static/"):
                continue
            try:
                name = resolve(url.path).url_name
            except Resolver404:
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if name in SKIP or target in seen or (per_name[name] >= PER_PATTERN
                                                   and name not in EVERY_ONE):
                continue
            per_name[name] += 1
            seen.add(target)
            queue.append(target)
    return read, problems


def test_no_staff_page_shows_a_uuid_or_an_instrument_id(db):
    demo = load_demo(seed=7, today=date(2026, 11, 25))  # shared with tests/test_demo.py
    people = [demo.staff.therapists[0], demo.staff.supervisor, demo.staff.admin]
    problems, read = [], set()
    for user in people:
        http = StaffClient()
        http.force_login(user)
        http.reauthenticate()  # pages behind a fresh confirmation (erasure, staff) are read too
        pages, found = crawl(http, "/caseload/", reverse("care-client-search") + "?q=a")
        read |= pages
        problems += found
    # Every page a staff member can open was read: a new staff page is reached from a link, or
    # is named below with the reason it cannot be.
    missing = staff_page_names() - read - NOT_CRAWLED
    assert not missing, f"staff pages the crawl never reached: {sorted(missing)}"
    assert not problems, "\n".join(sorted(set(problems))[:40])


def test_the_crawl_would_see_what_it_looks_for():
    """The checks can fail: each thing the crawl looks for, on a page of its own, is found."""
    uuid = "2fee6775-0d4c-4c4b-a1de-3bb2c4e5b4a1"
    bad = [f"<p>Response {uuid}</p>", "<td>phq9</td>", "<p>Item phq9-9, value 1</p>",
           "<p>relationship-checkin v1</p>", '<a href="/x/" title="cnip answers">C-NIP</a>',
           '<img alt="gad7-difficulty">', "<td>{'code': 'no_show', 'odds_ratio': 2.0}</td>",
           "<p>Reasons [{'code': 'x'}]</p>"]
    for page in bad:
        assert problems_in("/page/", page.encode()), page
    good = (f'<a href="/alerts/{uuid}/">PHQ-9 score 18</a><script>let id = "{uuid}";</script>'
            '<input type="hidden" name="instrument" value="phq9"><p>None of the above.</p>')
    assert problems_in("/page/", good.encode()) == []
    kinds = staff_page_names()
    assert {"care-session", "care-episode", "care-client", "alerts-detail", "care-discharge",
            "care-past-clients", "care-client-search", "audit-trail"} <= kinds


# Staff URL names that are not pages to read: each with why.
NOT_CRAWLED = {
    "accounts-logout", "audit-export",  # a POST; a CSV file
    "practice-invite", "practice-staff-invite",  # POST only
    "alerts-settings",  # the old address of the practice settings: a redirect
    "home", "scheduling-home",  # send on to the caseload, the calendar's week (followed)
    "accounts-2fa-setup", "accounts-2fa-verify", "accounts-2fa-recovery-codes",  # login steps
    "accounts-reauth",  # asked for before a sensitive action, with the page to return to
    "checkins-reflection",  # opened from a session with a therapist's own link
    "webhooks-endpoint",  # the demo subscribes no address; tests/webhooks reads that page
    "scheduling-request",  # the demo has no request to move a session; tests/scheduling reads it
}


def staff_page_names() -> set[str]:
    """The URL names a logged-in staff member can open: every name in the permission matrix
    that answers a staff member with a page, apart from the portal's and the public ones."""
    from tests.test_permission_matrix import MATRIX

    staff = ("therapist_own", "supervisor_team", "admin_own")
    return {name for name, row in MATRIX.items()
            if any(row[who] == 200 for who in staff) and not name.startswith(("portal-", "goals-portal",
                                                                               "notes-portal"))
            and row["anonymous"] != 200}
