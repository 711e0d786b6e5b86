from django.urls import path

from rapport.alerts import views

urlpatterns = [
    path("", views.alert_list, name="alerts-list"),
    path("<uuid:code>/", views.alert_detail, name="alerts-detail"),
    path("settings/", views.urgent_settings, name="alerts-settings"),
]
