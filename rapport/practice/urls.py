from django.urls import path

from rapport.practice import views

urlpatterns = [
    path("clients/new/", views.add_client, name="practice-add-client"),
    path("clients/<uuid:code>/invite/", views.invite, name="practice-invite"),
]
