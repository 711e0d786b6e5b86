"""Staff administration pages (admins of the practice only; 404 for everyone else).

Every change asks for the password and a code again when the last confirmation is older than
RAPPORT_REAUTH_MINUTES (accounts.twofactor.reauth_redirect).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user

from rapport.accounts.models import Role, User
from rapport.accounts.twofactor import reauth_redirect
from rapport.audit.services import record
from rapport.care import access
from rapport.care.models import CareEpisode
from rapport.practice import staff
from rapport.practice.forms import InviteStaffForm, ReassignForm, RolesForm, SupervisionForm


def _member(request: HttpRequest, code) -> User:
    access.require_admin(request)
    try:
        return User.objects.filter(memberships__organisation=request.organisation).distinct().get(
            code=access.parse_code(code))
    except User.DoesNotExist as exc:
        raise Http404("No such person") from exc


def _therapists(request: HttpRequest, *, besides: User | None = None):
    qs = User.objects.filter(memberships__organisation=request.organisation,
                             memberships__role=Role.THERAPIST, is_active=True).distinct().order_by("name")
    return qs.exclude(pk=besides.pk) if besides else qs


@login_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    people = [(u, sorted(staff.roles_of(u, request.organisation)), any(devices_for_user(u, confirmed=True)))
              for u in staff.members(request.organisation)]
    record(request, "practice.staff.viewed", organisation=request.organisation)
    return render(request, "practice/staff.html", {"people": people, "form": InviteStaffForm()})


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    form = InviteStaffForm(request.POST)
    if form.is_valid():
        try:
            user = staff.invite(request, **form.cleaned_data)
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Invited %(email)s.") % {"email": user.email})
            return redirect("practice-staff")
    people = [(u, sorted(staff.roles_of(u, request.organisation)), any(devices_for_user(u, confirmed=True)))
              for u in staff.members(request.organisation)]
    return render(request, "practice/staff.html", {"people": people, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def member(request: HttpRequest, code) -> HttpResponse:
    person = _member(request, code)
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    org = request.organisation
    roles_form = RolesForm(initial={"roles": sorted(staff.roles_of(person, org))})
    supervision_form = SupervisionForm(therapists=_therapists(request, besides=person), initial={
        "therapists": list(person.supervisees.filter(organisation=org).values_list("therapist", flat=True))})
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "roles":
                roles_form = RolesForm(request.POST)
                if roles_form.is_valid():
                    staff.set_roles(request, person, set(roles_form.cleaned_data["roles"]))
                    messages.success(request, _("Roles saved."))
                    return redirect("practice-staff-member", person.code)
            elif action == "supervision":
                supervision_form = SupervisionForm(request.POST, therapists=_therapists(request, besides=person))
                if supervision_form.is_valid():
                    staff.set_supervision(request, person, list(supervision_form.cleaned_data["therapists"]))
                    messages.success(request, _("Supervision saved."))
                    return redirect("practice-staff-member", person.code)
            elif action == "reset_two_factor":
                staff.reset_two_factor(request, person)
                messages.success(request, _("%(person)s's two-factor login is reset: they enrol again at their "
                                             "next login.") % {"person": person})
                return redirect("practice-staff-member", person.code)
            elif action == "deactivate":
                staff.deactivate(request, person)
                messages.success(request, _("%(person)s is deactivated here.") % {"person": person})
                return redirect("practice-staff")
        except staff.StaffError as exc:
            error = str(exc)
    else:
        record(request, "practice.staff.member_viewed", person, organisation=org)
    return render(request, "practice/member.html", {
        "person": person, "roles_form": roles_form, "supervision_form": supervision_form,
        "error": error, "caseload": staff.active_caseload(person, org).count(),
        "enrolled": any(devices_for_user(person, confirmed=True)),
    }, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, code) -> HttpResponse:
    """The person's active episodes, each to be given to another therapist."""
    person = _member(request, code)
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    therapists = _therapists(request, besides=person)
    episodes = list(staff.active_caseload(person, request.organisation))
    if request.method == "POST":
        form = ReassignForm(request.POST, therapists=therapists)
        chosen = request.POST.getlist("episode")
        if form.is_valid():
            moved = 0
            for episode in CareEpisode.objects.filter(pk__in=[e.pk for e in episodes],
                                                      code__in=[c for c in chosen if _is_uuid(c)]):
                staff.reassign(request, episode, form.cleaned_data["therapist"])
                moved += 1
            if moved:
                messages.success(request, ngettext(
                    "Reassigned %(count)d episode.", "Reassigned %(count)d episodes.", moved) % {"count": moved})
                return redirect("practice-staff-reassign", person.code)
            form.add_error(None, _("Choose at least one episode."))
    else:
        form = ReassignForm(therapists=therapists)
    return render(request, "practice/reassign.html", {"person": person, "episodes": episodes, "form": form})


def _is_uuid(value: str) -> bool:
    try:
        access.parse_code(value)
    except Http404:
        return False
    return True


@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """An invited person chooses their password (the link works until the password is set)."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, OverflowError, User.DoesNotExist) as exc:
        raise Http404("No such invitation") from exc
    if not default_token_generator.check_token(user, token):
        raise Http404("No such invitation")
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        record(request, "practice.staff.password_set", user, actor_label=f"user:{user.email}")
        messages.success(request, _("Your password is set. Log in, then set up your authenticator app."))
        return redirect("accounts-login")
    return render(request, "practice/welcome.html", {"form": form, "person": user})
