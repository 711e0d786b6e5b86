"""Staff administration: invite, roles, supervision, deactivation with reassignment, 2FA reset.

Every change is atomic and audited. Rules that keep a practice working: the last administrator
cannot lose the role; a therapist with active episodes keeps the role (and cannot be deactivated)
until their caseload is reassigned; deactivation removes the person's roles and supervision links
here, and when they belong to no other practice their account is switched off, which ends every
session of theirs at once (Django's ModelBackend refuses inactive users on each request).
"""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapport.accounts.models import Membership, Role, Supervision, User
from rapport.audit.services import record
from rapport.care.models import CareEpisode, EpisodeStatus
from rapport.core import i18n
from rapport.core.tasks import queue_email


class StaffError(ValueError):
    pass


def members(organisation) -> list[User]:
    return list(User.objects.filter(memberships__organisation=organisation).distinct().order_by("name"))


def roles_of(user: User, organisation) -> set[str]:
    return set(Membership.objects.filter(organisation=organisation, user=user).values_list("role", flat=True))


def active_caseload(user: User, organisation):
    return CareEpisode.objects.filter(organisation=organisation, therapist=user,
                                      status=EpisodeStatus.ACTIVE).select_related("client")


@transaction.atomic
def invite(request: HttpRequest, *, email: str, name: str, role: str) -> User:
    """Add a role here for this address (a new account if none), and email a set-password link."""
    organisation = request.organisation
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, None, name=name)  # no usable password until set
    if Membership.objects.filter(organisation=organisation, user=user, role=role).exists():
        raise StaffError(_("%(email)s already has that role here.") % {"email": user.email})
    Membership.objects.create(organisation=organisation, user=user, role=role)
    record(request, "practice.staff.invited", user, organisation=organisation,
           detail={"email": email, "role": role})
    values = {"name": user.name, "by": str(request.user), "practice": organisation.name}
    with i18n.speaking(user.language):
        if not user.has_usable_password():
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            values["url"] = request.build_absolute_uri(
                reverse("practice-welcome", args=[uid, default_token_generator.make_token(user)]))
            body = _("Hello %(name)s,\n\n%(by)s invites you to %(practice)s on Rapport. Choose your "
                     "password here (the link works once):\n\n%(url)s\n\nAfter that you will set "
                     "up an authenticator app for two-factor login.\n") % values
        else:
            body = _("Hello %(name)s,\n\n%(by)s has given you a role at %(practice)s on Rapport. "
                     "Log in as usual.\n") % values
        subject = _("%(practice)s: your Rapport account") % values
    transaction.on_commit(lambda: queue_email(subject, body, [user.email]))
    return user


@transaction.atomic
def set_roles(request: HttpRequest, user: User, roles: set[str]) -> None:
    organisation = request.organisation
    before = roles_of(user, organisation)
    if not roles:
        raise StaffError(_("Choose at least one role (or deactivate the person instead)."))
    if Role.ADMIN in before and Role.ADMIN not in roles:
        admins = Membership.objects.filter(organisation=organisation, role=Role.ADMIN).exclude(user=user)
        if not admins.filter(user__is_active=True).exists():
            raise StaffError(_("The practice needs at least one administrator: make someone else one first."))
    if Role.THERAPIST in before and Role.THERAPIST not in roles and active_caseload(user, organisation).exists():
        raise StaffError(_("They still treat clients: reassign their caseload before removing the therapist role."))
    Membership.objects.filter(organisation=organisation, user=user).exclude(role__in=roles).delete()
    for role in roles - before:
        Membership.objects.create(organisation=organisation, user=user, role=role)
    if Role.SUPERVISOR not in roles:
        Supervision.objects.filter(organisation=organisation, supervisor=user).delete()
    record(request, "practice.staff.roles_changed", user, organisation=organisation,
           detail={"from": sorted(before), "to": sorted(roles)})


@transaction.atomic
def set_supervision(request: HttpRequest, supervisor: User, therapists: list[User]) -> None:
    organisation = request.organisation
    if therapists and Role.SUPERVISOR not in roles_of(supervisor, organisation):
        raise StaffError(_("Give them the supervisor role first."))
    if supervisor in therapists:
        raise StaffError(_("Nobody supervises themselves."))
    before = set(Supervision.objects.filter(organisation=organisation, supervisor=supervisor)
                 .values_list("therapist__email", flat=True))
    Supervision.objects.filter(organisation=organisation, supervisor=supervisor).exclude(
        therapist__in=therapists).delete()
    for therapist in therapists:
        Supervision.objects.get_or_create(organisation=organisation, supervisor=supervisor, therapist=therapist)
    record(request, "practice.staff.supervision_changed", supervisor, organisation=organisation,
           detail={"from": sorted(before), "to": sorted(t.email for t in therapists)})


@transaction.atomic
def reassign(request: HttpRequest, episode: CareEpisode, therapist: User) -> None:
    previous = episode.therapist
    episode.therapist = therapist
    episode.save(update_fields=["therapist"])
    record(request, "practice.episode.reassigned", episode, client=episode.client,
           detail={"from": previous.email, "to": therapist.email})


@transaction.atomic
def deactivate(request: HttpRequest, user: User) -> None:
    organisation = request.organisation
    if user == request.user:
        raise StaffError(_("You cannot deactivate yourself."))
    if active_caseload(user, organisation).exists():
        raise StaffError(_("They still treat clients: reassign their caseload first."))
    if Role.ADMIN in roles_of(user, organisation):
        others = Membership.objects.filter(organisation=organisation, role=Role.ADMIN).exclude(user=user)
        if not others.exists():
            raise StaffError(_("The practice needs at least one administrator."))
    Membership.objects.filter(organisation=organisation, user=user).delete()
    Supervision.objects.filter(organisation=organisation, supervisor=user).delete()
    Supervision.objects.filter(organisation=organisation, therapist=user).delete()
    elsewhere = Membership.objects.filter(user=user).exists()
    if not elsewhere:
        user.is_active = False
        user.save(update_fields=["is_active"])
    record(request, "practice.staff.deactivated", user, organisation=organisation,
           detail={"account_switched_off": not elsewhere})


@transaction.atomic
def reset_two_factor(request: HttpRequest, user: User) -> int:
    if user == request.user:
        raise StaffError(_("Reset your own two-factor login from another administrator's account."))
    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    record(request, "practice.staff.two_factor_reset", user, organisation=request.organisation,
           detail={"devices_removed": removed})
    return removed
