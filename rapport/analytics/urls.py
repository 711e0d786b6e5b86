from django.urls import path

from rapport.analytics import views

urlpatterns = [
    path("", views.overview, name="analytics-overview"),
]
