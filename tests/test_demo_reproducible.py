"""The demo practice is reproducible: same seed and day, same practice.

The first build is the one this test run keeps for the tests that read the demo
(tests/demo_snapshot.py, built here if no test of the run needed it yet); the second is built
afresh, in this process.
"""

from datetime import date

from django.db import transaction

from rapport.demo.generator import generate
from tests.demo_snapshot import load_demo

TODAY = date(2026, 11, 25)


def test_same_seed_same_practice(db):
    # Roll the first practice back rather than deleting it: later layers protect their rows.
    with transaction.atomic():
        a = load_demo(seed=7, today=TODAY)
        first = [(p.client.name, p.story, len(p.sessions)) for p in a.plans]
        transaction.set_rollback(True)
    b = generate(seed=7, today=TODAY)
    assert [(p.client.name, p.story, len(p.sessions)) for p in b.plans] == first
