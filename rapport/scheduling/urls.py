from django.urls import path

from rapport.scheduling import reschedule_views, views

urlpatterns = [
    path("schedule/", views.home, name="scheduling-home"),
    path("schedule/feed/", views.feed_settings, name="scheduling-feed-settings"),
    path("schedule/requests/", reschedule_views.requests_list, name="scheduling-requests"),
    path("schedule/requests/<uuid:code>/", reschedule_views.request_detail, name="scheduling-request"),
    path("schedule/<uuid:code>/", views.week, name="scheduling-week"),
    path("episodes/<uuid:code>/book/", views.book, name="scheduling-book"),
    path("sessions/<uuid:code>/schedule/", views.session, name="scheduling-session"),
    path("clients/<uuid:code>/availability/", views.availability, name="scheduling-availability"),
    path("calendar/<str:token>.ics", views.feed, name="scheduling-feed"),
]
