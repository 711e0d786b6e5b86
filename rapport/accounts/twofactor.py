"""Two-factor login for staff: TOTP set-up, verification, recovery codes and re-confirmation."""

from __future__ import annotations

import logging
import time

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken

from rapport.accounts.forms import FAILED_LOGINS_PER_EMAIL
from rapport.accounts.models import (
    AuthenticatorDevice,
    RecoveryCode,
    RecoveryCodes,
    recovery_digest,
)
from rapport.audit.services import record
from rapport.core.ratelimit import available, consume

log = logging.getLogger("rapport.demo")
REAUTH_SESSION_KEY = "rapport_reauth_at"
RECOVERY_SESSION_KEY = "rapport_new_recovery_codes"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True}),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )


class ReauthForm(CodeForm):
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["password", "code"]


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site: never another host, and never a bare word that redirect() would
    # take for a view name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def demo_code(device: AuthenticatorDevice, now: float | None = None) -> str | None:
    """The code the device accepts next: a code of a time step already used is refused (replay
    protection), so after a login in the same 30 seconds it is the next step's code, which the
    device's tolerance (one step) accepts now. None when even that step was used."""
    base = int(((now or time.time()) - device.t0) // device.step)
    current = base + device.drift  # the step the device expects now
    wanted = max(current, device.last_t + 1)
    if wanted > current + device.tolerance:
        return None
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                drift=wanted - base)
    return f"{code:0{device.digits}d}"


def _demo_hint(user, device: AuthenticatorDevice) -> None:
    """In the demo only, print the code to type in the terminal, as demo emails are."""
    if settings.MODE == "demo":
        code = demo_code(device)
        if code is None:
            print(f"[demo] two-factor code for {user.email}: wait {device.step} seconds and "
                  "reload (the codes for now have been used)", flush=True)
        else:
            print(f"[demo] two-factor code for {user.email}: {code}", flush=True)


def _svg_qr(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4, title="Scan with an authenticator app")


def _new_recovery_codes(user) -> list[str]:
    """Fresh codes, shown once; only their digests are stored."""
    RecoveryCodes.objects.filter(user=user).delete()
    device = RecoveryCodes.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _i in range(settings.RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, digest=recovery_digest(c)) for c in codes)
    return codes


@never_cache
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if any(devices_for_user(user, confirmed=True)):
        return redirect("accounts-2fa-verify")
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = AuthenticatorDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_recovery_codes(user)
                record(request, "accounts.2fa.enrolled")
            otp_login(request, device)
            request.session[RECOVERY_SESSION_KEY] = codes
            return redirect(reverse("accounts-2fa-recovery-codes") + "?" + urlencode({"next": _next(request)}))
        form.add_error("code", _("That code did not match. Check the time on your phone and try the newest code."))
    _demo_hint(user, device)
    secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(request, "accounts/2fa_setup.html", {
        "form": form, "qr": _svg_qr(device.config_url), "secret": secret, "next": _next(request),
    })


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return HttpResponseRedirect(_next(request))
    totp_device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if totp_device is None:
        return redirect("accounts-2fa-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            record(request, "accounts.2fa.verified",
                   detail={"method": "recovery code" if isinstance(device, RecoveryCodes) else "app"})
            return HttpResponseRedirect(_next(request))
        form.add_error("code", _("That code did not match. Try the newest code from your app, or a recovery code."))
    _demo_hint(user, totp_device)
    return render(request, "accounts/2fa_verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows newly made recovery codes once; asking again makes a fresh set (after re-confirming)."""
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    if codes is None:
        return HttpResponseRedirect(_next(request))
    return render(request, "accounts/2fa_recovery_codes.html", {"codes": codes, "next": _next(request)})


def reauth_redirect(request: HttpRequest) -> HttpResponse | None:
    """A redirect to re-confirm identity when the last confirmation is too old, else None.

    Sensitive actions (exports, erasure, role changes) call this after their access check, so
    people without access still get a plain 404 rather than a prompt.
    """
    confirmed_at = request.session.get(REAUTH_SESSION_KEY, 0)
    if time.time() - confirmed_at > settings.REAUTH_MINUTES * 60:
        return redirect(reverse("accounts-reauth") + "?" + urlencode({"next": request.get_full_path()}))
    return None


@never_cache
@login_required
def reauth(request: HttpRequest) -> HttpResponse:
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        if not available(FAILED_LOGINS_PER_EMAIL, user.email):
            form.add_error(None, _("Too many attempts. Try again in 15 minutes."))
        elif not user.check_password(form.cleaned_data["password"]):
            consume(FAILED_LOGINS_PER_EMAIL, user.email)
            form.add_error("password", _("That password is not right."))
        elif match_token(user, form.cleaned_data["code"].replace(" ", "")) is None:
            consume(FAILED_LOGINS_PER_EMAIL, user.email)
            form.add_error("code", _("That code did not match."))
        else:
            request.session[REAUTH_SESSION_KEY] = time.time()
            record(request, "accounts.reauthenticated")
            return HttpResponseRedirect(_next(request))
    totp_device = AuthenticatorDevice.objects.filter(user=request.user, confirmed=True).first()
    if totp_device is not None:
        _demo_hint(request.user, totp_device)
    return render(request, "accounts/reauth.html", {"form": form, "next": _next(request)})
