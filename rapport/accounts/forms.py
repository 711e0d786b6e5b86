from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from rapport.audit.services import client_ip
from rapport.core import i18n
from rapport.core.ratelimit import Limit, available, consume

# Five failed attempts lock an email address for up to 15 minutes (it refills gradually); an IP
# address gets more room because a clinic shares one address between colleagues.
FAILED_LOGINS_PER_EMAIL = Limit("login-email", capacity=5, period=15 * 60)
FAILED_LOGINS_PER_IP = Limit("login-ip", capacity=30, period=15 * 60)

SAME_ANSWER = "That email address and password do not match an active account."
LOCKED = ("Too many attempts. For your security, logging in is paused for this account and "
          "device; try again in 15 minutes.")


class LoginForm(AuthenticationForm):
    """Email and password, rate-limited. Nothing in the answer says whether an address is known."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    error_messages = {"invalid_login": SAME_ANSWER, "inactive": SAME_ANSWER}

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()
        ip = client_ip(self.request) or "unknown"
        if email:
            self.cleaned_data["username"] = email
            if not (available(FAILED_LOGINS_PER_EMAIL, email) and available(FAILED_LOGINS_PER_IP, ip)):
                raise forms.ValidationError(LOCKED, code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            if email:
                consume(FAILED_LOGINS_PER_EMAIL, email)
                consume(FAILED_LOGINS_PER_IP, ip)
            raise


class LanguageForm(forms.Form):
    """The language a staff member reads the site in."""

    language = forms.ChoiceField(label=_("Language"), choices=i18n.choices)
