from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rapport.accounts.forms import LanguageForm, LoginForm
from rapport.audit.services import record
from rapport.core import i18n


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; the strength rules are AUTH_PASSWORD_VALIDATORS."""

    template_name = "accounts/password_change.html"

    def get_success_url(self):
        return reverse("care-caseload")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["language_form"] = LanguageForm(initial={"language": self.request.user.language})
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        record(self.request, "accounts.password.changed")
        messages.success(self.request, _("Your password has been changed."))
        return response


@login_required
@require_POST
def language(request):
    """Choose the language one reads the site in (on the account page); audited."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return redirect("accounts-password")
    old, new = request.user.language, form.cleaned_data["language"]
    if old != new:
        request.user.language = new
        request.user.save(update_fields=["language"])
        record(request, "accounts.language.changed", request.user,
               detail={"from": old, "to": new})
    i18n.activate(request, new)
    messages.success(request, _("Your language has been saved."))
    return redirect("accounts-password")
