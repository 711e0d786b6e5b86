"""No page a staff member sees shows a UUID or an instrument id as text: a crawl of the demo
practice's staff pages, as a therapist, a supervisor and an administrator, following links."""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from datetime import date
from urllib.parse import urlparse

from django.urls import Resolver404, resolve

from rapport import instruments
from tests.conftest import StaffClient
from tests.demo_snapshot import load_demo

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
IDS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, instruments.instrument_ids()))
                 + r")(?![\w-])")
PER_PATTERN = 4  # pages of each kind (URL name) visited per person: the crawl stays minutes
SKIP = {"accounts-logout", "portal-logout", "audit-export", "checkins-answer"}


def visible_text(content: bytes) -> str:
    body = content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def crawl(http, start: str) -> tuple[int, list[str]]:
    seen, queue, per_name, problems = {start}, deque([start]), Counter(), []
    visited = 0
    while queue:
        path = queue.popleft()
        response = http.get(path)
        visited += 1
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        text = visible_text(response.content)
        for pattern, what in ((UUID, "a UUID"), (IDS, "an instrument id")):
            for found in list(pattern.finditer(text))[:3]:
                context = text[max(0, found.start() - 60):found.end() + 20].split()
                problems.append(f"{path}: {what} {found.group(0)!r} in “{' '.join(context)}”")
        for href in re.findall(r'href="([^"#]+)', response.content.decode()):
            href = html.unescape(href)
            url = urlparse(href)
            if url.netloc or not url.path.startswith("/") or url.path.startswith("/static/"):
                continue
            try:
                name = resolve(url.path).url_name
            except Resolver404:
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if name in SKIP or target in seen or per_name[name] >= PER_PATTERN:
                continue
            per_name[name] += 1
            seen.add(target)
            queue.append(target)
    return visited, problems


def test_no_staff_page_shows_a_uuid_or_an_instrument_id(db):
    demo = load_demo(seed=7, today=date(2026, 11, 25))  # shared with tests/test_demo.py
    people = [demo.staff.therapists[0], demo.staff.supervisor, demo.staff.admin]
    problems, visited = [], 0
    for user in people:
        http = StaffClient()
        http.force_login(user)
        count, found = crawl(http, "/caseload/")
        visited += count
        problems += found
    assert visited > 60
    assert not problems, "\n".join(sorted(set(problems))[:40])
