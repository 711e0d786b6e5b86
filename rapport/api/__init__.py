"""The REST API (django-ninja, under /api/) and FHIR R4 read and search (under /fhir/), both on
per-practice API tokens; the administrators' page that creates and revokes those tokens."""
