from unittest import mock

from django.db.utils import OperationalError


def test_healthy(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager",
                               "oldest_queued_seconds": None, "failed_tasks": 0}
    assert "no-cache" in response["Cache-Control"]


def test_database_down_is_503_naming_the_part(client, db):
    with mock.patch("rapport.core.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert "down" not in body["error"]  # no internals leak, only which part failed


def test_only_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_the_favicon_is_served_so_no_page_load_ends_in_a_404(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("rapport/favicon.svg")
    assert b'rel="icon"' in client.get("/login/").content
