"""The demo practice is reproducible: same seed and day, same practice.

Apart from tests/test_demo.py, whose tests share one demo practice in the database: this test
builds its own two.
"""

from datetime import date

from rapport.demo.generator import generate

TODAY = date(2026, 11, 25)


def test_same_seed_same_practice(db):
    # Roll the first practice back rather than deleting it: later layers protect their rows.
    from django.db import transaction

    with transaction.atomic():
        a = generate(seed=3, today=TODAY)
        first = [(p.client.name, p.story, len(p.sessions)) for p in a.plans]
        transaction.set_rollback(True)
    b = generate(seed=3, today=TODAY)
    assert [(p.client.name, p.story, len(p.sessions)) for p in b.plans] == first
