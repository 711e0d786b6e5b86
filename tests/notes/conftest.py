from __future__ import annotations

import pytest
from django_scopes import scope


@pytest.fixture
def in_org(practice):
    with scope(organisation=[practice.org]):
        yield practice
