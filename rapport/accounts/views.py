from django.contrib.auth import views as auth_views
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from rapport.accounts.forms import LoginForm


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
        from django.urls import reverse

        return reverse("care-caseload")

    def form_valid(self, form):
        from django.contrib import messages

        from rapport.audit.services import record

        response = super().form_valid(form)
        record(self.request, "accounts.password.changed")
        messages.success(self.request, "Your password has been changed.")
        return response
