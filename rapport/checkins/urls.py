from django.urls import path

from rapport.checkins import views

urlpatterns = [
    path("c/<str:token>/", views.answer, name="checkins-answer"),
    path("sessions/<uuid:code>/checkins/", views.session_checkins, name="checkins-session"),
    path("sessions/<uuid:code>/reflection/", views.reflection, name="checkins-reflection"),
    path("episodes/<uuid:code>/schedule/", views.schedule, name="checkins-schedule"),
]
