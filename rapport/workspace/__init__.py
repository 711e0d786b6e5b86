"""The therapist's pages: the caseload, a client, an episode's story with its charts, a session's hub.

Above care, check-ins, goals, notes and alerts in the layer order (README, "Development"): it
reads them all and nothing imports it but the URL map.
"""
