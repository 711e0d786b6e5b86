from django.urls import path

from rapport.webhooks import views

urlpatterns = [
    path("", views.endpoints, name="webhooks-list"),
    path("<uuid:code>/", views.endpoint, name="webhooks-endpoint"),
    path("<uuid:code>/rotate/", views.rotate, name="webhooks-rotate"),
    path("<uuid:code>/delete/", views.delete, name="webhooks-delete"),
]
