from django.urls import include, path

from rapport.portal import views

urlpatterns = [
    # The goals and summaries pages come from those apps.
    path("", include("rapport.goals.portal_urls")),
    path("", include("rapport.notes.portal_urls")),
    path("", views.home, name="portal-home"),
    path("login/", views.login, name="portal-login"),
    path("login/<str:token>/", views.login_link, name="portal-login-link"),
    path("logout/", views.logout, name="portal-logout"),
    path("checkins/<uuid:code>/start/", views.start_checkin, name="portal-start-checkin"),
    path("progress/", views.progress, name="portal-progress"),
    path("data/", views.my_data, name="portal-data"),
    path("data/download/", views.download, name="portal-download"),
]
