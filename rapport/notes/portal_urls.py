"""The summaries pages of the client portal (included by rapport.portal.urls, under /portal/).

`portal-summaries` takes over the portal's placeholder page at the same address."""

from django.urls import path

from rapport.notes import portal_views

urlpatterns = [
    path("summaries/", portal_views.summaries, name="portal-summaries"),
    path("homework/<uuid:code>/tick/", portal_views.tick, name="notes-portal-tick"),
]
