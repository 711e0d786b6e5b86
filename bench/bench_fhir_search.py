"""Benchmark: one page of a FHIR Observation search over a long history.

    .venv/bin/python bench/bench_fhir_search.py [--responses N] [--count C]

A client with N responses (half PHQ-9: one score each; half the relationship check-in: its
total and seven parts), in a fresh SQLite database under a temporary folder. Printed, each
measured in this run:
- all: building every response's Observations and slicing the page from them (what the search
  did before);
- page: GET /fhir/Observation?_count=C&_offset=<the middle> through Django's test client (the
  whole request: token, counting and paging in the database, building only the page);
and the ratio all/page. The page's cost should not grow with N.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["RAPPORT_MODE"] = "test"
os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # alerts' emails

from django.core.management import call_command  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django_scopes import scope  # noqa: E402

from rapport.accounts.roles import roles_in  # noqa: E402
from rapport.api import fhir_server as server  # noqa: E402
from rapport.checkins.services.submission import Source, submit  # noqa: E402
from tests.api.conftest import make_token  # noqa: E402
from tests.conftest import make_practice  # noqa: E402

REL = {"trust": 8, "empathy": 7, "genuineness": 9, "respect": 8, "listening": 6, "safety": 9,
       "goals": 7}


def history(practice, n: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() - timedelta(days=n + 1)
    with scope(organisation=[practice.org]):
        for k in range(n):
            instrument_id, answers = (("phq9", {f"phq9-{i}": (i + k) % 4 for i in range(1, 10)})
                                      if k % 2 else ("relationship-checkin", REL))
            submit(practice.episode, instrument_id, answers,
                   source=Source(at=start + timedelta(days=k), actor_label="bench"))


def build_all(practice) -> int:
    request = RequestFactory().get("/fhir/Observation")
    request.user, request.organisation = practice.therapist, practice.org
    request.roles = roles_in(practice.therapist, practice.org)
    with scope(organisation=[practice.org]):
        responses = list(server.responses_for(request))
        built = server.response_resources(request, responses)
    return len([o for b in built for o in b[1:]])


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=400)
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    practice = make_practice("Bench")
    history(practice, args.responses)
    raw = make_token(practice, practice.therapist, ["fhir:read"])
    client = Client()
    total = client.get("/fhir/Observation", {"_count": "0"},
                       HTTP_AUTHORIZATION=f"Bearer {raw}").json()["total"]
    offset = total // 2

    def page():
        answer = client.get("/fhir/Observation", {"_count": args.count, "_offset": offset},
                            HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert answer.status_code == 200 and len(answer.json()["entry"]) == args.count

    t_all = best(lambda: build_all(practice))
    t_page = best(page)
    print(f"responses {args.responses}, observations {total}, page of {args.count} at {offset}")
    print(f"all:  {t_all * 1000:8.1f} ms (build every Observation, then slice)")
    print(f"page: {t_page * 1000:8.1f} ms (the whole request, paged in the database)")
    print(f"all/page: {t_all / t_page:.1f}x")


if __name__ == "__main__":
    main()
