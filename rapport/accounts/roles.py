"""Who holds which role where. Small, cached per request through the request object."""

from __future__ import annotations

from rapport.accounts.models import Membership, Organisation, Role, Supervision, User


def roles_in(user: User, organisation: Organisation) -> frozenset[str]:
    if not user.is_authenticated or organisation is None:
        return frozenset()
    return frozenset(
        Membership.objects.filter(user=user, organisation=organisation).values_list("role", flat=True)
    )


def supervised_therapist_ids(user: User, organisation: Organisation) -> list[int]:
    return list(
        Supervision.objects.filter(organisation=organisation, supervisor=user).values_list(
            "therapist_id", flat=True
        )
    )


def organisations_of(user: User) -> list[Organisation]:
    if not user.is_authenticated:
        return []
    return list(Organisation.objects.filter(memberships__user=user).distinct().order_by("id"))


__all__ = ["Role", "roles_in", "supervised_therapist_ids", "organisations_of"]
