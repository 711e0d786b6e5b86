from django.urls import path

from rapport.notes import views

urlpatterns = [
    path("sessions/<uuid:code>/record/", views.session_record, name="notes-record"),
]
