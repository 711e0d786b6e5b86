from django.urls import path

from rapport.checkins import staff_views, views

urlpatterns = [
    path("c/<str:token>/", views.answer, name="checkins-answer"),
    path("sessions/<uuid:code>/checkins/", staff_views.session_checkins, name="checkins-session"),
    path("sessions/<uuid:code>/reflection/", staff_views.reflection, name="checkins-reflection"),
    path("episodes/<uuid:code>/schedule/", staff_views.schedule, name="checkins-schedule"),
]
