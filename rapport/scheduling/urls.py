from django.urls import path

from rapport.scheduling import views

urlpatterns = [
    path("schedule/", views.home, name="scheduling-home"),
    path("schedule/feed/", views.feed_settings, name="scheduling-feed-settings"),
    path("schedule/<uuid:code>/", views.week, name="scheduling-week"),
    path("episodes/<uuid:code>/book/", views.book, name="scheduling-book"),
    path("sessions/<uuid:code>/schedule/", views.session, name="scheduling-session"),
    path("clients/<uuid:code>/availability/", views.availability, name="scheduling-availability"),
    path("calendar/<str:token>.ics", views.feed, name="scheduling-feed"),
]
