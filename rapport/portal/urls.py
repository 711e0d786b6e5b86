from django.urls import path

from rapport.portal import goals_views, intake_views, notes_views, reschedule_views, views

urlpatterns = [
    path("goals/", goals_views.goals, name="portal-goals"),
    path("goals/propose/", goals_views.propose, name="goals-portal-propose"),
    path("goals/<uuid:code>/agree/", goals_views.agree, name="goals-portal-agree"),
    path("summaries/", notes_views.summaries, name="portal-summaries"),
    path("homework/<uuid:code>/tick/", notes_views.tick, name="notes-portal-tick"),
    path("", views.home, name="portal-home"),
    path("intake/", intake_views.intake_page, name="portal-intake"),
    path("login/", views.login, name="portal-login"),
    path("login/<str:token>/", views.login_link, name="portal-login-link"),
    path("logout/", views.logout, name="portal-logout"),
    path("checkins/<uuid:code>/start/", views.start_checkin, name="portal-start-checkin"),
    path("sessions/<uuid:code>/move/", reschedule_views.ask, name="portal-reschedule"),
    path("moves/<uuid:code>/accept/", reschedule_views.accept, name="portal-reschedule-accept"),
    path("progress/", views.progress, name="portal-progress"),
    path("data/", views.my_data, name="portal-data"),
    path("data/download/", views.download, name="portal-download"),
]
