from django.urls import include, path

from rapport.accounts import twofactor
from rapport.accounts import views as accounts_views
from rapport.core import views as core_views
from rapport.privacy import audit_views
from rapport.privacy import views as privacy_views
from rapport.workspace import client_views
from rapport.workspace import views as workspace_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("login/", accounts_views.LoginView.as_view(), name="accounts-login"),
    path("logout/", accounts_views.LogoutView.as_view(), name="accounts-logout"),
    path("login/two-factor/setup/", twofactor.setup, name="accounts-2fa-setup"),
    path("login/two-factor/", twofactor.verify, name="accounts-2fa-verify"),
    path("login/two-factor/recovery-codes/", twofactor.recovery_codes, name="accounts-2fa-recovery-codes"),
    path("account/confirm/", twofactor.reauth, name="accounts-reauth"),
    path("account/password/", accounts_views.PasswordChangeView.as_view(), name="accounts-password"),
    path("account/language/", accounts_views.language, name="accounts-language"),
    path("caseload/", workspace_views.caseload, name="care-caseload"),
    path("", include("rapport.practice.urls")),
    path("", include("rapport.api.urls")),
    path("clients/search/", client_views.search, name="care-client-search"),
    path("clients/past/", client_views.past_clients, name="care-past-clients"),
    path("clients/<uuid:code>/", workspace_views.client_detail, name="care-client"),
    path("episodes/<uuid:code>/end/", client_views.discharge, name="care-discharge"),
    path("episodes/<uuid:code>/", workspace_views.episode_detail, name="care-episode"),
    path("sessions/<uuid:code>/", workspace_views.session_detail, name="care-session"),
    path("", include("rapport.checkins.urls")),
    path("", include("rapport.scheduling.urls")),
    path("portal/", include("rapport.portal.urls")),
    path("", include("rapport.goals.urls")),
    path("", include("rapport.notes.urls")),
    path("alerts/", include("rapport.alerts.urls")),
    path("analytics/", include("rapport.analytics.urls")),
    path("practice/webhooks/", include("rapport.webhooks.urls")),
    path("audit/", audit_views.trail, name="audit-trail"),
    path("audit/export.csv", audit_views.export, name="audit-export"),
    path("clients/<uuid:code>/erase/", privacy_views.erase, name="privacy-erase"),
    path("privacy/erasures/", privacy_views.erasures, name="privacy-erasures"),
    path("privacy/retention/", privacy_views.retention, name="privacy-retention"),
]
