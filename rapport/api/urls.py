"""/api/ (the REST API and its documentation), /fhir/ (FHIR R4), and the token page."""

from __future__ import annotations

from django.urls import path, re_path
from django.views.decorators.http import require_GET

from rapport.api import fhir_views, rest, rest_alerts, rest_checkins, views
from rapport.api.auth import token_view

api = rest.make_api()
api.add_router("/", rest.care)
api.add_router("/", rest_checkins.router)
api.add_router("/", rest_alerts.router)


def _token_urls(urls):
    patterns, app_name, namespace = urls
    for pattern in patterns:
        if pattern.name in ("openapi-json", "openapi-view"):  # documents: read only
            pattern.callback = require_GET(pattern.callback)
        pattern.callback = token_view(pattern.callback)
    return patterns, app_name, namespace


TYPES = "|".join(fhir_views.TYPES)

urlpatterns = [
    path("api/", _token_urls(api.urls)),
    path("fhir/metadata", fhir_views.metadata, name="fhir-metadata"),
    re_path(rf"^fhir/(?P<resource_type>{TYPES})$", fhir_views.search, name="fhir-search"),
    re_path(rf"^fhir/(?P<resource_type>{TYPES})/(?P<rid>[A-Za-z0-9\-\.]{{1,64}})$", fhir_views.read,
            name="fhir-read"),
    path("practice/api-tokens/", views.token_list, name="api-tokens"),
    path("practice/api-tokens/<uuid:code>/revoke/", views.revoke, name="api-tokens-revoke"),
]
