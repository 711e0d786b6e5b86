"""Clinical querysets fail closed: no organisation scope, no rows."""

import pytest
from django_scopes import ScopeError, scope, scopes_disabled

from rapport.care.models import CareEpisode, Client, Session


@pytest.mark.parametrize("model", [Client, CareEpisode, Session])
def test_unscoped_query_raises(practice, model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_related_manager_is_scoped_too(practice):
    with scopes_disabled():
        client = Client.objects.get(pk=practice.client.pk)
    with pytest.raises(ScopeError):
        list(client.episodes.all())


def test_scope_limits_rows_to_its_organisation(practice, other_practice):
    with scope(organisation=[practice.org]):
        names = set(Client.objects.values_list("name", flat=True))
    assert names == {practice.client.name, practice.colleague_client.name}


def test_empty_scope_returns_nothing(practice):
    with scope(organisation=[]):
        assert Client.objects.count() == 0
