"""The goals pages of the client portal (included by rapport.portal.urls, under /portal/).

`portal-goals` takes over the portal's placeholder page at the same address."""

from django.urls import path

from rapport.goals import portal_views

urlpatterns = [
    path("goals/", portal_views.goals, name="portal-goals"),
    path("goals/propose/", portal_views.propose, name="goals-portal-propose"),
    path("goals/<uuid:code>/agree/", portal_views.agree, name="goals-portal-agree"),
]
